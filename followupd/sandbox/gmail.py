"""Gmail v1: messages, drafts and threads, stored as raw RFC 822 bytes."""

from __future__ import annotations

import base64
import binascii
import contextlib
import copy
import email
import email.policy
import html
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.utils import formataddr, formatdate, getaddresses, make_msgid, parseaddr
from typing import Any

from .errors import ApiError, Response, bad_request, not_found

Json = dict[str, Any]

SYSTEM_LABELS = (
    "INBOX",
    "SENT",
    "DRAFT",
    "UNREAD",
    "STARRED",
    "IMPORTANT",
    "TRASH",
    "SPAM",
    "CHAT",
    "CATEGORY_PERSONAL",
    "CATEGORY_SOCIAL",
    "CATEGORY_PROMOTIONS",
    "CATEGORY_UPDATES",
    "CATEGORY_FORUMS",
)
NOT_ADDABLE = {"DRAFT", "SENT", "CHAT"}
RAW_REQUIRED = "'raw' RFC822 payload message string or uploading message via /upload/* URL required"
_SUBJECT_PREFIX = re.compile(r"^\s*(re|fwd?|aw|wg|sv|antw|tr)\s*(\[\d+\])?\s*:\s*", re.IGNORECASE)


@dataclass
class Upload:
    """A media upload: the JSON metadata part (if any) and the message bytes."""

    meta: Json
    media: bytes


@dataclass
class StoredMessage:
    id: str
    thread_id: str
    labels: list[str]
    raw: bytes
    internal_date: int
    history_id: int
    draft_id: str | None = None  # the draft that holds this message now
    from_draft: str | None = None  # the draft this (sent) message came from
    extra: Json = field(default_factory=dict)


def decode_raw(value: Any) -> bytes:
    if not isinstance(value, str) or not value.strip():
        raise bad_request(RAW_REQUIRED, reason="invalidArgument")
    text = re.sub(r"\s+", "", value)
    if not re.fullmatch(r"[A-Za-z0-9_\-]*={0,2}", text):
        raise bad_request("Invalid value for ByteString: " + text[:40], reason="invalid")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise bad_request("Invalid value for ByteString: " + text[:40], reason="invalid") from None


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _headers_text(value: str) -> str:
    """A raw (compat32) header value: unfolded, raw bytes as UTF-8."""
    with contextlib.suppress(UnicodeEncodeError):
        value = value.encode("ascii", "surrogateescape").decode("utf-8", "replace")
    return re.sub(r"\r?\n(?=[ \t])", "", value)


def decoded_header(value: str | None) -> str:
    if not value:
        return ""
    try:
        return str(make_header(decode_header(_headers_text(value))))
    except (ValueError, LookupError, UnicodeDecodeError):
        return _headers_text(value)


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


def _msgids(value: str | None) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value or "")


def _text_of(msg: Message) -> str:
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


def _snippet(msg: Message) -> str:
    text = " ".join(_text_of(msg).split())
    return html.escape(text[:200], quote=True).replace("&#x27;", "&#39;")


def _part_json(part: Message, part_id: str) -> Json:
    headers = [{"name": k, "value": _headers_text(str(v))} for k, v in part.items()]
    out: Json = {
        "partId": part_id,
        "mimeType": part.get_content_type(),
        "filename": part.get_filename() or "",
        "headers": headers,
    }
    if part.is_multipart():
        out["body"] = {"size": 0}
        subs = part.get_payload()
        assert isinstance(subs, list)
        out["parts"] = [
            _part_json(sub, f"{part_id}.{i}" if part_id else str(i)) for i, sub in enumerate(subs)
        ]
        return out
    data = part.get_payload(decode=True)
    payload = data if isinstance(data, bytes) else b""
    body: Json = {"size": len(payload)}
    if payload:
        body["data"] = b64url(payload)
    out["body"] = body
    return out


