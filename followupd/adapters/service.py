"""Install, remove and inspect the systemd user unit that runs ``followupd run``.

Nothing here needs a running systemd: the unit is always written, and when
``systemctl --user`` is missing or cannot reach the user manager (no login session,
containers, SSH without lingering) the returned lines say how to finish by hand.
"""

from __future__ import annotations

import getpass
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from followupd import paths

log = logging.getLogger(__name__)

UNIT_NAME = "followupd.service"
PLACEHOLDER = "@EXEC_START@"
LINGER_DIR = Path("/var/lib/systemd/linger")
SYSTEMCTL_TIMEOUT = 60.0

Runner = Callable[..., "subprocess.CompletedProcess[str]"]

# Kept identical to systemd/followupd.service.in (a test checks it): the package
# must carry its unit without depending on files outside followupd/.
UNIT_TEMPLATE = """\
# followupd: systemd user unit.
# Written by `followupd service install`. By hand: put the full command on the
# ExecStart= line (e.g. /home/u/.local/pipx/venvs/followupd/bin/followupd run),
# save as ~/.config/systemd/user/followupd.service, then:
#   systemctl --user daemon-reload && systemctl --user enable --now followupd.service
#   loginctl enable-linger "$USER"   # keep it running while logged out

[Unit]
Description=followupd: interview follow-up drafts and nudges
# User units cannot order after network-online.target: the daemon retries at start.
# At most 5 starts in 10 minutes; then systemd gives up until `systemctl --user restart`.
StartLimitIntervalSec=600
StartLimitBurst=5

[Service]
Type=notify
NotifyAccess=main
ExecStart=@EXEC_START@
# The daemon pings the watchdog every WatchdogSec/2.
WatchdogSec=60
Restart=on-failure
RestartSec=30
# Exit codes meaning "fix the config / log in again": restarting will not help.
RestartPreventExitStatus=77 78
TimeoutStartSec=90
TimeoutStopSec=10
KillMode=mixed

# The keyring (Secret Service) client reads only DBUS_SESSION_BUS_ADDRESS.
Environment=DBUS_SESSION_BUS_ADDRESS=unix:path=%t/bus
Environment=PYTHONUNBUFFERED=1

# Files: state and cache are writable; config stays read-only for the daemon.
# (StateDirectory=/CacheDirectory= create them, so ReadWritePaths= can bind them.)
Environment=XDG_CONFIG_HOME=%E XDG_STATE_HOME=%S XDG_CACHE_HOME=%C
StateDirectory=followupd
StateDirectoryMode=0700
CacheDirectory=followupd
CacheDirectoryMode=0700
ReadWritePaths=%S/followupd %C/followupd
ReadOnlyPaths=-%E/followupd
UMask=0077

# Sandboxing: every option a user unit can use.
PrivateUsers=yes
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes
PrivateDevices=yes
PrivateIPC=yes
PrivateMounts=yes
ProtectProc=invisible
ProcSubset=pid
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
KeyringMode=private
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM
DevicePolicy=closed

[Install]
WantedBy=default.target
"""


# --- rendering ------------------------------------------------------------------

