"""`followupd demo`: the real daemon against the built-in sandbox, in a temporary
home, with no Google account. Shows what is detected and the drafts as they appear,
then stops by itself with a short summary."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEMO_SEED: dict[str, Any] = {
    "user": {"email": "casey@example.com", "name": "Casey Candidate"},
    "events": [
        {
            "id": "demo-interview-1",
            "summary": "Interview: Backend Engineer, Acme Robotics",
            "startIn": "-55m",
            "duration": "45m",
            "description": "Interviewers: Jane Doe, Omar Haddad\nJoin with Google Meet.",
            "hangoutLink": "https://meet.google.com/abc-defg-hij",
            "organizer": {"email": "jane.doe@acmerobotics.com"},
            "attendees": [
                {"email": "casey@example.com", "self": True, "responseStatus": "accepted"},
                {
                    "email": "jane.doe@acmerobotics.com",
                    "displayName": "Jane Doe",
                    "responseStatus": "accepted",
                    "organizer": True,
                },
                {"email": "omar.haddad@acmerobotics.com", "responseStatus": "accepted"},
                {
                    "email": "c_room-4@resource.calendar.google.com",
                    "displayName": "Room 4 (6)",
                    "resource": True,
                    "responseStatus": "accepted",
                },
            ],
        },
        {
            "id": "demo-interview-2",
            "summary": "Phone screen with Globex",
            "startIn": "-1770s",
            "duration": "1800s",
            "attendees": [
                {"email": "casey@example.com", "self": True, "responseStatus": "accepted"},
                {
                    "email": "priya.nair@globex.io",
                    "displayName": "Priya Nair",
                    "responseStatus": "accepted",
                },
            ],
        },
        {
            "id": "demo-standup",
            "summary": "Weekly catch-up with my mentor",
            "startIn": "-70m",
            "duration": "30m",
            "attendees": [
                {"email": "casey@example.com", "self": True, "responseStatus": "accepted"},
                {"email": "mentor@example.org", "responseStatus": "accepted"},
            ],
        },
    ],
}

CLIENT_ID = "demo-client.apps.googleusercontent.com"


def _config_text(endpoint: str, client_secrets: Path, nudge_log: Path) -> str:
    # The demo's nudges go to a command that appends them to a file the demo shows
    # (there is no desktop here).
    notifier = (
        f"import sys; open({str(nudge_log)!r}, 'a')"
        ".write(sys.stdin.read().replace('\\n', ' ') + '\\n')"
    )
    command = json.dumps([sys.executable, "-c", notifier])  # a JSON array is valid TOML
    return f"""mode = "nudge"
token_store = "file"

[google]
endpoint = {json.dumps(endpoint)}
client_secrets = {json.dumps(str(client_secrets))}
poll_interval = "5s"

[timing]
timezone = "UTC"
draft_delay = "5s"

[profile]
name = "Casey Candidate"
highlights = ["six years building reliable payment backends", "mentoring junior engineers"]

[nudge]
channels = ["command"]
command = {command}
"""


def _play_browser(proc: subprocess.Popen[str], say: Callable[[str], None]) -> None:
    """Read the login output; open the consent URL the way a browser would."""
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip()
        if re.match(r"^https?://\S+$", line):
            say("  (the demo plays the browser and approves the consent page)")
            urllib.request.urlopen(line, timeout=10).read()  # noqa: S310 (loopback)
        elif line:
            say(f"  login: {line}")


def run_demo(say: Callable[[str], None] = print, limit: float = 55.0) -> int:
    from followupd.sandbox import Sandbox

    started = time.monotonic()
    home = Path(tempfile.mkdtemp(prefix="followupd-demo-"))
    env = _demo_env(home)
    sandbox = Sandbox(seed=DEMO_SEED, user_email="casey@example.com", user_name="Casey Candidate")
    sandbox.start()
    say(f"Sandbox Google running at {sandbox.url} (temporary home {home})")
    secrets, nudge_log = _write_demo_home(home, sandbox.url)
    cmd = [sys.executable, "-m", "followupd"]
    daemon: subprocess.Popen[str] | None = None
    try:
        say("\n1. followupd login (OAuth against the sandbox)")
        if not _login(cmd, env, secrets, say):
            say("login failed")
            return 1
        say("\n2. followupd run (the real daemon; its log below)")
        daemon = subprocess.Popen(
            [*cmd, "run"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        threading.Thread(target=_relay, args=(daemon, say), daemon=True).start()
        shown = _watch(daemon, sandbox, cmd, env, nudge_log, say, deadline=started + limit)
        if shown is None:
            say(f"the daemon stopped early (exit {daemon.returncode})")
            return 1
        daemon.terminate()
        code = daemon.wait(timeout=10)
        daemon = None
        say("\n3. followupd list")
        listing = subprocess.run([*cmd, "list"], env=env, capture_output=True, text=True)
        say(listing.stdout.rstrip())
        counts = sandbox.counts()
        say(
            f"\nSummary: {shown} draft(s) in Gmail Drafts for 2 interviews; the "
            "mentor meeting was not an interview; nothing was sent (mode nudge). "
            f"Google calls: {sum(counts.values())}; daemon exit {code}; "
            f"{time.monotonic() - started:.0f}s."
        )
        return 0 if shown >= EXPECTED_DRAFTS and code == 0 else 1
    finally:
        if daemon is not None:
            daemon.kill()
        sandbox.stop()


def _demo_env(home: Path) -> dict[str, str]:
    """The environment of the demo's processes: every XDG path inside `home`."""
    env = dict(os.environ)
    env.update(
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_STATE_HOME=str(home / "state"),
        XDG_CACHE_HOME=str(home / "cache"),
        PYTHONUNBUFFERED="1",
    )
    env.pop("FOLLOWUPD_CONFIG", None)
    return env


