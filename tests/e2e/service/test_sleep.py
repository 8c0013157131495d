"""Laptop sleep and daemon downtime: what fell due runs once, in order (issue 7).

Real suspend is impossible here: the detection is tested with injected clocks, and
downtime with the real process stopped while actions fall due."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from support.daemon_home import interview_event, wait_for
from support.service_home import ServiceHome

from followupd.adapters.store import Store
from followupd.core.settings import Config
from followupd.daemon import process as daemon_mod
from followupd.daemon.policy import backoff_delay
from followupd.daemon.process import Daemon, slept
from followupd.sandbox import Sandbox


class TestDetection:
    def test_slept(self) -> None:
        assert slept(1000.0, 50.0, 1060.0, 110.0) == 0  # awake for a minute
        assert slept(1000.0, 50.0, 1020.0, 51.0) == 0  # a small clock step (NTP)
        assert slept(1000.0, 50.0, 4600.0, 51.0) == pytest.approx(3599.0)  # an hour asleep
        assert slept(1000.0, 50.0, 900.0, 51.0) == 0  # the clock set back

    def test_a_wall_clock_jump_triggers_one_catch_up(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
        monkeypatch.delenv("WATCHDOG_USEC", raising=False)
        monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
        d = Daemon(tmp_path / "config.toml", Config())
        d.store = Store(tmp_path / "state.db")
        clocks = {"wall": 1_000_000.0, "mono": 500.0}
        d._wall = lambda: clocks["wall"]
        d._mono = lambda: clocks["mono"]
        # What happens between two wakes of the main loop: awake, asleep for 2 h,
        # awake, awake.
        steps = [(1.0, 1.0), (7200.0, 1.0), (1.0, 1.0), (1.0, 1.0)]
        added: list[tuple[Any, dict[str, Any]]] = []

        class Scheduler:
            def add_job(self, func: Any, *args: Any, **kwargs: Any) -> None:
                added.append((func, kwargs))

            def wakeup(self) -> None:
                if steps:
                    wall, mono = steps.pop(0)
                    clocks["wall"] += wall
                    clocks["mono"] += mono
                    d._poke()
                else:
                    d.stop_event.set()
                    d._poke()

        d.timers.scheduler = Scheduler()
        # The first wake reads the clocks one step on.
        wall, mono = steps.pop(0)
        clocks["wall"] += wall
        clocks["mono"] += mono
        d._poke()
        started = time.monotonic()
        d._watch()
        assert time.monotonic() - started < 5
        catch_ups = [kw for _, kw in added if kw.get("id") == "catch-up"]
        assert len(catch_ups) == 1, added
        assert catch_ups[0]["args"] == [d._job_cycle]
        d.store.close()

    def test_wake_is_noticed_within_a_minute(self) -> None:
        assert daemon_mod.TICK <= 60


class TestBackoff:
    def test_exponential_with_jitter(self) -> None:
        rng = random.Random(7)
        for failures in range(1, 8):
            cap = min(1800.0, 5.0 * 2**failures)
            delays = [backoff_delay(failures, None, rng) for _ in range(50)]
            assert all(cap / 2 <= x <= cap for x in delays)
            assert len({round(x, 3) for x in delays}) > 40  # jittered
        assert backoff_delay(30, None, rng) <= 1800

    def test_retry_after_is_a_floor(self) -> None:
        rng = random.Random(1)
        assert all(backoff_delay(1, 300.0, rng) >= 300 for _ in range(20))


@pytest.mark.e2e
class TestDowntime:
    def test_what_fell_due_while_down_runs_once_in_order(
        self, home: ServiceHome, sandbox: Sandbox
    ) -> None:
        home.login()
        sandbox.add_event(interview_event("ivA", -1, [("jane.doe@acme.com", "Jane Doe")]))
        sandbox.add_event(interview_event("ivB", 4, [("omar@globex.io", "Omar Haddad")]))
        sandbox.add_event(
            interview_event(
                "ivC", 5, [("priya@initech.com", "Priya Nair"), ("li@initech.com", "Li Wei")]
            )
        )
        t0 = time.monotonic()
        proc = home.start_daemon()
        wait_for(lambda: len(sandbox.drafts()) == 1, 30, "A's draft")
        by_event = wait_for(
            lambda: len(items := home.list_json()) == 3 and {f["event_id"]: f for f in items},
            10,
            "three follow-ups",
        )
        assert by_event["ivA"]["state"] == "drafted"
        assert by_event["ivB"]["state"] == by_event["ivC"]["state"] == "pending"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0

        # Down: A is approved (its send falls due), B's and C's drafts fall due.
        approved = home.cli("approve", by_event["ivA"]["id"])
        assert approved.returncode == 0, approved.stderr
        time.sleep(max(0.0, t0 + 8.5 - time.monotonic()))
        assert len(sandbox.drafts()) == 1 and sandbox.sent_messages() == []

        proc = home.start_daemon()
        wait_for(lambda: len(sandbox.sent_messages()) == 1, 30, "A sent")
        wait_for(lambda: len(sandbox.drafts()) == 3, 30, "B's and C's drafts")
        time.sleep(3)  # more polls: nothing more happens
        counts = sandbox.counts()
        assert counts.get("gmail.users.drafts.create", 0) == 4, counts
        assert counts.get("gmail.users.drafts.send", 0) == 1, counts
        assert "jane.doe@acme.com" in str(sandbox.sent_messages()[0]["parsed"]["To"])
        states = {f["event_id"]: f["state"] for f in home.list_json()}
        assert states == {"ivA": "sent", "ivB": "drafted", "ivC": "drafted"}
        # In order: the daemon's second run acted on A, then B, then C.
        second = (home.root / "daemon-1.log").read_text()
        ids = [by_event[e]["id"] for e in ("ivA", "ivB", "ivC")]
        first_seen = [
            min(i for i, line in enumerate(second.splitlines()) if fu in line) for fu in ids
        ]
        assert first_seen == sorted(first_seen), (first_seen, second)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
