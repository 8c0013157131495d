"""Token stores: the 0600 file, memory, and the keyring wrapper's failure handling.

The keyring wrapper is driven here by small in-process backends that raise what the
real ones raise, or hang; test_secret_service.py runs it against gnome-keyring.
"""

from __future__ import annotations

import json
import re
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from keyring import errors as kerr
from keyring.backend import KeyringBackend

from followupd import paths
from followupd.adapters import tokens
from followupd.adapters.tokens import (
    FileTokenStore,
    InMemoryTokenStore,
    KeyringTokenStore,
    TokenStore,
    token_store_for,
)
from followupd.core.settings import Config
from followupd.errors import AuthError, KeyringUnavailable

RECORD = {"refresh_token": "1//file-store-secret-value", "client_id": "c", "scopes": ["a"]}


# ------------------------------------------------------------------------- file


def test_file_store_round_trip_and_modes() -> None:
    store = FileTokenStore(paths.state_dir())
    assert store.load("ada@example.com") is None
    store.save("ada@example.com", RECORD)
    assert store.load("ada@example.com") == RECORD
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.state_dir.stat().st_mode) == 0o700
    assert store.path == paths.state_dir() / "token.json"

    store.save("bob@example.com", {"refresh_token": "other"})
    store.delete("ada@example.com")
    assert store.load("ada@example.com") is None
    assert store.load("bob@example.com") == {"refresh_token": "other"}
    store.delete("bob@example.com")
    assert not store.path.exists()
    store.delete("nobody@example.com")  # no error


def test_file_store_tightens_a_loose_state_dir_and_warns_about_loose_files() -> None:
    state = paths.state_dir()
    state.mkdir(parents=True, mode=0o755)
    state.chmod(0o755)
    store = FileTokenStore(state)
    store.save("ada@example.com", RECORD)
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert "plain file" in store.warning and str(store.path) in store.warning
    assert "readable by others" not in store.warning
    store.path.chmod(0o644)
    assert "chmod 600" in store.warning
    assert store.describe().startswith("plain file")


def test_file_store_rejects_a_foreign_file() -> None:
    store = FileTokenStore(paths.state_dir())
    store.state_dir.mkdir(parents=True)
    store.path.write_text("[]")
    with pytest.raises(AuthError, match="not a followupd token file"):
        store.load("ada@example.com")


def test_memory_store_copies() -> None:
    store = InMemoryTokenStore()
    record: dict[str, Any] = {"scopes": ["a"]}
    store.save("a", record)
    record["scopes"].append("b")
    loaded = store.load("a")
    assert loaded == {"scopes": ["a"]}
    assert loaded is not None
    loaded["scopes"].append("c")
    assert store.load("a") == {"scopes": ["a"]}
    store.delete("a")
    store.delete("a")
    assert store.load("a") is None


def test_token_store_for_config() -> None:
    file_store = token_store_for(Config.model_validate({"token_store": "file"}))
    assert isinstance(file_store, FileTokenStore)
    assert file_store.path == paths.state_dir() / "token.json"
    keyring_store = token_store_for(Config(), keyring_timeout=3)
    assert isinstance(keyring_store, KeyringTokenStore)
    assert keyring_store.timeout == 3
    for store in (file_store, keyring_store, InMemoryTokenStore()):
        assert isinstance(store, TokenStore)


# ---------------------------------------------------------------------- keyring


class FakeBackend(KeyringBackend):
    """A keyring backend that stores in a dict, raises *error*, or hangs."""

    @property
    def priority(self) -> float:  # never picked by keyring's own detection
        raise RuntimeError("test backend")

    def __init__(self, error: BaseException | None = None, hang: float = 0.0) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.error = error
        self.hang = hang
        self.data: dict[tuple[str, str], str] = {}
        self.calls = 0

    def _maybe_fail(self) -> None:
        self.calls += 1
        if self.hang:
            time.sleep(self.hang)
        if self.error is not None:
            raise self.error

    def get_password(self, service: str, username: str) -> str | None:
        self._maybe_fail()
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._maybe_fail()
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._maybe_fail()
        if (service, username) not in self.data:
            raise kerr.PasswordDeleteError("no such password")
        del self.data[(service, username)]


def test_keyring_store_round_trip_as_json_under_service_followupd() -> None:
    backend = FakeBackend()
    store = KeyringTokenStore(backend=backend)
    store.save("ada@example.com", RECORD)
    assert json.loads(backend.data[("followupd", "ada@example.com")]) == RECORD
    assert store.load("ada@example.com") == RECORD
    store.delete("ada@example.com")
    store.delete("ada@example.com")  # nothing stored: no error
    assert store.load("ada@example.com") is None
    assert "FakeBackend" in store.describe()


