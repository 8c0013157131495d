"""The config file: schema, validation and loading.

Every problem in a file is reported at once, each naming the file, the key and what
is expected. Unknown keys are errors (a typo must not silently disable a feature).
"""

from __future__ import annotations

import difflib
import re
import tomllib
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)

from followupd.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


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


Duration = Annotated[timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration)]
Clock = Annotated[
    time, BeforeValidator(parse_clock), PlainSerializer(lambda t: t.strftime("%H:%M"))
]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Channel = Literal["desktop", "email", "command"]
DESKTOP: Channel = "desktop"


def system_timezone() -> str:
    """The system's IANA zone name, or UTC when it cannot be told."""
    import os

    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and _is_zone(tz):
        return tz
    try:
        target = Path("/etc/localtime").resolve()
        parts = target.parts
        if "zoneinfo" in parts:
            name = "/".join(parts[parts.index("zoneinfo") + 1 :])
            if _is_zone(name):
                return name
    except OSError:
        pass
    try:
        name = Path("/etc/timezone").read_text().strip()
        if _is_zone(name):
            return name
    except OSError:
        pass
    return "UTC"


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GoogleSettings(_Section):
    endpoint: str = ""
    client_secrets: str = ""
    account: str = ""
    metadata_scope: bool = True
    readonly_scope: bool = False
    poll_interval: Duration = timedelta(minutes=5)

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f'expected a base URL like "http://127.0.0.1:8765", got {value!r}')
        return value

    @field_validator("poll_interval")
    @classmethod
    def _poll(cls, value: timedelta) -> timedelta:
        if value < timedelta(seconds=1):
            raise ValueError("expected at least 1s")
        return value


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


