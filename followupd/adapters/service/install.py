"""``followupd service install`` and ``uninstall``: write or remove the unit, reload
the user manager, enable or disable the service. Every outcome is a line for the
user; nothing here raises for a missing systemctl or an unreachable manager."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence

from followupd import paths
from followupd.adapters.service.manager import (
    Runner,
    current_user,
    linger_enabled,
    systemctl,
)
from followupd.adapters.service.unit import UNIT_NAME, default_exec_start, render_unit, unit_path


def _linger_lines() -> list[str]:
    if linger_enabled() is False:
        user = current_user() or "$USER"
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

    reload = systemctl(runner, "daemon-reload")
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

    started = systemctl(runner, "enable", "--now", UNIT_NAME)
    if started.ok:
        if previous is not None and previous != text:
            # enable --now leaves an already running service on its old unit.
            restarted = systemctl(runner, "try-restart", UNIT_NAME)
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
    stopped = systemctl(runner, "disable", "--now", UNIT_NAME)
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
    reload = systemctl(runner, "daemon-reload")
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