class Mailbox:
    def __init__(self, user_email: str, user_name: str) -> None:
        self.user_email = user_email
        self.user_name = user_name
        self.messages: dict[str, StoredMessage] = {}
        self.drafts: dict[str, str] = {}  # draft id -> message id
        self.threads: dict[str, str] = {}  # thread id -> normalized subject
        self.history_id = 1000
        self._counter = 0

    # ---------------------------------------------------------------- ids
    def _new_id(self) -> str:
        self._counter += 1
        return f"{(int(time.time() * 1000) << 20) + self._counter:016x}"[-16:]

    def _new_draft_id(self) -> str:
        return "r" + str(secrets.randbelow(9 * 10**18) + 10**18)

    def _bump(self) -> int:
        self.history_id += 1
        return self.history_id

    # ----------------------------------------------------------- storage
    def _thread_for(self, raw: bytes, thread_hint: str | None, by_headers: bool) -> str | None:
        msg = parse_compat(raw)
        subject = normalize_subject(decoded_header(msg.get("Subject")))
        if thread_hint:
            if thread_hint not in self.threads:
                raise not_found()
            if self.threads[thread_hint] == subject:
                return thread_hint
            return None
        if by_headers:
            wanted = _msgids(msg.get("In-Reply-To")) + _msgids(msg.get("References"))
            for other in reversed(list(self.messages.values())):
                mid = _msgids(parse_compat(other.raw).get("Message-ID"))
                if mid and mid[0] in wanted and self.threads.get(other.thread_id) == subject:
                    return other.thread_id
        return None

    def store(
        self,
        raw: bytes,
        labels: list[str],
        thread_hint: str | None = None,
        by_headers: bool = False,
        draft_id: str | None = None,
        from_draft: str | None = None,
        keep_thread: str | None = None,
    ) -> StoredMessage:
        """File a message; `keep_thread` forces the thread (a draft edited in the UI)."""
        thread = keep_thread or self._thread_for(raw, thread_hint, by_headers)
        mid = self._new_id()
        if thread is None:
            thread = mid
            subject = decoded_header(parse_compat(raw).get("Subject"))
            self.threads[thread] = normalize_subject(subject)
        rec = StoredMessage(
            id=mid,
            thread_id=thread,
            labels=list(dict.fromkeys(labels)),
            raw=raw,
            internal_date=int(time.time() * 1000),
            history_id=self._bump(),
            draft_id=draft_id,
            from_draft=from_draft,
        )
        self.messages[mid] = rec
        return rec

    def _remove(self, mid: str) -> None:
        rec = self.messages.pop(mid, None)
        if rec is None:
            return
        self._bump()
        if not any(m.thread_id == rec.thread_id for m in self.messages.values()):
            self.threads.pop(rec.thread_id, None)

    def _prepare_outgoing(self, raw: bytes, sending: bool) -> bytes:
        """What Gmail does to a message it sends: From is the user, Date and Message-ID exist."""
        msg = parse_compat(raw)
        first_nl = raw.find(b"\n")
        nl = b"\r\n" if first_nl > 0 and raw[first_nl - 1 : first_nl] == b"\r" else b"\n"
        add: list[bytes] = []
        from_value = msg.get("From")
        me = formataddr((self.user_name, self.user_email))
        if from_value is None:
            add.append(b"From: " + me.encode())
        else:
            name, addr = parseaddr(decoded_header(from_value))
            if addr.lower() != self.user_email.lower() and sending:
                raw = re.sub(
                    rb"(?im)^From:[^\n]*\n(?:[ \t][^\n]*\n)*",
                    b"From: " + formataddr((name or self.user_name, self.user_email)).encode() + nl,
                    raw,
                    count=1,
                )
        if sending and msg.get("Date") is None:
            add.append(b"Date: " + formatdate(localtime=False, usegmt=True).encode())
        if msg.get("Message-ID") is None:
            domain = self.user_email.partition("@")[2] or "mail.gmail.com"
            add.append(
                b"Message-ID: "
                + make_msgid(domain="mail.gmail.com" if sending else domain).encode()
            )
        if not add:
            return raw
        return nl.join(add) + nl + raw

    def _recipients(self, raw: bytes) -> list[str]:
        msg = parse_compat(raw)
        values = [decoded_header(v) for k in ("To", "Cc", "Bcc") for v in msg.get_all(k, [])]
        return [addr for _, addr in getaddresses(values) if "@" in addr]

    def _sent_labels(self, raw: bytes) -> list[str]:
        labels = ["SENT"]
        if any(a.lower() == self.user_email.lower() for a in self._recipients(raw)):
            labels = ["UNREAD", "SENT", "INBOX"]
        return labels

    # ------------------------------------------------------------ drafts
    def create_draft(self, raw: bytes, thread_id: str | None) -> tuple[str, StoredMessage]:
        raw = self._prepare_outgoing(raw, sending=False)
        draft_id = self._new_draft_id()
        rec = self.store(raw, ["DRAFT"], thread_hint=thread_id, draft_id=draft_id)
        self.drafts[draft_id] = rec.id
        return draft_id, rec

    def _draft_message(self, draft_id: str) -> StoredMessage:
        mid = self.drafts.get(draft_id)
        if mid is None or mid not in self.messages:
            raise not_found()
        return self.messages[mid]

    def update_draft(
        self, draft_id: str, raw: bytes, thread_id: str | None, keep_thread: bool = False
    ) -> StoredMessage:
        old = self._draft_message(draft_id)
        raw = self._prepare_outgoing(raw, sending=False)
        if keep_thread:
            rec = self.store(raw, ["DRAFT"], draft_id=draft_id, keep_thread=old.thread_id)
        else:
            rec = self.store(raw, ["DRAFT"], thread_hint=thread_id, draft_id=draft_id)
        self.drafts[draft_id] = rec.id
        self._remove(old.id)
        return rec

    def delete_draft(self, draft_id: str) -> None:
        old = self._draft_message(draft_id)
        del self.drafts[draft_id]
        self._remove(old.id)

    def send_draft(self, draft_id: str) -> StoredMessage:
        old = self._draft_message(draft_id)
        raw = self._prepare_outgoing(old.raw, sending=True)
        if not self._recipients(raw):
            raise bad_request("Recipient address required", reason="invalidArgument")
        rec = self.store(
            raw, self._sent_labels(raw), from_draft=draft_id, keep_thread=old.thread_id
        )
        del self.drafts[draft_id]
        self._remove(old.id)
        return rec

    def send_message(self, raw: bytes, thread_id: str | None) -> StoredMessage:
        raw = self._prepare_outgoing(raw, sending=True)
        if not self._recipients(raw):
            raise bad_request("Recipient address required", reason="invalidArgument")
        return self.store(raw, self._sent_labels(raw), thread_hint=thread_id)

    # ---------------------------------------------------------- rendering
    def render(
        self, rec: StoredMessage, fmt: str = "full", metadata_headers: list[str] | None = None
    ) -> Json:
        msg = parse_compat(rec.raw)
        out: Json = {
            "id": rec.id,
            "threadId": rec.thread_id,
            "labelIds": list(rec.labels),
            "snippet": _snippet(msg),
            "sizeEstimate": len(rec.raw),
            "historyId": str(rec.history_id),
            "internalDate": str(rec.internal_date),
        }
        if fmt == "minimal":
            return out
        if fmt == "raw":
            out["raw"] = b64url(rec.raw)
            return out
        if fmt == "metadata":
            wanted = {h.lower() for h in metadata_headers or []}
            headers = [
                {"name": k, "value": _headers_text(str(v))}
                for k, v in msg.items()
                if not wanted or k.lower() in wanted
            ]
            out["payload"] = {
                "partId": "",
                "mimeType": msg.get_content_type(),
                "filename": "",
                "headers": headers,
            }
            return out
        out["payload"] = _part_json(msg, "")
        return out

    def short(self, rec: StoredMessage) -> Json:
        return {"id": rec.id, "threadId": rec.thread_id, "labelIds": list(rec.labels)}

    def draft_json(self, draft_id: str, rec: StoredMessage, fmt: str | None = None) -> Json:
        message = self.short(rec) if fmt is None else self.render(rec, fmt)
        return {"id": draft_id, "message": message}

    # -------------------------------------------------------------- search
    def _matches(self, rec: StoredMessage, q: str) -> bool:
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
        return all(any(self._match_term(rec, msg, t) for t in alts) for alts in clauses if alts)

    def _match_term(self, rec: StoredMessage, msg: Message, token: str) -> bool:
        neg = token.startswith("-")
        m = re.fullmatch(r"(?:(\w+):)?(.*)", token[1:] if neg else token, re.DOTALL)
        assert m is not None
        op, value = (m.group(1) or "").lower(), m.group(2).strip('"').strip("()")
        return self._match_one(rec, msg, op, value) != neg

    def _match_one(self, rec: StoredMessage, msg: Message, op: str, value: str) -> bool:
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
            return any(m.strip("<>").lower() == wanted for m in _msgids(msg.get("Message-ID")))
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
            return (
                rec.internal_date / 1000 >= ts if op == "after" else rec.internal_date / 1000 < ts
            )
        text = f"{op}:{value}" if op else value
        hay = " ".join([header("Subject", "From", "To", "Cc"), _text_of(msg).lower()])
        return text.lower() in hay

    def search(
        self, q: str | None, label_ids: list[str] | None, include_spam_trash: bool
    ) -> list[StoredMessage]:
        out: list[StoredMessage] = []
        explicit = q is not None and re.search(r"\bin:(trash|spam|anywhere)\b", q, re.IGNORECASE)
        for rec in self.messages.values():
            labels = set(rec.labels)
            if not include_spam_trash and not explicit and labels & {"SPAM", "TRASH"}:
                continue
            if label_ids and not set(label_ids) <= labels:
                continue
            if q and not self._matches(rec, q):
                continue
            out.append(rec)
        out.sort(key=lambda r: (r.internal_date, r.id), reverse=True)
        return out

    # -------------------------------------------------------- UI-side actions
    def user_edit_draft(
        self, draft_id: str, text: str, keep_custom_headers: bool = False
    ) -> StoredMessage:
        old = self._draft_message(draft_id)
        src = parse_compat(old.raw)
        new = EmailMessage(policy=email.policy.SMTP)
        keep = {
            "from",
            "to",
            "cc",
            "bcc",
            "subject",
            "date",
            "message-id",
            "in-reply-to",
            "references",
        }
        for name, value in src.items():
            if name.lower() in keep or (keep_custom_headers and name.lower().startswith("x-")):
                new[name] = decoded_header(str(value))
        new.set_content(text)
        html_body = "".join(
            f"<div>{html.escape(line) or '<br>'}</div>" for line in text.splitlines()
        )
        new.add_alternative(f'<div dir="ltr">{html_body}</div>', subtype="html")
        return self.update_draft(draft_id, new.as_bytes(), None, keep_thread=True)

    def reply(
        self, thread_id: str, from_email: str, text: str, subject: str | None
    ) -> StoredMessage:
        members = [m for m in self.messages.values() if m.thread_id == thread_id]
        if not members:
            raise KeyError(f"no thread {thread_id}")
        members.sort(key=lambda m: m.internal_date)
        first = parse_compat(members[0].raw)
        settled = [m for m in members if "DRAFT" not in m.labels] or members
        last = parse_compat(settled[-1].raw)
        msg = EmailMessage(policy=email.policy.SMTP)
        msg["From"] = from_email
        msg["To"] = formataddr((self.user_name, self.user_email))
        if subject is None:
            original = decoded_header(first.get("Subject"))
            subject = original if original.lower().startswith("re:") else f"Re: {original}"
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        domain = parseaddr(from_email)[1].partition("@")[2] or "example.com"
        msg["Message-ID"] = make_msgid(domain=domain)
        parent = _msgids(last.get("Message-ID"))
        if parent:
            msg["In-Reply-To"] = parent[0]
            msg["References"] = " ".join([*_msgids(last.get("References")), parent[0]])
        msg.set_content(text)
        if parseaddr(from_email)[1].lower() == self.user_email.lower():
            # The user answering from another client (a phone): Gmail files what the
            # user sends under SENT, and a note to oneself lands in the inbox too.
            return self.store(msg.as_bytes(), ["SENT", "INBOX"], thread_hint=thread_id)
        return self.store(msg.as_bytes(), ["INBOX", "UNREAD"], thread_hint=thread_id)

    def add_message(self, raw: bytes, labels: list[str], thread_id: str | None) -> StoredMessage:
        for label in labels:
            if label not in SYSTEM_LABELS:
                raise ValueError(f"unknown label {label!r}")
        if thread_id is not None and thread_id not in self.threads:
            raise KeyError(f"no thread {thread_id}")
        return self.store(raw, labels, thread_hint=thread_id, by_headers=thread_id is None)

    def modify(self, rec: StoredMessage, add: list[str], remove: list[str]) -> None:
        for label in [*add, *remove]:
            if label not in SYSTEM_LABELS:
                raise bad_request(f"Invalid label: {label}", reason="invalidArgument")
            if label in NOT_ADDABLE:
                raise bad_request(f"Invalid label: {label}", reason="invalidArgument")
        rec.labels = [label for label in rec.labels if label not in remove]
        rec.labels += [label for label in add if label not in rec.labels]
        rec.history_id = self._bump()


