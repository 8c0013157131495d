"""Fixtures shared by every suite."""

from __future__ import annotations

from collections.abc import Iterator

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