def test_keyring_entry_that_is_not_a_record() -> None:
    backend = FakeBackend()
    backend.data[("followupd", "ada@example.com")] = "hunter2"
    with pytest.raises(AuthError, match="does not hold a followupd token record"):
        KeyringTokenStore(backend=backend).load("ada@example.com")


def _ways_out(message: str) -> None:
    assert "unlock the keyring" in message
    assert "DBUS_SESSION_BUS_ADDRESS=unix:path=$XDG_RUNTIME_DIR/bus" in message
    assert 'token_store = "file"' in message


def test_no_session_bus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    store = KeyringTokenStore(backend=FakeBackend(kerr.NoKeyringError("No recommended backend")))
    with pytest.raises(KeyringUnavailable) as info:
        store.load("ada@example.com")
    message = str(info.value)
    assert "DBUS_SESSION_BUS_ADDRESS is unset" in message
    assert "headless server" in message and "systemd user service" in message
    _ways_out(message)
    assert info.value.exit_code == 77


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (kerr.KeyringLocked("Failed to unlock the collection!"), "locked"),
        (kerr.InitError("Failed to create the collection"), "no usable default collection"),
        (kerr.NoKeyringError("No recommended backend"), "no keyring backend is available"),
        (FileNotFoundError(2, "No such file or directory"), "cannot be used"),
        (RuntimeError("Unable to initialize SecretService: x"), "cannot be used"),
    ],
)
def test_backend_failures_become_keyring_unavailable(
    monkeypatch: pytest.MonkeyPatch, error: BaseException, expected: str
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    store = KeyringTokenStore(backend=FakeBackend(error))
    calls: list[Callable[[], object]] = [
        lambda: store.load("a"),
        lambda: store.save("a", {}),
        lambda: store.delete("a"),
    ]
    for call in calls:
        with pytest.raises(KeyringUnavailable) as info:
            call()
        assert expected in str(info.value)
        _ways_out(str(info.value))


def test_secretstorage_and_jeepney_errors_are_mapped(monkeypatch: pytest.MonkeyPatch) -> None:
    from secretstorage.exceptions import LockedException, SecretServiceNotAvailableException

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    store = KeyringTokenStore(backend=FakeBackend(LockedException("Item is locked!")))
    with pytest.raises(KeyringUnavailable, match="locked"):
        store.load("a")
    store = KeyringTokenStore(backend=FakeBackend(SecretServiceNotAvailableException("gone")))
    with pytest.raises(KeyringUnavailable, match="gone"):
        store.load("a")


def test_programming_errors_are_not_disguised() -> None:
    store = KeyringTokenStore(backend=FakeBackend(ValueError("a bug")))
    with pytest.raises(ValueError, match="a bug"):
        store.load("a")


def test_a_hanging_keyring_fails_fast_and_does_not_pile_up_threads() -> None:
    backend = FakeBackend(hang=2.5)
    store = KeyringTokenStore(backend=backend, timeout=0.2)
    before = threading.active_count()
    started = time.monotonic()
    with pytest.raises(KeyringUnavailable, match=r"did not answer within 0\.2 s"):
        store.load("a")
    # While the first call is stuck, the next ones fail without starting a worker.
    for _ in range(3):
        with pytest.raises(KeyringUnavailable, match="still waiting"):
            store.save("a", {})
    assert time.monotonic() - started < 2.0
    assert backend.calls == 1
    assert threading.active_count() <= before + 1
    # Once the backend answers again, the store works again.
    backend.hang = 0.0
    deadline = time.monotonic() + 5
    while True:
        try:
            store.save("a", {"ok": True})
            break
        except KeyringUnavailable:
            assert time.monotonic() < deadline
    assert store.load("a") == {"ok": True}


def test_bad_backend_name_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring.core

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "no_such_module.Keyring")
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    store = KeyringTokenStore(timeout=5)
    with pytest.raises(
        KeyringUnavailable, match=re.escape("PYTHON_KEYRING_BACKEND=no_such_module.Keyring")
    ):
        store.load("a")
    assert "from PYTHON_KEYRING_BACKEND" in store.describe()


def test_the_env_backend_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring.core

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    store = KeyringTokenStore()
    store.save("a", {"x": 1})  # the null keyring forgets everything
    assert store.load("a") is None


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError):
        KeyringTokenStore(timeout=0)


def test_default_timeout_is_short() -> None:
    assert tokens.DEFAULT_KEYRING_TIMEOUT <= 10


def test_file_store_ignores_the_keyring(tmp_path: Path) -> None:
    # A file store never imports or calls keyring (a headless server opts in to it).
    store = FileTokenStore(tmp_path / "state")
    store.save("a", {"k": "v"})
    assert store.load("a") == {"k": "v"}
