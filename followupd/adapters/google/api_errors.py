"""What Google's answers mean, in one place: the exceptions the adapters see, and the
mapping from googleapiclient, google-auth, httplib2 and socket exceptions to them.

- :class:`~followupd.errors.AuthError` (exit 77): the access token was refused (401);
  :class:`TokenRefused` when the refresh token was (``invalid_grant`` and the like);
- :class:`Unavailable` (a :class:`~followupd.errors.GoogleUnavailable`, exit 69, with
  ``retry_after``): no useful answer (connection error, 5xx, 429, rate-limit 403), to
  be retried; :class:`OutcomeUnknown`: a non-idempotent request may have reached
  Google, never retried blindly;
- :class:`ScopeMissing`: the login lacks a scope this request needs;
- :class:`ApiNotFound` (404) / :class:`ApiGone` (410) / :class:`ApiRejected` (other
  4xx), which the adapters turn into results.

Messages name the API method and the HTTP status only: never a URL (it can hold a
search query), a token, a message body or an event description.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httplib2

from followupd.adapters.google.auth_problems import classify_refresh_error
from followupd.errors import EXIT_NOPERM, AuthError, FollowupdError, GoogleUnavailable

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


# --------------------------------------------------------------------------- mapping


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


def map_exception(
    exc: Exception, method: str, *, idempotent: bool, now: Callable[[], datetime]
) -> FollowupdError:
    """The followupd exception for what executing *method* raised, with *exc* chained;
    *exc* itself is raised again when it is none of the above (a bug, not Google).

    *idempotent* decides what a broken connection means: for a request that may be
    repeated, plain :class:`Unavailable`; for one that may not, :class:`OutcomeUnknown`.
    """
    from google.auth import exceptions as auth_exceptions
    from googleapiclient.errors import HttpError

    mapped: FollowupdError
    if isinstance(exc, HttpError):
        mapped = _map_http_error(exc, method, now)
    elif isinstance(exc, auth_exceptions.RefreshError):
        mapped = _map_refresh_error(exc, method)
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


def _map_http_error(exc: Any, method: str, now: Callable[[], datetime]) -> FollowupdError:
    status = int(exc.resp.status)
    message, reasons = _error_payload(exc.content)
    reason = sorted(reasons)[0] if reasons else ""
    where = f"{method}: HTTP {status}"
    if status == 401:
        return AuthError(f"{where}: Google refused the access token; run `followupd login` again")
    if status == 403 and reasons & _SCOPE_REASONS:
        return ScopeMissing(
            f"{where}: the login lacks a permission this needs; "
            "run `followupd login` again and tick every box on the consent page"
        )
    if status == 429 or status >= 500 or (status == 403 and reasons & _RATE_LIMIT_REASONS):
        retry_after = None
        if status in (429, 503):
            retry_after = _retry_after_seconds(exc.resp.get("retry-after"), now)
        return Unavailable(f"{where} {reason}".rstrip(), retry_after=retry_after, status=status)
    if status == 404:
        return ApiNotFound(where, status=status, reason=reason)
    if status == 410:
        return ApiGone(where, status=status, reason=reason)
    if status == 403 and "scope" in message.lower():
        # Gmail's gmail.metadata scope refuses `q` and format=full with a plain 403.
        return ScopeMissing(f"{where}: the login's scopes do not allow this request")
    return ApiRejected(f"{where} {reason}".rstrip(), status=status, reason=reason)


def _map_refresh_error(exc: Any, method: str) -> FollowupdError:
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
