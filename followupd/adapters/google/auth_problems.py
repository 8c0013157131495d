"""What a failed Google login or refresh means for the user, in one place.

:func:`classify_refresh_error` sorts a refresh failure into invalid_grant /
invalid_client / unreachable / other, each with the likely causes and the fix (the
"Testing" consent screen's 7-day expiry, revoked access, a deleted client). The
transport's error mapping and the explicit refresh share it, so `followupd login`,
`status` and the daemon say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from followupd.adapters.google.client_secrets import CREATE_CLIENT_HELP
from followupd.errors import AuthError, FollowupdError, GoogleUnavailable

ProblemKind = Literal["invalid_grant", "invalid_client", "unreachable", "other"]

TESTING_STATUS_FIX = (
    "Google refuses a saved login after access was removed (Google Account > Security > "
    "Third-party apps), after a password change, or, most often, 7 days after login "
    'when the Google Cloud project\'s OAuth consent screen is in "Testing" publishing '
    'status. Set it to "In production" (Google Cloud Console > APIs & Services > OAuth '
    "consent screen > Publish app; personal use needs no verification, Google only "
    'shows an "unverified app" warning), then run `followupd login`.'
)


@dataclass(frozen=True)
class AuthProblem:
    """What a failed refresh means for the user."""

    kind: ProblemKind
    message: str
    fix: str
    retryable: bool = False

    def error(self) -> FollowupdError:
        """The exception the CLI turns into a message and exit code (77 or 69)."""
        text = f"{self.message}. {self.fix}" if self.fix else self.message
        if self.kind == "unreachable":
            return GoogleUnavailable(text)
        return AuthError(text)


def short(text: object, limit: int = 200) -> str:
    """*text* on one line, cut to *limit* characters (for messages that quote Google)."""
    value = " ".join(str(text).split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def classify_refresh_error(exc: BaseException) -> AuthProblem:
    """Sort a refresh failure into invalid_grant / invalid_client / unreachable / other."""
    from google.auth import exceptions as gexc

    if isinstance(exc, gexc.RefreshError):
        data = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], dict) else {}
        error = str(data.get("error") or "")
        description = str(data.get("error_description") or "")
        detail = f"{error}: {description}" if description else error
        if error == "invalid_grant":
            return AuthProblem(
                "invalid_grant",
                f"Google refused the saved login ({short(detail)})",
                TESTING_STATUS_FIX,
            )
        if error in ("invalid_client", "unauthorized_client", "deleted_client"):
            return AuthProblem(
                "invalid_client",
                f"Google does not accept the OAuth client ({short(detail)})",
                "The client in client_secret.json was deleted or its secret was reset. "
                + CREATE_CLIENT_HELP,
            )
        if exc.retryable:
            return AuthProblem(
                "unreachable",
                f"Google's token endpoint answered with a temporary error ({short(exc.args[0])})",
                "followupd retries with backoff; nothing to do unless it persists",
                retryable=True,
            )
        return AuthProblem(
            "other",
            f"Google refused to refresh the token ({short(detail or _first_arg(exc))})",
            "Run `followupd login` again",
        )
    if isinstance(exc, (gexc.TransportError, OSError)) or is_network_error(exc):
        return AuthProblem(
            "unreachable",
            f"cannot reach Google ({type(exc).__name__}: {short(exc)})",
            "Check the network; followupd retries with backoff",
            retryable=True,
        )
    return AuthProblem(
        "other",
        f"refreshing the Google token failed ({type(exc).__name__}: {short(exc)})",
        "Run `followupd check`; if it persists, `followupd login`",
    )


def _first_arg(exc: BaseException) -> object:
    return exc.args[0] if exc.args else exc


def is_network_error(exc: BaseException) -> bool:
    """True for the connection errors of httplib2, requests and urllib3."""
    module = type(exc).__module__ or ""
    return module.startswith(("httplib2", "requests", "urllib3")) and "Error" in type(exc).__name__
