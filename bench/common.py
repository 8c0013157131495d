"""Shared pieces of the benchmarks: results, seeded calendars, the sandbox as a separate
process, the OAuth code flow done by hand, an in-process engine, a logged-in XDG home.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
ME = "casey@example.com"
MY_NAME = "Casey Candidate"
CLIENT_ID = "bench.apps.googleusercontent.com"
CLIENT_SECRET = "bench-secret"  # the sandbox's made-up client


# --------------------------------------------------------------------------- results


@dataclass
class Figure:
    """One printed figure, its target, and whether it was met (None: informational)."""

    name: str
    value: str
    target: str
    ok: bool | None
    notes: list[str] = field(default_factory=list)


def show(fig: Figure) -> Figure:
    mark = {True: "ok  ", False: "MISS", None: "info"}[fig.ok]
    print(f"  [{mark}] {fig.name}: {fig.value}   (target: {fig.target})", flush=True)
    for note in fig.notes:
        print(f"         {note}", flush=True)
    return fig


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


# --------------------------------------------------------------------------- events


def interview(index: int, start_in_hours: float) -> dict[str, Any]:
    """A future interview (pending: no Gmail until it is over)."""
    company = f"company{index}.example"
    return {
        "id": f"interview{index:05d}",
        "summary": f"Interview: Backend Engineer, Company {index}",
        "startIn": f"{int(start_in_hours * 60)}m",
        "duration": "45m",
        "organizer": {"email": f"recruiter@{company}"},
        "attendees": [
            {"email": ME, "self": True, "responseStatus": "accepted"},
            {"email": f"grace@{company}", "displayName": "Grace Hopper",
             "responseStatus": "accepted"},
        ],
    }  # fmt: skip


_TITLES = ("Standup", "Lunch with Sam", "Dentist", "Gym", "1:1 with mentor", "Focus time",
           "Groceries", "Book club", "Team sync", "Call mum")  # fmt: skip


def ordinary(index: int, start_in_hours: float) -> dict[str, Any]:
    """A non-interview event (some with other people, none with interview words)."""
    event: dict[str, Any] = {
        "id": f"event{index:06d}",
        "summary": _TITLES[index % len(_TITLES)],
        "startIn": f"{int(start_in_hours * 60)}m",
        "duration": "30m" if index % 3 else "1h",
        "description": "agenda: nothing in particular",
    }
    if index % 4 == 0:
        event["attendees"] = [
            {"email": ME, "self": True, "responseStatus": "accepted"},
            {"email": f"friend{index % 17}@example.net", "responseStatus": "accepted"},
        ]
    return event


def calendar_events(total: int, interviews: int = 5) -> list[dict[str, Any]]:
    """``total`` single events from 40 hours ago to 59 days ahead (none ended before the
    lookback), ``interviews`` of them future interviews."""
    events = [interview(i, 72 + 24 * i) for i in range(interviews)]
    span = 40 + 59 * 24
    for i in range(total - interviews):
        events.append(ordinary(i, -40 + span * i / max(1, total - interviews)))
    return events


# --------------------------------------------------------------------------- the sandbox


class SandboxProcess:
    """`python -m followupd.sandbox` in its own process (its CPU is not ours)."""

    def __init__(self, workdir: Path, events: list[dict[str, Any]], name: str = "sandbox",
                 calendars: list[dict[str, Any]] | None = None) -> None:  # fmt: skip
        workdir.mkdir(parents=True, exist_ok=True)
        seed = workdir / f"{name}-seed.json"
        user = {"email": ME, "name": MY_NAME}
        seed.write_text(json.dumps({"user": user, "calendars": calendars or [], "events": events}))
        self._log = open(workdir / f"{name}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "followupd.sandbox", "--port", "0", "--seed", str(seed)],
            stdout=subprocess.PIPE, stderr=self._log, text=True, cwd=ROOT,
        )  # fmt: skip
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        if not match:
            self.stop()
            raise RuntimeError(f"the sandbox did not start: {line!r} (see {workdir}/{name}.log)")
        self.url = match.group(1)

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/_sandbox{path}", data=data, method=method,
            headers={"Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as resp:
            text = resp.read()
        return json.loads(text) if text else None

    def counts(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self._call("GET", "/counts").items()}

    def reset_counts(self) -> None:
        self._call("POST", "/counts/reset", {})

    def add_event(self, event: dict[str, Any], calendar_id: str = "primary") -> None:
        self._call("POST", "/events", {"calendarId": calendar_id, "event": event})

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def gmail_requests(counts: dict[str, int]) -> int:
    return sum(v for k, v in counts.items() if k.startswith("gmail."))


# --------------------------------------------------------------------------- login


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def oauth_login(base_url: str, scopes: list[str]) -> Any:
    """Credentials from the sandbox's OAuth code flow, done by hand with urllib (as in
    tests/support/adapter_worlds.py)."""
    from google.oauth2.credentials import Credentials

    redirect = "http://127.0.0.1:9/"
    query = urllib.parse.urlencode(
        {"client_id": CLIENT_ID, "redirect_uri": redirect, "response_type": "code",
         "scope": " ".join(scopes), "state": "bench", "access_type": "offline"}
    )  # fmt: skip
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        opener.open(f"{base_url}/o/oauth2/auth?{query}", timeout=10)
    except urllib.error.HTTPError as exc:
        location = exc.headers["Location"]
    else:
        raise RuntimeError("no redirect from the sandbox's consent page")
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)["code"][0]
    form = urllib.parse.urlencode(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
         "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    ).encode()  # fmt: skip
    with urllib.request.urlopen(f"{base_url}/token", data=form, timeout=10) as resp:
        token = json.load(resp)
    return Credentials(  # type: ignore[no-untyped-call]
        token=token["access_token"], refresh_token=token["refresh_token"],
        token_uri=f"{base_url}/token", client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        scopes=scopes,
    )  # fmt: skip


# --------------------------------------------------------------------------- the engine


def bench_config(endpoint: str, calendars: list[str] | None = None, poll: str = "5m") -> Any:
    from followupd.config import validate

    return validate(
        {
            "mode": "nudge",
            "google": {"endpoint": endpoint, "poll_interval": poll},
            "detect": {"calendars": calendars or ["primary"]},
            "timing": {"timezone": "UTC"},
            "profile": {"name": MY_NAME},
            "nudge": {"channels": []},
        },
        "bench",
    )


def build_engine(endpoint: str, workdir: Path, calendars: list[str] | None = None) -> Any:
    """The real engine wired as followupd/app.py build_engine wires it: GoogleClients,
    GoogleCalendar, GoogleMailbox, a Store in ``workdir``, TemplateStore, no notifiers,
    SystemClock; credentials from the sandbox's OAuth flow."""
    from followupd.adapters.google.calendar import GoogleCalendar
    from followupd.adapters.google.gmail import GoogleMailbox
    from followupd.adapters.google.scopes import scopes_for
    from followupd.adapters.google.transport import GoogleClients
    from followupd.adapters.store import Store
    from followupd.adapters.templates import TemplateStore
    from followupd.core import timing
    from followupd.engine.cycle import Engine

    config = bench_config(endpoint, calendars)
    credentials = oauth_login(endpoint, [s.scope for s in scopes_for(config)])
    clients = GoogleClients(credentials, endpoint=endpoint, timeout=30)
    workdir.mkdir(parents=True, exist_ok=True)
    return Engine(
        config=config,
        store=Store(workdir / "state.db"),
        calendar=GoogleCalendar(clients),
        mailbox=GoogleMailbox(clients),
        templates=TemplateStore(workdir / "templates"),
        notifiers=[],
        account=ME,
        clock=timing.SystemClock(),
    )


