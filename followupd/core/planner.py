"""The planner: from a follow-up's drafts and what Gmail was seen to hold, the
fine-grained operations to carry out. Pure.

The engine fetches the observations (`DraftSeen`, `ThreadMessage`), asks the
functions here, carries each Gmail write (`CreateDraft`, `UpdateDraft`, `SendDraft`)
out inside the intent bracket and records every outcome with `record`, which is the
one place a draft's status changes after a look at Gmail.

The decision table for one draft (`check_draft`), by its status:
- creating (a create intent, outcome never recorded): our Message-ID found in Drafts
  -> adopt that draft, delete any duplicate; found in the sent folder -> the user
  sent it by hand; nowhere -> plan it again.
- created: gone from Drafts -> see `resolve_gone`; its message id changed -> the user
  edited it, leave it alone.
- sending (a send intent, outcome never recorded): still in Drafts -> it was not
  sent (Gmail removes a sent draft); gone -> see `resolve_gone`, as a send.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from followupd.core.model import Draft, DraftStatus, FollowUp

__all__ = [
    "NO_SCOPE_DELETED",
    "AdoptDraft",
    "CreateDraft",
    "DraftSeen",
    "GmailDraft",
    "KeepDraft",
    "LeaveTouched",
    "MarkDeleted",
    "MarkSent",
    "MarkSentByHand",
    "Operation",
    "Replan",
    "SendDraft",
    "SentNote",
    "ThreadMessage",
    "UpdateDraft",
    "check_draft",
    "drafts_to_send",
    "find_reply",
    "needs_look",
    "record",
    "resolve_gone",
    "up_to_date",
    "writable",
    "write_draft",
]

NO_SCOPE_DELETED = (
    "a draft vanished from Gmail; without the gmail.metadata scope followupd "
    "cannot tell a hand-sent draft from a deleted one"
)

# --------------------------------------------------------------------------- observations


@dataclass(frozen=True)
class GmailDraft:
    """A draft as Gmail holds it."""

    draft_id: str
    message_id: str
    thread_id: str | None = None


@dataclass(frozen=True)
class SentNote:
    """A message the user's account sent (from the sent folder or a draft's thread)."""

    message_id: str  # Gmail's id
    thread_id: str | None = None


@dataclass(frozen=True)
class DraftSeen:
    """What Gmail said about one draft.

    `copy`: the draft in Drafts (by its id; for a create intent, the first one
    carrying our Message-ID), None when there is none. `duplicates`: further drafts
    carrying our Message-ID. `sent`: when `copy` is None, the sent messages of the
    draft's thread (for a create intent: those carrying our Message-ID); None when
    Gmail could not be asked (no metadata scope, an error).
    """

    copy: GmailDraft | None = None
    duplicates: tuple[str, ...] = ()
    sent: tuple[SentNote, ...] | None = None


@dataclass(frozen=True)
class ThreadMessage:
    """A message of a thread, as far as replies are concerned."""

    sender: str
    internal_date: datetime
    sent: bool  # filed under SENT: the user's account sent it
    draft: bool


# --------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class AdoptDraft:
    """The draft is in Gmail as `copy` (found after a crash, or just written)."""

    draft: str
    copy: GmailDraft
    duplicates: tuple[str, ...] = ()  # drafts with our Message-ID to delete


@dataclass(frozen=True)
class Replan:
    """A create intent left nothing in Gmail: write the draft again."""

    draft: str


@dataclass(frozen=True)
class KeepDraft:
    """A send intent found the draft still in Drafts: it was not sent."""

    draft: str


@dataclass(frozen=True)
class LeaveTouched:
    """The user edited the draft: never overwrite it."""

    draft: str


@dataclass(frozen=True)
class MarkSent:
    """We sent it. `error`: the follow-up's error afterwards (None: unchanged)."""

    draft: str
    sent_message_id: str | None = None
    thread_id: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class MarkSentByHand:
    draft: str
    sent_message_id: str
    thread_id: str | None = None


@dataclass(frozen=True)
class MarkDeleted:
    """Gone from Gmail unsent. `error`: as for MarkSent."""

    draft: str
    error: str | None = None


@dataclass(frozen=True)
class CreateDraft:
    draft: str
    raw: bytes
    thread_id: str | None = None


@dataclass(frozen=True)
class UpdateDraft:
    draft: str
    draft_id: str
    raw: bytes
    thread_id: str | None = None


@dataclass(frozen=True)
class SendDraft:
    draft: str
    draft_id: str


Operation = (
    AdoptDraft
    | Replan
    | KeepDraft
    | LeaveTouched
    | MarkSent
    | MarkSentByHand
    | MarkDeleted
    | CreateDraft
    | UpdateDraft
    | SendDraft
)

# --------------------------------------------------------------------------- decisions

_WRITABLE = (DraftStatus.PLANNED, DraftStatus.CREATED, DraftStatus.CREATING)


def needs_look(draft: Draft) -> bool:
    """Whether `check_draft` has anything to decide, so Gmail is worth asking."""
    if draft.status is DraftStatus.CREATING:
        return True
    return draft.status in (DraftStatus.CREATED, DraftStatus.SENDING) and bool(draft.draft_id)


