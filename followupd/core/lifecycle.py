"""The follow-up state machine: given a follow-up and what was observed, the new
state and the actions due. Pure: the engine carries the actions out.

    pending --draft due--> drafted --approve--> approved --send--> sent
       |                     |  \\--user sends by hand--> sent_manually
       |                     |  \\--skip / user deletes draft--> skipped
       |                     \\--window closes unconfirmed--> expired
       \\--cancelled / declined before the end--> cancelled
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from followupd.core import timing
from followupd.core.model import Detection, Draft, DraftStatus, Event, FollowUp, NudgeKind, State
from followupd.core.settings import Config, DetectSettings, Mode, TimingSettings

# How long after sending we keep looking for a reply (the check-in reminder needs it).
REPLY_WATCH = timedelta(days=30)
REPLY_CHECK_EVERY = timedelta(hours=1)


class Action(StrEnum):
    CREATE_DRAFTS = "create_drafts"  # render, proofread, create (or refresh untouched)
    SEND = "send"
    EXPIRE = "expire"
    NUDGE_READY = NudgeKind.DRAFT_READY.value
    NUDGE_REMINDER = NudgeKind.REMINDER.value
    NUDGE_CLOSING = NudgeKind.CLOSING.value
    NUDGE_CHECKIN = NudgeKind.CHECKIN.value

    @property
    def nudge(self) -> NudgeKind | None:
        """The nudge this action delivers, if it is one."""
        return NudgeKind(self.value) if self.value in {k.value for k in NudgeKind} else None


@dataclass(frozen=True)
class Policy:
    """What the state machine reads of the config (the engine builds it once)."""

    mode: Mode
    timing: TimingSettings
    lookback: timedelta = DetectSettings().lookback
    per_interviewer: bool = True

    @classmethod
    def from_config(cls, config: Config) -> Policy:
        return cls(
            mode=config.mode,
            timing=config.timing,
            lookback=config.detect.lookback,
            per_interviewer=config.drafts.per_interviewer,
        )


class LifecycleError(ValueError):
    """A user request that the follow-up's state does not allow."""


def followup_id(calendar_id: str, event_id: str) -> str:
    """Short, stable and typeable: the same event always gets the same id."""
    return hashlib.sha256(f"{calendar_id}\0{event_id}".encode()).hexdigest()[:6]


def draft_message_token(fu_id: str, recipients: tuple[str, ...]) -> str:
    """Deterministic token for our Message-ID: a re-created draft keeps its identity."""
    return hashlib.sha256(f"{fu_id}\0{','.join(recipients)}".encode()).hexdigest()[:16]


def _schedule(fu: FollowUp, policy: Policy) -> FollowUp:
    plan = timing.plan(fu.end, policy.timing)
    fu.draft_at = plan.draft_at
    fu.window_start = plan.window_start
    fu.window_end = plan.window_end
    if fu.state is State.APPROVED and fu.send_at is not None:
        fu.send_at, fu.late = timing.send_slot(
            fu.send_at, plan.window_start, plan.window_end, policy.timing
        )
    return fu


def plan_drafts(fu: FollowUp, per_interviewer: bool) -> list[Draft]:
    """One draft per recipient (or one for the panel); keeps drafts already in Gmail."""
    groups = [(r,) for r in fu.recipients] if per_interviewer else [fu.recipients]
    existing = {d.recipients: d for d in fu.drafts}
    drafts = []
    for group in groups:
        if not group:
            continue
        drafts.append(
            existing.get(group)
            or Draft(recipients=group, rfc_message_id=draft_message_token(fu.id, group))
        )
    # Drafts already written for someone no longer invited stay recorded (never lost).
    drafts.extend(d for key, d in existing.items() if key not in {g for g in groups})
    return drafts


