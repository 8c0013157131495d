"""Refreshing credentials on demand, for tests that drive the token endpoint directly.

The product never refreshes by hand: google-auth refreshes inside the transport
(`followupd.adapters.google.transport`), which hands a rotated refresh token to
`store_rotated_token`. The auth suites use this to exercise the sandbox's token
endpoint and the product's classification of its refusals.
"""

from __future__ import annotations

from typing import Any

from followupd.adapters.google.auth_problems import classify_refresh_error
from followupd.adapters.google.credentials import store_rotated_token
from followupd.adapters.tokens import TokenStore


class _TimeoutRequest:
    """google.auth.transport.requests.Request with a shorter default timeout."""

    def __init__(self, timeout: float) -> None:
        import google.auth.transport.requests

        self._request = google.auth.transport.requests.Request()
        self._timeout = timeout

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: Any = None,
        headers: Any = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> Any:
        return self._request(
            url,
            method=method,
            body=body,
            headers=headers,
            timeout=timeout or self._timeout,
            **kwargs,
        )


def refresh_credentials(
    credentials: Any,
    *,
    timeout: float = 30.0,
    token_store: TokenStore | None = None,
) -> None:
    """Refresh *credentials* now; failures become AuthError / GoogleUnavailable.

    With *token_store*, a refresh token the server rotated is saved back (Google does
    not rotate them for installed apps today, but the protocol allows it).
    """
    from google.auth import exceptions as gexc

    before = credentials.refresh_token
    try:
        credentials.refresh(_TimeoutRequest(timeout))  # type: ignore[no-untyped-call]
    except (gexc.RefreshError, gexc.TransportError) as exc:
        raise classify_refresh_error(exc).error() from exc
    if token_store is not None and credentials.refresh_token != before:
        store_rotated_token(token_store, credentials)
