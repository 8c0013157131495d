"""Fixtures for the adapter contract tests: each world is an adapter plus a way to act
as Google's other side (the user in Gmail, the organizer in Calendar).

``fake`` worlds use the in-memory twins; ``sandbox`` worlds use the real adapters over
HTTP against ``followupd.sandbox``, logged in through the sandbox's OAuth code flow.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.adapter_worlds import (
    ME,
    CalendarWorld,
    MailWorld,
    Sleeps,
    make_clients,
)

from followupd.adapters.calendar_memory import FakeCalendar
from followupd.adapters.google.calendar import GoogleCalendar
from followupd.adapters.google.gmail import GoogleMailbox
from followupd.adapters.google.transport import GoogleClients
from followupd.adapters.mailbox_memory import FakeMailbox


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def sandbox() -> Iterator[Any]:
    try:
        from followupd.sandbox import Sandbox
    except ImportError as exc:  # pragma: no cover - only while the sandbox is missing
        pytest.skip(f"followupd.sandbox is not importable: {exc}")
    sb = Sandbox()
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture
def clients(sandbox: Any, sleeps: Sleeps) -> GoogleClients:
    return make_clients(sandbox, sleeps)


# --------------------------------------------------------------------------- worlds


@pytest.fixture(params=["fake", "sandbox"])
def calendar_world(request: pytest.FixtureRequest) -> CalendarWorld:
    if request.param == "fake":
        fake = FakeCalendar(primary_id=ME)
        return CalendarWorld("fake", fake, fake)
    sb = request.getfixturevalue("sandbox")
    clients = request.getfixturevalue("clients")
    return CalendarWorld("sandbox", GoogleCalendar(clients), sb)


@pytest.fixture(params=["fake", "sandbox"])
def mail_world(request: pytest.FixtureRequest) -> MailWorld:
    if request.param == "fake":
        fake = FakeMailbox(ME)
        return MailWorld("fake", fake, fake)
    sb = request.getfixturevalue("sandbox")
    clients = request.getfixturevalue("clients")
    return MailWorld("sandbox", GoogleMailbox(clients), sb)
