"""The instance lock: one daemon per state directory. The daemon holds it while it
runs; the CLI asks it who runs (to poke that pid) or takes it for a one-off cycle."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from followupd import paths


class InstanceLock:
    """One daemon per state directory: an flock on state/daemon.lock."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "daemon.lock"
        self._file: IO[str] | None = None

    def acquire(self) -> bool:
        paths.ensure_private_dir(self.path.parent)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        handle = os.fdopen(fd, "r+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._file = handle
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def holder_pid(self) -> int | None:
        """The running daemon's pid, or None when nobody holds the lock."""
        if not self.path.exists():
            return None
        if self.acquire():
            self.release()
            return None
        try:
            return int(self.path.read_text().strip() or 0) or None
        except (OSError, ValueError):
            return None


def daemon_pid() -> int | None:
    """The pid of the daemon running on this state directory, if any."""
    return InstanceLock(paths.state_dir()).holder_pid()