# ------------------------------------------------------------------ handlers
@dataclass
class Ctx:
    path: dict[str, str]
    params: Json
    body: Any
    restricted: bool  # only gmail.metadata grants this call


Handler = Callable[[Mailbox, Ctx], Response]


def _user(mb: Mailbox, ctx: Ctx) -> None:
    uid = ctx.path.get("userId", "me")
    if uid != "me" and uid.lower() != mb.user_email.lower():
        raise ApiError(403, f"Delegation denied for {mb.user_email}", "forbidden")


def _message_input(ctx: Ctx, wrapper: str | None) -> tuple[bytes, str | None, Json]:
    """The message bytes and threadId of a create/update/send body (JSON or upload)."""
    body = ctx.body
    if isinstance(body, Upload):
        meta = body.meta
        inner = meta.get(wrapper, {}) if wrapper else meta
        if not isinstance(inner, dict):
            inner = {}
        thread = inner.get("threadId")
        return body.media, str(thread) if thread else None, meta
    if not isinstance(body, dict):
        raise bad_request(RAW_REQUIRED, reason="invalidArgument")
    inner = body.get(wrapper) if wrapper else body
    if not isinstance(inner, dict):
        raise bad_request(RAW_REQUIRED, reason="invalidArgument")
    raw = decode_raw(inner.get("raw"))
    thread = inner.get("threadId")
    return raw, str(thread) if thread else None, body


