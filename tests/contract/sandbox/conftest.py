"""Fixtures: a started sandbox and real Google client objects pointed at it."""

from __future__ import annotations

import webbrowser
from collections.abc import Iterator

import pytest
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import InstalledAppFlow
from support.sandbox_clients import (
    DEFAULT_SCOPES,
    Login,
    _Browser,
    client_config,
)

from followupd.sandbox import Sandbox


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> _Browser:
    fake = _Browser()
    monkeypatch.setattr(webbrowser, "get", lambda using=None: fake)
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    return fake


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def login(browser: _Browser) -> Login:
    """Run the real InstalledAppFlow against the sandbox; returns its Credentials."""

    def run(sb: Sandbox, scopes: list[str] | None = None) -> Credentials:
        flow = InstalledAppFlow.from_client_config(client_config(sb), scopes or DEFAULT_SCOPES)
        creds = flow.run_local_server(
            port=0, open_browser=True, timeout_seconds=10, authorization_prompt_message=""
        )
        assert not browser.errors, browser.errors
        assert isinstance(creds, Credentials)
        return creds

    return run
