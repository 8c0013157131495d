"""core.lifecycle on plain data: every branch of the state machine, no adapters."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from followupd.core import lifecycle
from followupd.core.lifecycle import Action, LifecycleError, Policy
from followupd.core.model import (
    Detection,
    Draft,
    DraftStatus,
    Event,
    FollowUp,
    NudgeKind,
    Person,
    State,
)
from followupd.core.settings import Mode, TimingSettings

# Monday 2026-11-23 10:00 UTC; the interview ends at 10:45.
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
END = START + timedelta(minutes=45)
JANE = Person(email="jane@acme.com", name="Jane Doe", first_name="Jane")
OMAR = Person(email="omar@acme.com", name="Omar Ali", first_name="Omar")


def policy(mode: Mode = Mode.SEND, **timing: object) -> Policy:
    return Policy(mode=mode, timing=TimingSettings(**timing))  # type: ignore[arg-type]


def event(**over: object) -> Event:
    fields: dict[str, object] = {
        "calendar_id": "primary",
        "id": "ev1",
        "summary": "Interview: Backend Engineer",
        "start": START,
        "end": END,
    }
    fields.update(over)
    return Event(**fields)  # type: ignore[arg-type]


def detection(*people: Person, is_interview: bool = True) -> Detection:
    return Detection(
        is_interview=is_interview,
        reason="title says interview" if is_interview else "declined",
        recipients=people or (JANE,),
        company="Acme",
    )


def tracked(now: datetime = START, p: Policy | None = None, *people: Person) -> FollowUp:
    fu = lifecycle.observe_event(None, event(), detection(*people), now, p or policy())
    assert fu is not None
    return fu


def drafted(p: Policy | None = None, *statuses: DraftStatus) -> FollowUp:
    fu = tracked(START, p)
    fu.state = State.DRAFTED
    fu.drafts = [
        Draft(recipients=(f"r{i}@acme.com",), rfc_message_id=f"t{i}", draft_id=f"d{i}", status=s)
        for i, s in enumerate(statuses or (DraftStatus.CREATED,))
    ]
    return fu


# --------------------------------------------------------------------------- observe_event


def test_a_new_interview_becomes_a_pending_follow_up_with_its_schedule() -> None:
    fu = tracked()
    assert fu.state is State.PENDING
    assert fu.recipients == ("jane@acme.com",)
    assert fu.draft_at == END + timedelta(minutes=10)
    assert fu.window_end == END + timedelta(hours=48)
    assert [d.status for d in fu.drafts] == [DraftStatus.PLANNED]


def test_the_same_event_always_gets_the_same_id() -> None:
    assert tracked().id == tracked().id == lifecycle.followup_id("primary", "ev1")


@pytest.mark.parametrize(
    ("seen", "found"),
    [
        (event(status="cancelled"), detection()),
        (event(), detection(is_interview=False)),
        (event(end=None), detection()),
        (event(start=START - timedelta(days=5), end=END - timedelta(days=5)), detection()),
        (event(), Detection(is_interview=True, reason="no one to write to")),
    ],
    ids=["cancelled", "not an interview", "no end", "long past", "no recipients"],
)
def test_an_event_that_needs_no_note_is_not_tracked(seen: Event, found: Detection) -> None:
    assert lifecycle.observe_event(None, seen, found, START, policy()) is None


def test_a_pending_interview_cancelled_before_its_end_is_cancelled() -> None:
    fu = lifecycle.observe_event(tracked(), event(status="cancelled"), detection(), START, policy())
    assert fu is not None and fu.state is State.CANCELLED and fu.error == ""


def test_a_declined_pending_interview_is_cancelled_with_the_reason() -> None:
    fu = lifecycle.observe_event(tracked(), event(), detection(is_interview=False), START, policy())
    assert fu is not None and fu.state is State.CANCELLED and fu.error == "declined"


def test_an_interview_no_longer_matching_after_its_end_stays_pending() -> None:
    later = END + timedelta(minutes=5)
    fu = lifecycle.observe_event(tracked(), event(), detection(is_interview=False), later, policy())
    assert fu is not None and fu.state is State.PENDING


def test_a_drafted_follow_up_ignores_a_tidied_up_calendar_entry() -> None:
    fu = drafted()
    after = lifecycle.observe_event(fu, event(status="cancelled"), detection(), END, policy())
    assert after is not None and after.state is State.DRAFTED


def test_a_pending_follow_up_takes_new_attendees_as_new_drafts() -> None:
    fu = lifecycle.observe_event(tracked(), event(), detection(JANE, OMAR), START, policy())
    assert fu is not None
    assert [d.recipients for d in fu.drafts] == [("jane@acme.com",), ("omar@acme.com",)]


def test_an_interview_moved_into_the_future_goes_back_to_pending_and_rerenders() -> None:
    fu = drafted()
    fu.nudges_sent = [NudgeKind.DRAFT_READY]
    moved = event(start=START + timedelta(days=1), end=END + timedelta(days=1))
    after = lifecycle.observe_event(fu, moved, detection(), END, policy())
    assert after is not None
    assert after.state is State.PENDING and after.rerender and after.nudges_sent == []
    assert after.draft_at == END + timedelta(days=1, minutes=10)


def test_observing_never_changes_the_follow_up_it_was_given() -> None:
    fu = drafted()
    moved = event(start=START + timedelta(days=1), end=END + timedelta(days=1))
    lifecycle.observe_event(fu, moved, detection(), END, policy())
    assert fu.state is State.DRAFTED and fu.end == END


# --------------------------------------------------------------------------- plan_drafts


def test_one_draft_per_interviewer_or_one_for_the_panel() -> None:
    fu = tracked(START, policy(), JANE, OMAR)
    assert len(lifecycle.plan_drafts(fu, per_interviewer=True)) == 2
    fu.drafts = []
    assert [d.recipients for d in lifecycle.plan_drafts(fu, per_interviewer=False)] == [
        ("jane@acme.com", "omar@acme.com")
    ]


def test_a_draft_written_for_someone_no_longer_invited_stays_recorded() -> None:
    fu = tracked(START, policy(), JANE, OMAR)
    fu.recipients = ("jane@acme.com",)
    assert len(lifecycle.plan_drafts(fu, per_interviewer=True)) == 2


# --------------------------------------------------------------------------- due_actions


def test_a_pending_follow_up_is_drafted_once_the_delay_passed() -> None:
    fu = tracked()
    assert lifecycle.due_actions(fu, END, policy()) == []
    assert lifecycle.due_actions(fu, fu.draft_at, policy()) == [Action.CREATE_DRAFTS]


def test_a_pending_follow_up_whose_whole_window_passed_expires_without_a_draft() -> None:
    fu = tracked()
    assert fu.window_end is not None
    assert lifecycle.due_actions(fu, fu.window_end, policy()) == [Action.EXPIRE]


def test_nothing_is_due_before_a_problem_is_retried() -> None:
    fu = tracked()
    fu.retry_at = END + timedelta(hours=1)
    assert lifecycle.due_actions(fu, END + timedelta(minutes=30), policy()) == []


def test_a_fresh_draft_gets_the_draft_ready_nudge() -> None:
    fu = drafted()
    assert fu.draft_at is not None
    assert lifecycle.due_actions(fu, fu.draft_at, policy()) == [Action.NUDGE_READY]


def test_after_a_long_sleep_only_the_latest_nudge_is_due() -> None:
    fu = drafted()
    assert fu.window_end is not None
    closing = fu.window_end - timedelta(hours=1)
    assert lifecycle.due_actions(fu, closing, policy()) == [Action.NUDGE_CLOSING]
    fu.nudges_sent = [NudgeKind.CLOSING]
    assert lifecycle.due_actions(fu, closing, policy()) == []


def test_draft_mode_never_nudges() -> None:
    fu = drafted(policy(Mode.DRAFT))
    assert fu.draft_at is not None
    assert lifecycle.due_actions(fu, fu.draft_at, policy(Mode.DRAFT)) == []


def test_a_note_on_a_drafted_follow_up_refreshes_its_drafts_first() -> None:
    fu = drafted()
    fu.rerender = True
    fu.nudges_sent = [NudgeKind.DRAFT_READY]
    assert fu.draft_at is not None
    assert lifecycle.due_actions(fu, fu.draft_at, policy()) == [Action.CREATE_DRAFTS]


def test_an_unconfirmed_draft_expires_when_the_window_closes() -> None:
    fu = drafted()
    assert fu.window_end is not None
    assert lifecycle.due_actions(fu, fu.window_end, policy()) == [Action.EXPIRE]


def test_an_approved_follow_up_is_sent_at_its_slot_only_in_send_mode() -> None:
    fu = drafted()
    fu.state, fu.send_at = State.APPROVED, END + timedelta(hours=3)
    assert lifecycle.due_actions(fu, fu.send_at, policy()) == [Action.SEND]
    assert lifecycle.due_actions(fu, fu.send_at - timedelta(seconds=1), policy()) == []
    assert lifecycle.due_actions(fu, fu.send_at, policy(Mode.NUDGE)) == []


def test_a_sent_note_without_reply_gets_a_checkin_once() -> None:
    p = policy(checkin_after=timedelta(days=5))
    fu = drafted(p)
    fu.state, fu.sent_at = State.SENT, END + timedelta(hours=3)
    checkin = fu.sent_at + timedelta(days=8)  # moved into a slot: a business morning
    assert lifecycle.due_actions(fu, checkin, p) == [Action.NUDGE_CHECKIN]
    fu.nudges_sent = [NudgeKind.CHECKIN]
    assert lifecycle.due_actions(fu, checkin, p) == []


def test_a_replied_note_gets_no_checkin() -> None:
    p = policy(checkin_after=timedelta(days=5))
    fu = drafted(p)
    fu.state, fu.sent_at = State.SENT, END + timedelta(hours=3)
    fu.replied_at = fu.sent_at + timedelta(days=1)
    assert lifecycle.due_actions(fu, fu.sent_at + timedelta(days=6), p) == []


def test_every_nudge_action_names_its_nudge_kind() -> None:
    assert Action.NUDGE_READY.nudge is NudgeKind.DRAFT_READY
    assert Action.NUDGE_CHECKIN.nudge is NudgeKind.CHECKIN
    assert Action.SEND.nudge is None


# --------------------------------------------------------------------------- next_due


def test_the_next_moment_of_a_pending_follow_up_is_its_draft_time() -> None:
    fu = tracked()
    assert lifecycle.next_due(fu, START, policy()) == fu.draft_at


def test_the_next_moment_of_a_drafted_follow_up_is_its_next_unsent_nudge() -> None:
    fu = drafted()
    assert fu.draft_at is not None and fu.window_end is not None
    after_ready = fu.draft_at + timedelta(seconds=1)
    fu.nudges_sent = [NudgeKind.DRAFT_READY]
    due = lifecycle.next_due(fu, after_ready, policy())
    assert due is not None and after_ready < due <= fu.window_end
    assert lifecycle.next_due(fu, after_ready, policy(Mode.DRAFT)) == fu.window_end


def test_an_approved_follow_up_waits_for_its_send_time_only_in_send_mode() -> None:
    fu = drafted()
    fu.state, fu.send_at = State.APPROVED, END + timedelta(hours=3)
    assert lifecycle.next_due(fu, END, policy()) == fu.send_at
    assert lifecycle.next_due(fu, END, policy(Mode.NUDGE)) is None


def test_a_final_follow_up_has_nothing_planned() -> None:
    fu = drafted()
    fu.state = State.SKIPPED
    assert lifecycle.next_due(fu, END, policy()) is None


# --------------------------------------------------------------------------- watches_gmail


def test_gmail_is_watched_while_a_draft_waits_for_the_user() -> None:
    assert lifecycle.watches_gmail(drafted(), END)


def test_gmail_is_watched_while_an_intent_is_open_whatever_the_state() -> None:
    fu = drafted(None, DraftStatus.SENDING)
    fu.state = State.SKIPPED
    assert lifecycle.watches_gmail(fu, END)


def test_a_sent_note_is_looked_at_for_a_reply_hourly_for_thirty_days() -> None:
    fu = drafted(None, DraftStatus.SENT)
    fu.state, fu.sent_at = State.SENT, END
    fu.reply_checked_at = END + timedelta(minutes=30)
    assert not lifecycle.watches_gmail(fu, END + timedelta(minutes=59))
    assert lifecycle.watches_gmail(fu, END + timedelta(minutes=90))
    assert not lifecycle.watches_gmail(fu, END + timedelta(days=31))


# --------------------------------------------------------------------------- requests


def test_approving_plans_the_send_in_the_window() -> None:
    fu = lifecycle.approve(drafted(), END, policy(), via="cli")
    assert fu.state is State.APPROVED and fu.approved_via == "cli"
    assert fu.send_at is not None and fu.window_start is not None
    assert fu.send_at >= fu.window_start


def test_approving_in_a_mode_that_never_sends_is_refused() -> None:
    with pytest.raises(LifecycleError, match="never sends"):
        lifecycle.approve(drafted(), END, policy(Mode.NUDGE), via="cli")


def test_approving_twice_changes_nothing() -> None:
    fu = lifecycle.approve(drafted(), END, policy(), via="cli")
    assert lifecycle.approve(fu, END, policy(), via="email") is fu


def test_only_a_drafted_follow_up_with_a_draft_in_gmail_can_be_approved() -> None:
    with pytest.raises(LifecycleError, match="only a drafted"):
        lifecycle.approve(tracked(), END, policy(), via="cli")
    with pytest.raises(LifecycleError, match="no draft left"):
        lifecycle.approve(drafted(None, DraftStatus.DELETED), END, policy(), via="cli")


def test_skipping_is_refused_while_a_send_is_under_way_or_once_final() -> None:
    with pytest.raises(LifecycleError, match="being sent"):
        lifecycle.skip(drafted(None, DraftStatus.SENDING), END, via="cli")
    fu = replace(drafted(), state=State.SENT)
    with pytest.raises(LifecycleError, match="already sent"):
        lifecycle.skip(fu, END, via="cli")


def test_skipping_a_drafted_follow_up_skips_it_once() -> None:
    fu = lifecycle.skip(drafted(), END, via="cli")
    assert fu.state is State.SKIPPED
    assert lifecycle.skip(fu, END, via="cli") is fu


def test_a_note_on_a_drafted_follow_up_with_an_untouched_draft_asks_for_a_refresh() -> None:
    fu = lifecycle.add_note(drafted(), "  how   on-call works ", END)
    assert fu.notes == ["how on-call works"] and fu.rerender


def test_a_note_refreshes_nothing_when_every_draft_was_edited() -> None:
    fu = drafted()
    fu.drafts[0].touched = True
    assert not lifecycle.add_note(fu, "x", END).rerender


def test_an_empty_note_or_a_note_on_a_closed_follow_up_is_refused() -> None:
    with pytest.raises(LifecycleError, match="empty"):
        lifecycle.add_note(drafted(), "   ", END)
    with pytest.raises(LifecycleError, match="changes nothing"):
        lifecycle.add_note(replace(drafted(), state=State.SENT), "x", END)


def test_a_note_on_an_expired_follow_up_is_kept() -> None:
    assert lifecycle.add_note(replace(drafted(), state=State.EXPIRED), "x", END).notes == ["x"]


# --------------------------------------------------------------------------- settling


def test_a_pending_follow_up_is_drafted_once_no_draft_is_left_to_write() -> None:
    fu = tracked()
    fu.drafts = [Draft(recipients=("a@x.com",), rfc_message_id="t", status=DraftStatus.CREATING)]
    lifecycle.settle_after_drafts(fu, END)
    assert fu.state is State.PENDING
    fu.drafts[0].status = DraftStatus.CREATED
    lifecycle.settle_after_drafts(fu, END)
    assert fu.state is State.DRAFTED


def test_a_draft_sent_by_hand_before_it_was_recorded_settles_the_follow_up() -> None:
    fu = tracked()
    fu.drafts = [Draft(recipients=("a@x.com",), rfc_message_id="t")]
    fu.drafts[0].status = DraftStatus.SENT_MANUALLY
    lifecycle.settle_after_drafts(fu, END)
    assert fu.state is State.SENT_MANUALLY and fu.sent_at == END


@pytest.mark.parametrize(
    ("statuses", "state"),
    [
        ((DraftStatus.SENT, DraftStatus.SENT), State.SENT),
        ((DraftStatus.SENT_MANUALLY,), State.SENT_MANUALLY),
        ((DraftStatus.SENT, DraftStatus.SENT_MANUALLY), State.SENT),
        ((DraftStatus.DELETED,), State.SKIPPED),
        ((DraftStatus.SENT_MANUALLY, DraftStatus.DELETED), State.SENT_MANUALLY),
        ((DraftStatus.SENT, DraftStatus.DELETED), State.SENT),
        ((DraftStatus.SENT, DraftStatus.CREATED), State.DRAFTED),
    ],
)
def test_draft_outcomes_fold_into_the_follow_up_state(
    statuses: tuple[DraftStatus, ...], state: State
) -> None:
    fu = drafted(None, *statuses)
    lifecycle.settle_after_gmail(fu, END)
    assert fu.state is state
