"""The mailbox interface the engine uses, in the core's terms: drafts, sends, threads.

:class:`Mailbox` is the interface; ``followupd.adapters.google.gmail.GoogleMailbox``
speaks Gmail v1, and ``followupd.adapters.mailbox_memory.FakeMailbox`` is its
in-memory twin. ``tests/contract/adapters/test_mailbox_contract.py`` runs the same tests
against both.

Two Gmail facts shape the interface (PITFALLS.md): a draft's id is stable while its
message id changes on every edit, and a request can reach Gmail even though its answer
never comes back. So a draft is created with a Message-ID the caller generated (and
``create_draft`` leaves exactly one draft carrying it), a send is never repeated, and
a send whose connection dropped raises :class:`SendUncertain` for the caller to settle
later from the thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from followupd.errors import EXIT_UNAVAILABLE, FollowupdError


@dataclass(frozen=True)
class DraftRef:
    draft_id: str  # stable for the draft's life
    message_id: str  # the provider's id of the draft's current message: changes on every edit
    thread_id: str


@dataclass(frozen=True)
class SentRef:
    message_id: str
    thread_id: str


@dataclass(frozen=True)
class MessageMeta:
    """One message of a thread, as the engine needs it (never its body)."""

    id: str
    thread_id: str
    sender: str  # the From address, lower-cased ("" when absent)
    rfc_message_id: str  # the Message-ID header as written, angle brackets included
    in_reply_to: str
    internal_date: datetime  # UTC
    subject: str
    sent: bool  # the user sent it (Gmail: SENT), from any client
    draft: bool  # an unsent draft
    inbox: bool  # it arrived in the inbox (a note to self is sent and in the inbox)
    junk: bool  # in spam or trash


class SendUncertain(FollowupdError):
    """The connection failed after a send request went out: the message may have been
    sent. Never send again blindly: ``get_draft`` (None once sent) and ``thread``
    (a sent message) tell what happened."""

    exit_code = EXIT_UNAVAILABLE


def normalize_message_id(value: str) -> str:
    """'<abc@host>' and ' abc@host ' compare equal."""
    return value.strip().strip("<>").strip()


class Mailbox(Protocol):
    def profile_email(self) -> str: ...

    def create_draft(
        self, raw: bytes, *, rfc_message_id: str, thread_id: str | None = None
    ) -> DraftRef:
        """Create a draft from an RFC 822 message whose Message-ID is ``rfc_message_id``.
        Leaves exactly one draft with that Message-ID, even after a dropped connection."""
        ...

    def get_draft(self, draft_id: str) -> DraftRef | None:
        """The draft, or None when it is gone (sent or deleted)."""
        ...

    def update_draft(
        self, draft_id: str, raw: bytes, *, thread_id: str | None = None
    ) -> DraftRef | None:
        """Replace the draft's whole message; None when the draft is gone."""
        ...

    def delete_draft(self, draft_id: str) -> None:
        """Delete the draft; a draft already gone is fine."""
        ...

    def send_draft(self, draft_id: str) -> SentRef | None:
        """Send the draft as it is now. None when it is gone (already sent or deleted);
        raises SendUncertain when the answer was lost. Never retried."""
        ...

    def send_message(self, raw: bytes, *, thread_id: str | None = None) -> SentRef:
        """Send a message directly (nudges to self). Never retried."""
        ...

    def thread(self, thread_id: str) -> list[MessageMeta] | None:
        """The thread's messages, oldest first (drafts included); None when it is gone."""
        ...

    def find_drafts_by_message_id(self, rfc_message_id: str) -> list[DraftRef]: ...

    def thread_texts(self, thread_id: str) -> list[tuple[MessageMeta, str]] | None:
        """The thread's messages, oldest first, each with its plain-text body ("" when
        it has none). None when the thread is gone. Needs gmail.readonly
        (``format=full``): raises ScopeMissing without it."""
        ...

    def search_messages(self, query: str) -> list[MessageMeta] | None:
        """Messages matching a Gmail query; None when the login has no read scope."""
        ...

    def recent_sent(self, limit: int = 25) -> list[MessageMeta] | None:
        """The newest sent messages (Gmail: a label filter, no `q`, which gmail.metadata
        allows); None when the login has neither metadata nor read scope."""
        ...
