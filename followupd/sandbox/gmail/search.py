"""Gmail search: the `q` operators the sandbox understands, and the message list."""

from __future__ import annotations

import re
import time
from email.message import Message

from .mime import decoded_header, msgids, parse_compat, text_of
from .store import Mailbox, StoredMessage


def matches(rec: StoredMessage, q: str) -> bool:
    """Gmail search: terms are ANDed; `a OR b` and `{a b}` are alternatives; `-x` negates."""
    msg = parse_compat(rec.raw)
    term = r'-?(?:\w+:)?(?:"[^"]*"|\([^)]*\)|[^\s{}]+)'
    clauses: list[list[str]] = []
    join_next = False
    for brace, single in re.findall(r"\{([^}]*)\}|(" + term + ")", q):
        if single == "OR":
            join_next = bool(clauses)
            continue
        alternatives = re.findall(term, brace) if brace else [single]
        if join_next:
            clauses[-1].extend(alternatives)
        else:
            clauses.append(alternatives)
        join_next = False
    return all(any(_match_term(rec, msg, t) for t in alts) for alts in clauses if alts)


def _match_term(rec: StoredMessage, msg: Message, token: str) -> bool:
    neg = token.startswith("-")
    m = re.fullmatch(r"(?:(\w+):)?(.*)", token[1:] if neg else token, re.DOTALL)
    assert m is not None
    op, value = (m.group(1) or "").lower(), m.group(2).strip('"').strip("()")
    return _match_one(rec, msg, op, value) != neg


def _match_one(rec: StoredMessage, msg: Message, op: str, value: str) -> bool:
    low = value.lower()
    labels = {label.upper() for label in rec.labels}

    def header(*names: str) -> str:
        return " ".join(decoded_header(v) for n in names for v in msg.get_all(n, [])).lower()

    if op == "in":
        if low == "anywhere":
            return True
        return {"draft": "DRAFT", "drafts": "DRAFT"}.get(low, low.upper()) in labels
    if op == "is":
        if low == "read":
            return "UNREAD" not in labels
        return {"draft": "DRAFT"}.get(low, low.upper()) in labels
    if op == "label":
        return low.upper().replace("-", "_").replace(" ", "_") in labels
    if op == "from":
        return low in header("From")
    if op == "to":
        return low in header("To", "Cc", "Bcc")
    if op in ("cc", "bcc"):
        return low in header(op)
    if op == "subject":
        return low in header("Subject")
    if op == "rfc822msgid":
        wanted = value.strip().strip("<>").lower()
        return any(m.strip("<>").lower() == wanted for m in msgids(msg.get("Message-ID")))
    if op in ("newer_than", "older_than"):
        m = re.fullmatch(r"(\d+)([dmy])", low)
        if not m:
            return False
        days = int(m.group(1)) * {"d": 1, "m": 31, "y": 366}[m.group(2)]
        cutoff = (time.time() - days * 86400) * 1000
        return rec.internal_date >= cutoff if op == "newer_than" else rec.internal_date < cutoff
    if op in ("after", "before"):
        try:
            if low.isdigit():
                ts = float(low)
            else:
                ts = time.mktime(time.strptime(low.replace("-", "/"), "%Y/%m/%d"))
        except ValueError:
            return False
        return rec.internal_date / 1000 >= ts if op == "after" else rec.internal_date / 1000 < ts
    text = f"{op}:{value}" if op else value
    hay = " ".join([header("Subject", "From", "To", "Cc"), text_of(msg).lower()])
    return text.lower() in hay


def search(
    mb: Mailbox, q: str | None, label_ids: list[str] | None, include_spam_trash: bool
) -> list[StoredMessage]:
    """The messages a list request asks for, newest first."""
    out: list[StoredMessage] = []
    explicit = q is not None and re.search(r"\bin:(trash|spam|anywhere)\b", q, re.IGNORECASE)
    for rec in mb.messages.values():
        labels = set(rec.labels)
        if not include_spam_trash and not explicit and labels & {"SPAM", "TRASH"}:
            continue
        if label_ids and not set(label_ids) <= labels:
            continue
        if q and not matches(rec, q):
            continue
        out.append(rec)
    out.sort(key=lambda r: (r.internal_date, r.id), reverse=True)
    return out
