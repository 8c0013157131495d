"""The real `followupd run` process as a service: sd_notify, signals, single
instance, journal logging, outages (issue 7)."""

from __future__ import annotations

import itertools
import json
import re
import signal
import sqlite3
import time

import pytest
from support.daemon_home import ME, interview_event, wait_for
from support.service_home import Notifications, ServiceHome

from followupd.sandbox import Sandbox

pytestmark = pytest.mark.e2e


def _stop_timed(home: ServiceHome, proc: object, sig: int = signal.SIGTERM) -> tuple[int, float]:
    import subprocess

    assert isinstance(proc, subprocess.Popen)
    started = time.monotonic()
    proc.send_signal(sig)
    code = proc.wait(timeout=15)
    return code, time.monotonic() - started


def _state_is_sound(home: ServiceHome) -> None:
    db = sqlite3.connect(home.state / "state.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        pid = db.execute("SELECT value FROM meta WHERE key = 'daemon_pid'").fetchone()
    finally:
        db.close()
    assert pid is not None and pid[0] == "", f"daemon_pid left behind: {pid}"
    assert home.status()["running"] is False


class TestSystemdProtocol:
    def test_ready_watchdog_status_stopping(
        self, home: ServiceHome, sandbox: Sandbox, notifications: Notifications
    ) -> None:
        home.login()
        proc = home.start_daemon({"NOTIFY_SOCKET": notifications.path, "WATCHDOG_USEC": "2000000"})
        ready = wait_for(lambda: notifications.with_key("READY"), 20, "READY=1")
        assert ready[0][1]["READY"] == "1"
        assert ready[0][1].get("STATUS"), "READY=1 should come with a STATUS= line"
        # STATUS after a cycle, and watchdog pings at about half of WatchdogSec (1 s).
        wait_for(
            lambda: any("last sync" in m["STATUS"] for _, m in notifications.with_key("STATUS")),
            20,
            "a STATUS= update after a cycle",
        )
        wait_for(lambda: len(notifications.with_key("WATCHDOG")) >= 5, 15, "5 watchdog pings")
        times = [t for t, _ in notifications.with_key("WATCHDOG")]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        assert all(0.5 <= g <= 1.6 for g in gaps), gaps  # systemd would kill us after 2 s
        assert all(m["WATCHDOG"] == "1" for _, m in notifications.with_key("WATCHDOG"))
        code, took = _stop_timed(home, proc)
        assert code == 0 and took < 5, (code, took)
        stopping = notifications.with_key("STOPPING")
        assert stopping and stopping[0][1]["STOPPING"] == "1"
        assert stopping[0][0] > ready[0][0]
        _state_is_sound(home)

    def test_watchdog_for_another_pid_is_not_ours(
        self, home: ServiceHome, sandbox: Sandbox, notifications: Notifications
    ) -> None:
        """WATCHDOG_PID names another process (an inherited environment): no pings."""
        home.login()
        proc = home.start_daemon(
            {"NOTIFY_SOCKET": notifications.path, "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}
        )
        wait_for(lambda: notifications.with_key("READY"), 20, "READY=1")
        time.sleep(2)
        assert notifications.with_key("WATCHDOG") == []
        assert _stop_timed(home, proc)[0] == 0


class TestSignals:
    def test_sigterm_during_a_cycle_stops_within_5s(
        self, home: ServiceHome, sandbox: Sandbox
    ) -> None:
        """A cycle stuck in a retry wait (Google said: come back in 60 s) must not hold
        up the stop: systemd would SIGKILL us after TimeoutStopSec."""
        home.login()
        sandbox.inject_fault("429", method="calendar.events.list", rate=1.0, retry_after=60)
        proc = home.start_daemon()
        wait_for(lambda: sandbox.counts().get("calendar.events.list", 0) >= 1, 20, "a poll")
        # The worker is now waiting inside the cycle.
        wait_for(lambda: "retry 1 of 3 in 60" in home.logs(), 10, "the retry wait")
        code, took = _stop_timed(home, proc)
        assert code == 0 and took < 5, (code, took, home.logs())
        _state_is_sound(home)
        assert "Traceback" not in home.logs()

    def test_sighup_reloads_and_a_broken_config_keeps_the_old_one(
        self, home: ServiceHome, sandbox: Sandbox
    ) -> None:
        home.login()
        proc = home.start_daemon()
        home.wait_running(proc)
        wait_for(lambda: home.status()["last_sync"], 20, "a first sync")
        assert home.status()["mode"] == "send"

        home.write_config(mode="draft", extra="")
        text = home.config_path.read_text().replace('poll_interval = "2s"', 'poll_interval = "1h"')
        home.config_path.write_text(text)
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "config reloaded" in home.logs(), 10, "config reloaded")
        wait_for(lambda: home.status()["mode"] == "draft", 10, "status to show mode draft")
        # The new poll interval is in force: no poll for a while after the reload's own.
        time.sleep(1)
        polls = sandbox.counts().get("calendar.events.list", 0)
        time.sleep(4)
        assert sandbox.counts().get("calendar.events.list", 0) == polls

        # Back to 2 s polls, then a typo: refused, the 2 s polls go on.
        home.write_config(mode="draft", extra="")
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: home.logs().count("config reloaded") == 2, 10, "the second reload")
        text = home.config_path.read_text()
        home.config_path.write_text(text + "\n[drafts]\nper_interviewr = true\n")
        proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload refused" in home.logs(), 10, "the refusal in the log")
        line = next(x for x in home.logs().splitlines() if "reload refused" in x)
        assert str(home.config_path) in line and "drafts.per_interviewr" in line
        status = home.status()
        assert status["running"] and status["mode"] == "draft"
        assert "drafts.per_interviewr" in (status["last_error"] or ""), status
        assert str(home.config_path) in status["last_error"]
        # Successful cycles (the old config's) do not hide the refused config.
        polls = sandbox.counts().get("calendar.events.list", 0)
        wait_for(
            lambda: sandbox.counts().get("calendar.events.list", 0) >= polls + 2, 10, "2 polls"
        )
        time.sleep(0.5)
        assert "drafts.per_interviewr" in (home.status()["last_error"] or "")
        text_status = home.cli("status")
        assert "drafts.per_interviewr" in text_status.stdout, text_status.stdout
        assert proc.poll() is None
        assert _stop_timed(home, proc)[0] == 0

    def test_second_instance_refused_without_disturbing_the_first(
        self, home: ServiceHome, sandbox: Sandbox
    ) -> None:
        home.login()
        first = home.start_daemon()
        home.wait_running(first)
        started = time.monotonic()
        second = home.cli("run", timeout=20)
        assert time.monotonic() - started < 5
        assert second.returncode != 0
        assert "already running" in second.stderr and str(first.pid) in second.stderr
        assert "Traceback" not in second.stderr
        # The first is untouched: still the recorded and locking daemon, still polling.
        assert first.poll() is None
        assert home.meta("daemon_pid") == str(first.pid)
        assert home.status()["pid"] == first.pid
        polls = sandbox.counts().get("calendar.events.list", 0)
        wait_for(
            lambda: sandbox.counts().get("calendar.events.list", 0) > polls, 10, "another poll"
        )
        assert _stop_timed(home, first)[0] == 0


