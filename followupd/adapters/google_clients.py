"""Google API clients: one HTTP connection per thread, one place for retries and errors.

Everything that talks to Calendar or Gmail goes through :meth:`GoogleClients.call`:

- idempotent requests (reads, deletes, ``PUT`` updates) are retried a bounded number of
  times with exponential backoff and jitter, honouring ``Retry-After`` on 429 and 503;
- non-idempotent requests (``drafts.create``, ``drafts.send``, ``messages.send``) are
  sent exactly once: no retry loop here, ``num_retries=0`` in googleapiclient, and no
  silent resend in httplib2 either (see :class:`NoResendHttp`);
- errors come out as followupd exceptions: :class:`~followupd.errors.AuthError` (exit 77),
  :class:`Unavailable` (a :class:`~followupd.errors.GoogleUnavailable`, exit 69, with
  ``retry_after``), :class:`OutcomeUnknown` (a request that may have reached Google),
  :class:`ScopeMissing`, and :class:`ApiNotFound` / :class:`ApiGone` /
  :class:`ApiRejected` that the adapters turn into results.

Log lines name the API method and the HTTP status only: never a URL (it can hold a
search query), a token, a message body or an event description.

httplib2's silent resend
------------------------
``httplib2.Http._conn_request`` sends a request again, once, when the response cannot
be read on the first try (``BadStatusLine``/``RemoteDisconnected``, i.e. the server
closed the connection): this is meant for stale keep-alive connections, but it also
fires when Google acted on a ``POST`` and the connection dropped before the answer
came back, so one ``drafts.create`` can make two drafts. ``httplib2.RETRIES`` does not
help: that path resets its attempt counter and resends "regardless of the number of
RETRIES set", and the constant is global to the process anyway. So we leave ``RETRIES``
alone and use :class:`NoResendHttp`, which sends every non-idempotent request on a
fresh connection (the usual cause of the legitimate resend is gone) and refuses to put
it on the wire a second time: the caller gets :class:`OutcomeUnknown` and decides
(the Gmail adapter looks for its own Message-ID after a create, and reports
``SendUncertain`` after a send). ``tests/adapters/test_google_clients.py`` checks both
httplib2's behaviour and ours against a raw socket server, so an httplib2 upgrade that
changes either shows up as a failing test.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import logging
import random
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httplib2

from followupd.errors import EXIT_NOPERM, AuthError, FollowupdError, GoogleUnavailable

log = logging.getLogger(__name__)

# HTTP methods that may be retried and resent: repeating them changes nothing more.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

# 403 reasons that mean "slow down", not "forbidden".
_RATE_LIMIT_REASONS = frozenset(
    {"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED", "quotaExceeded"}
)
_SCOPE_REASONS = frozenset(
    {"insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "insufficientScopes"}
)


# --------------------------------------------------------------------------- errors


class Unavailable(GoogleUnavailable):
    """Google did not answer usefully (connection error, 5xx, 429) after retries.

    ``retry_after`` is the server's ``Retry-After`` in seconds when it gave one.
    """

    def __init__(
        self, message: str, *, retry_after: float | None = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class OutcomeUnknown(Unavailable):
    """A non-idempotent request may have reached Google: the connection failed after it
    was sent (dropped, reset, timed out). Whether Google acted on it is unknown."""


class ScopeMissing(FollowupdError):
    """The token lacks a scope this request needs (403 insufficientPermissions)."""

    exit_code = EXIT_NOPERM


class TokenRefused(AuthError):
    """Google refused the refresh token (for instance ``invalid_grant``: revoked or
    expired). ``detail`` holds Google's error code."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class ApiError(FollowupdError):
    """An HTTP error answer that the adapter handles itself."""

    def __init__(self, message: str, *, status: int, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class ApiNotFound(ApiError):
    """404: the resource does not exist (any more)."""


class ApiGone(ApiError):
    """410: for Calendar, the sync token is no longer valid."""


class ApiRejected(ApiError):
    """Any other 4xx: the request itself is wrong."""


class ConnectionDropped(ConnectionError):
    """Raised by :class:`NoResendHttp` instead of sending a request a second time."""


# --------------------------------------------------------------------------- transport


class _SendOnce:
    """Wraps an ``http.client`` connection so that ``request()`` succeeds once only."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn
        self._sent = False

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self._sent:
            self._conn.close()
            raise ConnectionDropped(
                "the connection failed after the request was sent; not sending it again"
            )
        # Marked only once the whole request is written: a request that failed while
        # being written is incomplete, and a server does not act on it.
        self._conn.request(*args, **kwargs)
        self._sent = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class NoResendHttp(httplib2.Http):
    """``httplib2.Http`` that never sends a non-idempotent request twice.

    Each such request goes out on a fresh connection (so a stale keep-alive socket is
    no reason to resend), and a dropped connection raises :class:`ConnectionDropped`
    instead of the silent second attempt. Idempotent requests keep httplib2's
    behaviour.
    """

    def _conn_request(
        self, conn: Any, request_uri: str, method: str, body: Any, headers: Any
    ) -> tuple[Any, bytes]:
        parent: Callable[..., tuple[Any, bytes]] = super()._conn_request  # type: ignore[misc]
        if method.upper() in IDEMPOTENT_METHODS:
            return parent(conn, request_uri, method, body, headers)
        conn.close()
        return parent(_SendOnce(conn), request_uri, method, body, headers)


if not hasattr(httplib2.Http, "_conn_request"):  # pragma: no cover - guards an upgrade
    log.warning("httplib2 has no Http._conn_request: POST resend protection is inactive")


# --------------------------------------------------------------------------- clients


def _retry_after_seconds(value: str | None, now: Callable[[], datetime]) -> float | None:
    """Parse a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now()).total_seconds())


