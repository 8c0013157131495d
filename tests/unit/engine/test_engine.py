"""The engine with in-memory twins of Calendar and Gmail and an injected clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from support.engine_world import T0, World, after_end, interview, make_config

from followupd.adapters.mailbox import SendUncertain
from followupd.core.model import State


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path, make_config())


class TestDrafting:
    """An interview becomes one draft per interviewer, once."""

    def test_pending_until_the_delay_then_drafted(self, world: World) -> None:
        world.calendar.add_event(
            interview(people=(("jane.doe@acme.com", "Jane Doe"), ("omar@acme.com", "Omar Haddad")))
        )
        world.at(T0 + timedelta(minutes=50))
        fu = world.only()
        assert fu.state is State.PENDING
        assert world.mailbox.drafts() == []
        world.at(after_end())
        fu = world.only()
        assert fu.state is State.DRAFTED
        assert len(world.mailbox.drafts()) == 2
        assert fu.recipients == ("jane.doe@acme.com", "omar@acme.com")

    def test_second_cycle_and_restart_create_nothing_twice(self, world: World) -> None:
        world.calendar.add_event(interview())
        world.at(after_end())
        world.at(after_end(12))
        world.at(after_end(20))
        assert len(world.mailbox.drafts()) == 1
        assert world.mailbox.counts().get("gmail.users.drafts.create", 0) == 1

    def test_non_interview_is_ignored(self, world: World) -> None:
        world.calendar.add_event(interview(summary="Coffee with a friend"))
        world.at(after_end())
        assert world.store.all() == []

    def test_crash_after_create_before_record_adopts_the_draft(self, world: World) -> None:
        world.calendar.add_event(interview())
        world.mailbox.fail_next("create_draft", ConnectionError("dropped"), after=True)
        with pytest.raises(ConnectionError):
            world.at(after_end())
        assert world.only().drafts[0].status == "creating"
        world.at(after_end(12))
        fu = world.only()
        assert fu.state is State.DRAFTED
        assert len(world.mailbox.drafts()) == 1

    def test_a_lost_create_sent_by_hand_meanwhile_is_never_written_again(
        self, world: World
    ) -> None:
        world.calendar.add_event(interview())
        world.mailbox.fail_next("create_draft", ConnectionError("dropped"), after=True)
        with pytest.raises(ConnectionError):
            world.at(after_end())
        (lost,) = world.mailbox.drafts()
        world.mailbox.user_send_draft(lost.draft_id)
        world.clock.set(after_end(12))
        world.engine().act_on(world.only().id)  # the draft pass itself, without a look first
        fu = world.only()
        assert fu.drafts[0].status == "sent_manually" and fu.state is State.SENT_MANUALLY
        assert world.mailbox.drafts() == []
        assert len(world.mailbox.sent_messages()) == 1


class TestUserInGmail:
    """The user's hand in Gmail always wins."""

    def test_edited_draft_is_never_overwritten_by_a_note(self, world: World) -> None:
        world.calendar.add_event(interview())
        engine = world.at(after_end())
        draft_id = world.only().drafts[0].draft_id
        world.mailbox.user_edit_draft(draft_id, "My own words.")
        world.at(after_end(15))
        assert world.only().drafts[0].touched
        engine = world.engine()
        assert engine.apply("note", world.only().id, "event sourcing").startswith("ok")
        world.at(after_end(20))
        assert world.mailbox.counts().get("gmail.users.drafts.update", 0) == 0

    def test_note_refreshes_an_untouched_draft(self, world: World) -> None:
        world.calendar.add_event(interview())
        world.at(after_end())
        fu = world.only()
        assert [f.code for f in fu.proofread] == ["no_detail"]
        world.engine().apply("note", fu.id, "the migration to event sourcing")
        world.at(after_end(13))
        fu = world.only()
        assert world.mailbox.counts().get("gmail.users.drafts.update", 0) == 1
        assert fu.proofread == []

    def test_hand_sent_draft_is_sent_manually(self, world: World) -> None:
        world.calendar.add_event(interview())
        world.at(after_end())
        world.mailbox.user_send_draft(world.only().drafts[0].draft_id)
        world.at(after_end(20))
        assert world.only().state is State.SENT_MANUALLY

    def test_deleted_draft_means_skip(self, world: World) -> None:
        world.calendar.add_event(interview())
        world.at(after_end())
        world.mailbox.user_delete_draft(world.only().drafts[0].draft_id)
        world.at(after_end(20))
        assert world.only().state is State.SKIPPED