def _fmt(ctx: Ctx) -> str:
    fmt = str(ctx.params.get("format", "full"))
    if ctx.restricted and fmt not in ("metadata", "minimal"):
        raise ApiError(403, f"Metadata scope doesn't allow format {fmt.upper()}", "forbidden")
    return fmt


def _no_q(ctx: Ctx) -> None:
    if ctx.restricted and ctx.params.get("q"):
        raise ApiError(403, "Metadata scope does not support 'q' parameter", "forbidden")


def _page(items: list[Any], ctx: Ctx, default: int, cap: int) -> tuple[list[Any], str | None]:
    size = min(int(ctx.params.get("maxResults", default)), cap)
    offset = 0
    token = ctx.params.get("pageToken")
    if token:
        try:
            offset = int(
                base64.urlsafe_b64decode(str(token) + "=" * (-len(str(token)) % 4)).decode()
            )
        except (ValueError, binascii.Error):
            raise bad_request("Invalid pageToken", reason="invalid") from None
    chunk = items[offset : offset + size]
    nxt = None
    if offset + size < len(items):
        nxt = base64.urlsafe_b64encode(str(offset + size).encode()).decode().rstrip("=")
    return chunk, nxt


def h_profile(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    return Response.json(
        {
            "emailAddress": mb.user_email,
            "messagesTotal": len(mb.messages),
            "threadsTotal": len(mb.threads),
            "historyId": str(mb.history_id),
        }
    )


def h_drafts_create(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    raw, thread, _ = _message_input(ctx, "message")
    draft_id, rec = mb.create_draft(raw, thread)
    return Response.json(mb.draft_json(draft_id, rec))


def h_drafts_get(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    fmt = _fmt(ctx)
    rec = mb._draft_message(ctx.path["id"])
    return Response.json(mb.draft_json(ctx.path["id"], rec, fmt))


def h_drafts_list(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    recs = [mb.messages[mid] for mid in mb.drafts.values() if mid in mb.messages]
    q = ctx.params.get("q")
    if q:
        recs = [r for r in recs if mb._matches(r, str(q))]
    recs.sort(key=lambda r: (r.internal_date, r.id), reverse=True)
    chunk, nxt = _page(recs, ctx, 100, 500)
    out: Json = {"resultSizeEstimate": len(recs)}
    if chunk:
        out["drafts"] = [
            {"id": r.draft_id, "message": {"id": r.id, "threadId": r.thread_id}} for r in chunk
        ]
    if nxt:
        out["nextPageToken"] = nxt
    return Response.json(out)


def h_drafts_update(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    mb._draft_message(ctx.path["id"])  # 404 first
    raw, thread, _ = _message_input(ctx, "message")
    rec = mb.update_draft(ctx.path["id"], raw, thread)
    return Response.json(mb.draft_json(ctx.path["id"], rec))


def h_drafts_delete(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    mb.delete_draft(ctx.path["id"])
    return Response.empty()


def h_drafts_send(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    body = ctx.body
    meta = body.meta if isinstance(body, Upload) else body
    if not isinstance(meta, dict) or not meta.get("id"):
        raise bad_request("Invalid draft", reason="invalidArgument")
    draft_id = str(meta["id"])
    mb._draft_message(draft_id)  # 404 when sent or deleted
    has_new = isinstance(body, Upload) or (
        isinstance(meta.get("message"), dict) and "raw" in meta["message"]
    )
    if has_new:
        raw, thread, _ = _message_input(ctx, "message")
        mb.update_draft(draft_id, raw, thread)
    rec = mb.send_draft(draft_id)
    return Response.json(mb.short(rec))


def h_messages_send(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    raw, thread, _ = _message_input(ctx, None)
    rec = mb.send_message(raw, thread)
    return Response.json(mb.short(rec))


def _message(mb: Mailbox, mid: str) -> StoredMessage:
    rec = mb.messages.get(mid)
    if rec is None:
        raise not_found()
    return rec


def h_messages_get(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    fmt = _fmt(ctx)
    rec = _message(mb, ctx.path["id"])
    return Response.json(mb.render(rec, fmt, ctx.params.get("metadataHeaders")))


def h_messages_list(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    _no_q(ctx)
    recs = mb.search(
        ctx.params.get("q"), ctx.params.get("labelIds"), bool(ctx.params.get("includeSpamTrash"))
    )
    chunk, nxt = _page(recs, ctx, 100, 500)
    out: Json = {"resultSizeEstimate": len(recs)}
    if chunk:
        out["messages"] = [{"id": r.id, "threadId": r.thread_id} for r in chunk]
    if nxt:
        out["nextPageToken"] = nxt
    return Response.json(out)


def h_messages_modify(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    rec = _message(mb, ctx.path["id"])
    body = ctx.body if isinstance(ctx.body, dict) else {}
    mb.modify(rec, list(body.get("addLabelIds") or []), list(body.get("removeLabelIds") or []))
    return Response.json(mb.short(rec))


def h_messages_trash(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    rec = _message(mb, ctx.path["id"])
    rec.labels = [label for label in rec.labels if label != "INBOX"]
    if "TRASH" not in rec.labels:
        rec.labels.append("TRASH")
    rec.history_id = mb._bump()
    return Response.json(mb.short(rec))


def h_messages_untrash(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    rec = _message(mb, ctx.path["id"])
    rec.labels = [label for label in rec.labels if label != "TRASH"]
    rec.history_id = mb._bump()
    return Response.json(mb.short(rec))


def h_messages_delete(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    rec = _message(mb, ctx.path["id"])
    if rec.draft_id:
        mb.drafts.pop(rec.draft_id, None)
    mb._remove(rec.id)
    return Response.empty()


def _thread_messages(mb: Mailbox, tid: str) -> list[StoredMessage]:
    recs = [m for m in mb.messages.values() if m.thread_id == tid]
    if not recs:
        raise not_found()
    recs.sort(key=lambda r: (r.internal_date, r.id))
    return recs


def h_threads_get(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    fmt = _fmt(ctx)
    recs = _thread_messages(mb, ctx.path["id"])
    headers = ctx.params.get("metadataHeaders")
    return Response.json(
        {
            "id": ctx.path["id"],
            "historyId": str(max(r.history_id for r in recs)),
            "messages": [mb.render(r, fmt, headers) for r in recs],
        }
    )


def h_threads_list(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    _no_q(ctx)
    recs = mb.search(
        ctx.params.get("q"), ctx.params.get("labelIds"), bool(ctx.params.get("includeSpamTrash"))
    )
    seen: dict[str, StoredMessage] = {}
    for r in recs:
        seen.setdefault(r.thread_id, r)
    threads = list(seen.values())
    chunk, nxt = _page(threads, ctx, 100, 500)
    out: Json = {"resultSizeEstimate": len(threads)}
    if chunk:
        items = []
        for r in chunk:
            members = _thread_messages(mb, r.thread_id)
            latest = members[-1]
            items.append(
                {
                    "id": r.thread_id,
                    "snippet": _snippet(parse_compat(latest.raw)),
                    "historyId": str(max(m.history_id for m in members)),
                }
            )
        out["threads"] = items
    if nxt:
        out["nextPageToken"] = nxt
    return Response.json(out)


def h_labels_list(mb: Mailbox, ctx: Ctx) -> Response:
    _user(mb, ctx)
    return Response.json(
        {"labels": [{"id": name, "name": name, "type": "system"} for name in SYSTEM_LABELS]}
    )


HANDLERS: dict[str, Handler] = {
    "gmail.users.getProfile": h_profile,
    "gmail.users.drafts.create": h_drafts_create,
    "gmail.users.drafts.get": h_drafts_get,
    "gmail.users.drafts.list": h_drafts_list,
    "gmail.users.drafts.update": h_drafts_update,
    "gmail.users.drafts.delete": h_drafts_delete,
    "gmail.users.drafts.send": h_drafts_send,
    "gmail.users.messages.send": h_messages_send,
    "gmail.users.messages.get": h_messages_get,
    "gmail.users.messages.list": h_messages_list,
    "gmail.users.messages.modify": h_messages_modify,
    "gmail.users.messages.trash": h_messages_trash,
    "gmail.users.messages.untrash": h_messages_untrash,
    "gmail.users.messages.delete": h_messages_delete,
    "gmail.users.threads.get": h_threads_get,
    "gmail.users.threads.list": h_threads_list,
    "gmail.users.labels.list": h_labels_list,
}


def message_view(mb: Mailbox, rec: StoredMessage) -> Json:
    """The test API's view of one stored message."""
    parsed = parse_modern(rec.raw)
    return {
        "id": rec.id,
        "message_id": rec.id,
        "thread_id": rec.thread_id,
        "label_ids": list(rec.labels),
        "draft_id": rec.draft_id or rec.from_draft,
        "rfc822_message_id": next(iter(_msgids(parse_compat(rec.raw).get("Message-ID"))), None),
        "internal_date": rec.internal_date,
        "raw_bytes": rec.raw,
        "parsed": parsed,
    }


def draft_view(mb: Mailbox, draft_id: str) -> Json:
    rec = mb._draft_message(draft_id)
    view = message_view(mb, rec)
    view["id"] = draft_id
    view["draft_id"] = draft_id
    return view


def jsonable(view: Json) -> Json:
    """A message view for the HTTP test API: raw bytes as text, the parsed message summarized."""
    out = {k: v for k, v in view.items() if k not in ("raw_bytes", "parsed")}
    raw: bytes = view["raw_bytes"]
    out["raw"] = raw.decode("utf-8", "replace")
    parsed: EmailMessage = view["parsed"]
    out["headers"] = {k: str(v) for k, v in parsed.items()}
    body = parsed.get_body(preferencelist=("plain", "html"))
    out["text"] = body.get_content() if body is not None else ""
    return copy.deepcopy(out)
