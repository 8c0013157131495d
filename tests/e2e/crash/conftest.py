"""Crash and fault harness: the real daemon killed with SIGKILL or fed failing requests.

The sandbox runs in this process; :class:`SlowSandbox` adds latency to chosen Gmail
methods *after* the sandbox acted on them (the answer is late, the effect is done), so
that a kill lands between "Gmail did it" and "followupd recorded it" often.
:class:`Ledger` counts what reached Gmail per recipient and per Message-ID, from the
sandbox's own records: it trusts nothing the daemon says.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.crash_home import CrashHome, Ledger, SlowSandbox
from support.daemon_home import ME, interview_event, wait_for

__all__ = ["ME", "CrashHome", "Ledger", "SlowSandbox", "interview_event", "wait_for"]


@pytest.fixture
def crash_sandbox() -> Iterator[SlowSandbox]:
    sb = SlowSandbox(user_email=ME, user_name="Casey Candidate", fault_seed=20240611)
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()
