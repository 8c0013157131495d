"""core.planner and core.operations on plain data: what each observation of Gmail
means for a draft, what is due for a follow-up, and how outcomes are recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from followupd.core import operations, planner
from followupd.core.lifecycle import Policy
from followupd.core.model import Draft, DraftStatus, FollowUp, NudgeKind, State
from followupd.core.operations import (
    AdoptDraft,
    CreateDraft,
    Expire,
    GmailDraft,
    KeepDraft,
    LeaveTouched,
    MarkDeleted,
    MarkReplied,
    MarkSent,
    MarkSentByHand,
    Replan,
    SendApproved,
    SendDraft,
    SendNudge,
    UpdateDraft,
    WriteDrafts,
)
from followupd.core.planner import DraftSeen, SentNote, ThreadMessage
from followupd.core.settings import Mode, TimingSettings

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
RAW = b"Subject: Thank you\r\n\r\nThanks!\r\n"
COPY = GmailDraft(draft_id="d1", message_id="m1", thread_id="t1")


def draft(status: DraftStatus, **over: object) -> Draft:
    fields: dict[str, object] = {
        "recipients": ("jane@acme.com",),
        "rfc_message_id": "tok",
        "draft_id": "d1",
        "message_id": "m1",
        "thread_id": "t1",
        "status": status,
    }
    fields.update(over)
    return Draft(**fields)  # type: ignore[arg-type]


def followup(*drafts: Draft) -> FollowUp:
    return FollowUp(
        id="abc123",
        calendar_id="primary",
        event_id="ev1",
        summary="Interview",
        start=T0 - timedelta(hours=2),
        end=T0 - timedelta(hours=1),
        state=State.DRAFTED,
        drafts=list(drafts),
    )


# --------------------------------------------------------------------------- looking


@pytest.mark.parametrize(
    ("seen_draft", "worth_looking"),
    [
        (draft(DraftStatus.CREATING, draft_id=None), True),
        (draft(DraftStatus.CREATED), True),
        (draft(DraftStatus.SENDING), True),
        (draft(DraftStatus.CREATED, draft_id=None), False),
        (draft(DraftStatus.PLANNED), False),
        (draft(DraftStatus.SENT), False),
        (draft(DraftStatus.DELETED), False),
    ],
)
def test_gmail_is_asked_only_about_drafts_with_something_to_decide(
    seen_draft: Draft, worth_looking: bool
) -> None:
    assert planner.needs_look(seen_draft) is worth_looking


# --------------------------------------------------------------------------- create intents


def test_a_create_intent_whose_draft_is_in_gmail_adopts_it_and_drops_duplicates() -> None:
    seen = DraftSeen(COPY, duplicates=("d2", "d3"))
    op = planner.check_draft(draft(DraftStatus.CREATING, draft_id=None), seen)
    assert op == AdoptDraft("tok", COPY, ("d2", "d3"))


def test_a_create_intent_whose_draft_the_user_already_sent_is_never_created_again() -> None:
    seen = DraftSeen(sent=(SentNote("s1", "t9"),))
    op = planner.check_draft(draft(DraftStatus.CREATING, draft_id=None), seen)
    assert op == MarkSentByHand("tok", "s1", "t9")


@pytest.mark.parametrize("sent", [(), None], ids=["nothing sent", "cannot look"])
def test_a_create_intent_that_left_nothing_plans_the_draft_again(
    sent: tuple[SentNote, ...] | None,
) -> None:
    op = planner.check_draft(draft(DraftStatus.CREATING, draft_id=None), DraftSeen(sent=sent))
    assert op == Replan("tok")


# --------------------------------------------------------------------------- created drafts


def test_a_draft_unchanged_in_gmail_needs_nothing() -> None:
    assert planner.check_draft(draft(DraftStatus.CREATED), DraftSeen(COPY)) is None


def test_a_draft_whose_message_changed_was_edited_and_is_left_alone() -> None:
    edited = GmailDraft("d1", "m2", "t1")
    assert planner.check_draft(draft(DraftStatus.CREATED), DraftSeen(edited)) == LeaveTouched("tok")


def test_an_edited_draft_already_known_as_touched_needs_nothing_more() -> None:
    edited = GmailDraft("d1", "m2", "t1")
    touched = draft(DraftStatus.CREATED, touched=True)
    assert planner.check_draft(touched, DraftSeen(edited)) is None


def test_a_draft_gone_with_a_sent_message_in_its_thread_was_sent_by_hand() -> None:
    seen = DraftSeen(sent=(SentNote("s1"), SentNote("s2")))
    assert planner.check_draft(draft(DraftStatus.CREATED), seen) == MarkSentByHand("tok", "s2")


def test_a_draft_gone_with_nothing_sent_was_deleted() -> None:
    assert planner.check_draft(draft(DraftStatus.CREATED), DraftSeen(sent=())) == MarkDeleted("tok")


def test_a_draft_gone_where_gmail_cannot_be_asked_counts_as_deleted_and_says_why() -> None:
    op = planner.check_draft(draft(DraftStatus.CREATED), DraftSeen(sent=None))
    assert op == MarkDeleted("tok", error=planner.NO_SCOPE_DELETED)


# --------------------------------------------------------------------------- send intents


def test_a_send_intent_whose_draft_is_still_in_drafts_was_not_sent() -> None:
    assert planner.check_draft(draft(DraftStatus.SENDING), DraftSeen(COPY)) == KeepDraft("tok")


def test_a_send_intent_whose_draft_is_gone_with_a_sent_message_was_sent_by_us() -> None:
    seen = DraftSeen(sent=(SentNote("s1"),))
    assert planner.check_draft(draft(DraftStatus.SENDING), seen) == MarkSent("tok", "s1")


def test_a_send_intent_that_cannot_be_checked_assumes_it_went_never_sending_twice() -> None:
    op = planner.check_draft(draft(DraftStatus.SENDING), DraftSeen(sent=None))
    assert op == MarkSent("tok", error="")


def test_a_send_intent_whose_draft_vanished_unsent_was_deleted() -> None:
    assert planner.check_draft(draft(DraftStatus.SENDING), DraftSeen(sent=())) == MarkDeleted("tok")


@pytest.mark.parametrize("status", [DraftStatus.PLANNED, DraftStatus.SENT, DraftStatus.DELETED])
def test_a_draft_with_no_open_question_needs_nothing(status: DraftStatus) -> None:
    assert planner.check_draft(draft(status), DraftSeen(COPY)) is None


# --------------------------------------------------------------------------- the draft pass


def test_a_draft_pass_writes_planned_created_and_creating_drafts_never_touched_ones() -> None:
    assert planner.writable(draft(DraftStatus.PLANNED))
    assert planner.writable(draft(DraftStatus.CREATED))
    assert planner.writable(draft(DraftStatus.CREATING))
    assert not planner.writable(draft(DraftStatus.CREATED, touched=True))
    assert not planner.writable(draft(DraftStatus.SENT))


def test_a_draft_in_gmail_is_rewritten_only_when_a_note_asks_for_it() -> None:
    written = draft(DraftStatus.CREATED)
    fu = followup(written)
    assert planner.up_to_date(fu, written)
    fu.rerender = True
    assert not planner.up_to_date(fu, written)


def test_a_planned_draft_is_created_in_its_thread() -> None:
    planned = draft(DraftStatus.PLANNED, draft_id=None, thread_id="invite")
    assert planner.write_draft(planned, RAW, None) == CreateDraft("tok", RAW, "invite")


def test_an_untouched_draft_in_gmail_is_updated_in_place() -> None:
    op = planner.write_draft(draft(DraftStatus.CREATED), RAW, DraftSeen(COPY))
    assert op == UpdateDraft("tok", "d1", RAW, "t1")


def test_a_draft_the_user_edited_meanwhile_is_not_updated() -> None:
    seen = DraftSeen(GmailDraft("d1", "m2", "t1"))
    assert planner.write_draft(draft(DraftStatus.CREATED), RAW, seen) == LeaveTouched("tok")


def test_a_draft_gone_before_its_update_is_classified_instead() -> None:
    seen = DraftSeen(sent=())
    assert planner.write_draft(draft(DraftStatus.CREATED), RAW, seen) == MarkDeleted("tok")


def test_only_drafts_still_in_gmail_are_sent_in_order() -> None:
    fu = followup(
        draft(DraftStatus.CREATED, rfc_message_id="a", draft_id="da"),
        draft(DraftStatus.DELETED, rfc_message_id="b", draft_id="db"),
        draft(DraftStatus.CREATED, rfc_message_id="c", draft_id=None),
        draft(DraftStatus.CREATED, rfc_message_id="d", draft_id="dd"),
    )
    assert planner.drafts_to_send(fu) == [SendDraft("a", "da"), SendDraft("d", "dd")]


# --------------------------------------------------------------------------- replies


def message(
    sender: str, minutes: int, *, sent: bool = False, is_draft: bool = False
) -> ThreadMessage:
    return ThreadMessage(
        sender=sender, internal_date=T0 + timedelta(minutes=minutes), sent=sent, draft=is_draft
    )


def test_the_first_message_from_someone_else_after_the_note_is_the_reply() -> None:
    messages = [
        message("jane@acme.com", -5),
        message("me@example.com", 0, sent=True),
        message("Me@Example.com", 5),
        message("bot@acme.com", 6, is_draft=True),
        message("jane@acme.com", 30),
        message("omar@acme.com", 40),
    ]
    replied = planner.find_reply(messages, account="me@example.com", sent_at=T0)
    assert replied == T0 + timedelta(minutes=30)


def test_a_thread_with_only_our_messages_has_no_reply() -> None:
    messages = [message("me@example.com", 0, sent=True)]
    assert planner.find_reply(messages, account="me@example.com", sent_at=T0) is None


# --------------------------------------------------------------------------- recording


def test_adopting_a_draft_records_gmails_ids() -> None:
    fu = followup(draft(DraftStatus.CREATING, draft_id=None, message_id=None, thread_id=None))
    operations.record(fu, AdoptDraft("tok", COPY))
    (recorded,) = fu.drafts
    assert (recorded.status, recorded.draft_id, recorded.message_id, recorded.thread_id) == (
        DraftStatus.CREATED,
        "d1",
        "m1",
        "t1",
    )


def test_marking_sent_keeps_the_thread_when_gmail_names_none() -> None:
    fu = followup(draft(DraftStatus.SENDING))
    fu.error = "old"
    operations.record(fu, MarkSent("tok", "s1"))
    assert fu.drafts[0].status is DraftStatus.SENT
    assert (fu.drafts[0].sent_message_id, fu.drafts[0].thread_id, fu.error) == ("s1", "t1", "old")


def test_an_outcome_that_says_why_replaces_the_follow_ups_error() -> None:
    fu = followup(draft(DraftStatus.CREATED))
    operations.record(fu, MarkDeleted("tok", error=planner.NO_SCOPE_DELETED))
    assert fu.drafts[0].status is DraftStatus.DELETED and fu.error == planner.NO_SCOPE_DELETED


@pytest.mark.parametrize(
    ("op", "status", "touched"),
    [
        (Replan("tok"), DraftStatus.PLANNED, False),
        (KeepDraft("tok"), DraftStatus.CREATED, False),
        (LeaveTouched("tok"), DraftStatus.SENDING, True),
        (MarkSentByHand("tok", "s1"), DraftStatus.SENT_MANUALLY, False),
    ],
)
def test_each_outcome_sets_the_drafts_status(
    op: operations.Operation, status: DraftStatus, touched: bool
) -> None:
    fu = followup(draft(DraftStatus.SENDING))
    operations.record(fu, op)
    assert (fu.drafts[0].status, fu.drafts[0].touched) == (status, touched)


def test_a_gmail_write_is_carried_out_by_the_engine_not_recorded() -> None:
    with pytest.raises(TypeError):
        operations.record(followup(draft(DraftStatus.CREATED)), SendDraft("tok", "d1"))


def test_recording_a_reply_sets_when_it_came() -> None:
    fu = followup(draft(DraftStatus.SENT))
    operations.record(fu, MarkReplied(T0))
    assert fu.replied_at == T0


def test_recording_an_expiry_closes_the_follow_up_and_leaves_its_draft() -> None:
    fu = followup(draft(DraftStatus.CREATED))
    operations.record(fu, Expire())
    assert fu.state is State.EXPIRED and fu.drafts[0].status is DraftStatus.CREATED


# --------------------------------------------------------------------------- what is due

SEND_MODE = Policy(mode=Mode.SEND, timing=TimingSettings())


def scheduled(state: State) -> FollowUp:
    fu = followup(draft(DraftStatus.CREATED))
    fu.state = state
    fu.draft_at, fu.window_end = fu.end + timedelta(minutes=10), fu.end + timedelta(hours=48)
    return fu


def test_a_pending_follow_up_past_its_draft_time_is_due_for_the_draft_pass() -> None:
    fu = scheduled(State.PENDING)
    fu.drafts = [draft(DraftStatus.PLANNED, draft_id=None)]
    assert planner.plan_due(fu, T0, SEND_MODE) == [WriteDrafts()]


def test_a_fresh_draft_is_due_for_its_draft_ready_nudge() -> None:
    assert planner.plan_due(scheduled(State.DRAFTED), T0, SEND_MODE) == [
        SendNudge(NudgeKind.DRAFT_READY)
    ]


def test_a_closed_window_is_due_to_expire() -> None:
    fu = scheduled(State.DRAFTED)
    assert fu.window_end is not None
    assert planner.plan_due(fu, fu.window_end, SEND_MODE) == [Expire()]


def test_an_approved_follow_up_at_its_slot_is_due_to_be_sent() -> None:
    fu = scheduled(State.APPROVED)
    fu.send_at = T0
    assert planner.plan_due(fu, T0, SEND_MODE) == [SendApproved()]


def test_a_checkin_is_planned_only_after_one_more_look_for_a_reply() -> None:
    policy = Policy(mode=Mode.SEND, timing=TimingSettings(checkin_after=timedelta(days=3)))
    fu = scheduled(State.SENT)
    fu.sent_at = T0
    assert planner.plan_due(fu, T0 + timedelta(days=10), policy) == [
        SendNudge(NudgeKind.CHECKIN, look_for_reply=True)
    ]


def test_after_the_last_look_a_reply_is_recorded_instead_of_a_checkin() -> None:
    fu = scheduled(State.SENT)
    assert planner.checkin(fu) == SendNudge(NudgeKind.CHECKIN)
    fu.replied_at = T0
    assert planner.checkin(fu) == MarkReplied(T0)
