"""The config file: reading TOML, validating it into the core's settings, wording errors.

Every problem in a file is reported at once, each naming the file, the key and what
is expected. Unknown keys are errors (a typo must not silently disable a feature).

The sections are the core's frozen dataclasses (`followupd.core.settings`), validated
by pydantic (imported only while validating). The daemon validates in a short-lived
child process (`load_isolated`) and rebuilds the dataclasses from its JSON answer, so
that pydantic (about 9 MiB resident) never stays in the long-running process.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import tomllib
import types
from datetime import time, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin
from typing import get_type_hints as _type_hints

from followupd.core.settings import Config, is_zone, parse_clock, parse_duration
from followupd.errors import ConfigError

S = TypeVar("S")


def system_timezone() -> str:
    """The system's IANA zone name, or UTC when it cannot be told."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz and is_zone(tz):
        return tz
    try:
        target = Path("/etc/localtime").resolve()
        parts = target.parts
        if "zoneinfo" in parts:
            name = "/".join(parts[parts.index("zoneinfo") + 1 :])
            if is_zone(name):
                return name
    except OSError:
        pass
    try:
        name = Path("/etc/timezone").read_text().strip()
        if is_zone(name):
            return name
    except OSError:
        pass
    return "UTC"


_EXPECTED = {
    "model_type": "a table (a [section])",
    "dict_type": "a table (a [section])",
    "dataclass_type": "a table (a [section])",
    "dataclass_args_type": "a table (a [section])",
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
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        message = "unknown key (check the spelling; `followupd init --print` shows every key)"
    elif kind in ("literal_error", "enum"):
        expected = error.get("ctx", {}).get("expected", "")
        message = f"expected one of {expected}{got}"
    elif kind in _EXPECTED:
        message = f"expected {_EXPECTED[kind]}{got}"
    elif kind in ("missing", "missing_argument"):
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


def _with_system_zone(data: dict[str, Any]) -> dict[str, Any]:
    """The machine's zone where the file names none (the core cannot look)."""
    timing = data.get("timing", {})
    if not isinstance(timing, dict) or "timezone" in timing:
        return data
    return {**data, "timing": {**timing, "timezone": system_timezone()}}


def validate(data: dict[str, Any], source: str) -> Config:
    from pydantic import ValidationError

    try:
        config = Config.model_validate(_with_system_zone(data))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key, message = _describe(dict(err))
            problems.append(f"{source}: {key}: {message}" if key else f"{source}: {message}")
        raise ConfigError(problems) from None
    if "command" in config.nudge.channels and not config.nudge.command:
        raise ConfigError(
            [
                f'{source}: nudge.command: the "command" channel needs a command, '
                'e.g. command = ["/usr/bin/my-notifier"]'
            ]
        )
    return config


def _read(path: Path, missing_ok: bool) -> dict[str, Any] | None:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if missing_ok:
            return None
        raise ConfigError(
            [f"{path}: no such file (run `followupd init` to write a commented one)"]
        ) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read it: {exc.strerror}"]) from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None


def load(path: Path, *, missing_ok: bool = True) -> Config:
    """Read and validate a config file. A missing file means the defaults."""
    data = _read(path, missing_ok)
    return validate(data if data is not None else {}, str(path))


# --- the daemon's way: validate in a child, keep pydantic out of this process ------


def load_isolated(path: Path) -> Config:
    """Like load(), but pydantic runs in a short-lived child process."""
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "followupd.config", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError([f"{path}: could not be checked: {exc}"]) from None
    if proc.returncode == 0:
        return from_plain(Config, json.loads(proc.stdout))
    problems = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode == ConfigError.exit_code and problems:
        raise ConfigError(problems)
    raise ConfigError([f"{path}: could not be checked: {proc.stderr.strip()[-500:]}"])


def from_plain(cls: type[S], data: Any) -> S:
    """Rebuild validated sections from their JSON form (no validation, no pydantic)."""
    return _build(cls, data)  # type: ignore[no-any-return]


def _build(tp: Any, value: Any) -> Any:
    origin = get_origin(tp)
    if tp is timedelta:
        return parse_duration(value)
    if tp is time:
        return parse_clock(value)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = _type_hints(tp)
        kwargs = {
            f.name: _build(hints[f.name], value[f.name])
            for f in dataclasses.fields(tp)
            if f.name in value
        }
        return tp(**kwargs)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        return _build(next(a for a in get_args(tp) if a is not type(None)), value)
    if origin is tuple:
        return tuple(_build(a, v) for a, v in zip(get_args(tp), value, strict=True))
    if origin is list:
        return [_build(get_args(tp)[0], v) for v in value]
    return value  # str, int, bool, Literal


def _main(argv: list[str]) -> int:
    """`python -m followupd.config PATH`: the validated config as JSON, or the problems."""
    try:
        config = load(Path(argv[0]))
    except ConfigError as exc:
        print("\n".join(exc.problems))  # noqa: T201 (a tool's output)
        return ConfigError.exit_code
    print(json.dumps(config.model_dump(mode="json")))  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