_SAFE_WORD = re.compile(r"[A-Za-z0-9_@+=:,./-]+")
_C_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def quote_exec_arg(arg: str) -> str:
    """Quote one argument for an ``Exec*=`` line (systemd.service(5), "Command lines").

    ``%`` (specifiers) and ``$`` (environment substitution) are doubled; anything
    beyond plain characters goes into double quotes with C-style escapes.
    """
    if "\0" in arg:
        raise ValueError("a command-line argument cannot contain NUL")
    if arg == ";":
        return "\\;"  # a lone ';' would separate commands
    doubled = arg.replace("%", "%%").replace("$", "$$")
    if arg and _SAFE_WORD.fullmatch(arg):
        return doubled
    out = []
    for ch in doubled:
        if ch in _C_ESCAPES:
            out.append(_C_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def render_unit(exec_start: Sequence[str]) -> str:
    """The unit file text for the command *exec_start* (absolute executable first)."""
    if not exec_start:
        raise ValueError("exec_start is empty")
    if not os.path.isabs(exec_start[0]):
        raise ValueError(f"the executable must be an absolute path: {exec_start[0]!r}")
    # systemd takes the executable's path literally ("$" included: no substitution
    # there), but still expands specifiers in it.
    program = quote_exec_arg(exec_start[0]).replace("$$", "$")
    line = " ".join([program, *(quote_exec_arg(a) for a in exec_start[1:])])
    assert UNIT_TEMPLATE.count(PLACEHOLDER) == 1
    return UNIT_TEMPLATE.replace(PLACEHOLDER, line)


def default_exec_start(config_path: str | os.PathLike[str] | None = None) -> list[str]:
    """The command the unit should run, from how this followupd was installed.

    A ``followupd`` script in this interpreter's environment (venv, pipx) is used
    by its resolved path; otherwise ``python -m followupd``. ``--config PATH`` is
    added when *config_path* is not the default config file.
    """
    bindir = (Path(sys.prefix) / "bin").resolve()
    command: list[str] | None = None
    candidates = [shutil.which("followupd"), str(Path(sys.prefix) / "bin" / "followupd")]
    for candidate in candidates:
        if not candidate:
            continue
        resolved = Path(candidate).resolve()
        if resolved.parent == bindir and os.access(resolved, os.X_OK) and resolved.is_file():
            command = [str(resolved)]
            break
    if command is None:
        command = [str(Path(sys.executable).absolute()), "-m", "followupd"]
    if config_path is not None:
        cfg = Path(config_path).expanduser().absolute()
        if cfg != paths.default_config_path().absolute():
            command += ["--config", str(cfg)]
    return [*command, "run"]


def unit_path() -> Path:
    """``$XDG_CONFIG_HOME/systemd/user/followupd.service``."""
    return paths.config_dir().parent / "systemd" / "user" / UNIT_NAME


# --- systemctl --------------------------------------------------------------------


@dataclass(frozen=True)
class _Result:
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


def _systemctl(runner: Runner, *args: str) -> _Result:
    argv = ["systemctl", "--user", *args]
    try:
        proc = runner(argv, capture_output=True, text=True, timeout=SYSTEMCTL_TIMEOUT, check=False)
    except FileNotFoundError:
        return _Result(False, "", "systemctl is not installed", True)
    except subprocess.TimeoutExpired:
        return _Result(False, "", f"`{' '.join(argv)}` timed out", False)
    except OSError as exc:
        return _Result(False, "", f"cannot run systemctl: {exc.strerror or exc}", True)
    stdout = proc.stdout or ""
    stderr = (proc.stderr or "").strip()
    if proc.returncode == 0:
        return _Result(True, stdout, "", False)
    first = stderr.splitlines()[0] if stderr else f"exit status {proc.returncode}"
    unreachable = any(marker in stderr.lower() for marker in _BUS_ERRORS)
    return _Result(False, stdout, first, unreachable)


def _user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def linger_enabled(user: str | None = None) -> bool | None:
    """Whether systemd keeps *user*'s manager running without a login session."""
    name = user or _user()
    if not name:
        return None
    try:
        return (LINGER_DIR / name).exists()
    except OSError:
        return None


def _linger_lines() -> list[str]:
    if linger_enabled() is False:
        user = _user() or "$USER"
        return [
            "Lingering is off: systemd stops followupd when you log out, so nothing "
            "is drafted or sent while you are away.",
            f"  To keep it running, once: loginctl enable-linger {user}",
        ]
    return []


def _manual_lines() -> list[str]:
    return [
        "Start it by hand from a login session:",
        "  systemctl --user daemon-reload",
        f"  systemctl --user enable --now {UNIT_NAME}",
    ]


def _tmp_warning(exec_start: Sequence[str]) -> list[str]:
    # The unit has PrivateTmp=yes: a config file under /tmp is invisible to it.
    for arg in exec_start[1:]:
        if arg.startswith(("/tmp/", "/var/tmp/")):  # noqa: S108 - a check, not a use
            return [f"Warning: the service cannot see {arg} (it runs with a private /tmp)."]
    return []


def install(
    exec_start: Sequence[str] | None = None,
    *,
    enable: bool = True,
    runner: Runner = subprocess.run,
) -> list[str]:
    """Write the unit, reload systemd and (by default) enable and start the service.

    Returns lines for the user: what was done and what to do next. Missing systemctl
    or an unreachable user manager is reported in the lines, never raised.
    """
    command = list(exec_start) if exec_start is not None else default_exec_start()
    text = render_unit(command)
    path = unit_path()
    lines: list[str] = []
    try:
        previous = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        previous = None
    if previous == text:
        lines.append(f"Unit unchanged: {path}")
    else:
        paths.atomic_write(path, text.encode("utf-8"), mode=0o644)
        lines.append(f"{'Updated' if previous is not None else 'Wrote'} {path}")
    lines += _tmp_warning(command)
    if not os.access(command[0], os.X_OK):
        lines.append(f"Warning: {command[0]} is not an executable file; the service will fail")

    reload = _systemctl(runner, "daemon-reload")
    if not reload.ok:
        lines.append(f"Could not reload the systemd user manager: {reload.error}")
        lines += _manual_lines()
        lines += _linger_lines()
        return lines
    lines.append("Reloaded the systemd user manager")

    if not enable:
        lines.append(f"Start it with: systemctl --user enable --now {UNIT_NAME}")
        lines += _linger_lines()
        return lines

    started = _systemctl(runner, "enable", "--now", UNIT_NAME)
    if started.ok:
        if previous is not None and previous != text:
            # enable --now leaves an already running service on its old unit.
            restarted = _systemctl(runner, "try-restart", UNIT_NAME)
            if not restarted.ok:
                lines.append(f"Could not restart {UNIT_NAME}: {restarted.error}")
        lines.append(f"Enabled and started {UNIT_NAME} (it starts again at each login)")
        lines.append(f"  Logs: journalctl --user -u {UNIT_NAME} -f")
        lines.append("  State: followupd status")
    elif started.unreachable:
        lines.append(f"Could not reach the systemd user manager: {started.error}")
        lines += _manual_lines()
    else:
        lines.append(f"Could not enable or start {UNIT_NAME}: {started.error}")
        lines.append(f"  See: systemctl --user status {UNIT_NAME}")
        lines.append(f"  and: journalctl --user -u {UNIT_NAME} -e")
    lines += _linger_lines()
    return lines


def uninstall(*, runner: Runner = subprocess.run) -> list[str]:
    """Stop and disable the service, remove the unit, reload systemd."""
    path = unit_path()
    lines: list[str] = []
    stopped = _systemctl(runner, "disable", "--now", UNIT_NAME)
    if stopped.ok:
        lines.append(f"Stopped and disabled {UNIT_NAME}")
    elif stopped.unreachable:
        lines.append(f"Could not reach the systemd user manager: {stopped.error}")
    elif path.exists():
        lines.append(f"Could not disable {UNIT_NAME}: {stopped.error}")
    try:
        path.unlink()
        lines.append(f"Removed {path}")
    except FileNotFoundError:
        lines.append(f"No unit file at {path}")
    reload = _systemctl(runner, "daemon-reload")
    if reload.ok:
        lines.append("Reloaded the systemd user manager")
    elif not stopped.unreachable:
        lines.append(f"Could not reload the systemd user manager: {reload.error}")
    if not stopped.ok and (stopped.unreachable or reload.unreachable):
        lines.append(
            f"If followupd still runs, stop it from a login session: "
            f"systemctl --user disable --now {UNIT_NAME}"
        )
    return lines


# --- inspection -------------------------------------------------------------------


@dataclass
class ServiceInfo:
    unit_installed: bool
    unit_path: Path
    enabled: bool | None  # None: unknown (no systemctl, no user manager)
    active: bool | None
    linger: bool | None
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit_installed": self.unit_installed,
            "unit_path": str(self.unit_path),
            "enabled": self.enabled,
            "active": self.active,
            "linger": self.linger,
            "problems": list(self.problems),
        }


