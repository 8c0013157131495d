"""Time helpers: RFC 3339 parsing and formatting, relative durations."""

from __future__ import annotations

import datetime as dt
import re
import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.UTC

_DURATION = re.compile(r"^\s*([+-]?)\s*((?:\d+(?:\.\d+)?\s*[smhdw]\s*)+)$")
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def now_ms() -> int:
    return int(time.time() * 1000)


def parse_duration(text: str) -> dt.timedelta:
    """'45m', '-40m', '1h30m', '2d', '90s' -> timedelta."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"bad duration {text!r} (use e.g. 90s, 10m, 1h30m, 2d)")
    seconds = sum(float(n) * _UNIT[u] for n, u in _PART.findall(m.group(2)))
    return dt.timedelta(seconds=-seconds if m.group(1) == "-" else seconds)


def parse_rfc3339(text: str) -> dt.datetime:
    """Parse an RFC 3339 timestamp that carries an offset (or Z)."""
    value = text.strip()
    if not re.match(
        r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$", value
    ):
        raise ValueError(f"not an RFC 3339 timestamp with offset: {text!r}")
    value = value.replace("z", "Z")
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    # fromisoformat accepts at most 6 fractional digits
    value = re.sub(r"\.(\d{6})\d+", r".\1", value)
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:  # pragma: no cover - regex guarantees an offset
        raise ValueError(f"timestamp without offset: {text!r}")
    return parsed


def format_updated(when: dt.datetime) -> str:
    """Google's 'updated'/'created' style: UTC with milliseconds."""
    u = when.astimezone(UTC)
    return u.strftime("%Y-%m-%dT%H:%M:%S.") + f"{u.microsecond // 1000:03d}Z"


def format_datetime(when: dt.datetime) -> str:
    """An event dateTime: whole seconds, 'Z' for UTC, else the numeric offset."""
    w = when.replace(microsecond=0)
    off = w.utcoffset()
    if off is None:
        raise ValueError("naive datetime")
    if off == dt.timedelta(0) and (w.tzinfo is UTC or str(w.tzinfo) in ("UTC", "UTC+00:00")):
        return w.strftime("%Y-%m-%dT%H:%M:%SZ")
    return w.isoformat()


def zone(name: str | None) -> dt.tzinfo:
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc
