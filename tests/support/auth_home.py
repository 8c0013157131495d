"""Logging in without a browser, client files, and a real Secret Service for the auth suites."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from followupd.core.settings import Config
from support.paths import REPO, TESTS

CLIENT_ID = "1234-followupd-test.apps.googleusercontent.com"


CLIENT_SECRET = "GOCSPX-test-client-secret"  # the sandbox's made-up client


ACCOUNT = "ada@example.com"


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def write_client_file(path: Path, kind: str = "installed", **overrides: Any) -> Path:
    client: dict[str, Any] = {
        "client_id": CLIENT_ID,
        "project_id": "followupd-test",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "client_secret": CLIENT_SECRET,
        "redirect_uris": ["http://localhost"],
    }
    client.update(overrides)
    path.write_text(json.dumps({kind: client}), encoding="utf-8")
    return path


def config_for(endpoint: str = "", **google: Any) -> Config:
    data: dict[str, Any] = {"google": {"endpoint": endpoint, **google}}
    return Config.model_validate(data)


@dataclass
class Browser:
    """Collects what login says; GETs the consent URL the moment it is said.

    *act* replaces the plain GET (for a test that wants a stray connection instead).
    """

    act: Callable[[str], None] | None = None
    enabled: bool = True
    lines: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    page: str = ""
    error: BaseException | None = None
    _threads: list[threading.Thread] = field(default_factory=list)

    def say(self, text: str) -> None:
        self.lines.append(text)
        if text.startswith(("http://", "https://")) and "/o/oauth2/auth" in text:
            self.urls.append(text)
            if self.enabled:
                thread = threading.Thread(target=self._visit, args=(text,), daemon=True)
                self._threads.append(thread)
                thread.start()

    def _visit(self, url: str) -> None:
        try:
            if self.act is not None:
                self.act(url)
                return
            with urllib.request.urlopen(url, timeout=20) as response:
                self.page = response.read().decode("utf-8", "replace")
        except BaseException as exc:
            self.error = exc

    def join(self) -> None:
        for thread in self._threads:
            thread.join(10)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class SecretService:
    """gnome-keyring-daemon (secrets component) on a private session bus."""

    address: str
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]]

    def child_env(self, **extra: str) -> dict[str, str]:
        env = dict(self.env)
        env.update(extra)
        return env

    def lock_default_collection(self) -> None:
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        service = DBusAddress(
            "/org/freedesktop/secrets",
            bus_name="org.freedesktop.secrets",
            interface="org.freedesktop.Secret.Service",
        )
        with open_dbus_connection(self.address) as conn:
            (path,) = conn.send_and_get_reply(
                new_method_call(service, "ReadAlias", "s", ("default",)), timeout=5
            ).body
            assert path != "/", "no default collection to lock"
            conn.send_and_get_reply(new_method_call(service, "Lock", "ao", ([path],)), timeout=5)

    def stop(self) -> None:
        for proc in reversed(self.processes):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)


def _need(binary: str) -> str:
    path = shutil.which(binary)
    if path is None:
        message = (
            f"{binary} is not installed: the real Secret Service tests need the Debian "
            "packages gnome-keyring and dbus (dbus-daemon)"
        )
        if in_ci():
            pytest.fail(message + " (CI=true: this test must not be skipped)")
        pytest.skip(message)
    return path


def _wait_for_owner(address: str, name: str, deadline: float) -> None:
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import Proxy, open_dbus_connection

    with open_dbus_connection(address) as conn:
        proxy = Proxy(message_bus, conn, timeout=2)
        while time.monotonic() < deadline:
            if proxy.NameHasOwner(name)[0]:
                return
            time.sleep(0.05)
    raise RuntimeError(f"{name} did not appear on the test session bus")


def _die_with_parent() -> None:
    """In the child: get SIGTERM when pytest dies, so no daemon outlives a killed run."""
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def start_secret_service(root: Path, *, unlock: bool) -> SecretService:
    dbus_daemon = _need("dbus-daemon")
    keyring_daemon = _need("gnome-keyring-daemon")
    root.mkdir(parents=True, exist_ok=True)
    home, runtime = root / "home", root / "run"
    for path in (home, runtime):
        path.mkdir(mode=0o700, exist_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS")
        and not key.startswith(("XDG_", "GNOME_KEYRING", "PYTHON_KEYRING"))
    }
    env.update(
        HOME=str(home),
        XDG_RUNTIME_DIR=str(runtime),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
    )
    processes: list[subprocess.Popen[bytes]] = []
    bus = subprocess.Popen(
        [
            dbus_daemon,
            "--session",
            "--nofork",
            "--nopidfile",
            f"--address=unix:path={runtime}/bus",
            "--print-address=1",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
    )
    processes.append(bus)
    service = SecretService("", env, processes)
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().decode().strip()
        if not address:
            raise RuntimeError("dbus-daemon printed no address")
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        service.address = address
        args = [keyring_daemon, "--foreground", "--components=secrets"]
        if unlock:
            args.append("--unlock")
        keyring = subprocess.Popen(
            args,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        processes.append(keyring)
        assert keyring.stdin is not None
        if unlock:
            keyring.stdin.write(b"test-keyring-password")
        keyring.stdin.close()
        _wait_for_owner(address, "org.freedesktop.secrets", time.monotonic() + 10)
    except BaseException:
        service.stop()
        raise
    return service


def run_child(code: str, env: dict[str, str], timeout: float = 60) -> dict[str, Any]:
    """Run *code* in a fresh interpreter (as the daemon would be); it prints one JSON line."""
    full_env = dict(env)
    full_env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), str(TESTS), full_env.get("PYTHONPATH", "")]
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=full_env,
        capture_output=True,
        timeout=timeout,
        check=False,
        cwd=REPO,
    )
    if done.returncode != 0:
        raise AssertionError(
            f"child failed ({done.returncode}):\n{done.stdout.decode()}\n{done.stderr.decode()}"
        )
    result: dict[str, Any] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return result
