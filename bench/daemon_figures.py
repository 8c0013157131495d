"""Figures 4-5: the real `followupd run`, idle, against the sandbox in another process.

4. Resident memory (VmRSS) of the idle daemon against a floor: a bare Python process
   that imports googleapiclient.discovery and builds the Calendar and Gmail clients.
5. Wake-ups per idle hour: poll cycles (sandbox events.list count) and process wake-ups
   (voluntary context switches of every thread, sampled at 10 Hz) over a window.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from common import (
    PYTHON,
    Figure,
    Home,
    SandboxProcess,
    calendar_events,
    median,
    proc_status,
    show,
    stop_process,
    thread_switches,
)

POLL = 20  # seconds: poll_interval of the measured daemon
WARM_CYCLES = 3  # idle cycles done before anything is read
WINDOW = 4 * POLL  # seconds of measured idleness: a whole number of poll intervals
TICK = 60  # the daemon's main-thread tick (sleep detection, watchdog)
SAMPLE = 0.1  # seconds between /proc samples

FLOOR_CODE = """
import gc
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
creds = Credentials(token="x")
calendar = build("calendar", "v3", credentials=creds, static_discovery=True)
gmail = build("gmail", "v1", credentials=creds, static_discovery=True)
gc.collect()
for line in open("/proc/self/status"):
    if line.startswith("VmRSS:"):
        print(line.split()[1])
