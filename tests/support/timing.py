"""Timing settings and local times for the timing suites."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from followupd.core.settings import TimingSettings


def settings(timezone: str = "Europe/Berlin", **overrides: Any) -> TimingSettings:
    """TimingSettings as the config file would give them (validators included)."""
    return TimingSettings.model_validate({"timezone": timezone, "holidays": "", **overrides})


def local(
    zone: str,
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    *,
    fold: int = 0,
) -> datetime:
    """A wall time in ``zone``: local("Europe/Berlin", 2026, 3, 29, 9, 0)."""
    return datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(zone), fold=fold)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
