"""RFC 822 bytes read as Gmail reads them: header values, subjects for threading,
Message-IDs, the text body and its snippet."""

from __future__ import annotations

import base64
import contextlib
import email
import email.policy
import html
import re
from email.header import decode_header, make_header
from email.message import EmailMessage, Message

_SUBJECT_PREFIX = re.compile(r"^\s*(re|fwd?|aw|wg|sv|antw|tr)\s*(\[\d+\])?\s*:\s*", re.IGNORECASE)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def header_text(value: str) -> str:
    """A raw (compat32) header value: unfolded, raw bytes as UTF-8."""
    with contextlib.suppress(UnicodeEncodeError):
        value = value.encode("ascii", "surrogateescape").decode("utf-8", "replace")
    return re.sub(r"\r?\n(?=[ \t])", "", value)


def decoded_header(value: str | None) -> str:
    if not value:
        return ""
    try:
        return str(make_header(decode_header(header_text(value))))
    except (ValueError, LookupError, UnicodeDecodeError):
        return header_text(value)


def normalize_subject(subject: str) -> str:
    s = subject
    while True:
        stripped = _SUBJECT_PREFIX.sub("", s, count=1)
        if stripped == s:
            break
        s = stripped
    return " ".join(s.split()).lower()


def parse_compat(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def parse_modern(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def msgids(value: str | None) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value or "")


def text_of(msg: Message) -> str:
    plain: str | None = None
    htmltext: str | None = None
    for part in msg.walk():
        if part.is_multipart() or part.get_filename():
            continue
        ctype = part.get_content_type()
        if ctype not in ("text/plain", "text/html"):
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        charset = part.get_content_charset() or "utf-8"
        try:
            text = data.decode(charset, "replace")
        except LookupError:
            text = data.decode("utf-8", "replace")
        if ctype == "text/plain" and plain is None:
            plain = text
        elif ctype == "text/html" and htmltext is None:
            htmltext = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return plain if plain is not None else (htmltext or "")


def snippet(msg: Message) -> str:
    text = " ".join(text_of(msg).split())
    return html.escape(text[:200], quote=True).replace("&#x27;", "&#39;")
