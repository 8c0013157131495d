"""The command line: click's CliRunner for output, the real process where exit codes
matter, the sandbox where a command talks to Google."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from support.daemon_home import Home, interview_event
from support.paths import EVENT_FIXTURES, REPO

from followupd import config as config_mod
from followupd.cli import cli
from followupd.sandbox import Sandbox

EXAMPLE = REPO / "followupd" / "data" / "config.example.toml"
FIXTURE = EVENT_FIXTURES / "meet_recruiter.json"
DESIGN_FIELDS = (
    "id", "event_id", "calendar_id", "summary", "start", "end", "recipients", "state",
    "draft_ids", "window_start", "window_end", "send_at", "notes", "proofread",
)  # fmt: skip


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), prog_name="followupd", catch_exceptions=False)


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty XDG dirs in tmp; FOLLOWUPD_CONFIG names the config file (not yet written)."""
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        monkeypatch.setenv(var, str(tmp_path / sub))
    config = tmp_path / "config" / "followupd" / "config.toml"
    monkeypatch.setenv("FOLLOWUPD_CONFIG", str(config))
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    return config


@pytest.fixture
def home(tmp_path: Path, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[Home]:
    """A logged-in home on the sandbox, mode "nudge"; CliRunner sees the same paths."""
    h = Home(tmp_path, sandbox)
    h.write_config(mode="nudge")
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, h.env[var])
    monkeypatch.delenv("FOLLOWUPD_CONFIG", raising=False)
    h.login()
    try:
        yield h
    finally:
        h.cleanup()


def synced(home: Home, sandbox: Sandbox) -> dict[str, dict[str, Any]]:
    """One interview over (-> drafted) and one in an hour (-> pending), via `sync`."""
    sandbox.add_event(interview_event("done1", -5, [("jane.doe@acme.com", "Jane Doe")]))
    sandbox.add_event(interview_event("soon1", 3600, [("priya@globex.io", "Priya Nair")]))
    result = home.cli("sync")
    assert result.returncode == 0, result.stderr
    return {f["event_id"]: f for f in home.list_json()}


