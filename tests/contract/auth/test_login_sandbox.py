"""The whole login through the sandbox's OAuth endpoints, with the real
InstalledAppFlow.run_local_server and this test playing the user's browser."""

from __future__ import annotations

import json
import re
import socket
import stat
import time
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from google.auth import exceptions as gexc
from google.auth.transport.requests import Request
from support.auth_home import CLIENT_ID, Browser, config_for, write_client_file
from support.google_refresh import refresh_credentials

from followupd import paths
from followupd.adapters.google import login_flow
from followupd.adapters.google.auth_problems import classify_refresh_error
from followupd.adapters.google.client_secrets import import_client_secrets
from followupd.adapters.google.credentials import (
    load_credentials,
    store_rotated_token,
)
from followupd.adapters.google.login import LoginResult, login
from followupd.adapters.google.revoke import logout
from followupd.adapters.google.scopes import (
    CALENDAR_READONLY,
    GMAIL_COMPOSE,
    GMAIL_METADATA,
    scope_gaps,
)
from followupd.adapters.tokens import FileTokenStore, InMemoryTokenStore
from followupd.errors import AuthError, ConfigError

ME = "candidate@example.com"


def _refresh(creds: Any) -> None:
    """google-auth's own refresh, so that its exceptions reach the test unchanged."""
    creds.refresh(Request())


def _login(
    sandbox: Any, client_file: Path | None, browser: Browser, store: Any, **kw: Any
) -> LoginResult:
    config = kw.pop("config", None) or config_for(sandbox.url)
    kw.setdefault("open_browser", False)
    kw.setdefault("timeout", 20)
    try:
        return login(config, client_secrets=client_file, say=browser.say, token_store=store, **kw)
    finally:
        browser.join()


def test_login_stores_the_record_and_the_account(
    sandbox: Any, client_file: Path, browser: Browser
) -> None:
    store = InMemoryTokenStore()
    result = _login(sandbox, client_file, browser, store)
    assert browser.error is None
    assert "login worked" in browser.page

    assert result.account == ME
    assert result.missing == []
    assert set(result.granted) == {CALENDAR_READONLY, GMAIL_COMPOSE, GMAIL_METADATA}

    record = store.load(ME)
    assert record is not None
    assert record["refresh_token"].startswith("1//")
    assert record["client_id"] == CLIENT_ID
    assert record["token_uri"] == f"{sandbox.url}/token"
    assert record["revoke_uri"] == f"{sandbox.url}/revoke"
    assert record["scopes"] == sorted(result.granted)
    assert record["account"] == ME
    assert "client_secret" not in record  # it stays in the 0600 client file
    secrets_file = Path(record["client_secrets"])
    assert secrets_file == paths.config_dir() / "client_secret.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600

    account_file = paths.state_dir() / "account"
    assert account_file.read_text() == ME + "\n"
    assert stat.S_IMODE(account_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.state_dir().stat().st_mode) == 0o700

    # The URL is said whole, on a line of its own, with the SSH forward explained.
    (url,) = browser.urls
    assert url in browser.lines
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    redirect = query["redirect_uri"][0]
    port = urllib.parse.urlsplit(redirect).port
    assert redirect == f"http://127.0.0.1:{port}/"
    assert query["access_type"] == ["offline"]
    assert query["prompt"] == ["consent"]
    assert query["code_challenge_method"] == ["S256"]
    assert f"ssh -L {port}:127.0.0.1:{port} " in browser.text
    assert "--port" in browser.text
    assert "gmail.metadata (optional)" in browser.text

    # A later login reuses the imported client file.
    browser2 = Browser()
    again = _login(sandbox, None, browser2, store)
    assert again.account == ME


def test_credentials_refresh_then_revocation_is_classified(
    sandbox: Any, client_file: Path, browser: Browser
) -> None:
    config = config_for(sandbox.url)
    store = InMemoryTokenStore()
    _login(sandbox, client_file, browser, store, config=config)

    creds = load_credentials(config, store)
    assert creds.token is None
    assert creds.token_uri == f"{sandbox.url}/token"  # not reset to Google's
    refresh_credentials(creds)
    assert creds.token and creds.valid

    sandbox.revoke_all_tokens()
    creds = load_credentials(config, store)
    with pytest.raises(gexc.RefreshError) as info:
        _refresh(creds)
    problem = classify_refresh_error(info.value)
    assert problem.kind == "invalid_grant"
    assert '"Testing"' in problem.fix and '"In production"' in problem.fix

    with pytest.raises(AuthError) as err:
        refresh_credentials(load_credentials(config, store))
    assert err.value.exit_code == 77
    assert "In production" in str(err.value)