"""


def rss_floor() -> int:
    """kB: median of three bare processes with both Google clients built."""
    values = []
    for _ in range(3):
        out = subprocess.run(
            [PYTHON, "-c", FLOOR_CODE], capture_output=True, text=True, check=True, timeout=60
        ).stdout
        values.append(float(out.split()[-1]))
    return int(median(values))


BREAKDOWN = (
    ("click and the CLI", "import followupd.cli"),
    ("the config (pydantic stays in a child process)", "import followupd.config"),
    ("APScheduler", "import apscheduler.schedulers.background, apscheduler.executors.pool"),
    ("Jinja2", "import jinja2"),
    (
        "the rest of followupd",
        "import followupd.engine.cycle, followupd.daemon.process, followupd.app.wiring",
    ),
)


def rss_breakdown() -> str:
    """Where the daemon's memory above the floor goes: the floor's imports, then each
    group of the daemon's imports in turn, in one fresh process (RSS deltas, MiB)."""
    steps = "\n".join(f"{code}\ngc.collect()\nprint(rss())" for _, code in BREAKDOWN)
    code = (
        "import gc\n"
        "def rss():\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith('VmRSS:'):\n"
        "            return int(line.split()[1])\n"
        + FLOOR_CODE.split("gc.collect()")[0].replace("import gc\n", "")
        + "gc.collect()\nprint(rss())\n"
        + steps
    )
    out = subprocess.run(
        [PYTHON, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    values = [int(v) for v in out]
    parts = [f"floor {values[0] / 1024:.1f}"]
    for (label, _), before, after in zip(BREAKDOWN, values, values[1:], strict=False):
        parts.append(f"+{(after - before) / 1024:.1f} {label}")
    return "imports, cumulative in one process (MiB): " + ", ".join(parts)


def _wait_for(predicate: Any, timeout: float, what: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the daemon exited ({proc.returncode}) while waiting for {what}")
        if predicate():
            return
        time.sleep(0.2)
    raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")


def _watch(pid: int, seconds: float) -> dict[str, Any]:
    """Sample every thread's voluntary context switches; group active samples into
    wake-up episodes (a run of consecutive samples with any switch is one episode)."""
    start = last = thread_switches(pid)
    episodes: list[set[str]] = []
    active: set[str] = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(SAMPLE)
        now = thread_switches(pid)
        moved = {tid for tid, n in now.items() if n != last.get(tid, 0)}
        if moved:
            active |= moved
        elif active:
            episodes.append(active)
            active = set()
        last = now
    if active:
        episodes.append(active)
    switches = sum(n - start.get(tid, 0) for tid, n in last.items())
    return {"episodes": episodes, "switches": switches, "threads": len(last)}


def daemon_figures(workdir: Path) -> list[Figure]:
    floor = rss_floor()
    sandbox = SandboxProcess(workdir, calendar_events(50), name="sandbox-daemon")
    proc = None
    try:
        home = Home(workdir / "home", sandbox.url, poll=f"{POLL}s")
        home.login()
        sandbox.reset_counts()

        def lists() -> int:
            return sandbox.counts().get("calendar.events.list", 0)

        proc = home.start_daemon()
        started = time.monotonic()
        _wait_for(lambda: lists() >= WARM_CYCLES, POLL * WARM_CYCLES + 30,
                  f"{WARM_CYCLES} poll cycles", proc)  # fmt: skip
        warm = time.monotonic() - started
        time.sleep(POLL / 2)  # mid-interval: the window then holds WINDOW/POLL polls
        rss_start = proc_status(proc.pid, "VmRSS")
        before = sandbox.counts()
        watched = _watch(proc.pid, WINDOW)
        after = sandbox.counts()
        rss_end = proc_status(proc.pid, "VmRSS")
        peak = proc_status(proc.pid, "VmHWM")
        alive = proc.poll() is None
        stop_process(proc)
        code = proc.returncode
    finally:
        if proc is not None:
            stop_process(proc)
        sandbox.stop()
    if not alive:
        raise RuntimeError(f"the daemon died during the window (exit {code})")

    rss = max(rss_start, rss_end)
    ratio = rss / floor
    figures = [
        show(Figure(
            "idle daemon RSS vs floor (python + googleapiclient, both clients built)",
            f"{rss / 1024:.1f} MiB vs {floor / 1024:.1f} MiB, ratio {ratio:.2f}",
            "<= 1.3 x floor", ratio <= 1.3,
            [f"VmRSS {rss_start / 1024:.1f} MiB after {WARM_CYCLES} idle cycles, "
             f"{rss_end / 1024:.1f} MiB {WINDOW} s later; peak (VmHWM) {peak / 1024:.1f} MiB; "
             f"{watched['threads']} threads; daemon exit code on SIGTERM: {code}",
             rss_breakdown()],
        ))
    ]  # fmt: skip

    main_tid = str(proc.pid)
    polls = after.get("calendar.events.list", 0) - before.get("calendar.events.list", 0)
    gmail = sum(after.get(k, 0) - before.get(k, 0) for k in after if k.startswith("gmail."))
    per_hour = 3600 / WINDOW
    want_polls = 3600 / POLL
    polls_h = polls * per_hour
    episodes = watched["episodes"]
    ticks = [e for e in episodes if main_tid in e]
    others = [e for e in episodes if main_tid not in e]
    others_h = len(others) * per_hour
    ticks_h = len(ticks) * per_hour
    tolerance = per_hour  # one event more or less in the window
    figures.append(show(Figure(
        f"idle poll cycles per hour (poll_interval {POLL}s, {WINDOW} s window)",
        f"{polls_h:.0f}/h ({polls} in {WINDOW} s; {gmail} Gmail requests)",
        f"3600/{POLL} = {want_polls:.0f}/h", abs(polls_h - want_polls) <= tolerance,
        [f"first {WARM_CYCLES} cycles (start-up included) took {warm:.1f} s"],
    )))  # fmt: skip
    figures.append(show(Figure(
        "process wake-ups per idle hour, scheduler and worker (polls)",
        f"{others_h:.0f}/h ({len(others)} wake-ups in {WINDOW} s)",
        f"one per poll interval = {want_polls:.0f}/h", others_h <= want_polls + tolerance,
        ["a wake-up: a run of 100 ms samples in which any thread made a voluntary context "
         f"switch; raw voluntary switches {watched['switches']} in {WINDOW} s "
         f"= {watched['switches'] * per_hour:.0f}/h (a cycle blocks on HTTP and fsync "
         "many times within one wake-up)"],
    )))  # fmt: skip
    figures.append(show(Figure(
        "process wake-ups per idle hour, main thread tick",
        f"{ticks_h:.0f}/h ({len(ticks)} in {WINDOW} s)",
        f"3600/{TICK} = {3600 / TICK:.0f}/h by design (sleep detection, watchdog, "
        "scheduler wakeup())", None,
        [f"total wake-ups {(len(ticks) + len(others)) * per_hour:.0f}/h = polls + ticks; "
         f"with the default poll_interval (5m) that is {3600 / 300 + 3600 / TICK:.0f}/h"],
    )))  # fmt: skip
    return figures