# --------------------------------------------------------------------------- a home


class Home:
    """A temporary XDG home with a config pointing at a sandbox, logged in through the
    real `followupd login --no-browser` (this process plays the browser)."""

    def __init__(self, root: Path, sandbox_url: str, poll: str) -> None:
        self.root = root
        self.env = dict(os.environ)
        self.env.update(
            XDG_CONFIG_HOME=str(root / "config"), XDG_STATE_HOME=str(root / "state"),
            XDG_CACHE_HOME=str(root / "cache"), PYTHONUNBUFFERED="1",
        )  # fmt: skip
        for name in ("FOLLOWUPD_CONFIG", "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
            self.env.pop(name, None)
        config = root / "config" / "followupd" / "config.toml"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(
            'mode = "nudge"\ntoken_store = "file"\n'
            f'[google]\nendpoint = "{sandbox_url}"\npoll_interval = "{poll}"\n'
            '[timing]\ntimezone = "UTC"\n'
            f'[profile]\nname = "{MY_NAME}"\n'
            "[nudge]\nchannels = []\n"
        )
        self.secrets = root / "client_secret.json"
        self.secrets.write_text(
            json.dumps(
                {"installed": {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                               "auth_uri": f"{sandbox_url}/o/oauth2/auth",
                               "token_uri": f"{sandbox_url}/token",
                               "redirect_uris": ["http://localhost"]}}
            )
        )  # fmt: skip

    def login(self) -> None:
        proc = subprocess.Popen(
            [PYTHON, "-m", "followupd", "login", "--no-browser",
             "--client-secrets", str(self.secrets), "--timeout", "30"],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert proc.stdout is not None
        output = []
        for line in proc.stdout:
            output.append(line)
            if re.match(r"^https?://\S+$", line.strip()):
                urllib.request.urlopen(line.strip(), timeout=10).read()
        if proc.wait(timeout=30) != 0:
            raise RuntimeError("followupd login failed:\n" + "".join(output))

    def start_daemon(self) -> subprocess.Popen[str]:
        log = open(self.root / "daemon.log", "w")  # noqa: SIM115
        return subprocess.Popen(
            [PYTHON, "-m", "followupd", "run"],
            env=self.env, stdout=log, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip


def stop_process(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --------------------------------------------------------------------------- /proc


def proc_status(pid: int | str, key: str, task: str = "") -> int:
    """A numeric field of /proc/PID/status (kB for memory fields)."""
    path = f"/proc/{pid}/task/{task}/status" if task else f"/proc/{pid}/status"
    with open(path) as handle:
        for line in handle:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def thread_switches(pid: int) -> dict[str, int]:
    """voluntary_ctxt_switches per thread id (threads can vanish while we read)."""
    result: dict[str, int] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            result[tid] = proc_status(pid, "voluntary_ctxt_switches", task=tid)
        except (FileNotFoundError, ProcessLookupError, KeyError):
            continue
    return result
