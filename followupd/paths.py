"""Where followupd keeps its files. Every path honours the XDG variables."""

from __future__ import annotations

import os
from pathlib import Path

APP = "followupd"


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var, "")
    # The XDG spec says relative values are invalid and must be ignored.
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / fallback


def config_dir() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / APP


def state_dir() -> Path:
    return _xdg("XDG_STATE_HOME", ".local/state") / APP


def default_config_path() -> Path:
    return config_dir() / "config.toml"


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--config wins, then FOLLOWUPD_CONFIG, then the XDG default."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("FOLLOWUPD_CONFIG", "")
    if env:
        return Path(env).expanduser()
    return default_config_path()


def ensure_private_dir(path: Path) -> Path:
    """Create a directory only the user can enter (state holds mail metadata)."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write via temp file, fsync and rename, so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
