"""`make bench`: print each figure beside its target; exit 1 when a target is missed.

See bench/README.md for what each figure measures and how.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cli_figures import cli_figures
from common import Figure, show
from daemon_figures import daemon_figures
from engine_figures import first_sync_requests, idle_cpu, idle_cycle_requests

GROUPS: list[tuple[str, Callable[[Path], list[Figure]]]] = [
    ("1. requests of an idle cycle", idle_cycle_requests),
    ("2. first sync of a 5,000-event calendar", first_sync_requests),
    ("3. CPU time of an idle cycle vs calendar size", idle_cpu),
    ("4-5. the idle daemon: memory and wake-ups", daemon_figures),
    ("6. CLI start-up time", cli_figures),
]


def main(argv: list[str]) -> int:
    wanted = set(argv)  # optional: group numbers to run, e.g. `run.py 1 6`
    print(
        f"followupd benchmarks: Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.machine()}",
        flush=True,
    )
    workdir = Path(tempfile.mkdtemp(prefix="followupd-bench-"))
    results: list[Figure] = []
    started = time.monotonic()
    try:
        for title, run in GROUPS:
            if wanted and not wanted & set(title.split(".")[0].split("-")):
                continue
            print(f"\n{title}", flush=True)
            group_started = time.monotonic()
            try:
                results += run(workdir)
            except Exception as exc:  # a broken benchmark is a missed target, said so
                traceback.print_exc()
                results.append(show(Figure(title, f"FAILED: {exc}", "runs to completion", False)))
            print(f"  ({time.monotonic() - group_started:.0f} s)", flush=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    missed = [f for f in results if f.ok is False]
    print(f"\n{len(results)} figures in {time.monotonic() - started:.0f} s; ", end="")
    if missed:
        print(f"{len(missed)} target(s) missed:")
        for fig in missed:
            print(f"  - {fig.name}: {fig.value} (target: {fig.target})")
        return 1
    print("every target met.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