class DetectSettings(_Section):
    calendars: list[str] = Field(default_factory=lambda: ["primary"])
    include: list[str] = Field(default_factory=lambda: list(DEFAULT_INCLUDE))
    exclude: list[str] = Field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    require_accepted: bool = True
    require_external: bool = True
    ignore_domains: list[str] = Field(default_factory=list)
    ignore_senders: list[str] = Field(default_factory=list)
    lookback: Duration = timedelta(hours=48)
    horizon: Duration = timedelta(days=60)

    @field_validator("ignore_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        return [d.strip().lower().lstrip("@") for d in value if d.strip()]


class TemplateRule(_Section):
    template: str
    title: list[str] = Field(default_factory=list)
    calendar: list[str] = Field(default_factory=list)
    domain: list[str] = Field(default_factory=list)


class DraftSettings(_Section):
    per_interviewer: bool = True
    max_words: int = Field(default=200, ge=20, le=2000)
    html: bool = False
    template_dir: str = ""
    words: list[str] = Field(default_factory=list)
    thread_with_invite: bool = False
    rules: list[TemplateRule] = Field(default_factory=list)


class TimingSettings(_Section):
    timezone: str = Field(default_factory=system_timezone)
    draft_delay: Duration = timedelta(minutes=10)
    window: tuple[Duration, Duration] = (timedelta(hours=24), timedelta(hours=48))
    send_hours: tuple[Clock, Clock] = (time(9, 0), time(11, 30))
    business_days: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]))
    holidays: str = ""
    no_slot: Literal["next_business_morning", "window_start"] = "next_business_morning"
    remind_before_close: Duration = timedelta(hours=4)
    checkin_after: Duration | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if not _is_zone(value):
            zones = sorted(available_timezones())
            close = [z for z in zones if z.lower().endswith(value.lower())][:3]
            close = close or difflib.get_close_matches(value, zones, n=3, cutoff=0.8)
            hint = f" (did you mean {', '.join(sorted(close))}?)" if close else ""
            raise ValueError(
                f'expected an IANA time zone like "Europe/Berlin", got {value!r}{hint}'
            )
        return value

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: str) -> str:
        value = value.strip().upper()
        if value:
            import holidays as holidays_lib

            if value not in holidays_lib.list_supported_countries():
                raise ValueError(f'expected an ISO country code like "DE" or "US", got {value!r}')
        return value

    @field_validator("checkin_after", mode="before")
    @classmethod
    def _checkin(cls, value: object) -> object:
        return None if value in ("", None) else value

    # Field validators (not one model validator) so that each problem names its own
    # key and several are reported at once.
    @field_validator("window")
    @classmethod
    def _window(cls, value: tuple[timedelta, timedelta]) -> tuple[timedelta, timedelta]:
        if value[0] >= value[1]:
            raise ValueError('the start must come before the end, like ["24h", "48h"]')
        return value

    @field_validator("send_hours")
    @classmethod
    def _send_hours(cls, value: tuple[time, time]) -> tuple[time, time]:
        if value[0] >= value[1]:
            shown = [t.strftime("%H:%M") for t in value]
            raise ValueError(f"the first time must come before the second, got {shown}")
        return value

    @field_validator("business_days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError('name at least one day, e.g. ["mon", "tue", "wed", "thu", "fri"]')
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class ProfileSettings(_Section):
    name: str = ""
    signature: str = ""
    highlights: list[str] = Field(default_factory=list)


class NudgeSettings(_Section):
    channels: list[Channel] = Field(default_factory=lambda: [DESKTOP])
    command: list[str] = Field(default_factory=list)
    reply_approval: bool = False

    @model_validator(mode="after")
    def _command(self) -> NudgeSettings:
        if "command" in self.channels and not self.command:
            raise ValueError(
                'nudge.command: the "command" channel needs a command, '
                'e.g. command = ["/usr/bin/my-notifier"]'
            )
        return self


class Config(_Section):
    mode: Literal["draft", "nudge", "send"] = "nudge"
    token_store: Literal["keyring", "file"] = "keyring"  # noqa: S105 (a backend name)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    google: GoogleSettings = Field(default_factory=GoogleSettings)
    detect: DetectSettings = Field(default_factory=DetectSettings)
    drafts: DraftSettings = Field(default_factory=DraftSettings)
    timing: TimingSettings = Field(default_factory=TimingSettings)
    profile: ProfileSettings = Field(default_factory=ProfileSettings)
    nudge: NudgeSettings = Field(default_factory=NudgeSettings)


_EXPECTED = {
    "model_type": "a table (a [section])",
    "dict_type": "a table (a [section])",
    "list_type": 'a list in brackets, like ["a", "b"]',
    "tuple_type": 'a list of two values in brackets, like ["24h", "48h"]',
    "string_type": "a string in double quotes",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
}


def _describe(error: dict[str, Any]) -> tuple[str, str]:
    key = ""
    for part in error["loc"]:
        key += f"[{part}]" if isinstance(part, int) else f"{'.' if key else ''}{part}"
    kind = error["type"]
    message = error["msg"]
    got = f", got {error.get('input')!r}"
    if kind == "extra_forbidden":
        message = "unknown key (check the spelling; `followupd init --print` shows every key)"
    elif kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        message = f"expected one of {expected}{got}"
    elif kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}{got}"
    elif kind == "missing":
        message = "a value is missing (too few values?)" if key.endswith("]") else "required"
    elif kind in ("too_short", "too_long"):
        message = f"wrong number of values: {message[0].lower()}{message[1:]}"
    elif kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        message = "expected a number " + message.removeprefix("Input should be ") + got
    elif message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    elif kind.endswith("_type") or kind.endswith("_parsing"):
        message = f"{message}{got}"
    return key, message


def validate(data: dict[str, Any], source: str) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key, message = _describe(dict(err))
            problems.append(f"{source}: {key}: {message}" if key else f"{source}: {message}")
        raise ConfigError(problems) from None


def load(path: Path, *, missing_ok: bool = True) -> Config:
    """Read and validate a config file. A missing file means the defaults."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if missing_ok:
            return Config()
        raise ConfigError(
            [f"{path}: no such file (run `followupd init` to write a commented one)"]
        ) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read it: {exc.strerror}"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    return validate(data, str(path))
