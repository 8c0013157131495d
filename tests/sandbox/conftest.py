"""Fixtures: a started sandbox and real Google client objects pointed at it."""

from __future__ import annotations

import base64
import threading
import urllib.request
import webbrowser
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from google.oauth2.credentials import Credentials
from google_auth_oauthlib.flow import InstalledAppFlow
from googleapiclient.discovery import build

from followupd.sandbox import Sandbox

CAL_RO = "https://www.googleapis.com/auth/calendar.readonly"
COMPOSE = "https://www.googleapis.com/auth/gmail.compose"
METADATA = "https://www.googleapis.com/auth/gmail.metadata"
READONLY = "https://www.googleapis.com/auth/gmail.readonly"
DEFAULT_SCOPES = [CAL_RO, COMPOSE, METADATA]


class _Browser:
    """Plays the user's browser: opens the consent URL and follows the redirect."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.errors: list[BaseException] = []

    def open(self, url: str, new: int = 0, autoraise: bool = True) -> bool:
        self.urls.append(url)

        def visit() -> None:
            try:
                with urllib.request.urlopen(url, timeout=10) as resp:
                    resp.read()
            except BaseException as exc:  # surfaced by the test
                self.errors.append(exc)

        threading.Thread(target=visit, daemon=True).start()
        return True


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


def client_config(sb: Sandbox, client_id: str = "test-client", secret: str = "test-secret") -> Any:
    return {
        "installed": {
            "client_id": client_id,
            "client_secret": secret,
            "auth_uri": sb.url + "/o/oauth2/auth",
            "token_uri": sb.url + "/token",
            "redirect_uris": ["http://localhost"],
        }
    }


Login = Callable[..., Credentials]


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


def credentials(url: str, tokens: dict[str, Any]) -> Credentials:
    """Credentials for a token response of the /_sandbox/tokens test API."""
    creds: Credentials = Credentials(  # type: ignore[no-untyped-call]
        tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        token_uri=url + "/token",
        client_id=tokens["client_id"],
        client_secret=tokens["client_secret"],
    )
    return creds


def _url(target: Sandbox | str) -> str:
    return target if isinstance(target, str) else target.url


def calendar(target: Sandbox | str, creds: Credentials) -> Any:
    return build(
        "calendar",
        "v3",
        static_discovery=True,
        client_options={"api_endpoint": _url(target) + "/calendar/v3/"},
        credentials=creds,
    )


def gmail(target: Sandbox | str, creds: Credentials) -> Any:
    return build(
        "gmail",
        "v1",
        static_discovery=True,
        client_options={"api_endpoint": _url(target) + "/"},
        credentials=creds,
    )


def raw_message(
    to: str = "bob@acme.example",
    subject: str = "Thank you",
    text: str = "Hello Bob, thanks for today.",
    **headers: str,
) -> str:
    msg = EmailMessage()
    msg["From"] = "Casey Candidate <candidate@example.com>"
    msg["To"] = to
    msg["Subject"] = subject
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(text)
    return base64.urlsafe_b64encode(msg.as_bytes()).decode()