class TestSending:
    """Confirmed notes leave once, in the window, as the user left them."""

    def test_approved_note_is_sent_once_at_the_slot(self, world: World) -> None:
        world.calendar.add_event(interview())
        world.at(after_end())
        fu = world.only()
        message = world.engine().apply("approve", fu.id)
        assert message.startswith("ok"), message
        fu = world.only()
        # Monday 10:00-10:45 interview: window opens Tuesday 10:45, inside the
        # 09:00-11:30 slot, so it goes then.
        assert fu.send_at == T0 + timedelta(days=1, minutes=45)
        world.at(fu.send_at - timedelta(minutes=1))
        assert world.mailbox.sent_messages() == []
        world.at(fu.send_at)
        world.at(fu.send_at + timedelta(minutes=5))
        assert len(world.mailbox.sent_messages()) == 1
        assert world.only().state is State.SENT

    def test_unconfirmed_note_is_never_sent_and_expires(self, world: World) -> None:
        world.calendar.add_event(interview())
        world.at(after_end())
        world.at(T0 + timedelta(days=3))
        assert world.mailbox.sent_messages() == []
        assert world.only().state is State.EXPIRED
        assert len(world.mailbox.drafts()) == 1  # left alone

    def test_dropped_send_is_checked_not_repeated(self, world: World) -> None:
        world.calendar.add_event(interview())
        world.at(after_end())
        fu = world.only()
        world.engine().apply("approve", fu.id)
        send_at = world.only().send_at
        world.mailbox.fail_next("send_draft", SendUncertain("dropped"), after=True)
        world.at(send_at)
        assert world.only().drafts[0].status == "sending"
        world.at(send_at + timedelta(minutes=5))
        assert world.only().state is State.SENT
        assert len(world.mailbox.sent_messages()) == 1
        assert world.mailbox.counts().get("gmail.users.drafts.send", 0) == 1

    def test_send_dropped_before_gmail_acted_is_retried(self, world: World) -> None:
        world.calendar.add_event(interview())
        world.at(after_end())
        world.engine().apply("approve", world.only().id)
        send_at = world.only().send_at
        world.mailbox.fail_next("send_draft", SendUncertain("dropped"), after=False)
        world.at(send_at)
        world.at(send_at + timedelta(minutes=5))
        assert world.only().state is State.SENT
        assert len(world.mailbox.sent_messages()) == 1

    def test_approve_refused_in_nudge_mode(self, tmp_path: Path) -> None:
        world = World(tmp_path, make_config(mode="nudge"))
        world.calendar.add_event(interview())
        world.at(after_end())
        assert world.engine().apply("approve", world.only().id).startswith("error")

    def test_reply_is_recorded(self, world: World) -> None:
        world.calendar.add_event(interview())
        world.at(after_end())
        world.engine().apply("approve", world.only().id)
        send_at = world.only().send_at
        world.at(send_at)
        thread = world.only().drafts[0].thread_id
        world.clock.advance(timedelta(hours=2))
        world.mailbox.user_reply(thread, "jane.doe@acme.com", "Thanks Casey!")
        world.at(send_at + timedelta(hours=3))
        assert world.only().replied_at is not None


class TestCalendarChanges:
    """Reschedules and cancellations."""

    def test_cancelled_before_the_end(self, world: World) -> None:
        world.calendar.add_event(interview())
        world.at(T0 - timedelta(minutes=30))
        world.calendar.cancel_event("primary", "ev1")
        world.at(T0 - timedelta(minutes=20))
        assert world.only().state is State.CANCELLED
        world.at(after_end())
        assert world.mailbox.drafts() == []

    def test_reschedule_moves_the_draft(self, world: World) -> None:
        world.calendar.add_event(interview())
        world.at(T0 - timedelta(minutes=30))
        later = T0 + timedelta(days=2)
        world.calendar.update_event(
            "primary", "ev1", start=later, end=later + timedelta(minutes=45)
        )
        world.at(after_end())
        fu = world.only()
        assert fu.state is State.PENDING
        assert fu.draft_at == later + timedelta(minutes=55)
        assert world.mailbox.drafts() == []

    def test_old_interviews_are_not_drafted_on_first_start(self, world: World) -> None:
        world.calendar.add_event(interview(start=T0 - timedelta(days=10)))
        world.at(after_end())
        assert world.store.all() == []


class TestNudges:
    """Nudges say what to do, once, even across restarts."""

    def test_ready_nudge_once(self, tmp_path: Path) -> None:
        world = World(tmp_path, make_config(mode="nudge"))
        world.calendar.add_event(interview())
        world.at(after_end())
        world.at(after_end(12))
        kinds = [n.kind for n in world.notifier.sent]
        assert kinds == ["draft_ready"]
        assert "followupd skip" in world.notifier.sent[0].body


