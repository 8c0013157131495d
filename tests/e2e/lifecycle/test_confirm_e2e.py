"""How a follow-up ends, with the real daemon against the sandbox: approved from the
desktop notification or by answering the nudge email, sent by hand, draft deleted,
expired, replied to. (Approval with `followupd approve` is in tests/e2e/daemon.)"""

from __future__ import annotations

import time
from email.message import EmailMessage
from typing import Any

import pytest
from support.daemon_home import ME, interview_event, wait_for
from support.dbus_session import Bus, FakeServer
from support.life_home import LifeHome

from followupd.sandbox import Sandbox

pytestmark = pytest.mark.e2e

PRIYA = ("priya@globex.io", "Priya Nair")


def sends(sandbox: Sandbox) -> int:
    return int(sandbox.counts().get("gmail.users.drafts.send", 0))


def no_tracebacks(life: LifeHome) -> None:
    assert "Traceback" not in life.logs()


class TestDesktopButtons:
    """Approve / Skip on the draft-ready notification, over a real session bus."""

    def _drafted(
        self, life: LifeHome, sandbox: Sandbox, bus: Bus, server: FakeServer
    ) -> tuple[str, dict[str, Any]]:
        life.configure(channels=("desktop",))
        life.env["DBUS_SESSION_BUS_ADDRESS"] = bus.address
        life.login()
        sandbox.add_event(interview_event("desk1", -1, [PRIYA]))
        life.start_daemon()
        fu_id = life.drafted_id()
        call = wait_for(lambda: server.notify_calls and server.notify_calls[0], 20, "Notify")
        assert call["actions"] == ["approve", "Approve", "skip", "Skip", "open", "Open in Gmail"]
        assert call["summary"] == "Draft ready: review your follow-up"
        assert f"followupd approve {fu_id}" in str(call["body"])
        # The fake server records the call before answering it: let the answer reach
        # the daemon (a person cannot click a notification before it is shown).
        time.sleep(0.5)
        return fu_id, call

    def test_approve_button_sends_once(
        self, life: LifeHome, sandbox: Sandbox, bus: Bus, notification_server: FakeServer
    ) -> None:
        fu_id, call = self._drafted(life, sandbox, bus, notification_server)
        notification_server.action(call["id"], "approve")
        wait_for(lambda: life.state_of(fu_id) == "sent", 20, "state sent")
        assert life.stored(fu_id)["approved_via"] == "desktop"
        assert sends(sandbox) == 1
        assert len(sandbox.sent_messages()) == 1
        assert sandbox.drafts() == []
        # The same button pressed again (a double click) changes nothing.
        notification_server.action(call["id"], "approve")
        time.sleep(3)
        assert sends(sandbox) == 1
        no_tracebacks(life)

    def test_skip_button_leaves_the_draft(
        self, life: LifeHome, sandbox: Sandbox, bus: Bus, notification_server: FakeServer
    ) -> None:
        fu_id, call = self._drafted(life, sandbox, bus, notification_server)
        notification_server.action(call["id"], "skip")
        wait_for(lambda: life.state_of(fu_id) == "skipped", 20, "state skipped")
        assert life.stored(fu_id)["approved_via"] == "desktop"
        time.sleep(2.5)  # a poll later: still nothing sent, the draft still there
        assert sends(sandbox) == 0
        assert len(sandbox.drafts()) == 1
        no_tracebacks(life)


def forged_reply(sandbox: Sandbox, thread_id: str, text: str) -> None:
    """Mail from outside that only claims the user's address in From: Gmail files it
    in INBOX, never SENT."""
    (first, *_) = [m for m in sandbox.messages() if m["thread_id"] == thread_id]
    parsed = first["parsed"]
    msg = EmailMessage()
    msg["From"] = f"Casey Candidate <{ME}>"
    msg["To"] = ME
    msg["Subject"] = "Re: " + str(parsed["Subject"])
    msg["Message-ID"] = "<forged-1@evil.example.com>"
    msg["In-Reply-To"] = str(parsed["Message-ID"])
    msg["References"] = str(parsed["Message-ID"])
    msg.set_content(text)
    sandbox.add_message(msg.as_bytes(), labels=("INBOX",), thread_id=thread_id)