def _write_demo_home(home: Path, url: str) -> tuple[Path, Path]:
    """The OAuth client file and the config; returns (client file, nudge log)."""
    secrets = home / "client_secret_demo.json"
    installed = {
        "client_id": CLIENT_ID,
        "client_secret": "demo-secret",
        "auth_uri": f"{url}/o/oauth2/auth",
        "token_uri": f"{url}/token",
        "redirect_uris": ["http://localhost"],
    }
    secrets.write_text(json.dumps({"installed": installed}))
    config = home / "config" / "followupd" / "config.toml"
    config.parent.mkdir(parents=True)
    nudge_log = home / "nudges.jsonl"
    config.write_text(_config_text(url, secrets, nudge_log))
    return secrets, nudge_log


def _login(cmd: list[str], env: dict[str, str], secrets: Path, say: Callable[[str], None]) -> bool:
    login = subprocess.Popen(
        [*cmd, "login", "--no-browser", "--client-secrets", str(secrets)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _play_browser(login, say)
    return login.wait(timeout=30) == 0


def _watch(
    daemon: subprocess.Popen[str],
    sandbox: Any,
    cmd: list[str],
    env: dict[str, str],
    nudge_log: Path,
    say: Callable[[str], None],
    deadline: float,
) -> int | None:
    """Show drafts and nudges as they come, until all are there or time is up.
    Returns how many drafts were shown; None when the daemon stopped early."""
    shown: set[str] = set()
    nudges_seen = 0
    noted = False
    while time.monotonic() < deadline:
        if not noted:
            noted = _add_note_before_the_end(cmd, env, say)
        for draft in sandbox.drafts():
            if draft["id"] in shown:
                continue
            shown.add(draft["id"])
            _show_draft(draft, say)
        nudges_seen = _show_nudges(nudge_log, nudges_seen, say)
        if len(shown) >= EXPECTED_DRAFTS and nudges_seen >= 2:
            break
        if daemon.poll() is not None:
            return None
        time.sleep(0.5)
    return len(shown)


EXPECTED_DRAFTS = 3  # two interviewers in the first interview, one in the phone screen
NOTE = "the idea of replaying payment events to rebuild state after an outage"


def _add_note_before_the_end(
    cmd: list[str], env: dict[str, str], say: Callable[[str], None]
) -> bool:
    """Like a user who jots down what was discussed before the call is over."""
    listing = subprocess.run([*cmd, "list", "--json"], env=env, capture_output=True, text=True)
    if listing.returncode != 0:
        return False
    for item in json.loads(listing.stdout or "[]"):
        if item["summary"].startswith("Phone screen") and item["state"] == "pending":
            say(f'\n  $ followupd note {item["id"]} "{NOTE}"')
            subprocess.run([*cmd, "note", item["id"], NOTE], env=env, capture_output=True)
            return True
    return False


def _show_nudges(log: Path, seen: int, say: Callable[[str], None]) -> int:
    try:
        lines = log.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return seen
    for line in lines[seen:]:
        nudge = json.loads(line)
        say(f"  nudge ({nudge['kind']}): {nudge['title']}")
        for finding in nudge.get("proofread") or []:
            say(f"    proofreading: {finding}")
    return len(lines)


def _relay(proc: subprocess.Popen[str], say: Callable[[str], None]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        say(f"  daemon | {line.rstrip()}")


def _show_draft(draft: dict[str, Any], say: Callable[[str], None]) -> None:
    msg = draft["parsed"]
    body = msg.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    say("\n  ---- new Gmail draft " + "-" * 40)
    for header in ("From", "To", "Subject"):
        say(f"  {header}: {msg[header]}")
    say("")
    for line in text.rstrip().splitlines():
        say(f"  | {line}")
    say("  " + "-" * 61)