def observe_event(
    fu: FollowUp | None,
    event: Event,
    detection: Detection,
    now: datetime,
    policy: Policy,
) -> FollowUp | None:
    """Fold one calendar observation into the follow-up (None: nothing to track)."""
    if fu is None:
        if event.cancelled or not detection.is_interview or event.end is None:
            return None
        if event.start is None or event.end < now - policy.lookback:
            return None  # a first start never drafts notes for last month's interviews
        if not detection.recipients:
            return None
        fu = FollowUp(
            id=followup_id(event.calendar_id, event.id),
            calendar_id=event.calendar_id,
            event_id=event.id,
            summary=event.summary,
            start=event.start,
            end=event.end,
            created_at=now,
        )
        _apply_detection(fu, event, detection)
        fu.drafts = plan_drafts(fu, policy.per_interviewer)
        fu.updated_at = now
        return _schedule(fu, policy)

    fu = replace(fu, drafts=[replace(d) for d in fu.drafts])
    gone = event.cancelled or not detection.is_interview
    if fu.state is State.PENDING:
        if gone:
            if fu.end > now or event.cancelled:
                # Cancelled, deleted or declined before it ended: no note for it.
                fu.state = State.CANCELLED
                fu.error = "" if event.cancelled else detection.reason
            fu.updated_at = now
            return fu
        _apply_detection(fu, event, detection)
        fu.drafts = plan_drafts(fu, policy.per_interviewer)
    elif gone:
        # After the interview the calendar entry no longer matters (people tidy up).
        return fu
    if (
        event.start is not None
        and event.end is not None
        and (event.start != fu.start or event.end != fu.end)
    ):
        fu.start, fu.end = event.start, event.end
        if fu.state in (State.DRAFTED, State.APPROVED) and fu.end > now:
            # Moved into the future: the note would be premature. Untouched drafts are
            # refreshed when the new time comes; touched ones are left as they are.
            fu.state = State.PENDING
            fu.send_at = None
            fu.nudges_sent = []
            fu.rerender = True
        _schedule(fu, policy)
    if event.summary and event.summary != fu.summary and fu.state is State.PENDING:
        fu.summary = event.summary
    fu.updated_at = now
    return fu


def _apply_detection(fu: FollowUp, event: Event, detection: Detection) -> None:
    fu.summary = event.summary
    fu.location = event.location
    fu.people = detection.recipients
    fu.recipients = tuple(p.email for p in detection.recipients)
    fu.interviewers = detection.interviewers
    fu.company = detection.company
    fu.role = detection.role
    fu.kind = detection.kind


def due_actions(fu: FollowUp, now: datetime, policy: Policy) -> list[Action]:
    """What should happen to this follow-up at `now`, in order."""
    if fu.retry_at is not None and now < fu.retry_at:
        return []
    state = fu.state
    if state is State.PENDING:
        if fu.window_end and now >= fu.window_end and not any(d.draft_id for d in fu.drafts):
            # Down or asleep past the whole window: a note now would be late and odd.
            return [Action.EXPIRE]
        return [Action.CREATE_DRAFTS] if fu.draft_at and now >= fu.draft_at else []
    if state is State.DRAFTED:
        actions: list[Action] = []
        if fu.rerender:
            actions.append(Action.CREATE_DRAFTS)
        if fu.window_end and now >= fu.window_end:
            return [*actions, Action.EXPIRE]
        nudge = _due_nudge(fu, now, policy)
        if nudge:
            actions.append(nudge)
        return actions
    if state is State.APPROVED:
        if policy.mode is Mode.SEND and fu.send_at and now >= fu.send_at:
            return [Action.SEND]
        return []
    if state in (State.SENT, State.SENT_MANUALLY):
        checkin = _checkin_time(fu, policy)
        if (
            checkin
            and now >= checkin
            and fu.replied_at is None
            and NudgeKind.CHECKIN not in fu.nudges_sent
            and policy.mode is not Mode.DRAFT
        ):
            return [Action.NUDGE_CHECKIN]
    return []


def _reminder_times(fu: FollowUp, policy: Policy) -> list[tuple[NudgeKind, datetime]]:
    if fu.draft_at is None or fu.window_end is None:
        return []
    ready = [(NudgeKind.DRAFT_READY, fu.draft_at)]
    plan = timing.plan(fu.end, policy.timing)
    return ready + [(NudgeKind(kind), at) for kind, at in plan.reminders]


def _due_nudge(fu: FollowUp, now: datetime, policy: Policy) -> Action | None:
    if policy.mode is Mode.DRAFT:
        return None
    due = [k for k, at in _reminder_times(fu, policy) if at <= now]
    if not due:
        return None
    latest = due[-1]
    # After a long sleep only the latest nudge is worth sending, once.
    if latest in fu.nudges_sent or any(k in fu.nudges_sent for k in due[due.index(latest) :]):
        return None
    return Action(latest)


def _checkin_time(fu: FollowUp, policy: Policy) -> datetime | None:
    if fu.sent_at is None:
        return None
    return timing.checkin_at(fu.sent_at, policy.timing)


def next_due(fu: FollowUp, now: datetime, policy: Policy) -> datetime | None:
    """The next moment something is planned for this follow-up (for the timers)."""
    if fu.state is State.PENDING:
        return fu.draft_at
    if fu.state is State.DRAFTED:
        moments = [fu.window_end] if fu.window_end else []
        if policy.mode is not Mode.DRAFT:
            moments += [
                at
                for kind, at in _reminder_times(fu, policy)
                if at > now and kind not in fu.nudges_sent
            ]
        return min((m for m in moments if m is not None), default=None)
    if fu.state is State.APPROVED:
        return fu.send_at if policy.mode is Mode.SEND else None
    if fu.state in (State.SENT, State.SENT_MANUALLY) and fu.replied_at is None:
        checkin = _checkin_time(fu, policy)
        if checkin and NudgeKind.CHECKIN not in fu.nudges_sent:
            return checkin
    return None


