"""The timer table: APScheduler (3.11, in memory, one worker thread) holding the
poll and one timer per follow-up with a due action, rebuilt from the store (the
truth) after every change. No pickled jobs, no second store to keep in step.

Every job goes through the daemon's runner (`run`), which keeps jobs out of a stop
and lets a stop wait for the one in progress.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

Job = Callable[..., None]


class TimerTable:
    def __init__(self, run: Job) -> None:
        self._run = run
        self.scheduler: Any = None  # APScheduler's BackgroundScheduler once started
        self._lock = threading.Lock()
        self._seq = 0
        self._poll_job = ""
        self._timers: dict[str, tuple[str, datetime]] = {}  # follow-up -> (job id, run at)

    def start(self) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor

        # APScheduler narrates every job at INFO; our own lines say what matters.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        from apscheduler.schedulers.background import BackgroundScheduler

        self.scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            # Whatever fell due while asleep or down runs once, however late.
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler is not None:
            # Not wait=True: APScheduler holds its job-store lock while it waits, and
            # the job's own re-scheduling would deadlock on it.
            self.scheduler.shutdown(wait=False)

    def wakeup(self) -> None:
        """Let the scheduler look at its clock again (after a wake from sleep...)."""
        self.scheduler.wakeup()

    def submit(self, job_id: str, func: Job) -> None:
        """Run `func` in the worker as soon as it is free (one job per id)."""
        self.scheduler.add_job(self._run, args=[func], id=job_id, replace_existing=True)

    def submit_fresh(self, prefix: str, func: Job) -> None:
        """Like submit, with a fresh id each time: APScheduler skips a job whose id is
        still running, so a request queued while the worker acted on the previous one
        would wait for the next poll."""
        with self._lock:
            self._seq += 1
            seq = self._seq
        self.submit(f"{prefix}:{seq}", func)

    def schedule_poll(self, delay: float, func: Job) -> datetime:
        """The next poll, replacing the previous one; returns when it runs.

        Every timer gets a fresh job id: APScheduler removes a fired one-off job after
        handing it to the worker, so re-adding the same id from inside the job could
        be deleted by that removal (and the poll would silently stop)."""
        run_at = datetime.now(UTC) + timedelta(seconds=delay)
        with self._lock:
            self._seq += 1
            job_id = f"poll:{self._seq}"
            old, self._poll_job = self._poll_job, job_id
            self.scheduler.add_job(self._run, "date", run_date=run_at, args=[func], id=job_id)
            if old:
                self._remove_job(old)
        return run_at

    def fired(self, fu_id: str) -> None:
        """A follow-up's timer fired: the next rebuild plans its next one."""
        with self._lock:
            self._timers.pop(fu_id, None)

    def rebuild(self, due: Iterable[tuple[str, datetime]], earliest: datetime, func: Job) -> None:
        """One timer per follow-up with a due action (none before `earliest`)."""
        wanted = {fu_id: max(at, earliest) for fu_id, at in due}
        with self._lock:
            for fu_id in list(self._timers):
                job_id, run_at = self._timers[fu_id]
                if wanted.get(fu_id) != run_at:
                    self._remove_job(job_id)
                    del self._timers[fu_id]
            for fu_id, run_at in wanted.items():
                if fu_id in self._timers:
                    continue
                self._seq += 1
                job_id = f"due:{fu_id}:{self._seq}"
                self.scheduler.add_job(
                    self._run, "date", run_date=run_at, args=[func, fu_id], id=job_id
                )
                self._timers[fu_id] = (job_id, run_at)

    def _remove_job(self, job_id: str) -> None:
        from apscheduler.jobstores.base import JobLookupError

        with contextlib.suppress(JobLookupError):
            self.scheduler.remove_job(job_id)
