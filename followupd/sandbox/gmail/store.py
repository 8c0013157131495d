"""Gmail data and its mutation: messages stored as raw RFC 822 bytes, drafts,
threads by subject and headers, and what the user does in the Gmail UI."""

from __future__ import annotations

import email
import email.policy
import html
import re
import secrets
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, formatdate, getaddresses, make_msgid, parseaddr
from typing import Any

from ..errors import bad_request, not_found
from .mime import decoded_header, msgids, normalize_subject, parse_compat

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


class Mailbox:
    """One account's mail: messages by id, drafts pointing at their current message,
    and threads keyed by id with the normalized subject that joins them."""

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

    def bump(self) -> int:
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
            wanted = msgids(msg.get("In-Reply-To")) + msgids(msg.get("References"))
            for other in reversed(list(self.messages.values())):
                mid = msgids(parse_compat(other.raw).get("Message-ID"))
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
            history_id=self.bump(),
            draft_id=draft_id,
            from_draft=from_draft,
        )
        self.messages[mid] = rec
        return rec

    def remove(self, mid: str) -> None:
        rec = self.messages.pop(mid, None)
        if rec is None:
            return
        self.bump()
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

    def draft_message(self, draft_id: str) -> StoredMessage:
        mid = self.drafts.get(draft_id)
        if mid is None or mid not in self.messages:
            raise not_found()
        return self.messages[mid]

    def update_draft(
        self, draft_id: str, raw: bytes, thread_id: str | None, keep_thread: bool = False
    ) -> StoredMessage:
        old = self.draft_message(draft_id)
        raw = self._prepare_outgoing(raw, sending=False)
        if keep_thread:
            rec = self.store(raw, ["DRAFT"], draft_id=draft_id, keep_thread=old.thread_id)
        else:
            rec = self.store(raw, ["DRAFT"], thread_hint=thread_id, draft_id=draft_id)
        self.drafts[draft_id] = rec.id
        self.remove(old.id)
        return rec

    def delete_draft(self, draft_id: str) -> None:
        old = self.draft_message(draft_id)
        del self.drafts[draft_id]
        self.remove(old.id)

    def send_draft(self, draft_id: str) -> StoredMessage:
        old = self.draft_message(draft_id)
        raw = self._prepare_outgoing(old.raw, sending=True)
        if not self._recipients(raw):
            raise bad_request("Recipient address required", reason="invalidArgument")
        rec = self.store(
            raw, self._sent_labels(raw), from_draft=draft_id, keep_thread=old.thread_id
        )
        del self.drafts[draft_id]
        self.remove(old.id)
        return rec

    def send_message(self, raw: bytes, thread_id: str | None) -> StoredMessage:
        raw = self._prepare_outgoing(raw, sending=True)
        if not self._recipients(raw):
            raise bad_request("Recipient address required", reason="invalidArgument")
        return self.store(raw, self._sent_labels(raw), thread_hint=thread_id)

    # -------------------------------------------------------- UI-side actions
    def user_edit_draft(
        self, draft_id: str, text: str, keep_custom_headers: bool = False
    ) -> StoredMessage:
        old = self.draft_message(draft_id)
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
        parent = msgids(last.get("Message-ID"))
        if parent:
            msg["In-Reply-To"] = parent[0]
            msg["References"] = " ".join([*msgids(last.get("References")), parent[0]])
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
        rec.history_id = self.bump()