def iso_with_offset(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    assert moment.utcoffset() is not None, value
    return moment


# --- init --------------------------------------------------------------------------


class TestInit:
    def test_writes_a_private_commented_config_that_validates(
        self, xdg: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("TZ", "America/New_York")
        result = run("init")
        assert result.exit_code == 0, result.output
        assert str(xdg) in result.stdout
        assert "followupd login" in result.stdout
        assert stat.S_IMODE(xdg.stat().st_mode) == 0o600
        text = xdg.read_text(encoding="utf-8")
        assert sum(line.startswith("#") for line in text.splitlines()) > 40
        assert 'timezone = "America/New_York"' in text
        loaded = config_mod.load(xdg, missing_ok=False)
        assert loaded.timing.timezone == "America/New_York"
        assert loaded.mode == "nudge"
        assert run("check", "--json").stdout.count('"area": "config"') == 1
        assert json.loads(run("check", "--json").stdout)["findings"][0]["level"] == "ok"

    def test_refuses_to_overwrite_without_force(self, xdg: Path) -> None:
        assert run("init").exit_code == 0
        xdg.write_text('mode = "send"\n')
        result = run("init")
        assert result.exit_code != 0
        assert "exists already" in result.stderr and "--force" in result.stderr
        assert xdg.read_text() == 'mode = "send"\n'
        result = run("init", "--force")
        assert result.exit_code == 0, result.output
        assert 'mode = "nudge"' in xdg.read_text()
        assert stat.S_IMODE(xdg.stat().st_mode) == 0o600

    def test_print_writes_nothing(self, xdg: Path) -> None:
        result = run("init", "--print")
        assert result.exit_code == 0
        assert result.stdout == EXAMPLE.read_text(encoding="utf-8")
        assert not xdg.exists()

    def test_config_option_wins(self, xdg: Path, tmp_path: Path) -> None:
        target = tmp_path / "elsewhere" / "deep" / "f.toml"
        assert run("--config", str(target), "init").exit_code == 0
        assert target.exists() and not xdg.exists()


# --- looking without Google ---------------------------------------------------------


class TestEmptyState:
    def test_list_show_status_on_a_fresh_home(self, xdg: Path) -> None:
        result = run("list", "--json")
        assert result.exit_code == 0 and json.loads(result.stdout) == []
        assert "No follow-ups yet" in run("list").stdout
        status = json.loads(run("status", "--json").stdout)
        assert status["running"] is False and status["counts"] == {}
        assert status["mode"] == "nudge"

    def test_show_unknown_id(self, xdg: Path) -> None:
        result = run("show", "abc123")
        assert result.exit_code == 2
        assert result.stdout == ""
        assert result.stderr == (
            "followupd: no follow-up with id 'abc123' (see `followupd list`)\n"
        )
        for cmd in ("approve", "skip"):
            again = run(cmd, "abc123")
            assert again.exit_code == 2 and "no follow-up with id" in again.stderr
        assert run("note", "abc123", "hello").exit_code == 2

    def test_unknown_command(self, xdg: Path) -> None:
        result = run("frobnicate")
        assert result.exit_code == 2
        assert "No such command 'frobnicate'" in result.stderr

    def test_templates(self, xdg: Path) -> None:
        listed = run("templates", "list")
        assert listed.exit_code == 0
        names = {line.split()[0]: line.split()[1] for line in listed.stdout.splitlines()}
        assert {"thank_you", "phone_screen", "panel", "checkin"} <= set(names)
        assert set(names.values()) == {"built-in"}
        shown = run("templates", "show", "thank_you")
        assert shown.exit_code == 0
        assert "subject:" in shown.stdout and "{{" in shown.stdout
        variables = run("templates", "show")
        assert variables.exit_code == 0 and "greeting_name" in variables.stdout
        missing = run("templates", "show", "nope")
        assert missing.exit_code != 0 and "templates list" in missing.stderr


class TestProcess:
    """Exit codes as a shell sees them."""

    def _cli(self, xdg: Path, *args: str) -> Any:
        import subprocess

        return subprocess.run(
            [sys.executable, "-m", "followupd", *args],
            env=dict(os.environ),
            capture_output=True,
            text=True,
            timeout=60,
        )

    def test_unknown_command_exits_2(self, xdg: Path) -> None:
        result = self._cli(xdg, "frobnicate")
        assert result.returncode == 2
        assert "No such command" in result.stderr and "Traceback" not in result.stderr

    def test_show_unknown_exits_2(self, xdg: Path) -> None:
        result = self._cli(xdg, "show", "zzzzzz")
        assert result.returncode == 2
        assert result.stderr.strip() == (
            "followupd: no follow-up with id 'zzzzzz' (see `followupd list`)"
        )

    def test_not_logged_in_exits_77_with_the_fix(self, xdg: Path) -> None:
        xdg.parent.mkdir(parents=True)
        xdg.write_text('token_store = "file"\n[google]\nendpoint = "http://127.0.0.1:9"\n')
        result = self._cli(xdg, "sync")
        assert result.returncode == 77
        assert "not logged in" in result.stderr
        assert "followupd login" in result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


# --- with the sandbox ---------------------------------------------------------------


class TestWithSandbox:
    def test_json_fields(self, home: Home, sandbox: Sandbox) -> None:
        found = synced(home, sandbox)
        assert set(found) == {"done1", "soon1"}
        items = json.loads(run("list", "--json").stdout)
        assert len(items) == 2
        drafts = {d["draft_id"] for d in sandbox.drafts()}
        for item in items:
            for key in DESIGN_FIELDS:
                assert key in item, key
            start, end = iso_with_offset(item["start"]), iso_with_offset(item["end"])
            assert end > start
            assert iso_with_offset(item["window_start"]) < iso_with_offset(item["window_end"])
            assert item["send_at"] is None
            assert item["notes"] == [] and isinstance(item["proofread"], list)
            assert item["calendar_id"] == "primary"
        done = found["done1"]
        assert done["state"] == "drafted" and done["recipients"] == ["jane.doe@acme.com"]
        assert len(done["draft_ids"]) == 1 and set(done["draft_ids"]) == drafts
        assert all({"code", "message", "blocking"} <= set(f) for f in done["proofread"])
        soon = found["soon1"]
        assert soon["state"] == "pending" and soon["draft_ids"] == []

        shown = run("show", done["id"][:4], "--json")
        assert shown.exit_code == 0
        data = json.loads(shown.stdout)
        assert {k: data[k] for k in DESIGN_FIELDS} == {k: done[k] for k in DESIGN_FIELDS}
        assert [h["kind"] for h in data["history"]][:2] == ["detected", "draft_created"]
        text = run("show", done["id"]).stdout
        assert done["summary"] in text and "jane.doe@acme.com" in text

        status = run("status", "--json")
        assert status.exit_code == 0
        info = json.loads(status.stdout)
        assert info["running"] is False and info["pid"] is None
        assert info["mode"] == "nudge"
        assert info["counts"] == {"drafted": 1, "pending": 1}
        iso_with_offset(info["last_sync"])
        assert {a["id"] for a in info["next_actions"]} == {done["id"], soon["id"]}
        human = run("status").stdout
        assert "not running" in human and "drafted 1, pending 1" in human
        table = run("list").stdout
        assert done["id"] in table and soon["id"] in table

    def test_sync_twice_creates_nothing_the_second_time(self, home: Home, sandbox: Sandbox) -> None:
        synced(home, sandbox)
        assert len(sandbox.drafts()) == 1
        creates = sandbox.counts().get("gmail.users.drafts.create", 0)
        assert creates == 1
        second = home.cli("sync")
        assert second.returncode == 0, second.stderr
        assert "0 new follow-up(s), 0 draft(s) created" in second.stdout
        assert len(sandbox.drafts()) == 1
        assert sandbox.counts().get("gmail.users.drafts.create", 0) == creates
        assert sandbox.counts().get("gmail.users.drafts.update", 0) == 0

    def test_note_before_the_end_reaches_the_draft(self, home: Home, sandbox: Sandbox) -> None:
        sandbox.add_event(interview_event("later1", 3, [("jane.doe@acme.com", "Jane Doe")]))
        assert home.cli("sync").returncode == 0
        (fu,) = home.list_json()
        assert fu["state"] == "pending"
        result = run("note", fu["id"], "the", "migration to event sourcing")
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("Note added.")
        assert json.loads(run("show", fu["id"], "--json").stdout)["notes"] == [
            "the migration to event sourcing"
        ]
        draft_at = iso_with_offset(fu["draft_at"])
        time.sleep(max(0.0, draft_at.timestamp() - time.time() + 0.3))
        assert home.cli("sync").returncode == 0
        (draft,) = sandbox.drafts()
        body = draft["parsed"].get_body(preferencelist=("plain",)).get_content()
        assert "migration to event sourcing" in body
        after = home.list_json()[0]
        assert after["state"] == "drafted"
        assert not any(f["code"] == "no_notes" for f in after["proofread"])

    def test_skip_keeps_the_draft(self, home: Home, sandbox: Sandbox) -> None:
        done = synced(home, sandbox)["done1"]
        result = run("skip", done["id"])
        assert result.exit_code == 0, result.output
        assert result.stdout == "Skipped; the drafts stay in Gmail untouched.\n"
        assert home.cli("sync").returncode == 0
        fu = json.loads(run("show", done["id"], "--json").stdout)
        assert fu["state"] == "skipped"
        assert [d["draft_id"] for d in sandbox.drafts()] == done["draft_ids"]
        assert sandbox.counts().get("gmail.users.drafts.delete", 0) == 0
        again = run("note", done["id"], "too late")
        assert again.exit_code == 1
        assert again.stderr == (
            f"followupd: follow-up {done['id']} is skipped; a note changes nothing\n"
        )

    def test_approve_in_nudge_mode_explains(self, home: Home, sandbox: Sandbox) -> None:
        done = synced(home, sandbox)["done1"]
        result = run("approve", done["id"])
        assert result.exit_code == 1
        assert 'mode is "nudge"' in result.stderr
        assert "send the draft from Gmail yourself" in result.stderr
        assert 'mode = "send"' in result.stderr
        assert "Traceback" not in result.output
        assert json.loads(run("show", done["id"], "--json").stdout)["state"] == "drafted"
        # In send mode the same request is accepted and says when.
        home.write_config(mode="send")
        accepted = run("approve", done["id"])
        assert accepted.exit_code == 0, accepted.output
        assert accepted.stdout.startswith("Approved via cli; it will be sent ")
        assert "UTC" in accepted.stdout  # not lower-cased by the sentence formatting
        fu = json.loads(run("show", done["id"], "--json").stdout)
        assert fu["state"] == "approved" and fu["send_at"] is not None

    def test_preview_never_touches_gmail(self, home: Home, sandbox: Sandbox) -> None:
        sandbox.reset_counts()
        sample = run("preview", "--sample")
        assert sample.exit_code == 0, sample.output
        assert sample.stdout.startswith("Subject: ")
        assert "# template thank_you; proofreading:" in sample.stderr
        fixture = run("preview", "--fixture", str(FIXTURE))
        assert fixture.exit_code == 0, fixture.output
        assert fixture.stdout.startswith("Subject: ")
        assert "Hi Jane," in fixture.stdout
        assert "Acme" in fixture.stdout
        assert "# detection: title matches 'phone screen'" in fixture.stderr
        assert "# template phone_screen" in fixture.stderr
        chosen = run("preview", "--sample", "--template", "panel")
        assert chosen.exit_code == 0 and "# template panel" in chosen.stderr
        assert sandbox.counts() == {}
        assert sandbox.drafts() == []
