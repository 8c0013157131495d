"""A daemon home for the auth suites: the daemon and the CLI against a real keyring."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from followupd.sandbox import Sandbox
from support.daemon_home import ME, DaemonProcesses

SS_BACKEND = "keyring.backends.SecretService.Keyring"


NUDGE_SCRIPT = """\
import json, sys
data = json.loads(sys.stdin.read())
with open(sys.argv[1], "a", encoding="utf-8") as out:
    out.write(json.dumps(data) + "\\n")
"""


class DaemonHome(DaemonProcesses):
    """XDG directories, config, nudge log and child processes under *root*."""

    def __init__(self, root: Path, sandbox: Sandbox, *, token_store: str = "file") -> None:
        self.root = root
        self.sandbox = sandbox
        self.token_store = token_store
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key
            not in (
                "DISPLAY",
                "WAYLAND_DISPLAY",
                "DBUS_SESSION_BUS_ADDRESS",
                "FOLLOWUPD_CONFIG",
                "NOTIFY_SOCKET",
                "WATCHDOG_USEC",
            )
            and not key.startswith(("XDG_", "PYTHON_KEYRING", "GNOME_KEYRING"))
        }
        (root / "home").mkdir(parents=True, exist_ok=True)
        self.env.update(
            HOME=str(root / "home"),
            XDG_CONFIG_HOME=str(root / "config"),
            XDG_STATE_HOME=str(root / "state"),
            XDG_CACHE_HOME=str(root / "cache"),
            XDG_DATA_HOME=str(root / "data"),
            PYTHONUNBUFFERED="1",
        )
        self.config_path = root / "config" / "followupd" / "config.toml"
        self.state = root / "state" / "followupd"
        self.nudges_file = root / "nudges.jsonl"
        self.secrets = root / "Downloads" / "client_secret.json"
        self.secrets.parent.mkdir(parents=True, exist_ok=True)
        self.secrets.write_text(
            json.dumps(
                {
                    "installed": {
                        "client_id": "auth-e2e.apps.googleusercontent.com",
                        "client_secret": "auth-e2e-secret",
                        "auth_uri": f"{sandbox.url}/o/oauth2/auth",
                        "token_uri": f"{sandbox.url}/token",
                        "redirect_uris": ["http://localhost"],
                    }
                }
            )
        )
        script = root / "nudge.py"
        script.write_text(NUDGE_SCRIPT)
        self.procs: list[subprocess.Popen[str]] = []
        self.write_config()

    def use_bus(self, address: str | None) -> None:
        """Point the children at a Secret Service bus (None: no session bus at all)."""
        if address is None:
            self.env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        else:
            self.env["DBUS_SESSION_BUS_ADDRESS"] = address
        self.env["PYTHON_KEYRING_BACKEND"] = SS_BACKEND

    def write_config(self) -> None:
        command = [sys.executable, str(self.root / "nudge.py"), str(self.nudges_file)]
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(
            'mode = "nudge"\n'
            f'token_store = "{self.token_store}"\n'
            "[google]\n"
            f'endpoint = "{self.sandbox.url}"\n'
            'poll_interval = "2s"\n'
            "[timing]\n"
            'timezone = "UTC"\n'
            'draft_delay = "1s"\n'
            "[profile]\n"
            'name = "Casey Candidate"\n'
            "[nudge]\n"
            'channels = ["command"]\n'
            f"command = {json.dumps(command)}\n"
        )

    def status(self) -> dict[str, Any]:
        result = self.cli("status", "--json")
        assert result.returncode == 0, result.stderr
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    def nudges(self) -> list[dict[str, Any]]:
        if not self.nudges_file.exists():
            return []
        return [json.loads(line) for line in self.nudges_file.read_text().splitlines() if line]

    def problem_nudges(self) -> list[dict[str, Any]]:
        return [n for n in self.nudges() if n.get("kind") == "problem"]


def seconds_until(iso: str | None) -> float:
    assert iso, "no next_poll in status"
    return (datetime.fromisoformat(iso) - datetime.now(UTC)).total_seconds()


def files_containing(root: Path, needles: dict[str, str]) -> dict[str, list[str]]:
    """{needle name: [files under root whose bytes contain it]} (regular files only)."""
    found: dict[str, list[str]] = {name: [] for name in needles}
    for path in root.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        for name, needle in needles.items():
            if needle and needle.encode() in data:
                found[name].append(str(path.relative_to(root)))
    return found


def unlock_default_collection(address: str, password: bytes = b"test-keyring-password") -> None:
    """Unlock gnome-keyring's default collection without a prompter, as the user's
    desktop login would (gnome-keyring's own interface for exactly that)."""
    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    service = DBusAddress(
        "/org/freedesktop/secrets",
        bus_name="org.freedesktop.secrets",
        interface="org.freedesktop.Secret.Service",
    )
    internal = DBusAddress(
        "/org/freedesktop/secrets",
        bus_name="org.freedesktop.secrets",
        interface="org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface",
    )
    with open_dbus_connection(address) as conn:
        (path,) = conn.send_and_get_reply(
            new_method_call(service, "ReadAlias", "s", ("default",)), timeout=5
        ).body
        _, session = conn.send_and_get_reply(
            new_method_call(service, "OpenSession", "sv", ("plain", ("s", ""))), timeout=5
        ).body
        conn.send_and_get_reply(
            new_method_call(
                internal,
                "UnlockWithMasterPassword",
                "o(oayays)",
                (path, (session, b"", password, "text/plain")),
            ),
            timeout=5,
        )


def read_keyring_record(address: str, account: str = ME) -> dict[str, Any] | None:
    """The token record the Secret Service on *address* holds for *account*."""
    import secretstorage
    from jeepney.io.blocking import open_dbus_connection

    conn = open_dbus_connection(address)
    try:
        collection = secretstorage.get_default_collection(conn)
        items = list(collection.search_items({"service": "followupd", "username": account}))
        if not items:
            return None
        data: dict[str, Any] = json.loads(items[0].get_secret().decode("utf-8"))
        return data
    finally:
        conn.close()


def private_modes(state: Path, config: Path) -> dict[str, str]:
    """Files and directories whose mode is not the private one they should have."""
    wrong: dict[str, str] = {}

    def want(path: Path, mode: int) -> None:
        actual = stat.S_IMODE(path.stat().st_mode)
        if actual != mode:
            wrong[str(path)] = f"{actual:o} (want {mode:o})"

    want(state, 0o700)
    for name in ("state.db", "state.db-wal", "state.db-shm", "account"):
        want(state / name, 0o600)  # the -wal and -shm files exist while the daemon runs
    for name in ("token.json", "daemon.lock"):
        if (state / name).exists():
            want(state / name, 0o600)
    want(config / "client_secret.json", 0o600)
    return wrong
