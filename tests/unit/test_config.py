"""followupd/config.py: the example config, durations, clock times, and error reports."""

from __future__ import annotations

import dataclasses
import tomllib
import typing
from datetime import time, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.paths import REPO

from followupd import config as config_mod
from followupd.config import load, validate
from followupd.core.settings import (
    Config,
    TimingSettings,
    format_duration,
    is_zone,
    parse_clock,
    parse_duration,
)
from followupd.errors import EXIT_CONFIG, ConfigError

PACKAGED = REPO / "followupd" / "data" / "config.example.toml"

# Keys the example sets to something other than the default, on purpose (documented in
# the file's comments): the time zone defaults to the system's, the example shows one.
DOCUMENTED_EXAMPLES = {("timing", "timezone")}
# Keys the example documents only as a commented-out example.
COMMENTED_OUT = {("drafts", "rules")}


def _schema(cls: Any) -> dict[str, Any]:
    """A section's keys and their types (the sections are dataclasses)."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _example() -> dict[str, Any]:
    return tomllib.loads(PACKAGED.read_text(encoding="utf-8"))


def _problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as info:
        validate(data, "/cfg.toml")
    assert info.value.exit_code == EXIT_CONFIG
    return info.value.problems


class TestExample:
    def test_every_key_validates_and_equals_the_default(self) -> None:
        raw = _example()
        loaded = validate(raw, str(PACKAGED)).model_dump()
        defaults = Config().model_dump()
        seen = 0
        for section, value in raw.items():
            if not isinstance(value, dict):
                assert loaded[section] == defaults[section], section
                seen += 1
                continue
            for key in value:
                seen += 1
                if (section, key) in DOCUMENTED_EXAMPLES:
                    continue
                assert loaded[section][key] == defaults[section][key], f"{section}.{key}"
        assert seen >= 35

    def test_documented_timezone_example_is_a_real_zone(self) -> None:
        assert validate(_example(), "x").timing.timezone == "Europe/Berlin"

    def test_every_schema_key_is_in_the_example(self) -> None:
        raw = _example()
        for name, annotation in _schema(Config).items():
            sub = _schema(annotation) if dataclasses.is_dataclass(annotation) else None
            if sub is None:
                assert name in raw, name
                continue
            missing = {k for k in sub if (name, k) not in COMMENTED_OUT} - set(raw.get(name, {}))
            assert not missing, f"[{name}] lacks {sorted(missing)}"
            commented = {k for (s, k) in COMMENTED_OUT if s == name}
            text = PACKAGED.read_text(encoding="utf-8")
            for key in commented:
                assert f"[[{name}.{key}]]" in text

    def test_design_keys_exist(self) -> None:
        fields = {
            name: set(_schema(t)) if dataclasses.is_dataclass(t) else set()
            for name, t in _schema(Config).items()
        }
        assert "mode" in fields
        assert {"endpoint"} <= fields["google"]
        assert {
            "calendars", "include", "exclude", "require_accepted", "ignore_domains", "lookback"
        } <= fields["detect"]  # fmt: skip
        assert {"per_interviewer", "max_words"} <= fields["drafts"]
        assert {
            "timezone", "draft_delay", "window", "send_hours", "business_days", "holidays"
        } <= fields["timing"]  # fmt: skip
        assert {"name", "highlights"} <= fields["profile"]
        assert {"channels"} <= fields["nudge"]

    def test_design_defaults(self) -> None:
        c = Config()
        assert c.mode == "nudge"
        assert c.google.endpoint == ""
        assert c.detect.calendars == ["primary"]
        assert c.detect.require_accepted is True
        assert c.detect.lookback == timedelta(hours=48)
        assert c.drafts.per_interviewer is True and c.drafts.max_words == 200
        assert c.timing.draft_delay == timedelta(minutes=10)
        assert c.timing.window == (timedelta(hours=24), timedelta(hours=48))
        assert c.timing.send_hours == (time(9, 0), time(11, 30))
        assert c.timing.business_days == ["mon", "tue", "wed", "thu", "fri"]
        assert c.nudge.channels == ["desktop"]

    def test_missing_file_means_defaults_and_load_reads_the_example(self, tmp_path: Path) -> None:
        # The core's default zone is UTC; the loader fills in the machine's own.
        system = TimingSettings(timezone=config_mod.system_timezone())
        assert load(tmp_path / "nope.toml") == Config(timing=system)
        with pytest.raises(ConfigError, match="followupd init"):
            load(tmp_path / "nope.toml", missing_ok=False)
        assert load(PACKAGED).mode == "nudge"


class TestDurations:
    @pytest.mark.parametrize(
        ("text", "seconds"),
        [("90s", 90), ("10m", 600), ("24h", 86400), ("2d", 172800), (" 5 m ", 300), ("0s", 0)],
    )
    def test_parse(self, text: str, seconds: int) -> None:
        assert parse_duration(text) == timedelta(seconds=seconds)

    @pytest.mark.parametrize(
        "bad", ["2 dayz", "10", "1.5h", "h", "-5m", "10mins", "", "1w", 10, None, ["1h"]]
    )
    def test_reject(self, bad: object) -> None:
        with pytest.raises(ValueError, match="duration like"):
            parse_duration(bad)

    def test_timedelta_passes_through(self) -> None:
        assert parse_duration(timedelta(minutes=3)) == timedelta(minutes=3)

    @pytest.mark.parametrize("text", ["90s", "10m", "24h", "2d", "3h", "61s", "0s"])
    def test_round_trip(self, text: str) -> None:
        value = parse_duration(text)
        assert parse_duration(format_duration(value)) == value

    def test_format_picks_the_largest_unit(self) -> None:
        assert format_duration(timedelta(hours=48)) == "2d"
        assert format_duration(timedelta(minutes=90)) == "90m"
        assert format_duration(timedelta(seconds=61)) == "61s"

    def test_config_durations_serialize_back(self) -> None:
        dumped = Config().model_dump(mode="json")
        assert dumped["timing"]["window"] == ["1d", "2d"]
        assert dumped["timing"]["send_hours"] == ["09:00", "11:30"]
        assert validate(dumped, "x") == Config()


class TestClock:
    @pytest.mark.parametrize(
        ("text", "value"),
        [("09:00", time(9)), ("9:05", time(9, 5)), ("23:59", time(23, 59)), ("00:00", time(0))],
    )
    def test_parse(self, text: str, value: time) -> None:
        assert parse_clock(text) == value

    @pytest.mark.parametrize("bad", ["24:00", "9", "9:5", "09:60", "9am", "", 900, None])
    def test_reject(self, bad: object) -> None:
        with pytest.raises(ValueError, match='local time like "09:00"'):
            parse_clock(bad)


class TestErrors:
    def test_unknown_key_names_file_and_key(self) -> None:
        (problem,) = _problems({"detect": {"calendar": ["primary"]}})
        assert problem.startswith("/cfg.toml: detect.calendar: unknown key")
        assert "spelling" in problem

    def test_wrong_type(self) -> None:
        (problem,) = _problems({"drafts": {"max_words": "lots"}})
        assert problem == "/cfg.toml: drafts.max_words: expected a whole number, got 'lots'"
        (problem,) = _problems({"timing": 5})
        assert problem == "/cfg.toml: timing: expected a table (a [section]), got 5"
        (problem,) = _problems({"detect": {"calendars": "primary"}})
        assert problem.startswith("/cfg.toml: detect.calendars: expected a list")
        assert "TimingSettings" not in str(_problems({"timing": []}))

    def test_bad_mode(self) -> None:
        (problem,) = _problems({"mode": "sned"})
        assert problem == "/cfg.toml: mode: expected one of 'draft', 'nudge' or 'send', got 'sned'"

    def test_unknown_zone_suggests(self) -> None:
        (problem,) = _problems({"timing": {"timezone": "Europe/Berlni"}})
        assert problem.startswith("/cfg.toml: timing.timezone: expected an IANA time zone")
        assert "did you mean Europe/Berlin" in problem
        (problem,) = _problems({"timing": {"timezone": "Berlin"}})
        assert "Europe/Berlin" in problem.split("got")[1]

    def test_bad_duration(self) -> None:
        (problem,) = _problems({"timing": {"draft_delay": "2 dayz"}})
        assert problem == (
            '/cfg.toml: timing.draft_delay: expected a duration like "90s", "10m", "24h" '
            "or \"2d\", got '2 dayz'"
        )

    def test_window_order(self) -> None:
        (problem,) = _problems({"timing": {"window": ["48h", "24h"]}})
        assert problem.startswith("/cfg.toml: timing.window: the start must come before the end")
        (problem,) = _problems({"timing": {"window": ["24h", "24h"]}})
        assert "timing.window" in problem

    def test_send_hours_order(self) -> None:
        (problem,) = _problems({"timing": {"send_hours": ["11:30", "09:00"]}})
        assert problem.startswith("/cfg.toml: timing.send_hours: the first time must come before")
        (problem,) = _problems({"timing": {"send_hours": ["25:00", "09:00"]}})
        assert problem.startswith("/cfg.toml: timing.send_hours[0]: expected a local time")

    def test_window_arity(self) -> None:
        (problem,) = _problems({"timing": {"window": ["24h"]}})
        assert problem.startswith("/cfg.toml: timing.window[1]:")
        (problem,) = _problems({"timing": {"window": "24h"}})
        assert problem.startswith("/cfg.toml: timing.window: expected a list of two values")

    def test_several_problems_reported_at_once(self) -> None:
        problems = _problems(
            {
                "mdoe": "send",
                "timing": {
                    "window": ["48h", "24h"],
                    "send_hours": ["12:00", "09:00"],
                    "business_days": [],
                    "timezone": "Mars/Olympus",
                },
                "detect": {"lookback": "2 dayz"},
                "nudge": {"channels": ["sms"]},
            }
        )
        keys = sorted(p.split(": ")[1] for p in problems)
        assert keys == [
            "detect.lookback",
            "mdoe",
            "nudge.channels[0]",
            "timing.business_days",
            "timing.send_hours",
            "timing.timezone",
            "timing.window",
        ]
        assert all(p.startswith("/cfg.toml: ") for p in problems)
        assert all("\n" not in p for p in problems)

    def test_other_checks(self) -> None:
        assert "at least 1s" in _problems({"google": {"poll_interval": "0s"}})[0]
        assert "base URL" in _problems({"google": {"endpoint": "localhost:99"}})[0]
        assert "ISO country code" in _problems({"timing": {"holidays": "XX"}})[0]
        assert "from 20 to 2000, got 5" in _problems({"drafts": {"max_words": 5}})[0]
        assert "command" in _problems({"nudge": {"channels": ["command"]}})[0]
        assert _problems({"drafts": {"rules": [{"title": ["x"]}]}}) == [
            "/cfg.toml: drafts.rules[0].template: required"
        ]

    def test_accepted_normalisations(self) -> None:
        c = validate(
            {
                "google": {"endpoint": "http://127.0.0.1:9/"},
                "detect": {"ignore_domains": ["@Corp.COM", " "]},
                "timing": {"holidays": "de", "checkin_after": ""},
            },
            "x",
        )
        assert c.google.endpoint == "http://127.0.0.1:9"
        assert c.detect.ignore_domains == ["corp.com"]
        assert c.timing.holidays == "DE"
        assert c.timing.checkin_after is None

    def test_invalid_toml_names_the_file(self, tmp_path: Path) -> None:
        path = tmp_path / "config.toml"
        path.write_text('mode = "send\n')
        with pytest.raises(ConfigError) as info:
            load(path)
        (problem,) = info.value.problems
        assert problem.startswith(f"{path}: not valid TOML")
        assert "line 1" in problem

    def test_not_utf8(self, tmp_path: Path) -> None:
        path = tmp_path / "config.toml"
        path.write_bytes(b'mode = "\xff"\n')
        with pytest.raises(ConfigError, match="not UTF-8"):
            load(path)

    def test_file_errors_name_the_file(self, tmp_path: Path) -> None:
        path = tmp_path / "config.toml"
        path.write_text('[timing]\ndraft_delay = "2 dayz"\n')
        with pytest.raises(ConfigError) as info:
            load(path)
        assert info.value.problems[0].startswith(f"{path}: timing.draft_delay: ")


def test_system_timezone_honours_tz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", ":America/New_York")
    assert config_mod.system_timezone() == "America/New_York"
    monkeypatch.setenv("TZ", "Not/AZone")
    assert is_zone(config_mod.system_timezone())


class TestIsolatedLoad:
    """The daemon's way: pydantic validates in a child; the result is the same config."""

    def test_same_config_as_in_process(self, tmp_path: Path) -> None:
        path = tmp_path / "c.toml"
        path.write_text(PACKAGED.read_text(encoding="utf-8"), encoding="utf-8")
        assert config_mod.load_isolated(path) == load(path)

    def test_problems_come_back_as_a_config_error(self, tmp_path: Path) -> None:
        path = tmp_path / "c.toml"
        path.write_text('mode = "loud"\n[timing]\ndraft_delay = "2 dayz"\n', encoding="utf-8")
        with pytest.raises(ConfigError) as info:
            config_mod.load_isolated(path)
        assert len(info.value.problems) == 2
        assert all(p.startswith(str(path)) for p in info.value.problems)

    def test_the_daemon_process_never_imports_pydantic(self, tmp_path: Path) -> None:
        import subprocess
        import sys

        path = tmp_path / "c.toml"
        path.write_text('[timing]\ntimezone = "UTC"\n', encoding="utf-8")
        code = (
            "import sys; from pathlib import Path; from followupd import config;"
            f"c = config.load_isolated(Path({str(path)!r}));"
            "import followupd.daemon.process, followupd.engine.cycle, followupd.app.wiring;"
            "print(c.timing.timezone, 'pydantic' in sys.modules)"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.stdout.split() == ["UTC", "False"], out.stderr
