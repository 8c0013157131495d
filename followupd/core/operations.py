"""The operations the planner returns, and recording the outcome each stands for.

Small frozen values: a Gmail write (CreateDraft, UpdateDraft, SendDraft) is carried
out by the engine inside the intent bracket; every other operation is an outcome
that `record` folds into the follow-up, the one place a draft's status changes
after a look at Gmail. Follow-up operations (WriteDrafts, SendApproved, Expire,
SendNudge) say what is due; MarkReplied records an answer. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from followupd.core.model import Draft, DraftStatus, FollowUp, NudgeKind, State

__all__ = [
    "AdoptDraft",
    "CreateDraft",
    "Due",
    "Expire",
    "GmailDraft",
    "KeepDraft",
    "LeaveTouched",
    "MarkDeleted",
    "MarkReplied",
    "MarkSent",
    "MarkSentByHand",
    "Operation",
    "Replan",
    "SendApproved",
    "SendDraft",
    "SendNudge",
    "UpdateDraft",
    "WriteDrafts",
    "record",
]


@dataclass(frozen=True)
class GmailDraft:
    """A draft as Gmail holds it."""

    draft_id: str
    message_id: str
    thread_id: str | None = None


# --------------------------------------------------------------------------- per draft


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


@dataclass(frozen=True)
class MarkReplied:
    """The interviewer answered at `at`."""

    at: datetime


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
    | MarkReplied
)

# --------------------------------------------------------------------------- per follow-up


@dataclass(frozen=True)
class WriteDrafts:
    """Render, proofread and create (or refresh the untouched) drafts: the draft pass."""


@dataclass(frozen=True)
class SendApproved:
    """The confirmed follow-up's slot has come: the send pass."""


@dataclass(frozen=True)
class Expire:
    """The window closed unconfirmed: the draft is left alone."""


@dataclass(frozen=True)
class SendNudge:
    kind: NudgeKind
    look_for_reply: bool = False  # a check-in is suggested only after one more look


Due = WriteDrafts | SendApproved | Expire | SendNudge


# --------------------------------------------------------------------------- outcomes


def _draft(fu: FollowUp, key: str) -> Draft:
    return next(d for d in fu.drafts if d.rfc_message_id == key)


def record(fu: FollowUp, op: Operation | Expire) -> None:
    """Fold the outcome an operation stands for into the follow-up (and its draft)."""
    if isinstance(op, MarkReplied):
        fu.replied_at = op.at
        return
    if isinstance(op, Expire):
        fu.state = State.EXPIRED
        return
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
