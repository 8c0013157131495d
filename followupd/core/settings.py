"""The settings the core works with: one frozen dataclass per config section.

Plain data with the checks each value must pass. Reading the file, wording its errors
and the validation run itself live in `followupd.config`, the shell; pydantic is only
imported there, when a schema is built (the `__get_pydantic_core_schema__` hooks below
import pydantic_core lazily), so the core and the daemon never load it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time, timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


class Mode(StrEnum):
    DRAFT = "draft"  # drafts only
    NUDGE = "nudge"  # drafts and nudges; never sends
    SEND = "send"  # drafts, nudges and sending of confirmed drafts


_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
S = TypeVar("S")


def parse_duration(value: object) -> timedelta:
    """'90s', '10m', '24h', '2d' -> timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    raise ValueError(f'expected a duration like "90s", "10m", "24h" or "2d", got {value!r}')


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_clock(value: object) -> time:
    """'09:00' -> time(9, 0)."""
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        match = re.match(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$", value)
        if match:
            return time(int(match.group(1)), int(match.group(2)))
    raise ValueError(f'expected a local time like "09:00", got {value!r}')


def format_clock(value: time) -> str:
    return value.strftime("%H:%M")


# --- pydantic hooks that import pydantic only when a schema is built ---------------


@dataclass(frozen=True)
class _Convert:
    """Annotated marker: parse from text before validation, write back as text."""

    parse: Callable[[object], Any]
    show: Callable[[Any], str]
    kind: str  # "timedelta" | "time"

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        inner = (
            core_schema.timedelta_schema()
            if self.kind == "timedelta"
            else (core_schema.time_schema())
        )
        return core_schema.no_info_before_validator_function(
            self.parse,
            inner,
            serialization=core_schema.plain_serializer_function_ser_schema(self.show),
        )


@dataclass(frozen=True)
class _Check:
    """Annotated marker: a check (or clean-up) after the type is validated."""

    func: Callable[[Any], Any]
    before: bool = False

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        wrap = (
            core_schema.no_info_before_validator_function
            if self.before
            else core_schema.no_info_after_validator_function
        )
        return wrap(self.func, handler(source))


Duration = Annotated[timedelta, _Convert(parse_duration, format_duration, "timedelta")]
Clock = Annotated[time, _Convert(parse_clock, format_clock, "time")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Channel = Literal["desktop", "email", "command"]
DESKTOP: Channel = "desktop"


def is_zone(name: str) -> bool:
    """Whether `name` is an IANA zone this machine's tz database knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


# --- checks (each names its own key in the error, several are reported at once) -----


def _endpoint(value: str) -> str:
    value = value.strip().rstrip("/")
    if value and not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f'expected a base URL like "http://127.0.0.1:8765", got {value!r}')
    return value


def _poll(value: timedelta) -> timedelta:
    if value < timedelta(seconds=1):
        raise ValueError("expected at least 1s")
    return value


def _domains(value: list[str]) -> list[str]:
    return [d.strip().lower().lstrip("@") for d in value if d.strip()]


def _max_words(value: int) -> int:
    if not 20 <= value <= 2000:
        raise ValueError(f"expected a number from 20 to 2000, got {value!r}")
    return value


def _zone(value: str) -> str:
    if not is_zone(value):
        zones = sorted(available_timezones())
        close = [z for z in zones if z.lower().endswith(value.lower())][:3]
        close = close or difflib.get_close_matches(value, zones, n=3, cutoff=0.8)
        hint = f" (did you mean {', '.join(sorted(close))}?)" if close else ""
        raise ValueError(f'expected an IANA time zone like "Europe/Berlin", got {value!r}{hint}')
    return value


def _holidays(value: str) -> str:
    value = value.strip().upper()
    if value:
        import holidays as holidays_lib

        if value not in holidays_lib.list_supported_countries():
            raise ValueError(f'expected an ISO country code like "DE" or "US", got {value!r}')
    return value


def _empty_is_none(value: object) -> object:
    return None if value in ("", None) else value


def _window(value: tuple[timedelta, timedelta]) -> tuple[timedelta, timedelta]:
    if value[0] >= value[1]:
        raise ValueError('the start must come before the end, like ["24h", "48h"]')
    return value


def _send_hours(value: tuple[time, time]) -> tuple[time, time]:
    if value[0] >= value[1]:
        shown = [format_clock(t) for t in value]
        raise ValueError(f"the first time must come before the second, got {shown}")
    return value


def _days(value: list[str]) -> list[str]:
    if not value:
        raise ValueError('name at least one day, e.g. ["mon", "tue", "wed", "thu", "fri"]')
    return value


# --- the sections ------------------------------------------------------------------


_ADAPTERS: dict[type, Any] = {}


def _adapter(cls: type) -> Any:
    """One pydantic TypeAdapter per section class, built on first use."""
    if cls not in _ADAPTERS:
        from pydantic import TypeAdapter

        _ADAPTERS[cls] = TypeAdapter(cls)
    return _ADAPTERS[cls]


class _Section:
    """Validation helpers shared by every section (pydantic is imported lazily)."""

    # Read by pydantic: unknown keys are errors.
    __pydantic_config__: ClassVar[dict[str, Any]] = {"extra": "forbid"}

    @classmethod
    def model_validate(cls: type[S], data: Any) -> S:
        result: S = _adapter(cls).validate_python(data)
        return result

    def model_dump(self, mode: str = "python") -> dict[str, Any]:
        result: dict[str, Any] = _adapter(type(self)).dump_python(self, mode=mode)
        return result


@dataclass(frozen=True)
class GoogleSettings(_Section):
    endpoint: Annotated[str, _Check(_endpoint)] = ""
    client_secrets: str = ""
    account: str = ""
    metadata_scope: bool = True
    readonly_scope: bool = False
    poll_interval: Annotated[Duration, _Check(_poll)] = timedelta(minutes=5)


DEFAULT_INCLUDE = (
    "interview", "phone screen", "onsite", "on-site", "screening", "final round",
    "superday", "recruiter call", "hiring manager", "technical screen",
    "Vorstellungsgespräch", "Bewerbungsgespräch", "entretien", "entrevista", "colloquio",
    "sollicitatiegesprek", "面接", "面试", "면접",
)  # fmt: skip
DEFAULT_EXCLUDE = (
    "mock", "practice", "prep", "debrief", "Probeinterview", "entraînement", "simulacro",
    "模擬", "模拟", "모의",
)  # fmt: skip


@dataclass(frozen=True)
class DetectSettings(_Section):
    calendars: list[str] = field(default_factory=lambda: ["primary"])
    include: list[str] = field(default_factory=lambda: list(DEFAULT_INCLUDE))
    exclude: list[str] = field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    require_accepted: bool = True
    require_external: bool = True
    ignore_domains: Annotated[list[str], _Check(_domains)] = field(default_factory=list)
    ignore_senders: list[str] = field(default_factory=list)
    lookback: Duration = timedelta(hours=48)


@dataclass(frozen=True)
class TemplateRule(_Section):
    template: str
    title: list[str] = field(default_factory=list)
    calendar: list[str] = field(default_factory=list)
    domain: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DraftSettings(_Section):
    per_interviewer: bool = True
    max_words: Annotated[int, _Check(_max_words)] = 200
    html: bool = False
    template_dir: str = ""
    words: list[str] = field(default_factory=list)
    thread_with_invite: bool = False
    rules: list[TemplateRule] = field(default_factory=list)


@dataclass(frozen=True)
class TimingSettings(_Section):
    timezone: Annotated[str, _Check(_zone)] = "UTC"  # the loader fills in the system's zone
    draft_delay: Duration = timedelta(minutes=10)
    window: Annotated[tuple[Duration, Duration], _Check(_window)] = (
        timedelta(hours=24),
        timedelta(hours=48),
    )
    send_hours: Annotated[tuple[Clock, Clock], _Check(_send_hours)] = (time(9, 0), time(11, 30))
    business_days: Annotated[list[Weekday], _Check(_days)] = field(
        default_factory=lambda: list(WEEKDAYS[:5])
    )
    holidays: Annotated[str, _Check(_holidays)] = ""
    no_slot: Literal["next_business_morning", "window_start"] = "next_business_morning"
    remind_before_close: Duration = timedelta(hours=4)
    checkin_after: Annotated[Duration | None, _Check(_empty_is_none, before=True)] = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class ProfileSettings(_Section):
    name: str = ""
    signature: str = ""
    highlights: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NudgeSettings(_Section):
    channels: list[Channel] = field(default_factory=lambda: [DESKTOP])
    command: list[str] = field(default_factory=list)
    reply_approval: bool = False


@dataclass(frozen=True)
class Config(_Section):
    mode: Mode = Mode.NUDGE
    token_store: Literal["keyring", "file"] = "keyring"  # noqa: S105 (a backend name)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    google: GoogleSettings = field(default_factory=GoogleSettings)
    detect: DetectSettings = field(default_factory=DetectSettings)
    drafts: DraftSettings = field(default_factory=DraftSettings)
    timing: TimingSettings = field(default_factory=TimingSettings)
    profile: ProfileSettings = field(default_factory=ProfileSettings)
    nudge: NudgeSettings = field(default_factory=NudgeSettings)
