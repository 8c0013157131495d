"""GoogleClients without a server: error mapping, retries, per-thread services, and
httplib2's silent POST resend (against a raw socket server)."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httplib2
import pytest
from google.auth import exceptions as auth_exceptions
from googleapiclient.errors import HttpError
from support.adapter_worlds import Sleeps, make_credentials

from followupd.adapters.google.api_errors import (
    ApiGone,
    ApiNotFound,
    ApiRejected,
    OutcomeUnknown,
    ScopeMissing,
    TokenRefused,
    Unavailable,
)
from followupd.adapters.google.no_resend import ConnectionDropped, NoResendHttp
from followupd.adapters.google.transport import GoogleClients
from followupd.errors import AuthError, GoogleUnavailable, KeyringUnavailable

# --------------------------------------------------------------------------- helpers


def http_error(status: int, reason: str = "", message: str = "", **headers: str) -> HttpError:
    body: dict[str, Any] = {"error": {"code": status, "message": message or reason}}
    if reason:
        body["error"]["errors"] = [{"reason": reason, "message": message or reason}]
    resp = httplib2.Response({"status": str(status), **headers})
    return HttpError(resp, json.dumps(body).encode(), uri="https://x/?q=secretquery")


def refresh_error(*args: Any, **kwargs: Any) -> Exception:
    return auth_exceptions.RefreshError(*args, **kwargs)  # type: ignore[no-untyped-call]


def transport_error(*args: Any) -> Exception:
    return auth_exceptions.TransportError(*args)  # type: ignore[no-untyped-call]


class FakeRequest:
    """Stands in for a googleapiclient HttpRequest: plays a list of outcomes."""

    def __init__(self, *outcomes: Any, method_id: str = "gmail.users.drafts.get") -> None:
        self.methodId = method_id
        self.outcomes = list(outcomes)
        self.calls = 0

    def execute(self, http: Any = None, num_retries: int = 0) -> Any:
        assert num_retries == 0, "googleapiclient must never retry on its own"
        assert http is not None, "every request runs on this thread's Http"
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


@pytest.fixture
def clients(sleeps: Sleeps) -> GoogleClients:
    return GoogleClients(make_credentials(token="ya29.test"), sleep=sleeps, rand=lambda: 0.5)


# --------------------------------------------------------------------------- retries


class TestCall:
    """call(): bounded retries for idempotent requests only, and errors mapped."""

    def test_success_passes_through(self, clients: GoogleClients, sleeps: Sleeps) -> None:
        assert clients.call(FakeRequest({"id": "1"}), idempotent=True) == {"id": "1"}
        assert sleeps.calls == []

    def test_429_is_retried_after_retry_after(self, clients: GoogleClients, sleeps: Sleeps) -> None:
        request = FakeRequest(http_error(429, "rateLimitExceeded", **{"retry-after": "7"}), {})
        assert clients.call(request, idempotent=True) == {}
        assert request.calls == 2
        assert sleeps.calls == [7.0]

    def test_retry_after_as_http_date(self, sleeps: Sleeps) -> None:
        now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
        clients = GoogleClients(None, sleep=sleeps, now=lambda: now)
        when = format_datetime(now + timedelta(seconds=20), usegmt=True)
        request = FakeRequest(http_error(503, "backendError", **{"retry-after": when}), {})
        clients.call(request, idempotent=True)
        assert sleeps.calls == [20.0]

    def test_5xx_backs_off_exponentially_then_gives_up(
        self, clients: GoogleClients, sleeps: Sleeps
    ) -> None:
        request = FakeRequest(*[http_error(500, "backendError")] * 4)
        with pytest.raises(Unavailable) as info:
            clients.call(request, idempotent=True)
        assert isinstance(info.value, GoogleUnavailable)
        assert info.value.exit_code == 69
        assert info.value.status == 500
        assert request.calls == 4
        assert sleeps.calls == [0.75, 1.5, 3.0]  # base 1, 2, 4 with rand() = 0.5

    def test_jitter_stays_within_half_to_full_delay(self, sleeps: Sleeps) -> None:
        for rand in (0.0, 0.999):
            sleeps.calls.clear()
            clients = GoogleClients(None, sleep=sleeps, rand=lambda r=rand: r)  # type: ignore[misc]
            with pytest.raises(Unavailable):
                clients.call(FakeRequest(*[OSError("boom")] * 4), idempotent=True)
            for slept, full in zip(sleeps.calls, [1, 2, 4], strict=True):
                assert full / 2 <= slept <= full

    def test_long_retry_after_is_not_waited_for(
        self, clients: GoogleClients, sleeps: Sleeps
    ) -> None:
        request = FakeRequest(http_error(429, "rateLimitExceeded", **{"retry-after": "3600"}))
        with pytest.raises(Unavailable) as info:
            clients.call(request, idempotent=True)
        assert info.value.retry_after == 3600
        assert request.calls == 1 and sleeps.calls == []

    def test_rate_limit_403_is_retried(self, clients: GoogleClients, sleeps: Sleeps) -> None:
        request = FakeRequest(http_error(403, "userRateLimitExceeded"), {"ok": True})
        assert clients.call(request, idempotent=True) == {"ok": True}
        assert len(sleeps.calls) == 1

    def test_non_idempotent_is_never_retried(self, clients: GoogleClients, sleeps: Sleeps) -> None:
        request = FakeRequest(http_error(500, "backendError"), {})
        with pytest.raises(Unavailable) as info:
            clients.call(request, idempotent=False)
        assert not isinstance(info.value, OutcomeUnknown)  # Google answered: it said 500
        assert request.calls == 1 and sleeps.calls == []

    def test_dropped_non_idempotent_is_outcome_unknown(self, clients: GoogleClients) -> None:
        for exc in (ConnectionDropped("x"), ConnectionResetError(), TimeoutError("slow")):
            with pytest.raises(OutcomeUnknown):
                clients.call(FakeRequest(exc, {}), idempotent=False)

    def test_refused_connection_is_plainly_unavailable(self, clients: GoogleClients) -> None:
        with pytest.raises(Unavailable) as info:
            clients.call(FakeRequest(ConnectionRefusedError()), idempotent=False)
        assert not isinstance(info.value, OutcomeUnknown)

    def test_connection_errors_on_reads_are_retried(
        self, clients: GoogleClients, sleeps: Sleeps
    ) -> None:
        request = FakeRequest(ConnectionResetError(), httplib2.ServerNotFoundError("dns"), {})
        assert clients.call(request, idempotent=True) == {}
        assert request.calls == 3 and len(sleeps.calls) == 2


class TestErrorMapping:
    """HTTP and auth errors become followupd exceptions."""

    @pytest.mark.parametrize(
        ("error", "expected"),
        [
            (http_error(401, "authError"), AuthError),
            (http_error(403, "insufficientPermissions"), ScopeMissing),
            (
                http_error(403, "forbidden", "Metadata scope does not support 'q' parameter"),
                ScopeMissing,
            ),
            (http_error(403, "forbidden", "Delegation denied"), ApiRejected),
            (http_error(404, "notFound"), ApiNotFound),
            (http_error(410, "fullSyncRequired"), ApiGone),
            (http_error(400, "invalidArgument"), ApiRejected),
        ],
    )
    def test_http_errors(
        self, clients: GoogleClients, sleeps: Sleeps, error: Any, expected: Any
    ) -> None:
        request = FakeRequest(error)
        with pytest.raises(expected):
            clients.call(request, idempotent=True)
        assert request.calls == 1 and sleeps.calls == []

    def test_scope_from_error_details(self, clients: GoogleClients) -> None:
        body = {
            "error": {
                "code": 403,
                "message": "Request had insufficient authentication scopes.",
                "status": "PERMISSION_DENIED",
                "details": [{"reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}],
            }
        }
        error = HttpError(httplib2.Response({"status": "403"}), json.dumps(body).encode())
        with pytest.raises(ScopeMissing) as info:
            clients.call(FakeRequest(error), idempotent=True)
        assert info.value.exit_code == 77

    def test_invalid_grant_keeps_detail(self, clients: GoogleClients) -> None:
        error = refresh_error(
            "invalid_grant: Token has been expired or revoked.",
            {"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
        )
        with pytest.raises(TokenRefused) as info:
            clients.call(FakeRequest(error), idempotent=True)
        assert info.value.detail == "invalid_grant"
        assert "invalid_grant" in str(info.value)
        assert isinstance(info.value, AuthError) and info.value.exit_code == 77

    def test_retryable_refresh_error_is_unavailable(
        self, clients: GoogleClients, sleeps: Sleeps
    ) -> None:
        error = refresh_error("internal_failure", {"error": "internal_failure"}, retryable=True)
        request = FakeRequest(error, transport_error("refused"), {})
        assert clients.call(request, idempotent=True) == {}
        assert len(sleeps.calls) == 2

    def test_messages_carry_no_url(
        self, clients: GoogleClients, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG, logger="followupd")
        request = FakeRequest(*[http_error(503, "backendError")] * 4)
        with pytest.raises(Unavailable) as info:
            clients.call(request, idempotent=True)
        assert "secretquery" not in str(info.value)
        assert "secretquery" not in caplog.text
        assert "gmail.users.drafts.get" in caplog.text

    def test_unknown_exceptions_propagate(self, clients: GoogleClients) -> None:
        with pytest.raises(KeyError):
            clients.call(FakeRequest(KeyError("bug")), idempotent=True)


class TestServices:
    """Services point at the endpoint and are built once per thread."""

    def test_endpoint(self) -> None:
        clients = GoogleClients(make_credentials(token="t"), endpoint="http://127.0.0.1:8765/")
        assert clients.calendar()._baseUrl == "http://127.0.0.1:8765/calendar/v3/"
        assert clients.gmail()._baseUrl == "http://127.0.0.1:8765/"
        request = clients.gmail().users().drafts().create(userId="me", body={})
        assert request.uri.startswith("http://127.0.0.1:8765/gmail/v1/users/me/drafts")
        request = clients.calendar().events().list(calendarId="primary")
        assert request.uri.startswith("http://127.0.0.1:8765/calendar/v3/calendars/primary/")

    def test_default_is_google(self) -> None:
        clients = GoogleClients(make_credentials(token="t"))
        assert clients.calendar()._baseUrl.startswith("https://www.googleapis.com/calendar/v3")
        assert clients.gmail()._baseUrl.startswith("https://gmail.googleapis.com/")

    def test_one_http_and_service_per_thread(self) -> None:
        clients = GoogleClients(make_credentials(token="t"))
        here = (clients.http(), clients.gmail())
        assert here == (clients.http(), clients.gmail())
        there: list[Any] = []
        worker = threading.Thread(target=lambda: there.extend([clients.http(), clients.gmail()]))
        worker.start()
        worker.join()
        assert there[0] is not here[0] and there[1] is not here[1]
        assert isinstance(here[0].http, NoResendHttp)
        assert here[0].http.timeout == 30


class RotatingRequest:
    """A request during which google-auth refreshed and got a new refresh token (as it
    does when the token endpoint sends one), then *outcome* came back."""

    methodId = "gmail.users.getProfile"

    def __init__(self, credentials: Any, new_token: str, outcome: Any = None) -> None:
        self.credentials = credentials
        self.new_token = new_token
        self.outcome = {} if outcome is None else outcome

    def execute(self, http: Any = None, num_retries: int = 0) -> Any:
        self.credentials._refresh_token = self.new_token
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


class TestRotatedRefreshToken:
    """A refresh token google-auth received in place of ours goes to the saver, once."""

    def test_handed_over_once(self, sleeps: Sleeps) -> None:
        creds = make_credentials(token="t", refresh_token="1//old")
        saved: list[str] = []
        clients = GoogleClients(
            creds, sleep=sleeps, on_refresh_token_rotated=lambda c: saved.append(c.refresh_token)
        )
        clients.call(FakeRequest({}), idempotent=True)
        assert saved == []  # not rotated
        clients.call(RotatingRequest(creds, "1//new"), idempotent=True)
        clients.call(FakeRequest({}), idempotent=True)
        assert saved == ["1//new"]

    def test_also_when_the_request_then_fails(self, sleeps: Sleeps) -> None:
        creds = make_credentials(token="t", refresh_token="1//old")
        saved: list[str] = []
        clients = GoogleClients(
            creds, sleep=sleeps, on_refresh_token_rotated=lambda c: saved.append(c.refresh_token)
        )
        with pytest.raises(ApiNotFound):
            clients.call(RotatingRequest(creds, "1//new", http_error(404)), idempotent=True)
        assert saved == ["1//new"]

    def test_a_failed_save_does_not_fail_the_request_and_is_tried_again(
        self, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
    ) -> None:
        creds = make_credentials(token="t", refresh_token="1//old")
        attempts: list[str] = []

        def save(credentials: Any) -> None:
            attempts.append(credentials.refresh_token)
            if len(attempts) == 1:
                raise KeyringUnavailable("cannot write to the system keyring: locked")

        clients = GoogleClients(creds, sleep=sleeps, on_refresh_token_rotated=save)
        assert clients.call(RotatingRequest(creds, "1//new", {"ok": 1}), idempotent=True) == {
            "ok": 1
        }
        assert "cannot save the refresh token Google rotated (KeyringUnavailable)" in caplog.text
        clients.call(FakeRequest({}), idempotent=True)
        clients.call(FakeRequest({}), idempotent=True)
        assert attempts == ["1//new", "1//new"]
        assert "1//new" not in caplog.text


# --------------------------------------------------------------------------- httplib2


class DropServer:
    """A raw HTTP/1.1 server: reads each request whole, then closes the connection
    without answering for the first ``drops`` requests (as if it crashed after acting),
    and answers ``200 {}`` (keep-alive) after that."""

    def __init__(self, drops: int) -> None:
        self.drops = drops
        self.requests: list[str] = []
        self.connections = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            buffer = b""
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                buffer = buffer[length:]
                self.requests.append(head.split(b" ", 1)[0].decode())
                if len(self.requests) <= self.drops:
                    conn.shutdown(socket.SHUT_RDWR)
                    return
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 2\r\n\r\n{}"
                )

    def close(self) -> None:
        self._stop = True
        self.sock.close()


@pytest.fixture
def drop_once() -> Iterator[DropServer]:
    server = DropServer(drops=1)
    yield server
    server.close()


class TestNoResendHttp:
    """httplib2 sends a dropped POST again; NoResendHttp does not (PITFALLS.md)."""

    def test_httplib2_itself_resends_a_dropped_post(self, drop_once: DropServer) -> None:
        # If this starts failing, httplib2 changed: re-read google/no_resend.py's docstring.
        resp, _ = httplib2.Http(timeout=5).request(drop_once.url, "POST", body=b"{}")
        assert resp.status == 200
        assert drop_once.requests == ["POST", "POST"]

    def test_httplib2_retries_constant_does_not_stop_it(
        self, drop_once: DropServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(httplib2, "RETRIES", 1)
        resp, _ = httplib2.Http(timeout=5).request(drop_once.url, "POST", body=b"{}")
        assert resp.status == 200
        assert drop_once.requests == ["POST", "POST"]

    def test_post_is_sent_once(self, drop_once: DropServer) -> None:
        with pytest.raises(ConnectionDropped):
            NoResendHttp(timeout=5).request(drop_once.url, "POST", body=b"{}")
        assert drop_once.requests == ["POST"]

    def test_get_is_still_resent(self, drop_once: DropServer) -> None:
        resp, content = NoResendHttp(timeout=5).request(drop_once.url, "GET")
        assert resp.status == 200 and content == b"{}"
        assert drop_once.requests == ["GET", "GET"]

    def test_post_uses_a_fresh_connection(self) -> None:
        server = DropServer(drops=0)
        try:
            http = NoResendHttp(timeout=5)
            http.request(server.url, "GET")
            http.request(server.url, "GET")
            assert server.connections == 1  # keep-alive for reads
            http.request(server.url, "POST", body=b"{}")
            assert server.connections == 2
            assert server.requests == ["GET", "GET", "POST"]
        finally:
            server.close()

    def test_through_call_it_is_outcome_unknown(self, drop_once: DropServer) -> None:
        clients = GoogleClients(make_credentials(token="t"), endpoint=drop_once.url.rstrip("/"))
        request = clients.gmail().users().drafts().create(userId="me", body={"message": {}})
        with pytest.raises(OutcomeUnknown):
            clients.call(request, idempotent=False)
        assert drop_once.requests == ["POST"]
