"""Fixtures for login and token storage, for every auth suite (unit, contract, e2e).

Each auth folder's conftest imports them; `isolated_dirs` is autouse there.

* Every test gets its own XDG directories, so nothing touches the real config, state
  or keyring.
* ``sandbox``: the local fake of Google (followupd.sandbox) on a free port.
* ``Browser``: plays the user's browser for the real InstalledAppFlow: it watches what
  ``login`` says, takes the consent URL from its own line and GETs it; urllib follows
  the sandbox's 302 to the flow's loopback server.
* ``secret_service``: a real Secret Service, gnome-keyring-daemon on a private D-Bus
  session bus, with its own HOME, so the user's keyring is never touched. Missing
  binaries skip the test, except under CI, where they fail it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from support.auth_home import Browser, SecretService, start_secret_service, write_client_file


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    dirs = {
        "XDG_CONFIG_HOME": tmp_path / "xdg-config",
        "XDG_STATE_HOME": tmp_path / "xdg-state",
        "XDG_CACHE_HOME": tmp_path / "xdg-cache",
    }
    for var, path in dirs.items():
        monkeypatch.setenv(var, str(path))
    monkeypatch.delenv("FOLLOWUPD_CONFIG", raising=False)
    # login and Endpoints.for_config change these in os.environ; monkeypatch puts the
    # values from before the test back afterwards.
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    monkeypatch.delenv("OAUTHLIB_RELAX_TOKEN_SCOPE", raising=False)
    return dirs


@pytest.fixture
def client_file(tmp_path: Path) -> Path:
    """A downloaded Desktop app client JSON, as the user would have it."""
    downloads = tmp_path / "Downloads"
    downloads.mkdir()
    return write_client_file(downloads / "client_secret_1234.apps.googleusercontent.com.json")


# ----------------------------------------------------------------------- sandbox


@pytest.fixture
def sandbox() -> Iterator[Any]:
    from followupd.sandbox import Sandbox

    sb = Sandbox()
    sb.start()
    try:
        yield sb
    finally:
        sb.stop()


# ----------------------------------------------------------------------- browser


@pytest.fixture
def browser() -> Browser:
    return Browser()


# ---------------------------------------------------------------- secret service


@pytest.fixture(scope="module")
def secret_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretService]:
    """An unlocked Secret Service shared by a module's tests."""
    service = start_secret_service(tmp_path_factory.mktemp("secret-service"), unlock=True)
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def fresh_secret_service(tmp_path: Path) -> Iterator[Callable[..., SecretService]]:
    """A factory for private Secret Services (to lock, or never to unlock)."""
    started: list[SecretService] = []

    def start(*, unlock: bool) -> SecretService:
        service = start_secret_service(tmp_path / f"ss{len(started)}", unlock=unlock)
        started.append(service)
        return service

    try:
        yield start
    finally:
        for service in started:
            service.stop()


@pytest.fixture
def use_secret_service(
    secret_service: SecretService, monkeypatch: pytest.MonkeyPatch
) -> SecretService:
    """Point this process's keyring at the test Secret Service."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", secret_service.address)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.SecretService.Keyring")
    return secret_service