def test_refresh_faults(sandbox: Any, client_file: Path, browser: Browser) -> None:
    config = config_for(sandbox.url)
    store = InMemoryTokenStore()
    _login(sandbox, client_file, browser, store, config=config)

    # One 500: google-auth retries it and the refresh works.
    sandbox.inject_fault("500", method="oauth.token", count=1)
    creds = load_credentials(config, store)
    refresh_credentials(creds)
    assert creds.valid

    # A dropped connection: unreachable, retryable.
    sandbox.inject_fault("drop", method="oauth.token", count=1)
    creds = load_credentials(config, store)
    with pytest.raises(gexc.TransportError) as info:
        _refresh(creds)
    problem = classify_refresh_error(info.value)
    assert problem.kind == "unreachable" and problem.retryable


def test_denied_optional_scope_logs_in_and_says_what_is_off(
    sandbox: Any, client_file: Path, browser: Browser
) -> None:
    sandbox.deny_scopes = {GMAIL_METADATA}
    store = InMemoryTokenStore()
    result = _login(sandbox, client_file, browser, store)
    assert result.account == ME
    assert [m.scope for m in result.missing] == [GMAIL_METADATA]
    assert GMAIL_METADATA not in result.granted
    assert "Not granted: gmail.metadata" in browser.text
    assert "sent-by-hand and reply detection" in browser.text
    record = store.load(ME)
    assert record is not None and GMAIL_METADATA not in record["scopes"]
    config = config_for(sandbox.url)
    assert [g.scope for g in scope_gaps(config, record["scopes"])] == [GMAIL_METADATA]


@pytest.mark.parametrize("denied", [CALENDAR_READONLY, GMAIL_COMPOSE])
def test_denied_core_scope_is_an_auth_error(
    sandbox: Any, client_file: Path, browser: Browser, denied: str
) -> None:
    sandbox.deny_scopes = {denied}
    store = InMemoryTokenStore()
    with pytest.raises(AuthError) as info:
        _login(sandbox, client_file, browser, store)
    message = str(info.value)
    assert denied.rsplit("/", 1)[1] in message
    assert "followupd login" in message and "ticked" in message
    assert store.records == {}
    assert not (paths.state_dir() / "account").exists()


def test_everything_denied(sandbox: Any, client_file: Path, browser: Browser) -> None:
    sandbox.deny_scopes = {CALENDAR_READONLY, GMAIL_COMPOSE, GMAIL_METADATA}
    with pytest.raises(AuthError, match="declined"):
        _login(sandbox, client_file, browser, InMemoryTokenStore())


def test_logout_revokes_and_forgets(sandbox: Any, client_file: Path, browser: Browser) -> None:
    config = config_for(sandbox.url)
    store = FileTokenStore(paths.state_dir())
    _login(sandbox, client_file, browser, store, config=config)
    creds = load_credentials(config, store)

    said: list[str] = []
    logout(config, store, say=said.append)
    assert any("revoked" in line for line in said)
    assert store.load(ME) is None
    assert not (paths.state_dir() / "account").exists()
    assert not store.path.exists()
    with pytest.raises(gexc.RefreshError) as info:
        _refresh(creds)
    assert classify_refresh_error(info.value).kind == "invalid_grant"
    with pytest.raises(AuthError, match="not logged in: run `followupd login`") as err:
        load_credentials(config, store)
    assert err.value.exit_code == 77

    said.clear()
    logout(config, store, say=said.append)
    assert said == ["Not logged in: nothing to do."]


def test_logout_without_google_still_removes_the_token(
    sandbox: Any, client_file: Path, browser: Browser
) -> None:
    config = config_for(sandbox.url)
    store = InMemoryTokenStore()
    _login(sandbox, client_file, browser, store, config=config)
    sandbox.stop()
    said: list[str] = []
    logout(config, store, say=said.append)
    assert any("Could not revoke" in line and "myaccount.google.com" in line for line in said)
    assert store.records == {}
    assert not (paths.state_dir() / "account").exists()


def test_logout_of_a_token_already_revoked(
    sandbox: Any, client_file: Path, browser: Browser
) -> None:
    config = config_for(sandbox.url)
    store = InMemoryTokenStore()
    _login(sandbox, client_file, browser, store, config=config)
    sandbox.revoke_all_tokens()
    said: list[str] = []
    logout(config, store, say=said.append)
    assert any("already revoked" in line for line in said)
    assert store.records == {}


def test_timeout_is_a_clear_auth_error(sandbox: Any, client_file: Path) -> None:
    nobody = Browser(enabled=False)
    started = time.monotonic()
    with pytest.raises(AuthError, match="timed out") as info:
        _login(sandbox, client_file, nobody, InMemoryTokenStore(), timeout=1)
    assert time.monotonic() - started < 10
    assert "--no-browser" in str(info.value)