class TestReplyApproval:
    """nudge.reply_approval: answering the nudge email with "send"."""

    def test_send_by_email_answer(self, life: LifeHome, sandbox: Sandbox) -> None:
        life.configure(channels=("email",), reply_approval=True, window=("6s", "300s"))
        output = life.login()
        assert "gmail.readonly" in output
        sandbox.add_event(interview_event("mail1", -1, [PRIYA]))
        life.start_daemon()
        fu_id = life.drafted_id()
        tag = f"[followupd {fu_id}]"
        nudge = wait_for(
            lambda: [m for m in sandbox.sent_messages() if tag in str(m["parsed"]["Subject"])],
            20,
            "the nudge email",
        )[0]
        assert str(nudge["parsed"]["To"]).endswith(f"<{ME}>") or str(nudge["parsed"]["To"]) == ME
        text = nudge["parsed"].get_body(preferencelist=("plain",)).get_content()
        assert 'answer this email with "send"' in text
        thread = nudge["thread_id"]
        wait_for(lambda: life.stored(fu_id).get("nudge_thread_id") == thread, 10, "thread kept")

        # Someone else's "send" (and a forged From: without SENT) never counts.
        sandbox.user_reply(thread, "priya@globex.io", "send")
        forged_reply(sandbox, thread, "send")
        time.sleep(4.5)  # two polls
        assert life.state_of(fu_id) == "drafted"

        # The user answers from a phone: the sandbox files it SENT (+INBOX), as Gmail.
        sandbox.user_reply(thread, ME, "Send\n\nSent from my phone")
        wait_for(lambda: life.state_of(fu_id) in ("approved", "sent"), 15, "approved")
        assert life.stored(fu_id)["approved_via"] == "email"
        wait_for(lambda: life.state_of(fu_id) == "sent", 20, "sent")
        confirmations = [
            m
            for m in sandbox.messages()
            if m["thread_id"] == thread
            and m["parsed"]
            .get_body(preferencelist=("plain",))
            .get_content()
            .startswith("followupd: approved via email")
        ]
        assert len(confirmations) == 1
        time.sleep(2.5)
        assert sends(sandbox) == 1
        to = [str(m["parsed"]["To"]) for m in sandbox.sent_messages()]
        assert sum("priya@globex.io" in t for t in to) == 1
        no_tracebacks(life)


class TestUserActsInGmail:
    def test_sent_by_hand(self, life: LifeHome, sandbox: Sandbox) -> None:
        life.login()
        sandbox.add_event(interview_event("hand1", -1, [PRIYA]))
        life.start_daemon()
        fu_id = life.drafted_id()
        (draft,) = sandbox.drafts()
        sandbox.user_send_draft(draft["draft_id"])
        wait_for(lambda: life.state_of(fu_id) == "sent_manually", 15, "sent_manually")
        assert sends(sandbox) == 0  # nothing sent by followupd (the test API is not counted)
        assert len(sandbox.sent_messages()) == 1  # the user's own
        assert life.cli("approve", fu_id).returncode != 0
        time.sleep(2.5)
        assert sends(sandbox) == 0

    def test_deleted_draft_means_skip(self, life: LifeHome, sandbox: Sandbox) -> None:
        life.login()
        sandbox.add_event(interview_event("del1", -1, [PRIYA]))
        life.start_daemon()
        fu_id = life.drafted_id()
        (draft,) = sandbox.drafts()
        sandbox.user_delete_draft(draft["draft_id"])
        wait_for(lambda: life.state_of(fu_id) == "skipped", 15, "skipped")
        assert sandbox.drafts() == []
        assert sandbox.counts().get("gmail.users.drafts.create", 0) == 1  # never recreated
        assert life.cli("approve", fu_id).returncode != 0
        assert sends(sandbox) == 0


def test_unconfirmed_expires_and_the_draft_stays(life: LifeHome, sandbox: Sandbox) -> None:
    life.configure(window=("3s", "8s"))
    life.login()
    sandbox.add_event(interview_event("exp1", -1, [PRIYA]))
    life.start_daemon()
    fu_id = life.drafted_id()
    wait_for(lambda: life.state_of(fu_id) == "expired", 20, "expired")
    window_end = life.followup(fu_id)["window_end"]
    assert window_end is not None
    (draft,) = sandbox.drafts()
    assert draft["draft_id"] in life.followup(fu_id)["draft_ids"]
    assert life.cli("approve", fu_id).returncode != 0  # too late to approve
    time.sleep(2.5)
    assert sends(sandbox) == 0
    assert len(sandbox.drafts()) == 1
    assert sandbox.counts().get("gmail.users.drafts.delete", 0) == 0
    assert ("expired", "the window closed unconfirmed") in life.history(fu_id)
