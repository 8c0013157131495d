"""The planner: from a follow-up and what Gmail was seen to hold, the fine-grained
operations (core.operations) to carry out. Pure.

The engine fetches the observations (`DraftSeen`, `ThreadMessage`), asks the
functions here, carries each Gmail write (`CreateDraft`, `UpdateDraft`, `SendDraft`)
out inside the intent bracket and records every outcome with `operations.record`.

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

from followupd.core import lifecycle
from followupd.core.lifecycle import Action, Policy
from followupd.core.model import Draft, DraftStatus, FollowUp, NudgeKind
from followupd.core.operations import (
    AdoptDraft,
    CreateDraft,
    Due,
    Expire,
    GmailDraft,
    KeepDraft,
    LeaveTouched,
    MarkDeleted,
    MarkReplied,
    MarkSent,
    MarkSentByHand,
    Operation,
    Replan,
    SendApproved,
    SendDraft,
    SendNudge,
    UpdateDraft,
    WriteDrafts,
)

__all__ = [
    "NO_SCOPE_DELETED",
    "DraftSeen",
    "SentNote",
    "ThreadMessage",
    "check_draft",
    "checkin",
    "drafts_to_send",
    "find_reply",
    "needs_look",
    "plan_due",
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


# --------------------------------------------------------------------------- per draft

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


# --------------------------------------------------------------------------- per follow-up


def plan_due(fu: FollowUp, now: datetime, policy: Policy) -> list[Due]:
    """What is due for the follow-up at `now` (lifecycle.due_actions), in order."""
    due: list[Due] = []
    for action in lifecycle.due_actions(fu, now, policy):
        if action is Action.CREATE_DRAFTS:
            due.append(WriteDrafts())
        elif action is Action.SEND:
            due.append(SendApproved())
        elif action is Action.EXPIRE:
            due.append(Expire())
        elif action.nudge is not None:
            due.append(SendNudge(action.nudge, look_for_reply=action is Action.NUDGE_CHECKIN))
    return due


def checkin(fu: FollowUp) -> MarkReplied | SendNudge:
    """After the last look for a reply: suggest a check-in, never after a reply."""
    if fu.replied_at is not None:
        return MarkReplied(fu.replied_at)
    return SendNudge(NudgeKind.CHECKIN)
