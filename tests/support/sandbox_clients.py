"""The real Google client libraries logged in to the sandbox."""

from __future__ import annotations

import base64
import threading
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from google.oauth2.credentials import Credentials
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
