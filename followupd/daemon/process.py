"""The long-running daemon: signals, sd_notify and the watchdog, sleep detection,
and the jobs the timer table (followupd.daemon.timers) runs in its single worker;
what a failed cycle means lives in followupd.daemon.policy.

Threads: the main thread watches (signals, watchdog, sleep detection, CLI
requests); APScheduler's single worker runs every cycle and timer, so two Gmail
writes never race and one Http object per thread is enough.
"""

from __future__ import annotations

import contextlib
import faulthandler
import logging
import os
import random
import select
import signal
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from followupd import paths
from followupd.adapters import systemd
from followupd.adapters.store import Store
from followupd.app import status
from followupd.app.lock import InstanceLock
from followupd.app.requests import queue_request
from followupd.app.status import AuthState
from followupd.core.settings import Config
from followupd.daemon import policy
from followupd.daemon.timers import TimerTable
from followupd.engine.decisions import apply_open_requests
from followupd.errors import (
    AuthError,
    ConfigError,
    FollowupdError,
    GoogleUnavailable,
)

# The daemon's log lines keep the logger name they have always had.
log = logging.getLogger("followupd.daemon")

# The main thread sleeps until a signal (SIGUSR1 from the CLI, SIGHUP, SIGTERM), a
# desktop button, or this tick: often enough to notice a resume from suspend within
# a minute, rarely enough to leave an idle laptop alone.
TICK = 60.0


class AlreadyRunning(FollowupdError):
    exit_code = 75  # EX_TEMPFAIL


def _return_freed_memory() -> None:
    """Give memory freed by a job (e.g. the spelling dictionary) back to the system:
    glibc keeps it otherwise, and the daemon idles for hours between jobs."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to do


# How long a stop waits for the job in progress (a cycle waiting to retry Google
# is interrupted at once; a request already on the wire is not) before exiting
# anyway: every Gmail write is bracketed by the state, so this is as safe as a crash,
# and systemd's TimeoutStopSec is never reached.
STOP_GRACE = 3.0
# A wall-clock jump this much larger than the monotonic one means the machine slept.
SLEEP_THRESHOLD = 30.0


class Stopping(Exception):
    """Raised inside a job's retry wait when the daemon is asked to stop."""


def slept(last_wall: float, last_mono: float, wall: float, mono: float) -> float:
    """Seconds the machine was suspended between two readings, or 0.

    CLOCK_MONOTONIC stops during suspend while the wall clock goes on, so a wall-clock
    step much larger than the monotonic one is a sleep (a small NTP step is not)."""
    gap = (wall - last_wall) - (mono - last_mono)
    return gap if gap > SLEEP_THRESHOLD else 0.0


