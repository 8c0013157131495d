"""Fixtures shared by every suite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from followupd.sandbox import Sandbox

ME = "casey@example.com"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """The local Google, with the user the end-to-end suites log in as."""
    sb = Sandbox(user_email=ME, user_name="Casey Candidate")
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


E2E = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/e2e runs the real daemon: `-m "not e2e"` leaves it out."""
    for item in items:
        if E2E in item.path.parents:
            item.add_marker(pytest.mark.e2e)
