"""FakeMailbox: the in-memory twin of the Gmail adapter, with Gmail's semantics.

The contract tests (``tests/contract/adapters/test_mailbox_contract.py``) run the same tests
against this and against ``GoogleMailbox`` talking to the sandbox, so the engine's
unit tests can rely on it. What it copies from Gmail: drafts whose id is stable while
the message id changes on every edit; drafts that are gone (None) after a send or a
delete; threads (a ``thread_id`` is honoured only when the subject matches); labels,
which it turns into :class:`~followupd.adapters.mailbox.MessageMeta`'s facts as the
real adapter does. Fault injection and request counts: see
:mod:`~followupd.adapters.faults_memory`.
"""

from __future__ import annotations

import email
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import getaddresses, make_msgid, parseaddr
from typing import Any

from followupd.adapters.faults_memory import Faults, not_found
from followupd.adapters.google.api_errors import ScopeMissing
from followupd.adapters.mailbox import DraftRef, MessageMeta, SentRef, normalize_message_id
from followupd.adapters.mailbox_memory_rules import (
    matches_query,
    normalize_subject,
    plain_text,
    with_body,
)

_JUNK_LABELS = frozenset({"SPAM", "TRASH"})


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Message:
    id: str
    thread_id: str
    raw: bytes
    labels: list[str]
    internal_date: datetime
    order: int

    @property
    def parsed(self) -> Message:
        return email.message_from_bytes(self.raw)

    def meta(self) -> MessageMeta:
        msg = self.parsed
        return MessageMeta(
            id=self.id,
            thread_id=self.thread_id,
            sender=parseaddr(str(msg.get("From", "")))[1].lower(),
            rfc_message_id=str(msg.get("Message-ID", "")).strip(),
            in_reply_to=str(msg.get("In-Reply-To", "")).strip(),
            internal_date=self.internal_date,
            subject=str(msg.get("Subject", "")),
            sent="SENT" in self.labels,
            draft="DRAFT" in self.labels,
            inbox="INBOX" in self.labels,
            junk=bool(_JUNK_LABELS.intersection(self.labels)),
        )


@dataclass
class _Draft:
    id: str
    message_id: str


