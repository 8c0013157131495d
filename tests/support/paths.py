"""Where things are: the repository, the tests, the event fixtures."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
EVENT_FIXTURES = TESTS / "fixtures" / "events"
