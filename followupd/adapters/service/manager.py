"""The systemd user manager: ``systemctl --user`` calls, worded for people, and
whether lingering keeps the manager running without a login session."""

from __future__ import annotations

import getpass
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

LINGER_DIR = Path("/var/lib/systemd/linger")
SYSTEMCTL_TIMEOUT = 60.0

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


@dataclass(frozen=True)
class SystemctlResult:
    ok: bool
    stdout: str
    error: str  # one line for people; empty when ok
    unreachable: bool  # systemctl missing or no user manager to talk to


_BUS_ERRORS = (
    "failed to connect to bus",
    "no medium found",
    "dbus_session_bus_address",
    "xdg_runtime_dir",
    "system has not been booted with systemd",
    "failed to connect to user scope bus",
    "host is down",
)


def systemctl(runner: Runner, *args: str) -> SystemctlResult:
    argv = ["systemctl", "--user", *args]
    try:
        proc = runner(argv, capture_output=True, text=True, timeout=SYSTEMCTL_TIMEOUT, check=False)
    except FileNotFoundError:
        return SystemctlResult(False, "", "systemctl is not installed", True)
    except subprocess.TimeoutExpired:
        return SystemctlResult(False, "", f"`{' '.join(argv)}` timed out", False)
    except OSError as exc:
        return SystemctlResult(False, "", f"cannot run systemctl: {exc.strerror or exc}", True)
    stdout = proc.stdout or ""
    stderr = (proc.stderr or "").strip()
    if proc.returncode == 0:
        return SystemctlResult(True, stdout, "", False)
    first = stderr.splitlines()[0] if stderr else f"exit status {proc.returncode}"
    unreachable = any(marker in stderr.lower() for marker in _BUS_ERRORS)
    return SystemctlResult(False, stdout, first, unreachable)


def current_user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def linger_enabled(user: str | None = None) -> bool | None:
    """Whether systemd keeps *user*'s manager running without a login session."""
    name = user or current_user()
    if not name:
        return None
    try:
        return (LINGER_DIR / name).exists()
    except OSError:
        return None
