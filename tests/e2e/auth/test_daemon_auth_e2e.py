"""Login and token failures as users meet them, with the real daemon process.

* Google refuses the refresh token mid-run (revoked, password change, the 7-day
  expiry of apps in "Testing" status): the daemon stays up, `status` and `check` say
  why and what to do, the user is nudged once, the daemon retries hourly, and a new
  `followupd login` makes it recover at once.
* The token lives in a real Secret Service (gnome-keyring on a private bus) and is
  read back by the daemon; a locked collection or a missing session bus leaves the
  daemon up, in an error state that names the ways out, until the keyring is usable.
* Tokens are nowhere on disk but in the chosen store; files have private modes.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.auth_daemon_home import (
    ME,
    DaemonHome,
    files_containing,
    private_modes,
    read_keyring_record,
    seconds_until,
    unlock_default_collection,
)
from support.auth_home import SecretService
from support.daemon_home import interview_event, wait_for

from followupd.adapters.store import Store
from followupd.sandbox import Sandbox

pytestmark = pytest.mark.e2e

JANE = ("jane.doe@acme.com", "Jane Doe")
OMAR = ("omar.haddad@acme.com", "Omar Haddad")
PRIYA = ("priya@globex.io", "Priya Nair")


@pytest.fixture
def google() -> Iterator[Sandbox]:
    sb = Sandbox(user_email=ME, user_name="Casey Candidate")
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


@pytest.fixture
def make_home(tmp_path: Path, google: Sandbox) -> Iterator[Callable[..., DaemonHome]]:
    homes: list[DaemonHome] = []

    def make(token_store: str = "file") -> DaemonHome:
        home = DaemonHome(tmp_path / f"home{len(homes)}", google, token_store=token_store)
        homes.append(home)
        return home

    try:
        yield make
    finally:
        for home in homes:
            home.cleanup()


def drafts_to(sandbox: Sandbox, email: str) -> list[dict[str, Any]]:
    return [d for d in sandbox.drafts() if email in str(d["parsed"]["To"])]


def access_tokens(sandbox: Sandbox) -> list[str]:
    return list(sandbox._oauth.tokens)


def refresh_tokens(sandbox: Sandbox) -> list[str]:
    return list(sandbox._oauth.grants)


def open_requests(home: DaemonHome) -> list[Any]:
    store = Store(home.state / "state.db")
    try:
        return store.open_requests()
    finally:
        store.close()


def tokens_by_name(sandbox: Sandbox) -> dict[str, str]:
    """Every token the sandbox ever issued, refresh and access, revoked or not."""
    named = {f"refresh:{t}": t for t in refresh_tokens(sandbox)}
    named.update({f"access:{t}": t for t in access_tokens(sandbox)})
    assert len(named) >= 2
    return named


def assert_clean_log(home: DaemonHome, sandbox: Sandbox) -> None:
    logs = home.logs()
    assert "Traceback" not in logs, logs
    for token in access_tokens(sandbox) + refresh_tokens(sandbox):
        assert token not in logs


# ------------------------------------------------------------------ invalid_grant


class TestRefusedToken:
    def test_revoked_mid_run_then_login_again(
        self, make_home: Callable[..., DaemonHome], google: Sandbox
    ) -> None:
        home = make_home("file")
        home.login()
        google.add_event(interview_event("iv1", -1, [JANE]))
        daemon = home.start_daemon()
        wait_for(lambda: drafts_to(google, JANE[0]), 30, "Jane's draft")
        assert home.status()["auth_state"] == "ok"

        # The user removes the app's access (or the 7-day Testing expiry hits).
        google.revoke_all_tokens()
        google.add_event(interview_event("iv2", -1, [OMAR]))
        status = wait_for(
            lambda: (
                (s := home.status())["auth_state"] == "refused"
                and seconds_until(s["next_poll"]) > 60
                and s
            ),
            30,
            "refused state",
        )
        assert daemon.poll() is None, home.logs()
        assert status["running"] is True
        problem = status["auth_error"]
        assert "refused" in problem and "invalid_grant" in problem
        assert "revoked" in problem.lower() or "Third-party apps" in problem
        assert "password" in problem and "7 days" in problem and "Testing" in problem
        assert "In production" in problem and "followupd login" in problem
        # Hourly retry, not a hot loop.
        assert 3500 < seconds_until(status["next_poll"]) <= 3600

        text = home.cli("status")
        assert text.returncode == 0
        assert "refused" in text.stdout.lower() and "followupd login" in text.stdout
        assert "In production" in text.stdout

        check = home.cli("check", "--json")
        assert check.returncode == 77, check.stdout + check.stderr
        login_findings = [
            f
            for f in json.loads(check.stdout)["findings"]
            if f["area"] == "login" and f["level"] == "error"
        ]
        assert login_findings, check.stdout
        said = " ".join(f["message"] + " " + f["fix"] for f in login_findings)
        assert "invalid_grant" in said and "Testing" in said and "followupd login" in said
        plain = home.cli("check")
        assert plain.returncode == 77 and "In production" in plain.stdout

        # Exactly one nudge, even after another (failed) attempt the user asks for.
        wait_for(lambda: home.problem_nudges(), 10, "the login nudge")
        refreshes = google.counts().get("oauth.token", 0)
        sync = home.cli("sync")
        assert sync.returncode == 0, sync.stderr
        wait_for(lambda: google.counts().get("oauth.token", 0) > refreshes, 15, "a retry")
        time.sleep(1)
        status = home.status()
        assert status["auth_state"] == "refused"
        assert 3500 < seconds_until(status["next_poll"]) <= 3600
        nudges = home.problem_nudges()
        assert len(nudges) == 1, nudges
        assert "log in" in nudges[0]["title"].lower()
        assert "Testing" in nudges[0]["body"] and "followupd login" in nudges[0]["body"]
        assert not drafts_to(google, OMAR[0])
        assert daemon.poll() is None

        # A new login while the daemon runs: it recovers now, not in an hour.
        google.add_event(interview_event("iv3", -1, [PRIYA]))
        started = time.monotonic()
        home.login()
        wait_for(
            lambda: drafts_to(google, OMAR[0]) and drafts_to(google, PRIYA[0]),
            20,
            "the drafts held back by the refused login",
        )
        assert time.monotonic() - started < 20
        status = wait_for(
            lambda: (s := home.status())["auth_state"] == "ok" and s, 10, "auth ok again"
        )
        assert status["auth_error"] is None
        assert seconds_until(status["next_poll"]) < 60
        check = json.loads(home.cli("check", "--json").stdout)
        assert not [f for f in check["findings"] if f["area"] == "login" and f["level"] == "error"]
        assert len(home.problem_nudges()) == 1
        assert len(drafts_to(google, JANE[0])) == 1

        # Item 3 for the file store: the refresh token lives in token.json only, the
        # access tokens nowhere; every file is private. Checked while the daemon runs,
        # so that SQLite's -wal and -shm files exist.
        token_file = home.state / "token.json"
        current = json.loads(token_file.read_text())["accounts"][ME]["refresh_token"]
        assert current in refresh_tokens(google)
        found = files_containing(home.root, tokens_by_name(google))
        leaks = {name: where for name, where in found.items() if where}
        assert leaks == {f"refresh:{current}": ["state/followupd/token.json"]}
        assert private_modes(home.state, home.config_path.parent) == {}
        assert home.stop(daemon) == 0
        assert_clean_log(home, google)


# ------------------------------------------------------------- a real Secret Service


class TestSecretService:
    def test_daemon_reads_the_keyring_survives_a_lock_and_recovers(
        self,
        make_home: Callable[..., DaemonHome],
        google: Sandbox,
        fresh_secret_service: Callable[..., SecretService],
        tmp_path: Path,
    ) -> None:
        service = fresh_secret_service(unlock=True)
        home = make_home("keyring")
        home.use_bus(service.address)
        said = home.login()
        assert "keyring" in said.lower()
        assert not (home.state / "token.json").exists()
        record = read_keyring_record(service.address)
        assert record is not None and record["refresh_token"] in refresh_tokens(google)

        google.add_event(interview_event("iv1", -1, [JANE]))
        daemon = home.start_daemon()
        jane = wait_for(lambda: drafts_to(google, JANE[0]), 30, "Jane's draft")
        assert len(jane) == 1
        (fu_id,) = [f["id"] for f in home.list_json()]

        # Item 3 with the keyring: no token anywhere on disk under the test's root
        # (state, config, logs, and gnome-keyring's own, encrypted, files).
        found = files_containing(tmp_path, tokens_by_name(google))
        assert {name: where for name, where in found.items() if where} == {}
        assert private_modes(home.state, home.config_path.parent) == {}

        # The collection gets locked: the daemon keeps working from the login it holds.
        service.lock_default_collection()
        google.add_event(interview_event("iv2", -1, [OMAR]))
        wait_for(lambda: drafts_to(google, OMAR[0]), 20, "Omar's draft, keyring locked")
        assert home.status()["auth_state"] == "ok"

        # A config reload (or a restart) must read the keyring again: now it cannot.
        daemon.send_signal(signal.SIGHUP)
        status = wait_for(
            lambda: (
                (s := home.status())["auth_state"] == "keyring_unavailable"
                and seconds_until(s["next_poll"]) > 1
                and s
            ),
            20,
            "keyring_unavailable",
        )
        assert daemon.poll() is None, home.logs()
        problem = status["auth_error"]
        assert "locked" in problem and "Ways out" in problem
        assert "unlock" in problem and 'token_store = "file"' in problem
        # Backoff, not the hourly wait of a refused login, and not a hot loop.
        assert 1 < seconds_until(status["next_poll"]) <= 1800
        text = home.cli("status").stdout
        assert "keyring" in text and "locked" in text and "followupd sync" in text
        check = home.cli("check", "--json")
        assert check.returncode == 77
        assert any(
            f["area"] == "keyring" and f["level"] == "error" and "locked" in f["message"]
            for f in json.loads(check.stdout)["findings"]
        )

        # Decisions need no Google and no keyring: a skip is applied at once.
        skipped = home.cli("skip", fu_id, timeout=30)
        assert skipped.returncode == 0 and "Skipped" in skipped.stdout, skipped

        # One nudge, however many attempts (the user's `sync` is one more).
        wait_for(lambda: home.problem_nudges(), 10, "the keyring nudge")
        assert home.cli("sync").returncode == 0
        # The attempt answers the "sync" request even though it could not start: an
        # open one would wake the daemon into another attempt at every tick.
        wait_for(lambda: not open_requests(home), 10, "the sync request answered")
        time.sleep(1)
        assert home.status()["auth_state"] == "keyring_unavailable"
        nudges = home.problem_nudges()
        assert len(nudges) == 1, nudges
        assert "keyring" in nudges[0]["title"] and "unlock" in nudges[0]["body"]

        # Unlocking (the user logs in to the desktop) and `followupd sync`: recovered.
        google.add_event(interview_event("iv3", -1, [PRIYA]))
        unlock_default_collection(service.address)
        assert home.cli("sync").returncode == 0
        wait_for(lambda: drafts_to(google, PRIYA[0]), 20, "Priya's draft after unlocking")
        status = wait_for(lambda: (s := home.status())["auth_state"] == "ok" and s, 10, "ok")
        assert status["auth_error"] is None
        assert [f["state"] for f in home.list_json() if f["id"] == fu_id] == ["skipped"]
        assert len(home.problem_nudges()) == 1
        assert daemon.poll() is None
        assert home.stop(daemon) == 0
        assert_clean_log(home, google)
        found = files_containing(tmp_path, tokens_by_name(google))
        assert {name: where for name, where in found.items() if where} == {}

    def test_no_session_bus_stays_up_and_says_why(
        self,
        make_home: Callable[..., DaemonHome],
        google: Sandbox,
        fresh_secret_service: Callable[..., SecretService],
    ) -> None:
        service = fresh_secret_service(unlock=True)
        home = make_home("keyring")
        home.use_bus(service.address)
        home.login()
        google.add_event(interview_event("iv1", -1, [JANE]))

        # A systemd user unit started without the session bus, keyring left to choose.
        home.use_bus(None)
        home.env.pop("PYTHON_KEYRING_BACKEND")
        daemon = home.start_daemon()
        status = wait_for(
            lambda: (
                (s := home.status())["auth_state"] == "keyring_unavailable"
                and seconds_until(s["next_poll"]) > 1
                and s
            ),
            20,
            "keyring_unavailable",
        )
        problem = status["auth_error"]
        assert "no D-Bus session bus" in problem
        assert "DBUS_SESSION_BUS_ADDRESS=unix:path=%t/bus" in problem
        assert 1 < seconds_until(status["next_poll"]) <= 1800
        # Retries (the automatic one and the user's) neither crash nor nudge again.
        assert home.cli("sync").returncode == 0
        time.sleep(1.5)
        assert daemon.poll() is None, home.logs()
        assert home.status()["auth_state"] == "keyring_unavailable"
        nudges = home.problem_nudges()
        assert len(nudges) == 1 and "session bus" in nudges[0]["body"], nudges
        assert not google.drafts()
        assert home.stop(daemon) == 0

        # With the bus in the unit's environment, the next start works.
        home.use_bus(service.address)
        daemon = home.start_daemon()
        wait_for(lambda: drafts_to(google, JANE[0]), 30, "Jane's draft")
        wait_for(lambda: home.status()["auth_state"] == "ok", 10, "auth ok")
        assert home.stop(daemon) == 0
        assert_clean_log(home, google)
