"""A bad config: exit 78 and one message naming the file, the key and what is expected;
never a traceback, whatever the command (the daemon included)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from followupd.cli import cli

# (config text, key, what the message must say)
CASES = {
    "typo": (
        '[detect]\ncalendar = ["primary"]\n',
        "detect.calendar",
        "unknown key (check the spelling; `followupd init --print` shows every key)",
    ),
    "wrong_type": (
        '[drafts]\nmax_words = "lots"\n',
        "drafts.max_words",
        "expected a whole number, got 'lots'",
    ),
    "time_zone": (
        '[timing]\ntimezone = "Europe/Berlni"\n',
        "timing.timezone",
        "expected an IANA time zone like \"Europe/Berlin\", got 'Europe/Berlni' "
        "(did you mean Europe/Berlin?)",
    ),
    "duration": (
        '[timing]\ndraft_delay = "2 dayz"\n',
        "timing.draft_delay",
        'expected a duration like "90s", "10m", "24h" or "2d", got \'2 dayz\'',
    ),
    "mode": (
        'mode = "sned"\n',
        "mode",
        "expected one of 'draft', 'nudge' or 'send', got 'sned'",
    ),
}
INVALID_TOML = 'mode = "send\n[timing]\n'


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        monkeypatch.setenv(var, str(tmp_path / sub))
    path = tmp_path / "my config.toml"
    monkeypatch.setenv("FOLLOWUPD_CONFIG", str(path))
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    return path


def process(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "followupd", *args],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize(
    "command",
    [["list"], ["show", "abc"], ["sync"], ["note", "a", "b"], ["approve", "a"], ["preview"]],
)
def test_one_message_exit_78(cfg: Path, case: str, command: list[str]) -> None:
    text, key, expected = CASES[case]
    cfg.write_text(text)
    result = CliRunner().invoke(cli, command, prog_name="followupd", catch_exceptions=False)
    assert result.exit_code == 78
    assert result.stdout == ""
    assert result.stderr == f"followupd: {cfg}: {key}: {expected}\n"


@pytest.mark.parametrize("case", sorted(CASES))
def test_real_process_and_daemon(cfg: Path, case: str) -> None:
    text, key, expected = CASES[case]
    cfg.write_text(text)
    for args in (["list"], ["run"], ["--debug", "run"]):
        result = process(*args)
        assert result.returncode == 78, (args, result.stderr)
        assert result.stderr == f"followupd: {cfg}: {key}: {expected}\n"
        assert result.stdout == ""


def test_invalid_toml(cfg: Path) -> None:
    cfg.write_text(INVALID_TOML)
    for args in (["list"], ["run"]):
        result = process(*args)
        assert result.returncode == 78
        assert "Traceback" not in result.stderr
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"followupd: {cfg}: not valid TOML: ")
        assert "line 1" in line


def test_explicit_config_option_is_named(cfg: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.toml"
    other.write_text('mode = "sned"\n')
    cfg.write_text('mode = "send"\n')
    result = process("--config", str(other), "list")
    assert result.returncode == 78
    assert result.stderr.startswith(f"followupd: {other}: mode: ")


def test_several_problems_at_once(cfg: Path) -> None:
    cfg.write_text(
        'mdoe = "send"\n[timing]\nwindow = ["48h", "24h"]\nsend_hours = ["12:00", "09:00"]\n'
        'timezone = "Nowhere/Special"\n'
    )
    result = process("list")
    assert result.returncode == 78
    lines = result.stderr.splitlines()
    assert len(lines) == 4
    assert lines[0].startswith("followupd: ")
    keys = sorted(line.removeprefix("followupd: ").split(": ")[1] for line in lines)
    assert keys == ["mdoe", "timing.send_hours", "timing.timezone", "timing.window"]
    assert all(str(cfg) in line for line in lines)


@pytest.mark.parametrize("case", sorted(CASES))
def test_status_still_shows_the_state_and_names_the_problem(cfg: Path, case: str) -> None:
    # `status` is where the user looks: a broken file (maybe refused by a running
    # daemon's reload) is reported there, not turned into a failure.
    text, key, expected = CASES[case]
    cfg.write_text(text)
    result = CliRunner().invoke(
        cli, ["status", "--json"], prog_name="followupd", catch_exceptions=False
    )
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["config_error"] == f"{cfg}: {key}: {expected}"
    assert data["running"] is False


def test_check_lists_the_problem(cfg: Path) -> None:
    cfg.write_text(CASES["duration"][0])
    result = CliRunner().invoke(cli, ["check"], prog_name="followupd", catch_exceptions=False)
    assert result.exit_code == 78
    assert f"[FAIL] config: {cfg}: timing.draft_delay: expected a duration" in result.stdout
    assert "init --print" in result.stdout


def test_missing_explicit_file_is_defaults(cfg: Path) -> None:
    result = process("status", "--json")
    assert result.returncode == 0, result.stderr