def test_a_silent_connection_cannot_hang_the_login(
    sandbox: Any, client_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection that opens and sends nothing (a browser's speculative connection)."""
    monkeypatch.setattr(login_flow, "_GRACE", 1.0)
    sockets: list[socket.socket] = []

    def connect_silently(url: str) -> None:
        redirect = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["redirect_uri"][0]
        port = urllib.parse.urlsplit(redirect).port
        assert port is not None
        sockets.append(socket.create_connection(("127.0.0.1", port), timeout=5))

    silent = Browser(act=connect_silently)
    started = time.monotonic()
    try:
        with pytest.raises(AuthError, match="timed out"):
            _login(sandbox, client_file, silent, InMemoryTokenStore(), timeout=1)
        assert time.monotonic() - started < 8
    finally:
        for sock in sockets:
            sock.close()


def test_port_in_use(sandbox: Any, client_file: Path, browser: Browser) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(AuthError, match=f"port {port} on 127.0.0.1 is already in use"):
            _login(sandbox, client_file, browser, InMemoryTokenStore(), port=port)


def test_fixed_port_for_ssh_forwarding(sandbox: Any, client_file: Path, browser: Browser) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    _login(sandbox, client_file, browser, InMemoryTokenStore(), port=port)
    assert f"ssh -L {port}:127.0.0.1:{port} " in browser.text
    (url,) = browser.urls
    assert f"127.0.0.1%3A{port}%2F" in url


def test_open_browser_uses_webbrowser_without_blocking(
    sandbox: Any, client_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import webbrowser

    visitor = Browser(enabled=False)
    opened: list[str] = []

    def fake_open(url: str, new: int = 0, autoraise: bool = True) -> bool:
        opened.append(url)
        visitor.enabled = True
        visitor.say(url)  # "the browser" visits it
        return True

    monkeypatch.setattr(webbrowser, "open", fake_open)
    result = _login(sandbox, client_file, visitor, InMemoryTokenStore(), open_browser=True)
    visitor.join()
    assert result.account == ME
    assert opened and opened[0] in visitor.lines
    assert "Opening Google's consent page" in visitor.text


def test_no_browser_available_still_prints_the_url(
    sandbox: Any, client_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import webbrowser

    def no_browser(url: str, new: int = 0, autoraise: bool = True) -> bool:
        raise webbrowser.Error("could not locate runnable browser")

    monkeypatch.setattr(webbrowser, "open", no_browser)
    browser = Browser()
    _login(sandbox, client_file, browser, InMemoryTokenStore(), open_browser=True)
    assert "Could not start a browser here" in browser.text


def test_load_credentials_checks_the_saved_login(
    sandbox: Any, client_file: Path, browser: Browser, tmp_path: Path
) -> None:
    config = config_for(sandbox.url)
    store = InMemoryTokenStore()
    _login(sandbox, client_file, browser, store, config=config)

    # The config now points at Google: the sandbox's token must not go there.
    with pytest.raises(AuthError, match="was made against"):
        load_credentials(config_for(""), store)

    # A different OAuth client imported since.
    other = write_client_file(tmp_path / "other.json", client_id="other.apps.googleusercontent.com")
    import_client_secrets(other)
    with pytest.raises(AuthError, match="different OAuth client"):
        load_credentials(config, store)

    # The client file deleted.
    (paths.config_dir() / "client_secret.json").unlink()
    with pytest.raises(ConfigError, match="no such file"):
        load_credentials(config, store)


def test_login_as_the_wrong_account(sandbox: Any, client_file: Path, browser: Browser) -> None:
    config = config_for(sandbox.url, account="someone.else@example.com")
    store = InMemoryTokenStore()
    with pytest.raises(AuthError, match=re.escape("you logged in as candidate@example.com")):
        _login(sandbox, client_file, browser, store, config=config)
    assert store.records == {}


def test_login_without_a_client_file(sandbox: Any, browser: Browser) -> None:
    with pytest.raises(ConfigError, match="no OAuth client yet"):
        _login(sandbox, None, browser, InMemoryTokenStore())


def test_record_is_plain_json(sandbox: Any, client_file: Path, browser: Browser) -> None:
    store = FileTokenStore(paths.state_dir())
    _login(sandbox, client_file, browser, store)
    data = json.loads(store.path.read_text())
    assert set(data["accounts"]) == {ME}
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_a_rotated_refresh_token_is_saved(
    sandbox: Any, client_file: Path, browser: Browser
) -> None:
    config = config_for(sandbox.url)
    store = InMemoryTokenStore()
    _login(sandbox, client_file, browser, store, config=config)
    creds = load_credentials(config, store)
    refresh_credentials(creds, token_store=store)  # not rotated: nothing saved
    record = store.load(ME)
    assert record is not None and record["refresh_token"] == creds.refresh_token

    creds._refresh_token = "1//rotated"  # as google-auth does when the server sends one
    assert store_rotated_token(store, creds)
    record = store.load(ME)
    assert record is not None and record["refresh_token"] == "1//rotated"
    assert not store_rotated_token(store, creds)