class Daemon:
    def __init__(self, config_path: Path, config: Config) -> None:
        self.config_path = config_path
        self.config = config
        self.state_dir = paths.state_dir()
        self.lock = InstanceLock(self.state_dir)
        self.stop_event = threading.Event()
        self.reload_event = threading.Event()
        # Signals and the desktop-button thread wake the main thread through this
        # socket pair (signal.set_wakeup_fd): no Event.set() inside a signal handler.
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._failures = 0
        self._rng = random.Random()
        self.timers = TimerTable(self._job)
        self._engine: Any = None
        self._engine_login = ""  # the "login_at" stamp the engine's credentials are from
        # While Google is down or the login refused, due timers wait for the next poll
        # instead of firing (and failing) in a hot loop.
        self._hold_until = datetime.min.replace(tzinfo=UTC)
        self._desktop: Any = None
        # Clocks for the sleep detection (tests replace them).
        self._wall = time.time
        self._mono = time.monotonic
        # Held by the job in progress: a stop waits on it (at most STOP_GRACE).
        self._busy = threading.Lock()

    # --- lifecycle ------------------------------------------------------------------

    def run(self) -> int:
        if not self.lock.acquire():
            pid = InstanceLock(self.state_dir).holder_pid()
            raise AlreadyRunning(
                f"followupd is already running (pid {pid or '?'}) for {self.state_dir}; "
                "stop it first (systemctl --user stop followupd) or use another XDG_STATE_HOME"
            )
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_term)
        signal.signal(signal.SIGHUP, self._on_hup)
        signal.signal(signal.SIGUSR1, self._on_usr1)
        signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        # `kill -USR2 PID` prints every thread's stack to the log: for hung-daemon reports.
        faulthandler.register(signal.SIGUSR2, all_threads=True)
        self.store = Store(self.state_dir / "state.db")
        # What `status` reports of the running daemon (the file may have changed since).
        status.record_started(self.store, os.getpid(), self.config.mode)
        try:
            # The listener first: the first cycle (at once, in the worker) must build
            # its engine with this notifier, or the buttons of the notifications it
            # shows would belong to another instance and be ignored.
            self._start_desktop_listener()
            self.timers.start()
            self._schedule_poll(0)
            systemd.ready("followupd running")
            log.info("followupd started (mode %s, state %s)", self.config.mode, self.state_dir)
            self._watch()
        finally:
            systemd.stopping()
            log.info("followupd stopping")
            self.timers.shutdown()
            finished = self._busy.acquire(timeout=STOP_GRACE)
            if self._desktop is not None:
                self._desktop.close()
            status.record_stopped(self.store)
            self.store.close()
            self.lock.release()
            if not finished:
                log.warning("a job did not finish within %.0fs; exiting anyway", STOP_GRACE)
                logging.shutdown()
                os._exit(0)  # the worker thread would hold up the interpreter's exit
        return 0

    def _on_term(self, signum: int, frame: FrameType | None) -> None:
        self.stop_event.set()

    def _on_hup(self, signum: int, frame: FrameType | None) -> None:
        self.reload_event.set()

    def _on_usr1(self, signum: int, frame: FrameType | None) -> None:
        pass  # the CLI queued a request; the wakeup fd already woke the main thread

    def _start_desktop_listener(self) -> None:
        """The notification's Approve / Skip buttons become requests in the state."""
        if "desktop" not in self.config.nudge.channels:
            return
        from followupd.adapters.notify.desktop import DesktopNotifier

        self._desktop = DesktopNotifier()
        threading.Thread(
            target=self._desktop.listen,
            args=(self._on_button, self.stop_event),
            name="desktop-actions",
            daemon=True,
        ).start()

    def _on_button(self, fu_id: str, action: str) -> None:
        if action not in ("approve", "skip") or not fu_id:
            return
        store = Store(self.state_dir / "state.db")
        try:
            queue_request(store, fu_id, action, "desktop")
        finally:
            store.close()
        log.info("follow-up %s: %s pressed on the notification", fu_id, action)
        self._poke()

    def _poke(self) -> None:
        with contextlib.suppress(OSError):  # a full pipe already means "wake up"
            self._wake_w.send(b"\0")

    # --- the main thread: watch, never call Google ----------------------------------

    def _watch(self) -> None:
        interval = systemd.watchdog_interval()
        last_ping = 0.0
        last_wall, last_mono = self._wall(), self._mono()
        tick = min(TICK, interval) if interval else TICK
        while True:
            select.select([self._wake_r], [], [], tick)
            with contextlib.suppress(OSError):
                while self._wake_r.recv(512):
                    pass
            if self.stop_event.is_set():
                break
            now_mono = self._mono()
            if interval and now_mono - last_ping >= interval:
                systemd.watchdog()
                last_ping = now_mono
            # A wall-clock jump much larger than the monotonic one: the machine slept
            # (CLOCK_MONOTONIC stops in suspend). APScheduler does not notice by itself.
            wall = self._wall()
            asleep = slept(last_wall, last_mono, wall, now_mono)
            if asleep:
                log.info("woke from sleep (about %.0fs): catching up", asleep)
                self.timers.submit("catch-up", self._job_cycle)
            self.timers.wakeup()
            last_wall, last_mono = wall, now_mono
            # Every wake looks for CLI requests: one indexed query.
            requests = self.store.open_requests()
            log.debug("main loop: %d open request(s)", len(requests))
            if any(action == "sync" for _, _, action, _ in requests):
                self._schedule_poll(0)  # a full cycle applies the requests too
            elif requests:
                self.timers.submit_fresh("requests", self._job_requests)
            if self.reload_event.is_set():
                self.reload_event.clear()
                self._reload()

    def _job(self, func: Any, *args: Any) -> None:
        """Every job runs through here: in the single worker, never after a stop, and
        holding `_busy` so that a stop can wait for it."""
        if self.stop_event.is_set():
            return
        with self._busy:
            try:
                func(*args)
            except Stopping:
                log.info("stopping: interrupted the job in progress")
            finally:
                _return_freed_memory()

    def _pause(self, seconds: float) -> None:
        """The Google clients' wait between retries: cut short by a stop."""
        if self.stop_event.wait(seconds):
            raise Stopping

    def _schedule_poll(self, delay: float, store: Store | None = None) -> None:
        """`store`: the calling thread's connection (SQLite objects stay in their thread)."""
        run_at = self.timers.schedule_poll(delay, self._job_cycle)
        status.record_next_poll(store or self.store, run_at)

    def _reload(self) -> None:
        from followupd import config as config_mod

        try:
            new = config_mod.load_isolated(self.config_path)
        except ConfigError as exc:
            message = f"config reload refused, still running the previous config: {exc}"
            log.error("%s", message)
            # Its own key: a successful cycle clears last_error, not this.
            with self.store.transaction():
                status.record_reload(self.store, mode=None, config_error=message)
                self.store.record(datetime.now(UTC), None, "error", message)
            systemd.status("config reload refused: see `followupd status`")
            return
        self.config = new
        with self.store.transaction():
            status.record_reload(self.store, mode=new.mode)
        self.timers.submit("reload", self._job_rebuild)
        log.info("config reloaded from %s", self.config_path)

    # --- jobs (run in the single worker thread) -------------------------------------

    def _job_rebuild(self) -> None:
        self._engine = None  # rebuilt lazily with the new config
        self._job_cycle()

    def _get_engine(self) -> Any:
        # `followupd login` stamps the state: new credentials mean a new engine.
        login = status.read_login_stamp(self._worker_store())
        if self._engine is not None and login != self._engine_login:
            log.info("a new login was saved: using it")
            self._engine = None
        if self._engine is None:
            from followupd.app.wiring import build_engine

            self._engine = build_engine(
                self.config, store=self._worker_store(), desktop=self._desktop, sleep=self._pause
            )
            self._engine_login = login
        return self._engine

    def _worker_store(self) -> Store:
        # SQLite connections belong to one thread: the worker has its own.
        local = getattr(self, "_wstore", None)
        if local is None:
            local = Store(self.state_dir / "state.db")
            self._wstore = local
        return local

    def _job_cycle(self) -> None:
        delay = self.config.google.poll_interval.total_seconds()
        store = self._worker_store()
        # "Sync now" requests this attempt answers (the cycle marks them done, unless
        # it cannot start; later ones stay open and wake the main loop again).
        asked = [rid for rid, fu_id, _, _ in store.open_requests() if not fu_id]
        error_before = status.read_last_error(store)
        try:
            report = self._get_engine().cycle()
            self._failures = 0
            self._hold_until = datetime.min.replace(tzinfo=UTC)
            if status.read_auth_state(store) not in (AuthState.OK, None):
                log.info("the login works again")
            status.record_cycle_ok(store)
            systemd.status(f"ok; last sync {datetime.now(UTC):%H:%M:%S} UTC")
            if report.new_followups or report.drafts_created or report.sent:
                log.info(
                    "cycle: %d event(s), %d new follow-up(s), %d draft(s), %d sent",
                    report.events_seen,
                    len(report.new_followups),
                    report.drafts_created,
                    report.sent,
                )
        except Stopping:
            raise
        except Exception as exc:
            failure = policy.on_failure(exc, self._failures, self._rng)
            self._failures = failure.failures
            if failure.drop_engine:
                self._engine = None
            policy.record_failure(store, self.config, failure)
            delay = failure.delay
        finally:
            error = status.read_last_error(store)
            if error and error != error_before:  # `status` lists the recent ones
                store.record(datetime.now(UTC), None, "error", error)
            if not self.stop_event.is_set():  # stopping: nothing more to plan
                if self._failures or status.read_auth_state(store) not in (AuthState.OK, None):
                    self._hold_until = datetime.now(UTC) + timedelta(seconds=delay)
                if asked and self._engine is None:
                    with store.transaction():
                        for request_id in asked:
                            store.finish_request(request_id, datetime.now(UTC), "ok")
                self._schedule_poll(delay, store)
                self._rebuild_timers(store)

    def _job_requests(self) -> None:
        store = self._worker_store()
        try:
            try:
                engine = self._get_engine()
            except FollowupdError as exc:
                # No login to use (a locked keyring...): decisions need no Google.
                log.warning("applying requests without Google: %s", exc.__class__.__name__)
                self._apply_requests_offline(store)
                return
            if engine.apply_requests():
                engine.act_due()
        except (AuthError, GoogleUnavailable, FollowupdError) as exc:
            # Requests are applied without Google; acting waits for the next cycle.
            log.warning("request handling: %s", exc)
        finally:
            self._rebuild_timers(store)

    def _job_due(self, fu_id: str) -> None:
        self.timers.fired(fu_id)  # the rebuild below plans the next one
        store = self._worker_store()
        try:
            engine = self._get_engine()
            engine.check_gmail()
            engine.act_on(fu_id)
        except (AuthError, GoogleUnavailable, FollowupdError) as exc:
            log.warning("follow-up %s: will retry with the next poll: %s", fu_id, exc)
            self._hold_until = max(self._hold_until, datetime.now(UTC) + timedelta(seconds=30))
        finally:
            self._rebuild_timers(store)

    def _apply_requests_offline(self, store: Store) -> None:
        """Without a working login, decisions are still recorded (no Google needed)."""
        apply_open_requests(store, self.config, lambda: datetime.now(UTC))

    def _rebuild_timers(self, store: Store) -> None:
        """One timer per follow-up with a due action, from the state (the truth)."""
        earliest = max(datetime.now(UTC), self._hold_until)
        self.timers.rebuild(store.timers(), earliest, self._job_due)
