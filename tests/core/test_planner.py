"""core.planner on plain data: what each observation of Gmail means for a draft."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from followupd.core import planner
from followupd.core.model import Draft, DraftStatus, FollowUp, State
from followupd.core.planner import (
    AdoptDraft,
    CreateDraft,
    DraftSeen,
    GmailDraft,
    KeepDraft,
    LeaveTouched,
    MarkDeleted,
    MarkSent,
    MarkSentByHand,
    Replan,
    SendDraft,
    SentNote,
    ThreadMessage,
    UpdateDraft,
)

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
    planner.record(fu, AdoptDraft("tok", COPY))
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
    planner.record(fu, MarkSent("tok", "s1"))
    assert fu.drafts[0].status is DraftStatus.SENT
    assert (fu.drafts[0].sent_message_id, fu.drafts[0].thread_id, fu.error) == ("s1", "t1", "old")


def test_an_outcome_that_says_why_replaces_the_follow_ups_error() -> None:
    fu = followup(draft(DraftStatus.CREATED))
    planner.record(fu, MarkDeleted("tok", error=planner.NO_SCOPE_DELETED))
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
    op: planner.Operation, status: DraftStatus, touched: bool
) -> None:
    fu = followup(draft(DraftStatus.SENDING))
    planner.record(fu, op)
    assert (fu.drafts[0].status, fu.drafts[0].touched) == (status, touched)


def test_a_gmail_write_is_carried_out_by_the_engine_not_recorded() -> None:
    with pytest.raises(TypeError):
        planner.record(followup(draft(DraftStatus.CREATED)), SendDraft("tok", "d1"))
