"""Gmail's rules that the in-memory mailbox copies: what a message's plain text is and
how the user's edit in Gmail replaces it, how a subject threads, and a small subset of
the search syntax."""

from __future__ import annotations

import email
import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.message import Message

from followupd.adapters.mailbox import normalize_message_id


def plain_text(msg: Message) -> str:
    """The first text/plain part that is not an attachment ("" if none)."""
    for part in msg.walk():
        if part.is_multipart() or part.get_filename():
            continue
        if part.get_content_type() != "text/plain":
            continue
        data = part.get_payload(decode=True)
        if isinstance(data, bytes):
            try:
                return data.decode(part.get_content_charset() or "utf-8", "replace")
            except LookupError:
                return data.decode("utf-8", "replace")
    return ""


def with_body(raw: bytes, text: str) -> bytes:
    """``raw`` with its text body replaced by ``text`` (headers kept)."""
    msg = email.message_from_bytes(raw)
    for name in ("Content-Transfer-Encoding", "Content-Type", "MIME-Version"):
        del msg[name]
    msg["MIME-Version"] = "1.0"
    msg["Content-Type"] = 'text/plain; charset="utf-8"'
    msg["Content-Transfer-Encoding"] = "8bit"
    msg.set_payload(text.encode("utf-8"))
    return msg.as_bytes()


_SUBJECT_PREFIX = re.compile(r"^\s*(re|fwd?|aw|wg)\s*:\s*", re.IGNORECASE)


def normalize_subject(subject: str) -> str:
    while True:
        stripped = _SUBJECT_PREFIX.sub("", subject, count=1)
        if stripped == subject:
            return " ".join(subject.split()).lower()
        subject = stripped


_TERM = re.compile(r'(-?)(?:(\w+):)?("[^"]*"|\S+)')


def matches_query(
    parsed: Message, labels: Iterable[str], internal_date: datetime, query: str, now: datetime
) -> bool:
    """Whether a message (*parsed*, filed under *labels* at *internal_date*) matches
    *query*, in a small subset of Gmail's search syntax: ``from:``, ``to:``,
    ``subject:``, ``rfc822msgid:``, ``in:``/``label:``, ``is:unread``,
    ``newer_than:Nd``, negation with ``-``, and bare words (searched in the subject and
    body)."""
    labels = {label.lower() for label in labels}
    for negate, key, value in _TERM.findall(query):
        value = value.strip('"').lower()
        key = key.lower()
        if key == "from":
            ok = value in str(parsed.get("From", "")).lower()
        elif key == "to":
            ok = value in str(parsed.get("To", "")).lower()
        elif key == "subject":
            ok = value in str(parsed.get("Subject", "")).lower()
        elif key == "rfc822msgid":
            ok = normalize_message_id(value) == normalize_message_id(
                str(parsed.get("Message-ID", "")).lower()
            )
        elif key in ("in", "label"):
            ok = value in labels or (value == "anywhere")
        elif key == "is":
            ok = value in labels
        elif key == "newer_than":
            unit = {"d": 1, "m": 30, "y": 365}.get(value[-1:], 0)
            days = int(value[:-1]) * unit if value[:-1].isdigit() else 0
            ok = internal_date > now - timedelta(days=days)
        else:
            payload = parsed.get_payload(decode=True)
            body = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
            text = f"{parsed.get('Subject', '')} {body}".lower()
            ok = (f"{key}:{value}" if key else value) in text
        if ok == bool(negate):
            return False
    return "draft" not in labels or "in:drafts" in query.lower()
