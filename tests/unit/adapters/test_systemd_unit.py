"""The systemd user unit (linted for real with systemd-analyze) and service install."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.paths import REPO

from followupd import paths
from followupd.adapters.service import inspection, manager
from followupd.adapters.service import install as installer
from followupd.adapters.service import unit as service_unit

TEMPLATE = REPO / "followupd" / "data" / "followupd.service.in"
MAX_EXPOSURE = 2.0


# --- helpers ----------------------------------------------------------------------


def systemd_analyze() -> str:
    exe = shutil.which("systemd-analyze")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("systemd-analyze is required under CI (Debian package: systemd)")
        pytest.skip("systemd-analyze is not installed")
    return exe


@pytest.fixture
def runtime_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="fud-rt-"))
    path.chmod(0o700)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        (tmp_path / sub).mkdir()
        monkeypatch.setenv(var, str(tmp_path / sub))
    monkeypatch.delenv("FOLLOWUPD_CONFIG", raising=False)
    return tmp_path


def analyze(args: list[str], runtime: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), SYSTEMD_LOG_COLOR="0")
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    return subprocess.run(
        [systemd_analyze(), "--user", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )


def write_unit(directory: Path, exec_start: list[str]) -> Path:
    unit = directory / "followupd.service"
    unit.write_text(service_unit.render_unit(exec_start))
    unit.chmod(0o644)  # systemd warns about world-writable or executable units
    return unit


def exposure(unit: Path, runtime: Path) -> float:
    proc = analyze(["security", "--offline=yes", str(unit)], runtime)
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", proc.stdout)
    assert match, (proc.returncode, proc.stdout[-2000:], proc.stderr)
    return float(match.group(1))


def directives(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    section = ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.setdefault(f"{section}.{key}", []).append(value)
    return out


class FakeRunner:
    """Records argv; answers from a table of (argv suffix -> (rc, stdout, stderr))."""

    def __init__(
        self, answers: dict[str, tuple[int, str, str]] | None = None, missing: bool = False
    ) -> None:
        self.calls: list[list[str]] = []
        self.kwargs: list[dict[str, Any]] = []
        self.answers = answers or {}
        self.missing = missing

    def __call__(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        self.kwargs.append(kwargs)
        if self.missing:
            raise FileNotFoundError(2, "No such file or directory", argv[0])
        rc, out, err = self.answers.get(" ".join(argv[2:]), (0, "", ""))
        return subprocess.CompletedProcess(argv, rc, out, err)


@pytest.fixture
def linger_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "linger"
    d.mkdir()
    monkeypatch.setattr(manager, "LINGER_DIR", d)
    return d


NO_BUS = (1, "", "Failed to connect to bus: No medium found\n")


# --- the template -------------------------------------------------------------------


def test_the_unit_template_is_read_from_package_data() -> None:
    assert TEMPLATE.read_text() == service_unit.unit_template()
    assert service_unit.unit_template().count("@EXEC_START@") == 1


def test_template_has_the_required_settings() -> None:
    d = directives(service_unit.unit_template())
    expected = {
        "Service.Type": ["notify"],
        "Service.NotifyAccess": ["main"],
        "Service.WatchdogSec": ["60"],
        "Service.Restart": ["on-failure"],
        "Service.RestartSec": ["30"],
        "Service.TimeoutStopSec": ["10"],
        "Service.PrivateUsers": ["yes"],
        "Service.ProtectSystem": ["strict"],
        "Service.ProtectHome": ["read-only"],
        "Service.NoNewPrivileges": ["yes"],
        "Service.RestrictAddressFamilies": ["AF_UNIX AF_INET AF_INET6"],
        "Service.SystemCallArchitectures": ["native"],
        "Service.UMask": ["0077"],
        "Service.CapabilityBoundingSet": [""],
        "Install.WantedBy": ["default.target"],
    }
    for key, value in expected.items():
        assert d.get(key) == value, key
    assert "@system-service" in d["Service.SystemCallFilter"]
    assert "DBUS_SESSION_BUS_ADDRESS=unix:path=%t/bus" in d["Service.Environment"]
    assert d["Service.ReadWritePaths"] == ["%S/followupd %C/followupd"]
    assert int(d["Unit.StartLimitBurst"][0]) >= 3
    assert int(d["Unit.StartLimitIntervalSec"][0]) >= 60
    for flag in (
        "LockPersonality",
        "MemoryDenyWriteExecute",
        "RestrictRealtime",
        "RestrictNamespaces",
        "ProtectKernelTunables",
        "ProtectKernelModules",
        "ProtectKernelLogs",
        "ProtectControlGroups",
        "ProtectClock",
        "ProtectHostname",
        "PrivateTmp",
        "PrivateDevices",
        "RestrictSUIDSGID",
    ):
        assert d[f"Service.{flag}"] == ["yes"], flag


# --- systemd-analyze, for real ------------------------------------------------------


def test_unit_verifies_cleanly(tmp_path: Path, runtime_dir: Path) -> None:
    unit = write_unit(tmp_path, [sys.executable, "-m", "followupd", "run"])
    proc = analyze(["verify", str(unit)], runtime_dir)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


def test_verify_would_catch_a_mistake(tmp_path: Path, runtime_dir: Path) -> None:
    # Proves the empty-stderr check above is meaningful.
    text = service_unit.render_unit([sys.executable, "-m", "followupd", "run"])
    unit = tmp_path / "followupd.service"
    unit.write_text(text.replace("NotifyAccess=main", "NotifyAcess=main"))
    assert analyze(["verify", str(unit)], runtime_dir).stderr != ""
    unit.write_text(service_unit.render_unit(["/nonexistent/followupd", "run"]))
    assert analyze(["verify", str(unit)], runtime_dir).stderr != ""


def test_exposure_is_low(tmp_path: Path, runtime_dir: Path) -> None:
    unit = write_unit(tmp_path, [sys.executable, "-m", "followupd", "run"])
    score = exposure(unit, runtime_dir)
    assert score <= MAX_EXPOSURE, score


def test_quoted_exec_start_verifies(tmp_path: Path, runtime_dir: Path) -> None:
    # A path with spaces, a specifier-looking '%' and a '$': verify only passes when
    # systemd reads the executable back as exactly this file.
    odd = tmp_path / "my apps 100% $HOME" / "bin"
    odd.mkdir(parents=True)
    exe = odd / "followupd"
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    unit = write_unit(
        tmp_path, [str(exe), "--config", str(tmp_path / "conf dir" / "c 50%.toml"), "run"]
    )
    proc = analyze(["verify", str(unit)], runtime_dir)
    assert (proc.returncode, proc.stderr) == (0, "")


def test_installed_unit_verifies(xdg: Path, runtime_dir: Path, linger_off: Path) -> None:
    runner = FakeRunner()
    installer.install([sys.executable, "-m", "followupd", "run"], runner=runner)
    unit = xdg / "config" / "systemd" / "user" / "followupd.service"
    assert unit.is_file()
    proc = analyze(["verify", str(unit)], runtime_dir)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert exposure(unit, runtime_dir) <= MAX_EXPOSURE


# --- rendering ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arg", "quoted"),
    [
        ("/usr/bin/followupd", "/usr/bin/followupd"),
        ("run", "run"),
        ("--config", "--config"),
        ("/home/u/my dir/c.toml", '"/home/u/my dir/c.toml"'),
        ("100%", '"100%%"'),
        ("$HOME", '"$$HOME"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("tab\there", '"tab\\there"'),
        ("", '""'),
        (";", "\\;"),
        ("it's", '"it\'s"'),
    ],
)
def test_quote_exec_arg(arg: str, quoted: str) -> None:
    assert service_unit.quote_exec_arg(arg) == quoted


def test_render_unit_places_the_command() -> None:
    text = service_unit.render_unit(["/opt/fu/bin/followupd", "--config", "/c d.toml", "run"])
    assert 'ExecStart=/opt/fu/bin/followupd --config "/c d.toml" run\n' in text
    assert "@EXEC_START@" not in text


@pytest.mark.parametrize("bad", [[], ["followupd", "run"], ["/bin/x", "a\0b"]])
def test_render_unit_rejects(bad: list[str]) -> None:
    with pytest.raises(ValueError):
        service_unit.render_unit(bad)


# --- default_exec_start ---------------------------------------------------------------


def fake_prefix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: bool) -> Path:
    prefix = tmp_path / "venv"
    (prefix / "bin").mkdir(parents=True)
    if script:
        exe = prefix / "bin" / "followupd"
        exe.write_text("#!/bin/sh\n")
        exe.chmod(0o755)
    monkeypatch.setattr(sys, "prefix", str(prefix))
    return prefix


def test_exec_start_from_a_venv_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xdg: Path
) -> None:
    prefix = fake_prefix(tmp_path, monkeypatch, script=True)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert service_unit.default_exec_start() == [str(prefix.resolve() / "bin" / "followupd"), "run"]


def test_exec_start_resolves_a_pipx_symlink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xdg: Path
) -> None:
    prefix = fake_prefix(tmp_path, monkeypatch, script=True)
    local_bin = tmp_path / "home" / ".local" / "bin"
    local_bin.mkdir(parents=True)
    (local_bin / "followupd").symlink_to(prefix / "bin" / "followupd")
    monkeypatch.setattr(shutil, "which", lambda name: str(local_bin / "followupd"))
    assert service_unit.default_exec_start() == [str(prefix.resolve() / "bin" / "followupd"), "run"]


def test_exec_start_ignores_a_foreign_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xdg: Path
) -> None:
    fake_prefix(tmp_path, monkeypatch, script=False)
    other = tmp_path / "elsewhere" / "followupd"
    other.parent.mkdir()
    other.write_text("#!/bin/sh\n")
    other.chmod(0o755)
    monkeypatch.setattr(shutil, "which", lambda name: str(other))
    assert service_unit.default_exec_start() == [sys.executable, "-m", "followupd", "run"]


def test_exec_start_config_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xdg: Path
) -> None:
    fake_prefix(tmp_path, monkeypatch, script=False)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert service_unit.default_exec_start(paths.default_config_path())[-1] == "run"
    assert "--config" not in service_unit.default_exec_start(paths.default_config_path())
    custom = tmp_path / "work.toml"
    cmd = service_unit.default_exec_start(custom)
    assert cmd[-3:] == ["--config", str(custom), "run"]
    monkeypatch.chdir(tmp_path)
    assert service_unit.default_exec_start("rel.toml")[-2] == str(tmp_path / "rel.toml")


def test_unit_path_honours_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert service_unit.unit_path() == tmp_path / "cfg" / "systemd" / "user" / "followupd.service"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    expected = tmp_path / "home" / ".config" / "systemd" / "user" / "followupd.service"
    assert service_unit.unit_path() == expected


# --- install / uninstall ---------------------------------------------------------------


CMD = [sys.executable, "-m", "followupd", "run"]


def test_install_writes_reloads_enables(xdg: Path, linger_off: Path) -> None:
    runner = FakeRunner()
    lines = installer.install(CMD, runner=runner)
    unit = service_unit.unit_path()
    assert unit.read_text() == service_unit.render_unit(CMD)
    assert unit.stat().st_mode & 0o777 == 0o644
    assert runner.calls == [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "--now", "followupd.service"],
    ]
    assert all(kw.get("timeout") for kw in runner.kwargs)
    text = "\n".join(lines)
    assert f"Wrote {unit}" in text
    assert "Enabled and started" in text
    assert "loginctl enable-linger" in text
    assert "journalctl --user -u followupd.service" in text


def test_install_with_linger_on(xdg: Path, linger_off: Path) -> None:
    user = manager.current_user()
    assert user
    (linger_off / user).touch()
    lines = installer.install(CMD, runner=FakeRunner())
    assert not any("enable-linger" in line for line in lines)
    assert inspection.inspect(runner=FakeRunner()).linger is True


def test_install_without_enable(xdg: Path, linger_off: Path) -> None:
    runner = FakeRunner()
    lines = installer.install(CMD, enable=False, runner=runner)
    assert runner.calls == [["systemctl", "--user", "daemon-reload"]]
    assert any("systemctl --user enable --now followupd.service" in line for line in lines)


@pytest.mark.parametrize(
    "runner",
    [FakeRunner(missing=True), FakeRunner({"daemon-reload": NO_BUS})],
    ids=["no-systemctl", "no-user-bus"],
)
def test_install_without_systemd_still_writes_the_unit(
    xdg: Path, linger_off: Path, runner: FakeRunner
) -> None:
    lines = installer.install(CMD, runner=runner)
    assert service_unit.unit_path().is_file()
    text = "\n".join(lines)
    assert "systemctl --user daemon-reload" in text
    assert "systemctl --user enable --now followupd.service" in text
    assert "Enabled" not in text


def test_install_when_start_fails(xdg: Path, linger_off: Path) -> None:
    runner = FakeRunner(
        {"enable --now followupd.service": (1, "", "Job for followupd.service failed.\n")}
    )
    text = "\n".join(installer.install(CMD, runner=runner))
    assert "Could not enable or start followupd.service: Job for followupd.service failed." in text
    assert "journalctl --user -u followupd.service" in text


def test_reinstall_unchanged_and_changed(xdg: Path, linger_off: Path) -> None:
    installer.install(CMD, runner=FakeRunner())
    again = FakeRunner()
    assert any(line.startswith("Unit unchanged") for line in installer.install(CMD, runner=again))
    assert ["systemctl", "--user", "try-restart", "followupd.service"] not in again.calls
    changed = FakeRunner()
    lines = installer.install([*CMD[:-1], "--config", "/etc/fu.toml", "run"], runner=changed)
    assert any(line.startswith("Updated") for line in lines)
    assert changed.calls[-1] == ["systemctl", "--user", "try-restart", "followupd.service"]


def test_install_warns_about_tmp_config(xdg: Path, linger_off: Path) -> None:
    lines = installer.install([*CMD[:-1], "--config", "/tmp/x.toml", "run"], runner=FakeRunner())
    assert any("private /tmp" in line for line in lines)


def test_install_with_real_systemctl_and_no_user_manager(
    xdg: Path, linger_off: Path, runtime_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("systemctl") is None:
        pytest.skip("systemctl is not installed")
    # An empty runtime dir and no bus address: systemctl cannot reach any manager,
    # so this never touches the real user session of whoever runs the tests.
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime_dir))
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    lines = installer.install(CMD)
    assert service_unit.unit_path().is_file()
    assert any("Could not" in line for line in lines), lines
    assert any("systemctl --user enable --now" in line for line in lines)
    info = inspection.inspect()
    assert info.unit_installed and info.active is None
    assert any("Cannot reach the systemd user manager" in p for p in info.problems)


def test_uninstall(xdg: Path, linger_off: Path) -> None:
    installer.install(CMD, runner=FakeRunner())
    runner = FakeRunner()
    lines = installer.uninstall(runner=runner)
    assert runner.calls == [
        ["systemctl", "--user", "disable", "--now", "followupd.service"],
        ["systemctl", "--user", "daemon-reload"],
    ]
    assert not service_unit.unit_path().exists()
    assert any(line.startswith("Removed") for line in lines)
    # Twice is fine.
    lines = installer.uninstall(runner=FakeRunner(missing=True))
    assert any("No unit file" in line for line in lines)
    assert any("systemctl --user disable --now" in line for line in lines)


# --- inspect ---------------------------------------------------------------------------


def test_inspect_running_service(xdg: Path, linger_off: Path) -> None:
    installer.install(CMD, runner=FakeRunner())
    runner = FakeRunner(
        {
            "is-enabled followupd.service": (0, "enabled\n", ""),
            "is-active followupd.service": (0, "active\n", ""),
        }
    )
    info = inspection.inspect(runner=runner)
    assert info.unit_installed and info.unit_path == service_unit.unit_path()
    assert (info.enabled, info.active, info.linger) == (True, True, False)
    assert [p for p in info.problems if "Lingering" not in p] == []


def test_inspect_stopped_service(xdg: Path, linger_off: Path) -> None:
    installer.install(CMD, runner=FakeRunner())
    runner = FakeRunner(
        {
            "is-enabled followupd.service": (1, "disabled\n", ""),
            "is-active followupd.service": (3, "failed\n", ""),
        }
    )
    info = inspection.inspect(runner=runner)
    assert (info.enabled, info.active) == (False, False)
    assert any("not enabled" in p for p in info.problems)
    assert any("not running" in p for p in info.problems)


def test_inspect_nothing_installed(xdg: Path, linger_off: Path) -> None:
    info = inspection.inspect(runner=FakeRunner(missing=True))
    assert not info.unit_installed
    assert info.enabled is None and info.active is None
    assert any("followupd service install" in p for p in info.problems)
    assert any("Cannot reach" in p for p in info.problems)


def test_inspect_stale_or_broken_unit(xdg: Path, linger_off: Path, tmp_path: Path) -> None:
    exe = tmp_path / "gone" / "followupd"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    installer.install([str(exe), "run"], runner=FakeRunner())
    ok = FakeRunner(
        {
            "is-enabled followupd.service": (0, "enabled\n", ""),
            "is-active followupd.service": (0, "active\n", ""),
        }
    )
    assert not [p for p in inspection.inspect(runner=ok).problems if "Lingering" not in p]
    unit = service_unit.unit_path()
    unit.write_text(unit.read_text().replace("WatchdogSec=60", "WatchdogSec=600"))
    assert any("differs" in p for p in inspection.inspect(runner=ok).problems)
    exe.unlink()
    assert any("not there any more" in p for p in inspection.inspect(runner=ok).problems)


def test_program_path_is_literal_but_arguments_are_escaped() -> None:
    text = service_unit.render_unit(["/opt/$x 1%/followupd", "--config", "/c/$y.toml", "run"])
    assert 'ExecStart="/opt/$x 1%%/followupd" --config "/c/$$y.toml" run\n' in text


def test_inspect_reads_back_an_odd_program_path(
    xdg: Path, linger_off: Path, tmp_path: Path
) -> None:
    exe = tmp_path / 'odd "dir" 100% $HOME' / "followupd"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    installer.install([str(exe), "run"], runner=FakeRunner())
    ok = FakeRunner(
        {
            "is-enabled followupd.service": (0, "enabled\n", ""),
            "is-active followupd.service": (0, "active\n", ""),
        }
    )
    assert [p for p in inspection.inspect(runner=ok).problems if "Lingering" not in p] == []
