"""The keyring store against a real Secret Service: gnome-keyring-daemon on a private
D-Bus session bus (see conftest.start_secret_service). Under CI=true these tests fail
instead of skipping when gnome-keyring or dbus is missing."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.auth_home import Browser, SecretService, config_for, run_child

from followupd.adapters.google.login import login
from followupd.adapters.google.revoke import logout
from followupd.adapters.tokens import KeyringTokenStore, token_store_for
from followupd.errors import KeyringUnavailable

SS_BACKEND = "keyring.backends.SecretService.Keyring"
ACCOUNT = "ada@example.com"


@pytest.fixture(autouse=True)
def fresh_keyring_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make keyring choose its backend again from this test's environment."""
    import keyring.core

    monkeypatch.setattr(keyring.core, "_keyring_backend", None)


def _digest(record: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


CHILD_LOAD = """
import hashlib, json, sys, time
from followupd.adapters.tokens import KeyringTokenStore
started = time.monotonic()
record = KeyringTokenStore().load(sys.argv[1] if len(sys.argv) > 1 else {account!r})
print(json.dumps({{
    "digest": hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()
    if record is not None else None,
    "seconds": time.monotonic() - started,
}}))
"""

CHILD_SAVE = """
import json
from followupd.adapters.tokens import KeyringTokenStore
KeyringTokenStore().save({account!r}, {record!r})
print(json.dumps({{"saved": True}}))
"""

CHILD_FAIL = """
import json, time
from followupd.adapters.tokens import KeyringTokenStore
from followupd.errors import KeyringUnavailable
started = time.monotonic()
try:
    KeyringTokenStore().load("ada@example.com")
except KeyringUnavailable as exc:
    print(json.dumps({"message": str(exc), "seconds": time.monotonic() - started}))
else:
    print(json.dumps({"message": None, "seconds": time.monotonic() - started}))
"""


def _child_env(service: SecretService, tmp_path: Path, **extra: str) -> dict[str, str]:
    return service.child_env(
        PYTHON_KEYRING_BACKEND=SS_BACKEND,
        XDG_CONFIG_HOME=os.environ["XDG_CONFIG_HOME"],
        XDG_STATE_HOME=os.environ["XDG_STATE_HOME"],
        XDG_CACHE_HOME=os.environ["XDG_CACHE_HOME"],
        **extra,
    )


def test_store_in_the_real_keyring_and_read_back_in_another_process(
    use_secret_service: SecretService, tmp_path: Path
) -> None:
    record = {"refresh_token": "1//real-keyring-test-token", "client_id": "c", "scopes": ["s"]}
    store = KeyringTokenStore()
    started = time.monotonic()
    store.save(ACCOUNT, record)
    assert store.load(ACCOUNT) == record
    assert time.monotonic() - started < 5
    assert SS_BACKEND in store.describe()

    # The item sits under service "followupd", user = the address.
    import secretstorage

    with contextlib.closing(secretstorage.dbus_init()) as conn:
        items = list(
            secretstorage.search_items(conn, {"service": "followupd", "username": ACCOUNT})
        )
        assert len(items) == 1
        assert json.loads(items[0].get_secret().decode()) == record

    # Another process (the daemon) reads what this one (the CLI) saved...
    env = _child_env(use_secret_service, tmp_path)
    out = run_child(CHILD_LOAD.format(account=ACCOUNT), env)
    assert out["digest"] == _digest(record)
    assert out["seconds"] < 5

    # ...and this one reads what another saved.
    other = {"refresh_token": "1//written-by-a-child", "scopes": []}
    run_child(CHILD_SAVE.format(account="bob@example.com", record=other), env)
    assert store.load("bob@example.com") == other

    store.delete(ACCOUNT)
    store.delete("bob@example.com")
    store.delete("bob@example.com")
    assert store.load(ACCOUNT) is None
    assert run_child(CHILD_LOAD.format(account=ACCOUNT), env)["digest"] is None


DAEMON_REFRESH = """
import json
from followupd.core.settings import Config
from followupd.adapters.google.credentials import load_credentials
from support.google_refresh import refresh_credentials
from followupd.adapters.tokens import token_store_for
config = Config.model_validate({{"google": {{"endpoint": {endpoint!r}}}}})
creds = load_credentials(config, token_store_for(config))
refresh_credentials(creds)
out = {{"valid": creds.valid, "account": creds.account, "scopes": sorted(creds.scopes)}}
print(json.dumps(out))
"""


def test_login_into_the_real_keyring_then_the_daemon_refreshes(
    use_secret_service: SecretService, sandbox: Any, client_file: Path, tmp_path: Path
) -> None:
    config = config_for(sandbox.url)
    store = token_store_for(config)
    assert isinstance(store, KeyringTokenStore)
    browser = Browser()
    result = login(
        config,
        client_secrets=client_file,
        open_browser=False,
        timeout=20,
        say=browser.say,
        token_store=store,
    )
    browser.join()
    assert "system keyring" in browser.text

    out = run_child(
        DAEMON_REFRESH.format(endpoint=sandbox.url), _child_env(use_secret_service, tmp_path)
    )
    assert out == {"valid": True, "account": result.account, "scopes": sorted(result.granted)}

    logout(config, store, say=lambda _: None)
    assert store.load(result.account) is None


def _assert_unavailable_fast(call: Callable[[], object], expected: str) -> str:
    started = time.monotonic()
    with pytest.raises(KeyringUnavailable) as info:
        call()
    assert time.monotonic() - started < 5
    message = str(info.value)
    assert expected in message
    assert 'token_store = "file"' in message
    assert "DBUS_SESSION_BUS_ADDRESS=unix:path=$XDG_RUNTIME_DIR/bus" in message
    assert info.value.exit_code == 77
    return message


def test_a_locked_collection_fails_fast(
    fresh_secret_service: Callable[..., SecretService], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = fresh_secret_service(unlock=True)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", service.address)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", SS_BACKEND)
    store = KeyringTokenStore()
    store.save(ACCOUNT, {"refresh_token": "x"})
    service.lock_default_collection()
    _assert_unavailable_fast(lambda: store.load(ACCOUNT), "locked")
    _assert_unavailable_fast(lambda: store.save(ACCOUNT, {}), "locked")


def test_a_keyring_never_unlocked_fails_fast(
    fresh_secret_service: Callable[..., SecretService], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = fresh_secret_service(unlock=False)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", service.address)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", SS_BACKEND)
    message = _assert_unavailable_fast(lambda: KeyringTokenStore().save(ACCOUNT, {}), "keyring")
    assert "locked" in message or "no usable default collection" in message


@pytest.mark.parametrize("backend_env", [SS_BACKEND, None])
def test_no_session_bus_fails_fast(
    secret_service: SecretService, tmp_path: Path, backend_env: str | None
) -> None:
    """A systemd user service or SSH login without the bus: explicit backend or auto."""
    env = _child_env(secret_service, tmp_path)
    env.pop("DBUS_SESSION_BUS_ADDRESS")
    env.pop("PYTHON_KEYRING_BACKEND")
    if backend_env:
        env["PYTHON_KEYRING_BACKEND"] = backend_env
    out = run_child(CHILD_FAIL, env)
    assert out["message"] is not None
    assert out["seconds"] < 5
    assert "DBUS_SESSION_BUS_ADDRESS is unset" in out["message"]
    assert "systemd user service" in out["message"]
    assert 'token_store = "file"' in out["message"]


def test_a_dead_bus_address_fails_fast(secret_service: SecretService, tmp_path: Path) -> None:
    env = _child_env(
        secret_service, tmp_path, DBUS_SESSION_BUS_ADDRESS=f"unix:path={tmp_path}/gone"
    )
    out = run_child(CHILD_FAIL, env)
    assert out["message"] is not None and out["seconds"] < 5
    assert f"unix:path={tmp_path}/gone" in out["message"]
