"""A home for the real daemon: config, login through the sandbox, processes, waiting."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from followupd.sandbox import Sandbox

ME = "casey@example.com"


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def play_login(env: dict[str, str], secrets: Path) -> str:
    """`followupd login --no-browser`, the test playing the browser: GET the printed URL
    (the sandbox approves and redirects to the CLI's loopback server)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "followupd", "login", "--no-browser",
         "--client-secrets", str(secrets), "--timeout", "30"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    output = []
    for line in proc.stdout:
        output.append(line)
        if re.match(r"^https?://\S+$", line.strip()):
            urllib.request.urlopen(line.strip(), timeout=10).read()
    assert proc.wait(timeout=30) == 0, "".join(output)
    return "".join(output)


class DaemonProcesses:
    """The CLI and the daemon run as the user runs them, in the home's environment.

    A home sets `root`, `env`, `secrets` (the client file for `login`) and `procs`.
    """

    root: Path
    env: dict[str, str]
    secrets: Path
    procs: list[subprocess.Popen[str]]

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "followupd", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def login(self) -> str:
        return play_login(self.env, self.secrets)

    def start_daemon(self) -> subprocess.Popen[str]:
        log = open(self.root / f"daemon-{len(self.procs)}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "followupd", "run"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        log.close()  # the child has its own copy
        self.procs.append(proc)
        return proc

    def stop(
        self, proc: subprocess.Popen[str], sig: int = signal.SIGTERM, timeout: float = 15
    ) -> int:
        proc.send_signal(sig)
        return proc.wait(timeout=timeout)

    def logs(self) -> str:
        return "".join(p.read_text() for p in sorted(self.root.glob("daemon-*.log")))

    def list_json(self) -> list[dict[str, Any]]:
        result = self.cli("list", "--json")
        assert result.returncode == 0, result.stderr
        data: list[dict[str, Any]] = json.loads(result.stdout)
        return data

    def cleanup(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


class Home(DaemonProcesses):
    """A temporary XDG home with a config pointing at the sandbox."""

    def __init__(self, root: Path, sandbox: Sandbox) -> None:
        self.root = root
        self.sandbox = sandbox
        self.env = dict(os.environ)
        self.env.update(
            XDG_CONFIG_HOME=str(root / "config"),
            XDG_STATE_HOME=str(root / "state"),
            XDG_CACHE_HOME=str(root / "cache"),
            PYTHONUNBUFFERED="1",
        )
        self.env.pop("FOLLOWUPD_CONFIG", None)
        self.env.pop("NOTIFY_SOCKET", None)
        self.config_path = root / "config" / "followupd" / "config.toml"
        self.secrets = root / "client_secret.json"
        self.secrets.write_text(
            json.dumps(
                {
                    "installed": {
                        "client_id": "e2e.apps.googleusercontent.com",
                        "client_secret": "e2e-secret",
                        "auth_uri": f"{sandbox.url}/o/oauth2/auth",
                        "token_uri": f"{sandbox.url}/token",
                        "redirect_uris": ["http://localhost"],
                    }
                }
            )
        )
        self.procs: list[subprocess.Popen[str]] = []

    def write_config(self, extra: str = "", mode: str = "send") -> None:
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(
            f'mode = "{mode}"\n'
            'token_store = "file"\n'
            "[google]\n"
            f'endpoint = "{self.sandbox.url}"\n'
            'poll_interval = "2s"\n'
            "[timing]\n"
            'timezone = "UTC"\n'
            'draft_delay = "2s"\n'
            'window = ["3s", "300s"]\n'
            'send_hours = ["00:00", "23:59"]\n'
            'business_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
            "[profile]\n"
            'name = "Casey Candidate"\n'
            'highlights = ["six years of payments backends"]\n'
            "[nudge]\n"
            "channels = []\n" + extra
        )


def interview_event(
    event_id: str,
    ends_in: float,
    people: list[tuple[str, str]],
    summary: str = "Interview: Backend Engineer, Acme",
    minutes: int = 45,
) -> dict[str, Any]:
    end = datetime.now(UTC) + timedelta(seconds=ends_in)
    start = end - timedelta(minutes=minutes)
    attendees: list[dict[str, Any]] = [{"email": ME, "self": True, "responseStatus": "accepted"}]
    attendees += [
        {"email": email, "displayName": name, "responseStatus": "accepted"}
        for email, name in people
    ]
    return {
        "id": event_id,
        "summary": summary,
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": end.isoformat()},
        "attendees": attendees,
        "organizer": {"email": people[0][0]},
    }
