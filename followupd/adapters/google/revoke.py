"""Ending a login: revoking a token at Google, and `followupd logout`.

When Google cannot be reached the revocation is reported, and the local token is
removed all the same.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from followupd.adapters.google.account import account_file, current_account
from followupd.adapters.google.auth_problems import short
from followupd.adapters.google.endpoints import Endpoints, is_loopback_url
from followupd.adapters.tokens import TokenStore
from followupd.errors import FollowupdError, KeyringUnavailable

if TYPE_CHECKING:
    from followupd.core.settings import Config

RevokeStatus = Literal["revoked", "already_invalid", "failed"]


def revoke_token(token: str, revoke_uri: str, *, timeout: float = 10.0) -> tuple[RevokeStatus, str]:
    """POST ``token=...`` to *revoke_uri*. Returns (status, what to tell the user)."""
    parts = urllib.parse.urlsplit(revoke_uri)
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback_url(revoke_uri)):
        return "failed", f"not sending the token to {revoke_uri}: only https or loopback http"
    body = urllib.parse.urlencode({"token": token}).encode("ascii")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        revoke_uri,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read(4096)
    except urllib.error.HTTPError as exc:
        error = ""
        with contextlib.suppress(Exception):
            error = str(json.loads(exc.read(4096).decode("utf-8")).get("error", ""))
        if exc.code == 400 and error == "invalid_token":
            return "already_invalid", "Google says the token was already revoked or expired"
        return "failed", f"Google answered {exc.code} {error}".rstrip()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return "failed", f"cannot reach {parts.netloc} ({short(reason)})"
    return "revoked", "Google revoked the token"


def logout(config: Config, token_store: TokenStore, *, say: Callable[[str], None]) -> None:
    """Revoke the refresh token at Google, then forget it and the account address.

    When Google cannot be reached the revocation is reported, and the local token is
    removed all the same.
    """
    account = current_account(config)
    if account is None:
        say("Not logged in: nothing to do.")
        return
    try:
        record = token_store.load(account)
    except KeyringUnavailable:
        raise
    except FollowupdError as exc:
        record = None
        say(f"The saved login for {account} is unreadable ({exc}); removing it.")
    if record is None:
        say(f"No saved token for {account} in {token_store.describe()}.")
    else:
        token = record.get("refresh_token")
        revoke_uri = record.get("revoke_uri") or Endpoints.for_config(config).revoke_uri
        if isinstance(token, str) and token:
            status, detail = revoke_token(token, str(revoke_uri))
            if status == "failed":
                say(
                    f"Could not revoke the token at Google: {detail}. Remove followupd's "
                    "access by hand at https://myaccount.google.com/permissions."
                )
            else:
                say(f"{detail}.")
    token_store.delete(account)
    account_file().unlink(missing_ok=True)
    say(f"Logged out {account}: removed the token from {token_store.describe()}.")
