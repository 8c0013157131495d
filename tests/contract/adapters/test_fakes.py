"""What the fakes add for the engine's tests: fault injection and request counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from support.adapter_worlds import follow_up

from followupd.adapters.calendar_memory import FakeCalendar
from followupd.adapters.google.api_errors import Unavailable
from followupd.adapters.mailbox import SendUncertain
from followupd.adapters.mailbox_memory import FakeMailbox

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class TestFailNext:
    """fail_next raises once, before acting or (after=True) after acting."""

    def test_before(self) -> None:
        mailbox = FakeMailbox()
        raw, message_id = follow_up()
        mailbox.fail_next("create_draft", Unavailable("down", status=503))
        with pytest.raises(Unavailable):
            mailbox.create_draft(raw, rfc_message_id=message_id)
        assert mailbox.drafts() == []
        assert mailbox.create_draft(raw, rfc_message_id=message_id) in mailbox.drafts()

    def test_after(self) -> None:
        mailbox = FakeMailbox()
        raw, message_id = follow_up()
        draft = mailbox.create_draft(raw, rfc_message_id=message_id)
        mailbox.fail_next("send_draft", SendUncertain("dropped"), after=True)
        with pytest.raises(SendUncertain):
            mailbox.send_draft(draft.draft_id)
        assert mailbox.get_draft(draft.draft_id) is None
        assert len(mailbox.sent_messages()) == 1

    def test_queue_and_clear(self) -> None:
        calendar = FakeCalendar()
        calendar.fail_next("sync", Unavailable("one"))
        calendar.fail_next("sync", Unavailable("two"))
        with pytest.raises(Unavailable, match="one"):
            calendar.sync("primary", None, NOW)
        calendar.clear_faults()
        assert calendar.sync("primary", None, NOW).full is True

    def test_unknown_method(self) -> None:
        with pytest.raises(ValueError, match="no method"):
            FakeMailbox().fail_next("send_drafts", RuntimeError())


class TestFakeDetails:
    """Fake-only knobs: read scope, counts, an injectable clock."""

    def test_without_read_scope_search_is_none(self) -> None:
        assert FakeMailbox(read_scope=False).search_messages("from:x@y.z") is None

    def test_counts_name_google_methods(self) -> None:
        mailbox = FakeMailbox()
        raw, message_id = follow_up()
        draft = mailbox.create_draft(raw, rfc_message_id=message_id)
        mailbox.get_draft(draft.draft_id)
        mailbox.send_draft(draft.draft_id)
        assert mailbox.counts() == {
            "gmail.users.drafts.create": 1,
            "gmail.users.drafts.get": 1,
            "gmail.users.drafts.send": 1,
        }

    def test_clock(self) -> None:
        clock = [NOW]
        mailbox = FakeMailbox(now=lambda: clock[0])
        raw, message_id = follow_up()
        draft = mailbox.create_draft(raw, rfc_message_id=message_id)
        clock[0] = NOW + timedelta(hours=1)
        sent = mailbox.send_draft(draft.draft_id)
        assert sent is not None
        clock[0] = NOW + timedelta(hours=2)
        mailbox.user_reply(sent.thread_id, "grace@corp.example", "Thanks")
        thread = mailbox.thread(sent.thread_id)
        assert thread is not None
        assert [m.internal_date for m in thread] == [clock[0] - timedelta(hours=1), clock[0]]

    def test_expired_token_counts_the_refused_request(self) -> None:
        calendar = FakeCalendar()
        first = calendar.sync("primary", None, NOW)
        calendar.expire_tokens()
        assert calendar.sync("primary", first.next_sync_token, NOW).full is True
        assert calendar.counts()["calendar.events.list"] == 3