class FakeMailbox(Faults):
    """A Mailbox in memory. ``read_scope=False`` acts like a login without
    gmail.readonly: ``search_messages`` answers None."""

    def __init__(
        self,
        email_address: str = "me@example.com",
        *,
        read_scope: bool = True,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        super().__init__()
        self.email_address = email_address
        self.read_scope = read_scope
        self._now = now
        self._messages: dict[str, _Message] = {}
        self._drafts: dict[str, _Draft] = {}
        self._threads: dict[str, str] = {}  # thread id -> normalized subject
        self._ids = itertools.count(1)
        self._order = itertools.count(1)

    # -- Mailbox

    def profile_email(self) -> str:
        def action() -> str:
            self._counts["gmail.users.getProfile"] += 1
            return self.email_address

        return self._run("profile_email", action)

    def create_draft(
        self, raw: bytes, *, rfc_message_id: str, thread_id: str | None = None
    ) -> DraftRef:
        def action() -> DraftRef:
            self._counts["gmail.users.drafts.create"] += 1
            message = self._store(raw, ["DRAFT"], thread_id)
            draft = _Draft(self._new_id("r"), message.id)
            self._drafts[draft.id] = draft
            return self._ref(draft)

        return self._run("create_draft", action)

    def get_draft(self, draft_id: str) -> DraftRef | None:
        def action() -> DraftRef | None:
            self._counts["gmail.users.drafts.get"] += 1
            draft = self._drafts.get(draft_id)
            return self._ref(draft) if draft else None

        return self._run("get_draft", action)

    def update_draft(
        self, draft_id: str, raw: bytes, *, thread_id: str | None = None
    ) -> DraftRef | None:
        def action() -> DraftRef | None:
            self._counts["gmail.users.drafts.update"] += 1
            draft = self._drafts.get(draft_id)
            if draft is None:
                return None
            self._replace(draft, raw, thread_id)
            return self._ref(draft)

        return self._run("update_draft", action)

    def delete_draft(self, draft_id: str) -> None:
        def action() -> None:
            self._counts["gmail.users.drafts.delete"] += 1
            draft = self._drafts.pop(draft_id, None)
            if draft is not None:
                self._remove(draft.message_id)

        self._run("delete_draft", action)

    def send_draft(self, draft_id: str) -> SentRef | None:
        def action() -> SentRef | None:
            self._counts["gmail.users.drafts.send"] += 1
            return self._send(draft_id)

        return self._run("send_draft", action)

    def send_message(self, raw: bytes, *, thread_id: str | None = None) -> SentRef:
        def action() -> SentRef:
            self._counts["gmail.users.messages.send"] += 1
            message = self._store(raw, self._sent_labels(raw), thread_id)
            return SentRef(message.id, message.thread_id)

        return self._run("send_message", action)

    def thread(self, thread_id: str) -> list[MessageMeta] | None:
        def action() -> list[MessageMeta] | None:
            self._counts["gmail.users.threads.get"] += 1
            messages = self._thread_messages(thread_id)
            return [m.meta() for m in messages] if messages else None

        return self._run("thread", action)

    def thread_texts(self, thread_id: str) -> list[tuple[MessageMeta, str]] | None:
        def action() -> list[tuple[MessageMeta, str]] | None:
            self._counts["gmail.users.threads.get"] += 1
            if not self.read_scope:
                raise ScopeMissing("threads.get format=full needs gmail.readonly")
            messages = self._thread_messages(thread_id)
            return [(m.meta(), plain_text(m.parsed)) for m in messages] if messages else None

        return self._run("thread_texts", action)

    def find_drafts_by_message_id(self, rfc_message_id: str) -> list[DraftRef]:
        def action() -> list[DraftRef]:
            self._counts["gmail.users.drafts.list"] += 1
            wanted = normalize_message_id(rfc_message_id)
            found = []
            for draft in self._drafts.values():
                self._counts["gmail.users.drafts.get"] += 1
                message = self._messages[draft.message_id]
                if normalize_message_id(str(message.parsed.get("Message-ID", ""))) == wanted:
                    found.append(self._ref(draft))
            return found

        return self._run("find_drafts_by_message_id", action)

    def search_messages(self, query: str) -> list[MessageMeta] | None:
        def action() -> list[MessageMeta] | None:
            self._counts["gmail.users.messages.list"] += 1
            if not self.read_scope:
                return None
            matches = [
                m
                for m in self._ordered(self._messages.values())
                if matches_query(m.parsed, m.labels, m.internal_date, query, self._now())
            ]
            matches.reverse()  # Gmail lists newest first
            self._counts["gmail.users.messages.get"] += len(matches)
            return [m.meta() for m in matches]

        return self._run("search_messages", action)

    def recent_sent(self, limit: int = 25) -> list[MessageMeta] | None:
        def action() -> list[MessageMeta] | None:
            self._counts["gmail.users.messages.list"] += 1
            sent = [m for m in self._ordered(self._messages.values()) if "SENT" in m.labels]
            newest = list(reversed(sent))[:limit]
            self._counts["gmail.users.messages.get"] += len(newest)
            return [m.meta() for m in newest]

        return self._run("recent_sent", action)

    # -- the user, in Gmail (the sandbox's names)

    def drafts(self) -> list[DraftRef]:
        return [self._ref(d) for d in self._drafts.values()]

    def sent_messages(self) -> list[MessageMeta]:
        return [m.meta() for m in self._ordered(self._messages.values()) if "SENT" in m.labels]

    def raw(self, message_id: str) -> bytes:
        return self._messages[message_id].raw

    def user_edit_draft(self, draft_id: str, text: str) -> DraftRef:
        """The user rewrites the body in Gmail: same draft id, new message id."""
        draft = self._drafts[draft_id]
        raw = with_body(self._messages[draft.message_id].raw, text)
        self._replace(draft, raw, None, keep_thread=True)
        return self._ref(draft)

    def user_delete_draft(self, draft_id: str) -> None:
        draft = self._drafts.pop(draft_id)
        self._remove(draft.message_id)

    def user_send_draft(self, draft_id: str) -> SentRef:
        sent = self._send(draft_id)
        if sent is None:
            raise KeyError(draft_id)
        return sent

    def user_reply(self, thread_id: str, from_email: str, text: str) -> str:
        """Someone answers the thread's last message; returns the new message's id."""
        messages = self._thread_messages(thread_id)
        if not messages:
            raise KeyError(thread_id)
        last = next((m for m in reversed(messages) if "DRAFT" not in m.labels), messages[-1])
        parsed = last.parsed
        subject = str(messages[0].parsed.get("Subject", ""))
        msg = Message()
        msg["From"] = from_email
        msg["To"] = self.email_address
        msg["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
        msg["Message-ID"] = make_msgid(domain=from_email.rpartition("@")[2] or "example.com")
        if parsed.get("Message-ID"):
            msg["In-Reply-To"] = str(parsed["Message-ID"])
            msg["References"] = str(parsed["Message-ID"])
        msg["Content-Type"] = 'text/plain; charset="utf-8"'
        msg.set_payload(text)
        return self._store(msg.as_bytes(), ["INBOX", "UNREAD"], thread_id).id

    def add_message(
        self, raw: bytes, labels: list[str] | tuple[str, ...], thread_id: str | None = None
    ) -> str:
        return self._store(raw, list(labels), thread_id).id

    # -- internals

    def _new_id(self, prefix: str = "") -> str:
        return f"{prefix}{next(self._ids):016x}"

    def _store(
        self, raw: bytes, labels: list[str], thread_id: str | None, *, keep_thread: bool = False
    ) -> _Message:
        """File a message. Like Gmail, a ``thread_id`` is honoured only when the subject
        matches the thread's (else a new thread starts); an unknown one is a 404."""
        subject = normalize_subject(str(email.message_from_bytes(raw).get("Subject", "")))
        thread = None
        if thread_id:
            if thread_id not in self._threads:
                raise not_found(f"thread {thread_id}")
            if keep_thread or self._threads[thread_id] == subject:
                thread = thread_id
        message = _Message(
            id=self._new_id(),
            thread_id=thread or "",
            raw=raw,
            labels=labels,
            internal_date=self._now().astimezone(UTC),
            order=next(self._order),
        )
        if thread is None:
            message.thread_id = message.id  # Gmail: a new thread is named after its first
            self._threads[message.id] = subject
        self._messages[message.id] = message
        return message

    def _remove(self, message_id: str) -> None:
        message = self._messages.pop(message_id)
        if not any(m.thread_id == message.thread_id for m in self._messages.values()):
            del self._threads[message.thread_id]

    def _replace(
        self, draft: _Draft, raw: bytes, thread_id: str | None, *, keep_thread: bool = False
    ) -> None:
        """drafts.update replaces the whole message, thread included."""
        old = self._messages[draft.message_id]
        thread = old.thread_id if keep_thread else thread_id
        message = self._store(raw, ["DRAFT"], thread, keep_thread=keep_thread)
        self._remove(old.id)
        draft.message_id = message.id

    def _send(self, draft_id: str) -> SentRef | None:
        """Gmail files the sent message under a new id, in the draft's thread."""
        draft = self._drafts.pop(draft_id, None)
        if draft is None:
            return None
        old = self._messages[draft.message_id]
        sent = self._store(old.raw, self._sent_labels(old.raw), old.thread_id, keep_thread=True)
        self._remove(old.id)
        return SentRef(sent.id, sent.thread_id)

    def _sent_labels(self, raw: bytes) -> list[str]:
        msg = email.message_from_bytes(raw)
        recipients = {
            addr.lower() for _, addr in getaddresses([str(v) for v in msg.get_all("To", []) or []])
        }
        return ["SENT", "INBOX", "UNREAD"] if self.email_address.lower() in recipients else ["SENT"]

    def _thread_messages(self, thread_id: str) -> list[_Message]:
        return self._ordered(m for m in self._messages.values() if m.thread_id == thread_id)

    @staticmethod
    def _ordered(messages: Any) -> list[_Message]:
        return sorted(messages, key=lambda m: (m.internal_date, m.order))

    def _ref(self, draft: _Draft) -> DraftRef:
        return DraftRef(draft.id, draft.message_id, self._messages[draft.message_id].thread_id)
