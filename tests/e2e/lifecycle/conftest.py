"""Confirmation paths and nudges, end to end: the real daemon against the sandbox.

Reuses the e2e harness (tests/support/daemon_home.py) and the private D-Bus session bus and
fake notification server of tests/support/dbus_session.py. Nudges are observed through the
"command" channel: a script appends each nudge's JSON to a file, one line each.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.daemon_home import ME, Home, interview_event, wait_for
from support.dbus_session import Bus, FakeServer
from support.life_home import LifeHome

from followupd.sandbox import Sandbox

__all__ = ["ME", "Bus", "FakeServer", "Home", "LifeHome", "interview_event", "wait_for"]


@pytest.fixture
def life(tmp_path: Path, sandbox: Sandbox) -> Iterator[LifeHome]:
    h = LifeHome(tmp_path, sandbox)
    h.configure()
    try:
        yield h
    finally:
        h.cleanup()


@pytest.fixture
def bus() -> Iterator[Bus]:
    if shutil.which("dbus-daemon") is None:
        pytest.fail("dbus-daemon is required (Debian package: dbus)")
    # Unix socket paths are limited to 108 bytes: pytest's tmp_path may be too long.
    directory = Path(tempfile.mkdtemp(prefix="fud-life-bus-"))
    b = Bus(directory)
    try:
        yield b
    finally:
        b.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def notification_server(bus: Bus) -> Iterator[FakeServer]:
    server = FakeServer(bus.address)
    try:
        yield server
    finally:
        server.close()