def watches_gmail(fu: FollowUp, now: datetime) -> bool:
    """Whether a poll should look at this follow-up's drafts or thread."""
    if fu.state in (State.DRAFTED, State.APPROVED):
        return True
    if any(d.status.in_flight for d in fu.drafts):
        return True
    if fu.state in (State.SENT, State.SENT_MANUALLY) and fu.replied_at is None:
        if fu.sent_at is None or now - fu.sent_at >= REPLY_WATCH:
            return False
        # A reply is worth noticing within the hour, not within the poll: an idle
        # daemon with a month of sent notes should not read every thread every poll.
        return fu.reply_checked_at is None or now - fu.reply_checked_at >= REPLY_CHECK_EVERY
    return False


# --- user requests ----------------------------------------------------------------


def approve(fu: FollowUp, now: datetime, policy: Policy, via: str) -> FollowUp:
    if policy.mode is not Mode.SEND:
        raise LifecycleError(
            f'cannot approve: mode is "{policy.mode}", which never sends; send the draft '
            'from Gmail yourself, or set mode = "send" in the config'
        )
    if fu.state is State.APPROVED:
        return fu
    if fu.state is not State.DRAFTED:
        raise LifecycleError(
            f"follow-up {fu.id} is {fu.state.value}; only a drafted follow-up can be approved"
        )
    if not any(d.status is DraftStatus.CREATED for d in fu.drafts):
        raise LifecycleError(f"follow-up {fu.id} has no draft left in Gmail to send")
    if fu.window_start is None or fu.window_end is None:
        raise LifecycleError(f"follow-up {fu.id} has no window yet")
    window_start, window_end = fu.window_start, fu.window_end
    fu = replace(fu, drafts=[replace(d) for d in fu.drafts])
    fu.send_at, fu.late = timing.send_slot(now, window_start, window_end, policy.timing)
    fu.state = State.APPROVED
    fu.approved_via = via
    fu.updated_at = now
    return fu


def skip(fu: FollowUp, now: datetime, via: str) -> FollowUp:
    if fu.state in (State.SKIPPED,):
        return fu
    if fu.state.final:
        raise LifecycleError(f"follow-up {fu.id} is already {fu.state.value}")
    if any(d.status is DraftStatus.SENDING for d in fu.drafts):
        raise LifecycleError(f"follow-up {fu.id} is being sent right now")
    fu = replace(fu, drafts=[replace(d) for d in fu.drafts])
    fu.state = State.SKIPPED
    fu.approved_via = via
    fu.updated_at = now
    return fu


def add_note(fu: FollowUp, text: str, now: datetime) -> FollowUp:
    text = " ".join(text.split())
    if not text:
        raise LifecycleError("the note is empty")
    if fu.state.final and fu.state is not State.EXPIRED:
        raise LifecycleError(f"follow-up {fu.id} is {fu.state.value}; a note changes nothing")
    fu = replace(fu, drafts=[replace(d) for d in fu.drafts], notes=[*fu.notes, text])
    if fu.state is State.DRAFTED and any(not d.touched for d in fu.drafts):
        fu.rerender = True
    fu.updated_at = now
    return fu


def settle_after_drafts(fu: FollowUp, now: datetime) -> None:
    """State after a draft pass: drafted once no draft is left to write."""
    if fu.state is not State.PENDING or not fu.drafts:
        return
    if any(d.status in (DraftStatus.PLANNED, DraftStatus.CREATING) for d in fu.drafts):
        return
    fu.state = State.DRAFTED
    # Drafts that ended before we recorded them (sent by hand after a crash) settle now.
    settle_after_gmail(fu, now)


def settle_after_gmail(fu: FollowUp, now: datetime) -> None:
    """Fold per-draft outcomes into the follow-up state."""
    statuses = {d.status for d in fu.drafts}
    sent, by_hand, deleted = DraftStatus.SENT, DraftStatus.SENT_MANUALLY, DraftStatus.DELETED
    if fu.state in (State.DRAFTED, State.APPROVED):
        if statuses and statuses <= {sent}:
            fu.state = State.SENT
            fu.sent_at = fu.sent_at or now
        elif statuses and statuses <= {sent, by_hand}:
            fu.state = State.SENT_MANUALLY if sent not in statuses else State.SENT
            fu.sent_at = fu.sent_at or now
        elif statuses and statuses <= {deleted}:
            fu.state = State.SKIPPED
            fu.approved_via = fu.approved_via or "draft deleted in Gmail"
        elif statuses and statuses <= {sent, by_hand, deleted}:
            fu.state = State.SENT if sent in statuses else State.SENT_MANUALLY
            fu.sent_at = fu.sent_at or now