def _error_payload(content: bytes | str | None) -> tuple[str, set[str]]:
    """(message, reasons) from a Google JSON error body; ('', set()) when unreadable."""
    if not content:
        return "", set()
    try:
        text = content.decode("utf-8") if isinstance(content, bytes) else content
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError):
        return "", set()
    if isinstance(data, list) and data:
        data = data[0]
    if not isinstance(data, dict):
        return "", set()
    error = data.get("error")
    if not isinstance(error, dict):
        return "", set()
    reasons: set[str] = set()
    for key in ("errors", "details"):
        for item in error.get(key) or []:
            if isinstance(item, dict) and isinstance(item.get("reason"), str):
                reasons.add(item["reason"])
    if isinstance(error.get("status"), str):
        reasons.add(error["status"])
    message = error.get("message")
    return (message if isinstance(message, str) else ""), reasons


class GoogleClients:
    """Builds Calendar v3 and Gmail v1 services and executes their requests.

    ``endpoint`` (``[google] endpoint``) replaces Google's base URL, for the sandbox;
    empty means Google. Services and HTTP connections are per thread: httplib2 and
    service objects are not thread-safe, and APScheduler runs jobs in a thread pool.
    """

    def __init__(
        self,
        credentials: Any,
        *,
        endpoint: str = "",
        timeout: float = 30,
        attempts: int = 4,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
        max_retry_after: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self.credentials = credentials
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        self.attempts = attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_retry_after = max_retry_after
        self._sleep = sleep
        self._rand = rand
        self._now = now
        self._local = threading.local()

    # -- per-thread objects

    def http(self) -> Any:
        """This thread's authorized Http (created on first use)."""
        authed = getattr(self._local, "http", None)
        if authed is None:
            import google_auth_httplib2  # type: ignore[import-untyped]

            authed = google_auth_httplib2.AuthorizedHttp(
                self.credentials, http=NoResendHttp(timeout=self.timeout)
            )
            self._local.http = authed
        return authed

    def _service(self, name: str, version: str, api_endpoint: str) -> Any:
        services: dict[str, Any] | None = getattr(self._local, "services", None)
        if services is None:
            services = self._local.services = {}
        service = services.get(name)
        if service is None:
            from googleapiclient.discovery import build

            options = {"api_endpoint": api_endpoint} if self.endpoint else None
            service = build(
                name,
                version,
                http=self.http(),
                static_discovery=True,
                cache_discovery=False,
                client_options=options,
            )
            services[name] = service
        return service

    def calendar(self) -> Any:
        """This thread's Calendar v3 service."""
        return self._service("calendar", "v3", self.endpoint + "/calendar/v3/")

    def gmail(self) -> Any:
        """This thread's Gmail v1 service (its method paths start with gmail/v1/)."""
        return self._service("gmail", "v1", self.endpoint + "/")

    def close(self) -> None:
        """Close this thread's connections."""
        authed = getattr(self._local, "http", None)
        if authed is not None:
            for conn in list(authed.http.connections.values()):
                conn.close()

    # -- execution

    def call(self, request: Any, *, idempotent: bool) -> Any:
        """Execute a googleapiclient request and return its decoded body.

        Retries only when ``idempotent``; raises the exceptions described in the
        module docstring.
        """
        method = str(getattr(request, "methodId", None) or "google request")
        attempts = self.attempts if idempotent else 1
        attempt = 0
        while True:
            attempt += 1
            try:
                return request.execute(http=self.http(), num_retries=0)
            except Exception as exc:  # mapped below; the original is chained
                error = self._map_error(exc, method, idempotent)
            if not isinstance(error, Unavailable) or isinstance(error, OutcomeUnknown):
                raise error
            if attempt >= attempts:
                log.warning("%s: giving up after %d attempt(s): %s", method, attempt, error)
                raise error
            if not self.pause(attempt, error, method=method, attempts=attempts):
                raise error

    def backoff(self, attempt: int, error: Unavailable) -> float | None:
        """Seconds to wait before retry number ``attempt`` (1 for the first retry), or
        None when the server asked for a longer wait than ``max_retry_after``."""
        if error.retry_after is not None:
            return None if error.retry_after > self.max_retry_after else error.retry_after
        delay = min(self.backoff_cap, self.backoff_base * 2.0 ** (attempt - 1))
        return delay / 2 + self._rand() * delay / 2

    def pause(
        self, attempt: int, error: Unavailable, *, method: str = "", attempts: int = 0
    ) -> bool:
        """Sleep before retry number ``attempt``; False (no sleep) when it should not
        be retried now."""
        delay = self.backoff(attempt, error)
        if delay is None:
            log.warning("%s: asked to retry after %.0fs; not waiting", method, error.retry_after)
            return False
        log.info(
            "%s: %s; retry %d of %s in %.1fs",
            method or "google request",
            error.status or "connection error",
            attempt,
            attempts - 1 if attempts else "?",
            delay,
        )
        self._sleep(delay)
        return True

    def _map_error(self, exc: Exception, method: str, idempotent: bool) -> FollowupdError:
        from google.auth import exceptions as auth_exceptions
        from googleapiclient.errors import HttpError

        mapped: FollowupdError
        if isinstance(exc, HttpError):
            mapped = self._map_http_error(exc, method)
        elif isinstance(exc, auth_exceptions.RefreshError):
            mapped = self._map_refresh_error(exc, method)
        elif isinstance(exc, auth_exceptions.TransportError):
            mapped = Unavailable(f"{method}: cannot reach Google to refresh the login")
        elif isinstance(exc, ConnectionRefusedError | httplib2.ServerNotFoundError):
            # Nothing was sent: safe to report as plainly unavailable.
            mapped = Unavailable(f"{method}: cannot connect to Google ({type(exc).__name__})")
        elif isinstance(exc, OSError | http.client.HTTPException | httplib2.HttpLib2Error):
            kind = "timed out" if isinstance(exc, socket.timeout) else "connection failed"
            if idempotent:
                mapped = Unavailable(f"{method}: {kind} ({type(exc).__name__})")
            else:
                mapped = OutcomeUnknown(
                    f"{method}: {kind} after the request was sent ({type(exc).__name__});"
                    " Google may or may not have acted on it"
                )
        else:
            raise exc
        mapped.__cause__ = exc
        return mapped

    def _map_http_error(self, exc: Any, method: str) -> FollowupdError:
        status = int(exc.resp.status)
        message, reasons = _error_payload(exc.content)
        reason = sorted(reasons)[0] if reasons else ""
        where = f"{method}: HTTP {status}"
        if status == 401:
            return AuthError(
                f"{where}: Google refused the access token; run `followupd login` again"
            )
        if status == 403 and reasons & _SCOPE_REASONS:
            return ScopeMissing(
                f"{where}: the login lacks a permission this needs; "
                "run `followupd login` again and tick every box on the consent page"
            )
        if status == 429 or status >= 500 or (status == 403 and reasons & _RATE_LIMIT_REASONS):
            retry_after = None
            if status in (429, 503):
                retry_after = _retry_after_seconds(exc.resp.get("retry-after"), self._now)
            return Unavailable(f"{where} {reason}".rstrip(), retry_after=retry_after, status=status)
        if status == 404:
            return ApiNotFound(where, status=status, reason=reason)
        if status == 410:
            return ApiGone(where, status=status, reason=reason)
        if status == 403 and "scope" in message.lower():
            # Gmail's gmail.metadata scope refuses `q` and format=full with a plain 403.
            return ScopeMissing(f"{where}: the login's scopes do not allow this request")
        return ApiRejected(f"{where} {reason}".rstrip(), status=status, reason=reason)

    def _map_refresh_error(self, exc: Any, method: str) -> FollowupdError:
        if getattr(exc, "retryable", False):
            return Unavailable(f"{method}: Google's token endpoint is not answering")
        detail = ""
        if len(exc.args) > 1 and isinstance(exc.args[1], dict):
            detail = str(exc.args[1].get("error", ""))
        if not detail and exc.args:
            # "invalid_grant: Token has been expired or revoked." -> "invalid_grant"
            first = str(exc.args[0])
            head = first.split(":", 1)[0].strip()
            detail = head if head and " " not in head else ""
        from followupd.adapters.google_auth import classify_refresh_error

        # The likely causes and the fix ("Testing" apps' 7-day expiry, revoked access,
        # password change) come from one place, shared with `followupd login`.
        problem = classify_refresh_error(exc)
        if problem.kind in ("invalid_grant", "invalid_client"):
            return TokenRefused(f"{problem.message}. {problem.fix}", detail=detail)
        shown = f" ({detail})" if detail else ""
        return TokenRefused(
            f"Google refused the saved login{shown}; run `followupd login` again",
            detail=detail,
        )
