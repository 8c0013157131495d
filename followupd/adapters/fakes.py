"""The in-memory twin of the Gmail adapter, with Google's semantics, and the fault
injection the twins share (the calendar's is ``calendar_memory``).

The contract tests in ``tests/adapters/`` run the same tests against these and against
the real adapters talking to the sandbox, so the engine's unit tests can rely on them.

What they copy from Google: drafts whose id is stable while the message id changes
on every edit; drafts that are gone (None) after a send or a delete; threads.
``counts()`` counts the Google API requests the real adapter would have made for the
same calls (pages included), named like the sandbox's ``counts()``.

Fault injection: ``fail_next(method, exc)`` makes the next call of a protocol method
(e.g. ``"create_draft"``) raise ``exc``; with ``after=True`` the call takes effect
first and raises afterwards, like a connection dropped after Google acted
(``fail_next("send_draft", SendUncertain("..."), after=True)``).
"""

from __future__ import annotations

import email
import itertools
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import getaddresses, make_msgid, parseaddr
from typing import Any, TypeVar

from followupd.adapters.gmail import (
    DraftRef,
    MessageMeta,
    SentRef,
    normalize_message_id,
)
from followupd.adapters.google_clients import ApiNotFound, ScopeMissing

T = TypeVar("T")


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Failure:
    exc: BaseException
    after: bool


class _Faults:
    """``fail_next`` for the fakes."""

    def __init__(self) -> None:
        self._failures: dict[str, list[_Failure]] = {}
        self._counts: Counter[str] = Counter()

    def fail_next(self, method: str, exc: BaseException, *, after: bool = False) -> None:
        """Make the next call of ``method`` raise ``exc`` (after acting if ``after``)."""
        if not callable(getattr(self, method, None)):
            raise ValueError(f"{type(self).__name__} has no method {method!r}")
        self._failures.setdefault(method, []).append(_Failure(exc, after))

    def clear_faults(self) -> None:
        self._failures.clear()

    def counts(self) -> dict[str, int]:
        """Google API requests made so far, by method id (as the sandbox counts them)."""
        return dict(self._counts)

    def _run(self, method: str, action: Callable[[], T]) -> T:
        queue = self._failures.get(method)
        failure = queue.pop(0) if queue else None
        if failure is not None and not failure.after:
            raise failure.exc
        result = action()
        if failure is not None:
            raise failure.exc
        return result


def _not_found(what: str) -> ApiNotFound:
    return ApiNotFound(f"{what}: HTTP 404", status=404, reason="notFound")


# --------------------------------------------------------------------------- gmail


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
            labels=tuple(self.labels),
            sender=parseaddr(str(msg.get("From", "")))[1].lower(),
            rfc_message_id=str(msg.get("Message-ID", "")).strip(),
            in_reply_to=str(msg.get("In-Reply-To", "")).strip(),
            internal_date=self.internal_date,
            subject=str(msg.get("Subject", "")),
        )


@dataclass
class _Draft:
    id: str
    message_id: str
    history: list[str] = field(default_factory=list)


def _plain_text(msg: Message) -> str:
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


def _with_body(raw: bytes, text: str) -> bytes:
    """``raw`` with its text body replaced by ``text`` (headers kept)."""
    msg = email.message_from_bytes(raw)
    for name in ("Content-Transfer-Encoding", "Content-Type", "MIME-Version"):
        del msg[name]
    msg["MIME-Version"] = "1.0"
    msg["Content-Type"] = 'text/plain; charset="utf-8"'
    msg["Content-Transfer-Encoding"] = "8bit"
    msg.set_payload(text.encode("utf-8"))
    return msg.as_bytes()


class FakeMailbox(_Faults):
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
            return [(m.meta(), _plain_text(m.parsed)) for m in messages] if messages else None

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
                m for m in self._ordered(self._messages.values()) if _matches(m, query, self._now())
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
        raw = _with_body(self._messages[draft.message_id].raw, text)
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
        subject = _normalize_subject(str(email.message_from_bytes(raw).get("Subject", "")))
        thread = None
        if thread_id:
            if thread_id not in self._threads:
                raise _not_found(f"thread {thread_id}")
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
        draft.history.append(old.id)
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


_SUBJECT_PREFIX = re.compile(r"^\s*(re|fwd?|aw|wg)\s*:\s*", re.IGNORECASE)


def _normalize_subject(subject: str) -> str:
    while True:
        stripped = _SUBJECT_PREFIX.sub("", subject, count=1)
        if stripped == subject:
            return " ".join(subject.split()).lower()
        subject = stripped


_TERM = re.compile(r'(-?)(?:(\w+):)?("[^"]*"|\S+)')


def _matches(message: _Message, query: str, now: datetime) -> bool:
    """A small subset of Gmail's search syntax: ``from:``, ``to:``, ``subject:``,
    ``rfc822msgid:``, ``in:``/``label:``, ``is:unread``, ``newer_than:Nd``, negation
    with ``-``, and bare words (searched in the subject and body)."""
    parsed = message.parsed
    labels = {label.lower() for label in message.labels}
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
            ok = message.internal_date > now - timedelta(days=days)
        else:
            payload = parsed.get_payload(decode=True)
            body = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
            text = f"{parsed.get('Subject', '')} {body}".lower()
            ok = (f"{key}:{value}" if key else value) in text
        if ok == bool(negate):
            return False
    return "draft" not in labels or "in:drafts" in query.lower()
