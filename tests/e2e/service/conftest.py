"""Harness for the service tests: the real `followupd run` process, a notify socket
standing in for systemd, and helpers on top of the end-to-end Home."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.daemon_home import ME, interview_event, wait_for
from support.service_home import Notifications, ServiceHome

from followupd.sandbox import Sandbox

__all__ = ["ME", "Notifications", "ServiceHome", "interview_event", "wait_for"]


@pytest.fixture
def home(tmp_path: Path, sandbox: Sandbox) -> Iterator[ServiceHome]:
    h = ServiceHome(tmp_path, sandbox)
    h.write_config()
    try:
        yield h
    finally:
        h.cleanup()


@pytest.fixture
def notifications() -> Iterator[Notifications]:
    n = Notifications()
    try:
        yield n
    finally:
        n.close()