class TestLogs:
    def test_journal_priorities_and_nothing_private(
        self, home: ServiceHome, sandbox: Sandbox
    ) -> None:
        marker = "ZEBRAFISH-DESCRIPTION-7731"
        home.write_config(extra="", mode="send")
        config = home.config_path.read_text()
        config = config.replace('mode = "send"', 'mode = "send"\nlog_level = "DEBUG"')
        home.config_path.write_text(config)
        home.login()
        event = interview_event("ivlog", 1, [("jane.doe@acme.com", "Jane Doe")])
        event["description"] = f"Agenda: {marker} (dial-in 555-0100)"
        sandbox.add_event(event)
        proc = home.start_daemon(journal=True)
        draft = wait_for(lambda: sandbox.drafts(), 30, "a draft")[0]
        fu_id = wait_for(lambda: [f["id"] for f in home.list_json()], 10, "the follow-up")[0]
        body_word = "Quokkaesque"
        assert home.cli("note", fu_id, f"we discussed the {body_word} migration").returncode == 0
        wait_for(
            lambda: any(
                body_word in d["parsed"].get_body(preferencelist=("plain",)).get_content()
                for d in sandbox.drafts()
            ),
            20,
            "the note in the refreshed draft",
        )
        edited = "Hi Jane, thanks a lot. Platypusoid regards, Casey"
        sandbox.user_edit_draft(sandbox.drafts()[0]["draft_id"], edited)
        del draft
        assert home.cli("approve", fu_id).returncode == 0
        wait_for(lambda: sandbox.sent_messages(), 30, "the note to be sent")
        assert _stop_timed(home, proc)[0] == 0

        logs = home.logs()
        lines = [x for x in logs.splitlines() if x.strip()]
        assert len(lines) > 5
        bad = [x for x in lines if not re.match(r"^<[0-7]>", x)]
        assert not bad, bad[:5]
        assert any(x.startswith("<6>") for x in lines)
        token = json.loads((home.state / "token.json").read_text())["accounts"][ME]
        for secret in (token["refresh_token"], token.get("token") or "x" * 40):
            assert secret not in logs
        for private in (marker, "555-0100", body_word, "Platypusoid", "Dear Jane"):
            assert private not in logs, private


