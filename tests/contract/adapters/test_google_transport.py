"""The real adapters' transport behaviour against the sandbox: retries, faults, scopes.

These have no fake counterpart: they test what GoogleClients, GoogleCalendar and
GoogleMailbox do about HTTP (the fakes model only the outcome, see the contract tests).
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support.adapter_worlds import METADATA_SCOPES, Sleeps, follow_up, make_clients

from followupd.adapters.google.api_errors import (
    OutcomeUnknown,
    ScopeMissing,
    TokenRefused,
    Unavailable,
)
from followupd.adapters.google.calendar import GoogleCalendar
from followupd.adapters.google.gmail import GoogleMailbox
from followupd.adapters.google.transport import GoogleClients
from followupd.adapters.mailbox import SendUncertain

CREATE = "gmail.users.drafts.create"
SEND = "gmail.users.drafts.send"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def mailbox(clients: GoogleClients) -> GoogleMailbox:
    return GoogleMailbox(clients)


def drafts_with(sb: Any, message_id: str) -> list[Any]:
    return [d for d in sb.drafts() if d["rfc822_message_id"] == message_id]


class TestDraftCreateFaults:
    """drafts.create leaves exactly one draft with our Message-ID, whatever the network."""

    def test_answer_lost_after_create(
        self, sandbox: Any, mailbox: GoogleMailbox, sleeps: Sleeps
    ) -> None:
        raw, message_id = follow_up()
        sandbox.inject_fault("drop_after", method=CREATE)

        draft = mailbox.create_draft(raw, rfc_message_id=message_id)

        assert [d["id"] for d in drafts_with(sandbox, message_id)] == [draft.draft_id]
        assert sandbox.counts()[CREATE] == 1  # not resent: it had worked
        assert mailbox.get_draft(draft.draft_id) == draft

    def test_connection_dropped_before_create(
        self, sandbox: Any, mailbox: GoogleMailbox, sleeps: Sleeps
    ) -> None:
        raw, message_id = follow_up()
        sandbox.inject_fault("drop", method=CREATE)

        draft = mailbox.create_draft(raw, rfc_message_id=message_id)

        assert [d["id"] for d in drafts_with(sandbox, message_id)] == [draft.draft_id]
        assert sandbox.counts()[CREATE] == 2  # looked first, then created once more
        assert len(sleeps.calls) == 1

    def test_server_error_on_create(
        self, sandbox: Any, mailbox: GoogleMailbox, sleeps: Sleeps
    ) -> None:
        raw, message_id = follow_up()
        sandbox.inject_fault("500", method=CREATE)

        draft = mailbox.create_draft(raw, rfc_message_id=message_id)

        assert [d["id"] for d in drafts_with(sandbox, message_id)] == [draft.draft_id]
        assert sandbox.counts()[CREATE] == 2

    def test_duplicates_are_removed(
        self, sandbox: Any, mailbox: GoogleMailbox, sleeps: Sleeps
    ) -> None:
        # Two drafts with our Message-ID already (say, from a crash mid-create), and a
        # troubled create: one is left.
        raw, message_id = follow_up()
        sandbox.add_message(raw, ["DRAFT"])  # not a draft resource: ignored
        first = mailbox.create_draft(raw, rfc_message_id=message_id)
        mailbox.create_draft(raw, rfc_message_id=message_id)
        assert len(drafts_with(sandbox, message_id)) == 2
        sandbox.inject_fault("drop_after", method=CREATE)

        kept = mailbox.create_draft(raw, rfc_message_id=message_id)

        assert [d["id"] for d in drafts_with(sandbox, message_id)] == [kept.draft_id]
        assert first.draft_id != "" and kept.draft_id

    def test_google_down_raises_unavailable(
        self, sandbox: Any, mailbox: GoogleMailbox, sleeps: Sleeps
    ) -> None:
        raw, message_id = follow_up()
        sandbox.inject_fault("503", count=100)
        with pytest.raises(Unavailable):
            mailbox.create_draft(raw, rfc_message_id=message_id)
        sandbox.clear_faults()
        assert drafts_with(sandbox, message_id) == []


class TestSendFaults:
    """A send goes out once; a lost answer is SendUncertain, never a second send."""

    def test_server_error_is_not_retried(
        self, sandbox: Any, mailbox: GoogleMailbox, sleeps: Sleeps
    ) -> None:
        raw, message_id = follow_up()
        draft = mailbox.create_draft(raw, rfc_message_id=message_id)
        sandbox.inject_fault("500", method=SEND, count=5)

        with pytest.raises(Unavailable) as info:
            mailbox.send_draft(draft.draft_id)

        assert not isinstance(info.value, OutcomeUnknown)
        assert sandbox.counts()[SEND] == 1
        assert sleeps.calls == []
        assert mailbox.get_draft(draft.draft_id) == draft  # still there, not sent
        assert sandbox.sent_messages() == []

    def test_answer_lost_after_send(self, sandbox: Any, mailbox: GoogleMailbox) -> None:
        raw, message_id = follow_up()
        draft = mailbox.create_draft(raw, rfc_message_id=message_id)
        sandbox.inject_fault("drop_after", method=SEND)

        with pytest.raises(SendUncertain):
            mailbox.send_draft(draft.draft_id)

        assert sandbox.counts()[SEND] == 1
        assert len(sandbox.sent_messages()) == 1
        assert mailbox.get_draft(draft.draft_id) is None

    def test_connection_dropped_before_send(self, sandbox: Any, mailbox: GoogleMailbox) -> None:
        raw, message_id = follow_up()
        draft = mailbox.create_draft(raw, rfc_message_id=message_id)
        sandbox.inject_fault("drop", method=SEND)

        with pytest.raises(SendUncertain):
            mailbox.send_draft(draft.draft_id)

        assert sandbox.counts()[SEND] == 1
        assert sandbox.sent_messages() == []
        assert mailbox.get_draft(draft.draft_id) == draft  # the caller may send it later
        assert mailbox.send_draft(draft.draft_id) is not None

    def test_send_message_answer_lost(self, sandbox: Any, mailbox: GoogleMailbox) -> None:
        raw, _ = follow_up(to=mailbox.profile_email())
        sandbox.inject_fault("drop_after", method="gmail.users.messages.send")
        with pytest.raises(SendUncertain):
            mailbox.send_message(raw)
        assert sandbox.counts()["gmail.users.messages.send"] == 1
        assert len(sandbox.sent_messages()) == 1


class TestReadRetries:
    """Reads are retried with backoff, honouring Retry-After, a bounded number of times."""

    def test_429_honours_retry_after(
        self, sandbox: Any, mailbox: GoogleMailbox, sleeps: Sleeps
    ) -> None:
        raw, message_id = follow_up()
        draft = mailbox.create_draft(raw, rfc_message_id=message_id)
        sandbox.inject_fault("429", method="gmail.users.drafts.get", count=2, retry_after=3)

        assert mailbox.get_draft(draft.draft_id) == draft

        assert sleeps.calls == [3.0, 3.0]
        assert sandbox.counts()["gmail.users.drafts.get"] == 3

    def test_calendar_paging_survives_a_503(
        self, sandbox: Any, clients: GoogleClients, sleeps: Sleeps
    ) -> None:
        for n in range(3000):
            sandbox.add_event(
                {
                    "summary": f"Event {n}",
                    "start": {"dateTime": (NOW + timedelta(minutes=n)).isoformat()},
                    "end": {"dateTime": (NOW + timedelta(minutes=n + 30)).isoformat()},
                }
            )
        # The sandbox's 503 carries no Retry-After (its 429 does): plain backoff.
        sandbox.inject_fault("503", method="calendar.events.list", count=1)

        result = GoogleCalendar(clients).sync("primary", None, NOW - timedelta(days=1))

        assert len(result.items) == 3000
        [slept] = sleeps.calls
        assert 0.5 <= slept <= 1.0
        assert sandbox.counts()["calendar.events.list"] == 3  # 1 refused + 2 pages

    def test_gives_up_after_four_attempts(
        self, sandbox: Any, clients: GoogleClients, sleeps: Sleeps
    ) -> None:
        sandbox.inject_fault("500", method="calendar.events.list", count=10)
        with pytest.raises(Unavailable) as info:
            GoogleCalendar(clients).sync("primary", None, NOW)
        assert info.value.exit_code == 69
        assert sandbox.counts()["calendar.events.list"] == 4
        assert len(sleeps.calls) == 3

    def test_threads_share_nothing(self, sandbox: Any, mailbox: GoogleMailbox) -> None:
        raw, message_id = follow_up()
        draft = mailbox.create_draft(raw, rfc_message_id=message_id)
        errors: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(10):
                    assert mailbox.get_draft(draft.draft_id) == draft
            except BaseException as exc:
                errors.append(exc)

        workers = [threading.Thread(target=work) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert errors == []


class TestAuthAndScopes:
    """Refused tokens and missing scopes come out as AuthError and ScopeMissing."""

    def test_revoked_token(self, sandbox: Any, mailbox: GoogleMailbox) -> None:
        sandbox.revoke_all_tokens()
        with pytest.raises(TokenRefused) as info:
            mailbox.profile_email()
        assert info.value.detail == "invalid_grant"
        assert info.value.exit_code == 77

    def test_expired_access_token_is_refreshed(self, sandbox: Any, mailbox: GoogleMailbox) -> None:
        sandbox.expire_access_tokens()
        assert mailbox.profile_email() == sandbox.user_email

    def test_metadata_scope(self, sandbox: Any, sleeps: Sleeps) -> None:
        mailbox = GoogleMailbox(make_clients(sandbox, sleeps, METADATA_SCOPES))
        raw, message_id = follow_up()
        draft = mailbox.create_draft(raw, rfc_message_id=message_id)
        sent = mailbox.send_draft(draft.draft_id)
        assert sent is not None
        sandbox.user_reply(sent.thread_id, "grace@corp.example", "send")

        thread = mailbox.thread(sent.thread_id)
        assert thread is not None and thread[-1].sender == "grace@corp.example"
        assert mailbox.search_messages("from:grace@corp.example") is None

    def test_missing_gmail_scope(self, sandbox: Any, sleeps: Sleeps) -> None:
        clients = make_clients(
            sandbox, sleeps, ("https://www.googleapis.com/auth/calendar.readonly",)
        )
        with pytest.raises(ScopeMissing):
            GoogleMailbox(clients).profile_email()
        assert GoogleCalendar(clients).list_calendars()


class TestLogs:
    """No token, body or event description reaches a log line."""

    def test_no_secrets_logged(
        self, sandbox: Any, clients: GoogleClients, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        mailbox = GoogleMailbox(clients)
        raw, message_id = follow_up(body="Dear Grace,\n\nSECRETBODY\n")
        sandbox.add_event(
            {
                "summary": "Interview",
                "description": "SECRETDESCRIPTION",
                "start": {"dateTime": NOW.isoformat()},
                "end": {"dateTime": (NOW + timedelta(hours=1)).isoformat()},
            }
        )
        sandbox.inject_fault("drop_after", method=CREATE)
        sandbox.inject_fault("429", method="calendar.events.list")
        sandbox.expire_access_tokens()

        mailbox.create_draft(raw, rfc_message_id=message_id)
        GoogleCalendar(clients).sync("primary", None, NOW - timedelta(days=1))

        text = caplog.text
        assert "SECRETBODY" not in text and "SECRETDESCRIPTION" not in text
        assert clients.credentials.token not in text
        assert clients.credentials.refresh_token not in text
        assert "ya29." not in text