class TestThreadingWithTheInvite:
    """With drafts.thread_with_invite, the note answers the scheduling email."""

    def test_draft_replies_in_the_scheduling_thread(self, tmp_path: Path) -> None:
        world = World(tmp_path, make_config(drafts={"thread_with_invite": True}))
        invite = (
            b"From: Jane Doe <jane.doe@acme.com>\r\nTo: casey@example.com\r\n"
            b"Subject: Your interview with Acme on Monday\r\n"
            b"Message-ID: <sched-1@acme.com>\r\n\r\nSee you Monday at 10.\r\n"
        )
        world.clock.set(T0 - timedelta(days=2))
        world.mailbox.add_message(invite, ["INBOX"])
        found = world.mailbox.search_messages("rfc822msgid:<sched-1@acme.com>")
        assert found
        thread_id = found[0].thread_id
        world.calendar.add_event(interview())
        world.at(after_end())
        draft = world.only().drafts[0]
        raw = world.mailbox.raw(world.mailbox.get_draft(draft.draft_id).message_id)
        assert b"In-Reply-To: <sched-1@acme.com>" in raw
        assert b"Subject: Re: Your interview with Acme on Monday" in raw
        assert draft.thread_id == thread_id

    def test_without_the_read_scope_a_new_thread(self, tmp_path: Path) -> None:
        world = World(tmp_path, make_config(drafts={"thread_with_invite": True}))
        world.mailbox.read_scope = False
        world.calendar.add_event(interview())
        world.at(after_end())
        draft = world.only().drafts[0]
        raw = world.mailbox.raw(world.mailbox.get_draft(draft.draft_id).message_id)
        assert b"In-Reply-To" not in raw


class TestDowntime:
    """What fell due while the daemon was down runs once; a closed window expires."""

    def test_down_for_the_whole_window_expires_without_a_draft(self, world: World) -> None:
        world.calendar.add_event(interview())
        world.at(T0 - timedelta(minutes=5))
        world.at(T0 + timedelta(days=3))
        assert world.only().state is State.EXPIRED
        assert world.mailbox.drafts() == []

    def test_down_past_the_draft_time_drafts_once_on_start(self, world: World) -> None:
        world.calendar.add_event(interview())
        world.at(T0 - timedelta(minutes=5))
        world.at(T0 + timedelta(hours=5))
        world.at(T0 + timedelta(hours=5, minutes=1))
        assert world.only().state is State.DRAFTED
        assert len(world.mailbox.drafts()) == 1


class TestMemory:
    """The daemon does not carry the spelling dictionary between draft passes."""

    def test_dictionary_released_after_drafting(self, world: World) -> None:
        from followupd.core import proofread

        world.calendar.add_event(interview())
        world.at(after_end())
        assert world.only().state is State.DRAFTED
        assert proofread._checker.cache_info().currsize == 0


class TestReplyWatch:
    """Sent notes are watched for a reply hourly, and always right before a check-in."""

    def _sent(self, world: World) -> datetime:
        world.calendar.add_event(interview())
        world.at(after_end())
        world.engine().apply("approve", world.only().id)
        send_at = world.only().send_at
        world.at(send_at)
        assert world.only().state is State.SENT
        return send_at

    def test_threads_are_read_hourly_not_every_poll(self, world: World) -> None:
        send_at = self._sent(world)
        world.at(send_at + timedelta(minutes=5))
        reads = world.mailbox.counts().get("gmail.users.threads.get", 0)
        for minutes in (10, 15, 20, 30, 50):
            world.at(send_at + timedelta(minutes=minutes))
        assert world.mailbox.counts().get("gmail.users.threads.get", 0) == reads
        world.at(send_at + timedelta(minutes=70))
        assert world.mailbox.counts().get("gmail.users.threads.get", 0) == reads + 1

    def test_no_checkin_after_a_reply_seen_at_the_last_moment(self, tmp_path: Path) -> None:
        world = World(tmp_path, make_config(timing={"checkin_after": "2d"}))
        send_at = self._sent(world)
        world.at(send_at + timedelta(minutes=5))  # looked: no reply yet
        world.clock.set(send_at + timedelta(days=2) - timedelta(minutes=10))
        thread = world.only().drafts[0].thread_id
        world.mailbox.user_reply(thread, "jane.doe@acme.com", "Thanks, Casey!")
        world.at(send_at + timedelta(days=3))
        assert world.only().replied_at is not None
        assert [n.kind for n in world.notifier.sent if n.kind == "checkin"] == []
