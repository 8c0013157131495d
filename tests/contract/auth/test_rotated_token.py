"""A refresh token the token endpoint rotates is saved by the engine that the daemon
and `followupd sync` build (followupd.app.wiring.build_engine), used from then on, and
never logged.

The sandbox does not rotate refresh tokens (Google does not for installed apps today;
OAuth allows it), so a stand-in plays Google here: a token endpoint that answers every
refresh with a new refresh token, and Gmail's users.getProfile.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from support.auth_home import CLIENT_ID, CLIENT_SECRET

from followupd import paths
from followupd.adapters.google.account import write_account
from followupd.adapters.google.client_secrets import import_client_secrets
from followupd.adapters.google.credentials import token_record
from followupd.adapters.google.endpoints import Endpoints
from followupd.adapters.google.scopes import CALENDAR_READONLY, GMAIL_COMPOSE, GMAIL_METADATA
from followupd.adapters.store import Store
from followupd.adapters.tokens import FileTokenStore
from followupd.app.wiring import build_engine
from followupd.core.settings import Config

ME = "ada@example.com"
FIRST = "1//first-refresh-token"


class RotatingGoogle(ThreadingHTTPServer):
    """POST /token: a new access token and a new refresh token on every refresh;
    GET /gmail/v1/users/me/profile: the account, for a valid access token."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.refreshed_with: list[str] = []
        self.access_tokens: set[str] = set()
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: RotatingGoogle

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        form = urllib.parse.parse_qs(body)
        if self.path != "/token" or form.get("client_secret") != [CLIENT_SECRET]:
            return self._answer(400, {"error": "invalid_request"})
        self.server.refreshed_with.append(form["refresh_token"][0])
        n = len(self.server.refreshed_with)
        self.server.access_tokens.add(f"ya29.stand-in-{n}")
        answer = {
            "access_token": f"ya29.stand-in-{n}",
            "expires_in": 3600,
            "token_type": "Bearer",
            "refresh_token": f"1//rotated-{n}",
        }
        self._answer(200, answer)

    def do_GET(self) -> None:
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.server.access_tokens:
            return self._answer(401, {"error": {"code": 401, "message": "no"}})
        if not self.path.startswith("/gmail/v1/users/me/profile"):
            return self._answer(404, {"error": {"code": 404, "message": "not found"}})
        self._answer(200, {"emailAddress": ME, "messagesTotal": 0, "historyId": "1"})

    def _answer(self, status: int, data: dict[str, Any]) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the stand-in's requests are not the product's log


@pytest.fixture
def google() -> Iterator[RotatingGoogle]:
    server = RotatingGoogle()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_the_engine_saves_a_rotated_refresh_token(
    google: RotatingGoogle, client_file: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config = Config.model_validate({"google": {"endpoint": google.url}, "token_store": "file"})
    # A saved login, as `followupd login` leaves it.
    store = FileTokenStore(paths.state_dir())
    before = token_record(
        account=ME,
        refresh_token=FIRST,
        client_id=CLIENT_ID,
        client_secrets=import_client_secrets(client_file),
        endpoints=Endpoints.for_config(config),
        scopes=[CALENDAR_READONLY, GMAIL_COMPOSE, GMAIL_METADATA],
    )
    store.save(ME, before)
    write_account(ME)

    engine = build_engine(config, store=Store(tmp_path / "state.db"), notifiers=[])
    assert engine.mailbox.profile_email() == ME

    assert google.refreshed_with == [FIRST]
    after = store.load(ME)
    assert after is not None and after["refresh_token"] == "1//rotated-1"
    assert {k: v for k, v in after.items() if k != "refresh_token"} == {
        k: v for k, v in before.items() if k != "refresh_token"
    }

    # The next engine (a daemon restart, a config reload) refreshes with the saved one.
    engine = build_engine(config, store=Store(tmp_path / "state.db"), notifiers=[])
    assert engine.mailbox.profile_email() == ME
    assert google.refreshed_with == [FIRST, "1//rotated-1"]
    after = store.load(ME)
    assert after is not None and after["refresh_token"] == "1//rotated-2"

    assert any("rotated" in record.getMessage() for record in caplog.records)
    for record in caplog.records:
        text = record.getMessage() + repr(record.args)
        assert "1//" not in text and "ya29." not in text, text