class TestOutages:
    def test_google_down_then_back(self, home: ServiceHome, sandbox: Sandbox) -> None:
        home.login()
        sandbox.add_event(interview_event("ivout", 2, [("omar@globex.io", "Omar Haddad")]))
        sandbox.inject_fault("drop", rate=1.0)
        proc = home.start_daemon()
        home.wait_running(proc)
        status = wait_for(
            lambda: (s := home.status())["last_error"] and s, 30, "an error in status"
        )
        assert "unreachable" in status["last_error"].lower(), status
        assert "google" in status["last_error"].lower()
        sandbox.reset_counts()
        time.sleep(6)
        # Backoff, not a hot loop: a handful of attempts in 6 s (a cycle's own retries
        # wait 0.5-1, 1-2 and 2-4 s; then the daemon waits 5-10 s, 10-20 s...).
        attempts = sum(sandbox.counts().values())
        assert attempts <= 8, sandbox.counts()
        delays = [float(m) for m in re.findall(r"unreachable .*; retrying in (\d+)s", home.logs())]
        assert delays and all(5 <= d <= 10 for d in delays[:1]), delays
        assert proc.poll() is None
        sandbox.clear_faults()
        wait_for(lambda: sandbox.drafts(), 45, "the draft once Google is back")
        wait_for(lambda: home.status()["last_error"] is None, 15, "the error to clear")
        time.sleep(3)
        assert len(sandbox.drafts()) == 1
        assert sandbox.counts().get("gmail.users.drafts.create", 0) == 1
        assert _stop_timed(home, proc)[0] == 0

    def test_retry_after_is_honoured(self, home: ServiceHome, sandbox: Sandbox) -> None:
        home.login()
        proc = home.start_daemon()
        home.wait_running(proc)
        wait_for(lambda: home.status()["last_sync"], 20, "a first sync")
        seen: list[tuple[float, int]] = []

        def count() -> int:
            return sandbox.counts().get("calendar.events.list", 0)

        sandbox.inject_fault("429", method="calendar.events.list", count=1, retry_after=4)
        base = count()
        deadline = time.monotonic() + 12
        while time.monotonic() < deadline and len(seen) < 2:
            n = count()
            if n > base:
                seen.append((time.monotonic(), n))
                base = n
            time.sleep(0.02)
        assert len(seen) == 2, seen
        assert seen[1][0] - seen[0][0] >= 3.8, seen  # the 429, then not before 4 s

        # Longer than one cycle may wait in place: the daemon holds every request back.
        sandbox.inject_fault("429", method="calendar.events.list", rate=1.0, retry_after=300)
        wait_for(lambda: count() > base, 10, "the next poll")
        time.sleep(0.5)
        after = sum(sandbox.counts().values())
        time.sleep(4)
        assert sum(sandbox.counts().values()) == after
        error = home.status()["last_error"] or ""
        assert "unreachable" in error.lower() and "429" in error, error
        assert _stop_timed(home, proc)[0] == 0
