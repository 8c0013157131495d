"""What is installed: the unit file against this version's, and what the user
manager says of the service (`followupd check` reports it)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from followupd.adapters.service.manager import (
    Runner,
    SystemctlResult,
    current_user,
    linger_enabled,
    systemctl,
)
from followupd.adapters.service.unit import (
    PLACEHOLDER,
    UNIT_NAME,
    exec_start_of,
    executable_of,
    unit_path,
    unit_template,
)


@dataclass
class ServiceInfo:
    unit_installed: bool
    unit_path: Path
    enabled: bool | None  # None: unknown (no systemctl, no user manager)
    active: bool | None
    linger: bool | None
    problems: list[str] = field(default_factory=list)


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


def _state(result: SystemctlResult, yes: set[str], no: set[str]) -> bool | None:
    word = result.stdout.strip().splitlines()[0] if result.stdout.strip() else ""
    if word in yes:
        return True
    if word in no:
        return False
    return None


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
        exec_line = exec_start_of(text)
        if text and exec_line is None:
            info.problems.append(f"{path} has no ExecStart= line")
        elif exec_line is not None:
            exe = executable_of(exec_line)
            if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
                info.problems.append(
                    f"The unit runs {exe}, which is not there any more: "
                    "run `followupd service install` again"
                )
            elif text.replace(f"ExecStart={exec_line}", f"ExecStart={PLACEHOLDER}", 1) != (
                unit_template()
            ):
                info.problems.append(
                    f"{path} differs from this version's unit: "
                    "run `followupd service install` to update it"
                )

    enabled = systemctl(runner, "is-enabled", UNIT_NAME)
    active = systemctl(runner, "is-active", UNIT_NAME)
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
            f"(loginctl enable-linger {current_user() or '$USER'})"
        )
    return info
