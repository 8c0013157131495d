"""The real daemon process against the sandbox: interview -> drafts -> approve -> sent."""

from __future__ import annotations

import json
import os
import signal
import stat
import time

import pytest
from support.daemon_home import ME, Home, interview_event, wait_for

from followupd.sandbox import Sandbox

pytestmark = pytest.mark.e2e


class TestFirstPath:
    """An interview in Calendar becomes Gmail drafts, once, across restarts."""

    def test_interview_becomes_drafts_and_nothing_twice(self, home: Home, sandbox: Sandbox) -> None:
        home.login()
        sandbox.add_event(
            interview_event(
                "iv1",
                1,
                [("jane.doe@acme.com", "Jane Doe"), ("omar.haddad@acme.com", "Omar Haddad")],
            )
        )
        sandbox.add_event(
            {
                **interview_event("standup", -60, [("bob@example.org", "Bob")]),
                "summary": "Weekly catch-up",
            }
        )
        daemon = home.start_daemon()
        drafts = wait_for(lambda: len(sandbox.drafts()) >= 2 and sandbox.drafts(), 30, "2 drafts")
        by_to = {str(d["parsed"]["To"]): d["parsed"] for d in drafts}
        assert set(by_to) == {"Jane Doe <jane.doe@acme.com>", "Omar Haddad <omar.haddad@acme.com>"}
        jane = by_to["Jane Doe <jane.doe@acme.com>"]
        assert "Casey Candidate" in str(jane["From"]) and "casey@example.com" in str(jane["From"])
        text = jane.get_body(preferencelist=("plain",)).get_content()
        assert "Jane" in text and "Omar" not in str(jane["To"])
        assert "thank" in text.lower()
        assert jane["Subject"]

        items = home.list_json()
        assert len(items) == 1
        fu = items[0]
        for key in (
            "id",
            "event_id",
            "calendar_id",
            "summary",
            "start",
            "end",
            "recipients",
            "state",
            "draft_ids",
            "window_start",
            "window_end",
            "send_at",
            "notes",
            "proofread",
        ):
            assert key in fu
        assert fu["state"] == "drafted"
        assert fu["send_at"] is None
        assert sorted(fu["recipients"]) == ["jane.doe@acme.com", "omar.haddad@acme.com"]
        assert "+00:00" in fu["start"]

        assert home.stop(daemon) == 0
        creates = sandbox.counts().get("gmail.users.drafts.create", 0)
        assert creates == 2
        daemon = home.start_daemon()
        time.sleep(6)  # several poll cycles
        assert home.stop(daemon) == 0
        assert len(sandbox.drafts()) == 2
        assert sandbox.counts().get("gmail.users.drafts.create", 0) == creates

        db = home.root / "state" / "followupd" / "state.db"
        assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
        logs = home.logs()
        assert "Traceback" not in logs
        token_file = home.root / "state" / "followupd" / "token.json"
        assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
        refresh = json.loads(token_file.read_text())["accounts"][ME]["refresh_token"]
        assert refresh and refresh not in logs
        assert refresh.encode() not in db.read_bytes()

    def test_approve_while_running_sends_once(self, home: Home, sandbox: Sandbox) -> None:
        home.login()
        sandbox.add_event(interview_event("iv2", -1, [("priya@globex.io", "Priya Nair")]))
        daemon = home.start_daemon()
        wait_for(lambda: sandbox.drafts(), 30, "a draft")
        fu_id = wait_for(
            lambda: [f["id"] for f in home.list_json() if f["state"] == "drafted"], 20, "drafted"
        )[0]
        result = home.cli("approve", fu_id)
        assert result.returncode == 0, result.stderr
        assert "approved" in result.stdout.lower()
        wait_for(lambda: sandbox.sent_messages(), 20, "the note to be sent")
        wait_for(lambda: home.list_json()[0]["state"] == "sent", 20, "state sent")
        home.stop(daemon)
        assert len(sandbox.sent_messages()) == 1
        assert sandbox.counts().get("gmail.users.drafts.send", 0) == 1
        assert sandbox.drafts() == []

    def test_second_daemon_refuses_to_start(self, home: Home, sandbox: Sandbox) -> None:
        home.login()
        first = home.start_daemon()
        wait_for(lambda: (home.root / "state" / "followupd" / "daemon.lock").exists(), 10, "lock")
        time.sleep(1)
        second = home.cli("run", timeout=20)
        assert second.returncode != 0
        assert "already running" in second.stderr
        assert home.stop(first, signal.SIGTERM) == 0


class TestTheCliBesideADaemon:
    """Moved from the CLI suite: it starts the real daemon, so it is end to end."""

    def test_sync_asks_a_running_daemon(self, home: Home, sandbox: Sandbox) -> None:
        home.write_config(mode="nudge")
        home.login()
        daemon = home.start_daemon()
        wait_for(lambda: json.loads(home.cli("status", "--json").stdout)["running"], 10, "daemon")
        result = home.cli("sync")
        assert result.returncode == 0, result.stderr
        assert "asked it to sync now" in result.stdout
        assert home.stop(daemon) == 0