_ENABLED = {"enabled", "enabled-runtime", "linked", "linked-runtime", "alias", "indirect"}
_NOT_ENABLED = {
    "disabled",
    "static",
    "masked",
    "masked-runtime",
    "not-found",
    "generated",
    "transient",
    "bad",
}
_ACTIVE = {"active", "reloading", "activating", "refreshing"}
_INACTIVE = {"inactive", "failed", "deactivating", "maintenance"}


def _state(result: _Result, yes: set[str], no: set[str]) -> bool | None:
    word = result.stdout.strip().splitlines()[0] if result.stdout.strip() else ""
    if word in yes:
        return True
    if word in no:
        return False
    return None


def _exec_start_of(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith("ExecStart="):
            return line[len("ExecStart=") :]
    return None


def _executable_of(exec_line: str) -> str:
    """The program of an ``ExecStart=`` value, unquoted (enough for our own units)."""
    line = exec_line.strip().lstrip("@-:+!")
    if line.startswith('"'):
        out: list[str] = []
        i = 1
        while i < len(line) and line[i] != '"':
            if line[i] == "\\" and i + 1 < len(line):
                nxt = line[i + 1]
                out.append({"n": "\n", "t": "\t", "r": "\r"}.get(nxt, nxt))
                i += 2
            else:
                out.append(line[i])
                i += 1
        word = "".join(out)
    else:
        word = line.split(None, 1)[0] if line else ""
    return word.replace("%%", "%")


def inspect(*, runner: Runner = subprocess.run) -> ServiceInfo:
    """What `followupd check` reports about the service."""
    path = unit_path()
    info = ServiceInfo(
        unit_installed=path.is_file(),
        unit_path=path,
        enabled=None,
        active=None,
        linger=linger_enabled(),
    )
    if not info.unit_installed:
        info.problems.append(f"No systemd unit at {path}: run `followupd service install`")
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            text = ""
            info.problems.append(f"Cannot read {path}: {exc}")
        exec_line = _exec_start_of(text)
        if text and exec_line is None:
            info.problems.append(f"{path} has no ExecStart= line")
        elif exec_line is not None:
            exe = _executable_of(exec_line)
            if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
                info.problems.append(
                    f"The unit runs {exe}, which is not there any more: "
                    "run `followupd service install` again"
                )
            elif text.replace(f"ExecStart={exec_line}", f"ExecStart={PLACEHOLDER}", 1) != (
                UNIT_TEMPLATE
            ):
                info.problems.append(
                    f"{path} differs from this version's unit: "
                    "run `followupd service install` to update it"
                )

    enabled = _systemctl(runner, "is-enabled", UNIT_NAME)
    active = _systemctl(runner, "is-active", UNIT_NAME)
    info.enabled = _state(enabled, _ENABLED, _NOT_ENABLED)
    info.active = _state(active, _ACTIVE, _INACTIVE)
    lost = next((r for r in (enabled, active) if r.unreachable), None)
    if lost is not None:
        info.problems.append(f"Cannot reach the systemd user manager: {lost.error}")
    if info.unit_installed and info.enabled is False:
        info.problems.append(
            f"{UNIT_NAME} is not enabled: systemctl --user enable --now {UNIT_NAME}"
        )
    if info.unit_installed and info.active is False:
        info.problems.append(
            f"{UNIT_NAME} is not running: systemctl --user start {UNIT_NAME}; "
            f"journalctl --user -u {UNIT_NAME} -e shows why it stopped"
        )
    if info.linger is False and info.unit_installed:
        info.problems.append(
            f"Lingering is off: followupd stops when you log out "
            f"(loginctl enable-linger {_user() or '$USER'})"
        )
    return info
