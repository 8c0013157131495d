"""A daemon home run as the service runs it, and the desktop notifications it shows."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from support.daemon_home import Home, wait_for


class ServiceHome(Home):
    """Home, plus: extra environment per daemon, stderr apart, status/state helpers."""

    @property
    def state(self) -> Path:
        return self.root / "state" / "followupd"

    def start_daemon(  # type: ignore[override]
        self, env: dict[str, str] | None = None, *, journal: bool = False
    ) -> subprocess.Popen[str]:
        """`followupd run`; with `journal`, JOURNAL_STREAM names its stderr file (as
        systemd does for a journal connection)."""
        path = self.root / f"daemon-{len(self.procs)}.log"
        log = open(path, "w")  # noqa: SIM115 (the child owns it)
        child_env = dict(self.env)
        if journal:
            st = os.fstat(log.fileno())
            child_env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
        child_env.update(env or {})
        proc = subprocess.Popen(
            [sys.executable, "-m", "followupd", "run"],
            env=child_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        log.close()
        self.procs.append(proc)
        return proc

    def status(self) -> dict[str, Any]:
        result = self.cli("status", "--json")
        assert result.returncode == 0, result.stderr
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    def meta(self, key: str) -> str:
        import sqlite3

        db = sqlite3.connect(self.state / "state.db", timeout=10)
        try:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        finally:
            db.close()
        return str(row[0]) if row else ""

    def wait_running(self, proc: subprocess.Popen[str], timeout: float = 20) -> None:
        wait_for(
            lambda: proc.poll() is not None or self.meta_safe("daemon_pid") == str(proc.pid),
            timeout,
            "the daemon to start",
        )
        assert proc.poll() is None, self.logs()

    def meta_safe(self, key: str) -> str:
        try:
            return self.meta(key)
        except Exception:  # not created yet
            return ""


class Notifications:
    """An AF_UNIX datagram socket like systemd's NOTIFY_SOCKET, recording each
    datagram with the monotonic time it arrived."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="fud-ntf-"))  # sun_path: 108 bytes
        self.path = str(self.dir / "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages: list[tuple[float, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            with self._lock:
                self.messages.append((time.monotonic(), fields))

    def with_key(self, key: str) -> list[tuple[float, dict[str, str]]]:
        with self._lock:
            return [(t, m) for t, m in self.messages if key in m]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)