def check_draft(draft: Draft, seen: DraftSeen) -> Operation | None:
    """What a look at Gmail means for one draft (the table in the module doc)."""
    key = draft.rfc_message_id
    if draft.status is DraftStatus.CREATING:
        if seen.copy is not None:
            return AdoptDraft(key, seen.copy, seen.duplicates)
        if seen.sent:
            # Created, crashed before recording it, and sent by the user since:
            # never create it again.
            return MarkSentByHand(key, seen.sent[0].message_id, seen.sent[0].thread_id)
        return Replan(key)
    if draft.status is DraftStatus.CREATED:
        if seen.copy is None:
            return resolve_gone(draft, seen.sent, intended_send=False)
        if seen.copy.message_id != draft.message_id and not draft.touched:
            return LeaveTouched(key)
        return None
    if draft.status is DraftStatus.SENDING:
        if seen.copy is not None:
            return KeepDraft(key)
        return resolve_gone(draft, seen.sent, intended_send=True)
    return None


def resolve_gone(
    draft: Draft, sent: Sequence[SentNote] | None, *, intended_send: bool
) -> Operation:
    """A draft vanished from Gmail: sent (by us or by hand) or deleted?"""
    key = draft.rfc_message_id
    if sent is None:
        # Cannot look. With a send intent open, assume it went (a duplicate send is
        # worse than a missed record); else treat it as deleted, and say why.
        if intended_send:
            return MarkSent(key, error="")
        return MarkDeleted(key, error=NO_SCOPE_DELETED)
    if sent:
        if intended_send:
            return MarkSent(key, sent[-1].message_id)
        return MarkSentByHand(key, sent[-1].message_id)
    return MarkDeleted(key)


def writable(draft: Draft) -> bool:
    """Whether a draft pass may write this draft (never one the user touched)."""
    return not draft.touched and draft.status in _WRITABLE


def up_to_date(fu: FollowUp, draft: Draft) -> bool:
    """A draft in Gmail that no note asks to refresh."""
    return draft.status is DraftStatus.CREATED and not fu.rerender


def write_draft(draft: Draft, raw: bytes, seen: DraftSeen | None) -> Operation:
    """How to put a freshly composed draft into Gmail: refresh the copy there
    (`seen`: what Gmail holds now) or create it."""
    key = draft.rfc_message_id
    if draft.status is DraftStatus.CREATED and draft.draft_id:
        if seen is None or seen.copy is None:
            return resolve_gone(draft, seen.sent if seen else None, intended_send=False)
        if seen.copy.message_id != draft.message_id:
            return LeaveTouched(key)  # the user got there first: hands off
        return UpdateDraft(key, draft.draft_id, raw, draft.thread_id)
    return CreateDraft(key, raw, draft.thread_id)


def drafts_to_send(fu: FollowUp) -> list[SendDraft]:
    """The confirmed follow-up's drafts still in Gmail, in order."""
    return [
        SendDraft(d.rfc_message_id, d.draft_id)
        for d in fu.drafts
        if d.status is DraftStatus.CREATED and d.draft_id
    ]


def find_reply(
    messages: Iterable[ThreadMessage], *, account: str, sent_at: datetime
) -> datetime | None:
    """When the interviewer answered: the first message of the thread that nobody
    of ours wrote (not sent, not a draft, not from the account) since the note."""
    for message in messages:
        if (
            not message.sent
            and not message.draft
            and account not in message.sender.lower()
            and message.internal_date >= sent_at
        ):
            return message.internal_date
    return None


# --------------------------------------------------------------------------- outcomes


def _draft(fu: FollowUp, key: str) -> Draft:
    return next(d for d in fu.drafts if d.rfc_message_id == key)


def record(fu: FollowUp, op: Operation) -> None:
    """Fold the outcome an operation stands for into the follow-up's draft."""
    draft = _draft(fu, op.draft)
    if isinstance(op, AdoptDraft):
        draft.draft_id, draft.message_id = op.copy.draft_id, op.copy.message_id
        draft.thread_id = op.copy.thread_id
        draft.status = DraftStatus.CREATED
    elif isinstance(op, Replan):
        draft.status = DraftStatus.PLANNED
    elif isinstance(op, KeepDraft):
        draft.status = DraftStatus.CREATED
    elif isinstance(op, LeaveTouched):
        draft.touched = True
    elif isinstance(op, MarkSentByHand):
        draft.status = DraftStatus.SENT_MANUALLY
        draft.sent_message_id = op.sent_message_id
        draft.thread_id = op.thread_id or draft.thread_id
    elif isinstance(op, MarkSent):
        draft.status = DraftStatus.SENT
        draft.sent_message_id = op.sent_message_id or draft.sent_message_id
        draft.thread_id = op.thread_id or draft.thread_id
        fu.error = fu.error if op.error is None else op.error
    elif isinstance(op, MarkDeleted):
        draft.status = DraftStatus.DELETED
        fu.error = fu.error if op.error is None else op.error
    else:
        raise TypeError(f"{type(op).__name__} is carried out by the engine, not recorded")
