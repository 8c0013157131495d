"""Google API clients: one HTTP connection per thread, one place for retries.

Everything that talks to Calendar or Gmail goes through :meth:`GoogleClients.call`:

- idempotent requests (reads, deletes, ``PUT`` updates) are retried a bounded number of
  times with exponential backoff and jitter, honouring ``Retry-After`` on 429 and 503;
- non-idempotent requests (``drafts.create``, ``drafts.send``, ``messages.send``) are
  sent exactly once: no retry loop here, ``num_retries=0`` in googleapiclient, and no
  silent resend in httplib2 either (see :mod:`~followupd.adapters.google.no_resend`);
- errors come out as the followupd exceptions of
  :mod:`~followupd.adapters.google.api_errors`;
- google-auth refreshes the access token inside the request when it is missing or
  refused; when that refresh brings a new refresh token, ``on_refresh_token_rotated``
  is called with the credentials, so that the new token is saved.

Log lines name the API method and the HTTP status only: never a URL (it can hold a
search query), a token, a message body or an event description.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from followupd.adapters.google.api_errors import OutcomeUnknown, Unavailable, map_exception
from followupd.adapters.google.no_resend import NoResendHttp
from followupd.errors import FollowupdError

log = logging.getLogger(__name__)


class GoogleClients:
    """Builds Calendar v3 and Gmail v1 services and executes their requests.

    ``endpoint`` (``[google] endpoint``) replaces Google's base URL, for the sandbox;
    empty means Google. Services and HTTP connections are per thread: httplib2 and
    service objects are not thread-safe, and APScheduler runs jobs in a thread pool.
    ``on_refresh_token_rotated(credentials)`` saves a refresh token the token endpoint
    replaced (see :func:`~followupd.adapters.google.credentials.store_rotated_token`).
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
        on_refresh_token_rotated: Callable[[Any], object] | None = None,
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
        self._on_rotated = on_refresh_token_rotated
        self._kept_refresh_token = getattr(credentials, "refresh_token", None)
        self._rotation_lock = threading.Lock()

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

    # -- execution

    def call(self, request: Any, *, idempotent: bool) -> Any:
        """Execute a googleapiclient request and return its decoded body.

        Retries only when ``idempotent``; raises the exceptions of
        :mod:`~followupd.adapters.google.api_errors`.
        """
        method = str(getattr(request, "methodId", None) or "google request")
        attempts = self.attempts if idempotent else 1
        attempt = 0
        while True:
            attempt += 1
            try:
                return request.execute(http=self.http(), num_retries=0)
            except Exception as exc:  # mapped below; the original is chained
                error = map_exception(exc, method, idempotent=idempotent, now=self._now)
            finally:
                # A refresh inside the request (answered or not) may have rotated it.
                self._keep_rotated_refresh_token()
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

    def _keep_rotated_refresh_token(self) -> None:
        """Hand a refresh token google-auth received in place of ours to the saver,
        once. A failed save is retried after the next request; it never fails this one.
        """
        token = getattr(self.credentials, "refresh_token", None)
        if self._on_rotated is None or not token or token == self._kept_refresh_token:
            return
        with self._rotation_lock:
            if token == self._kept_refresh_token:
                return  # another thread saved it meanwhile
            try:
                self._on_rotated(self.credentials)
            except (FollowupdError, OSError) as exc:
                # The type only: a keyring message is long, and nothing here may
                # carry the token.
                log.warning("cannot save the refresh token Google rotated (%s)", type(exc).__name__)
                return
            self._kept_refresh_token = token
