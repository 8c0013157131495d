"""An ``httplib2.Http`` that never sends a non-idempotent request twice.

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
it on the wire a second time: the caller gets
:class:`~followupd.adapters.google.api_errors.OutcomeUnknown` and decides (the Gmail
adapter looks for its own Message-ID after a create, and reports ``SendUncertain``
after a send). ``tests/contract/adapters/test_google_clients.py`` checks both httplib2's
behaviour and ours against a raw socket server, so an httplib2 upgrade that changes
either shows up as a failing test.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httplib2

log = logging.getLogger(__name__)

# HTTP methods that may be retried and resent: repeating them changes nothing more.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class ConnectionDropped(ConnectionError):
    """Raised by :class:`NoResendHttp` instead of sending a request a second time."""


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
