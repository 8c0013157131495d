"""Nudges from the real daemon, seen through the "command" channel (JSON on stdin):
what each says, that none repeats across restarts, the check-in after sending."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from support.daemon_home import interview_event, wait_for
from support.life_home import LifeHome

from followupd.sandbox import Sandbox

pytestmark = pytest.mark.e2e

PRIYA = ("priya@globex.io", "Priya Nair")


def local(iso: str) -> str:
    """How nudges write a moment (timezone UTC in these configs)."""
    return datetime.fromisoformat(iso).strftime("%a %d %b %H:%M")


def test_nudges_say_what_next_and_never_repeat_after_restarts(
    life: LifeHome, sandbox: Sandbox
) -> None:
    # draft_ready at end+2s, "closing" at end+10s (16s - 6s), expiry at end+16s.
    # max_words = 20: the built-in note is longer, so proofreading has a finding.
    life.configure(window=("3s", "16s"), remind_before_close="6s", max_words=20)
    life.login()
    sandbox.add_event(interview_event("nudge1", -1, [PRIYA]))
    daemon = life.start_daemon()
    ready = wait_for(lambda: [n for n in life.nudges() if n["kind"] == "draft_ready"], 20, "ready")
    fu = life.followup()
    fu_id = fu["id"]
    assert life.stop(daemon) == 0
    daemon = life.start_daemon()  # restart #1: between draft_ready and closing

    (nudge,) = ready
    assert nudge["followup_id"] == fu_id
    assert nudge["title"] == "Draft ready: review your follow-up"
    assert nudge["actions"] == ["approve", "skip", "open"]
    assert nudge["open_url"] == "https://mail.google.com/mail/u/0/#drafts"
    assert nudge["approve_command"] == f"followupd approve {fu_id}"
    assert nudge["window_end"] == fu["window_end"]
    assert nudge["draft_ids"] == fu["draft_ids"] and len(fu["draft_ids"]) == 1
    assert nudge["recipients"] == ["priya@globex.io"]
    body = str(nudge["body"])
    assert "Review the draft in Gmail" in body  # review
    assert f"followupd approve {fu_id}" in body  # the approve command
    assert f"Best sent by {local(fu['window_end'])}" in body  # when the window closes
    findings = [f["message"] for f in fu["proofread"]]
    assert any("over the limit of 20" in f for f in findings)
    assert nudge["proofread"] == findings
    assert "Proofreading: " in body and findings[0] in body

    closing = wait_for(
        lambda: [n for n in life.nudges() if n["kind"] == "closing"], 20, "the closing nudge"
    )[0]
    assert closing["title"].startswith("Last call")
    assert f"followupd approve {fu_id}" in closing["body"]
    assert f"Best sent by {local(fu['window_end'])}" in closing["body"]
    assert life.stop(daemon) == 0
    daemon = life.start_daemon()  # restart #2: between closing and expiry

    wait_for(lambda: life.state_of(fu_id) == "expired", 20, "expired")
    time.sleep(2.5)  # one more poll
    assert life.stop(daemon) == 0
    assert life.kinds() == ["draft_ready", "closing"]
    assert len(sandbox.drafts()) == 1
    assert "Traceback" not in life.logs()


def _approved_and_sent(life: LifeHome, sandbox: Sandbox, event_id: str) -> str:
    life.login()
    sandbox.add_event(interview_event(event_id, -1, [PRIYA]))
    life.start_daemon()
    fu_id = life.drafted_id()
    result = life.cli("approve", fu_id)
    assert result.returncode == 0, result.stderr
    wait_for(lambda: life.state_of(fu_id) == "sent", 20, "sent")
    return fu_id


def test_checkin_after_sending_without_reply(life: LifeHome, sandbox: Sandbox) -> None:
    life.configure(checkin_after="5s")
    fu_id = _approved_and_sent(life, sandbox, "check1")
    checkin = wait_for(
        lambda: [n for n in life.nudges() if n["kind"] == "checkin"], 20, "the check-in"
    )[0]
    sent_at = datetime.fromisoformat(str(life.followup(fu_id)["sent_at"]))
    assert (datetime.now(sent_at.tzinfo) - sent_at).total_seconds() >= 5
    assert checkin["followup_id"] == fu_id
    assert checkin["title"] == "No reply yet: time for a short check-in?"
    assert checkin["actions"] == ["open"]
    assert "check-in" in checkin["body"]
    # A restart does not repeat it.
    daemon = life.procs[-1]
    assert life.stop(daemon) == 0
    life.start_daemon()
    time.sleep(3)
    assert life.kinds().count("checkin") == 1
    assert life.kinds() == ["draft_ready", "checkin"]


def test_interviewer_reply_stops_the_checkin(life: LifeHome, sandbox: Sandbox) -> None:
    life.configure(checkin_after="7s")
    fu_id = _approved_and_sent(life, sandbox, "reply1")
    (sent,) = sandbox.sent_messages()
    sandbox.user_reply(sent["thread_id"], "priya@globex.io", "Thanks Casey, talk soon!")
    wait_for(lambda: life.followup(fu_id)["replied_at"], 10, "replied_at")
    sent_at = datetime.fromisoformat(str(life.followup(fu_id)["sent_at"]))
    # Past the check-in time, plus a poll: no check-in for an answered note.
    while (datetime.now(sent_at.tzinfo) - sent_at).total_seconds() < 7 + 2.5:
        time.sleep(0.3)
    assert life.followup(fu_id)["state"] == "sent"
    assert "checkin" not in life.kinds()
    assert life.kinds() == ["draft_ready"]
