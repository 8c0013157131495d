"""`followupd login`: the consent flow, the checks on what Google granted, and the
saved login (token record in the token store, account address in the state dir).

The steps, in order: find or import the OAuth client file; make sure the token store
works (before the browser dance, not after it); show the scopes and why; run the
consent flow (:mod:`~followupd.adapters.google.login_flow`); check the granted
scopes; ask Gmail whose account it is; save; forget an earlier, different account.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from followupd.adapters.google.account import current_account, is_address, write_account
from followupd.adapters.google.auth_problems import is_network_error, short
from followupd.adapters.google.client_secrets import (
    CREATE_CLIENT_HELP,
    client_secrets_path,
    import_client_secrets,
    read_client_secrets,
)
from followupd.adapters.google.credentials import token_record
from followupd.adapters.google.endpoints import Endpoints
from followupd.adapters.google.login_flow import run_consent
from followupd.adapters.google.revoke import revoke_token
from followupd.adapters.google.scopes import (
    GMAIL_METADATA,
    GMAIL_READONLY,
    ScopeInfo,
    scopes_for,
)
from followupd.adapters.tokens import TokenStore
from followupd.errors import (
    AuthError,
    ConfigError,
    FollowupdError,
    GoogleUnavailable,
    KeyringUnavailable,
)

if TYPE_CHECKING:
    from followupd.core.settings import Config


@dataclass(frozen=True)
class LoginResult:
    account: str
    granted: list[str]
    missing: list[ScopeInfo] = field(default_factory=list)
    """Optional scopes the user did not grant: the features they serve are off."""


def login(
    config: Config,
    *,
    client_secrets: Path | None,
    open_browser: bool,
    port: int = 0,
    timeout: float = 300,
    say: Callable[[str], None],
    token_store: TokenStore,
) -> LoginResult:
    """Run Google's consent flow on a loopback port and keep the refresh token.

    *client_secrets*: a downloaded Desktop app client JSON to import first; None
    reuses the one imported before (or ``google.client_secrets``).
    """
    endpoints = Endpoints.for_config(config)
    secrets_file = _client_file(config, client_secrets, say)
    data = read_client_secrets(secrets_file)
    previous, previous_record = _previous_login(config, token_store)

    wanted = scopes_for(config)
    _describe_scopes(wanted, say)
    credentials = run_consent(
        data,
        endpoints,
        [info.scope for info in wanted],
        open_browser=open_browser,
        port=port,
        timeout=timeout,
        login_hint=config.google.account.strip(),
        say=say,
    )
    refresh_token = credentials.refresh_token
    if not refresh_token:
        raise AuthError(
            "Google sent no refresh token, so followupd could not work in the background: "
            "run `followupd login` again"
        )
    granted, missing = _check_granted(credentials, wanted, say)
    account = _account_of(credentials, endpoints, config, refresh_token)

    record = token_record(
        account=account,
        refresh_token=refresh_token,
        client_id=data["installed"]["client_id"],
        client_secrets=secrets_file,
        endpoints=endpoints,
        scopes=granted,
    )
    token_store.save(account, record)
    write_account(account)
    if previous and previous.lower() != account.lower():
        _forget_previous(previous, previous_record, token_store, say)
    say(f"Logged in as {account}; the token is kept in {token_store.describe()}.")
    return LoginResult(account=account, granted=sorted(granted), missing=missing)


def _client_file(config: Config, client_secrets: Path | None, say: Callable[[str], None]) -> Path:
    """The OAuth client file: *client_secrets* imported now, else the one from before."""
    if client_secrets is not None:
        secrets_file = import_client_secrets(client_secrets)
        say(f"Saved the OAuth client to {secrets_file} (mode 0600); later logins reuse it.")
        return secrets_file
    secrets_file = client_secrets_path(config)
    if not secrets_file.exists():
        raise ConfigError([f"{secrets_file}: no OAuth client yet. {CREATE_CLIENT_HELP}"])
    return secrets_file


def _previous_login(
    config: Config, token_store: TokenStore
) -> tuple[str | None, dict[str, Any] | None]:
    """The account logged in so far and its record. Reading it first fails before the
    browser dance, not after it, when the token store is unusable."""
    previous = current_account(config)
    try:
        return previous, token_store.load(previous or "followupd-probe")
    except KeyringUnavailable:
        raise
    except AuthError:
        return previous, None  # an unreadable old record is replaced by the new login


def _describe_scopes(scopes: list[ScopeInfo], say: Callable[[str], None]) -> None:
    say("followupd asks Google for these permissions:")
    for info in scopes:
        tag = "required" if info.core else "optional"
        say(f"  - {info.name} ({tag}): {info.reason}")
    say(
        "Keep the required ones ticked on Google's consent page; unticking an optional one "
        "turns off the feature it serves. Google may warn that the app is unverified: it is "
        "your own OAuth client (Advanced > Go to ... to continue)."
    )


def _check_granted(
    credentials: Any, wanted: list[ScopeInfo], say: Callable[[str], None]
) -> tuple[set[str], list[ScopeInfo]]:
    """The granted scopes, and the optional ones that were not; AuthError without a
    core scope."""
    requested = {info.scope for info in wanted}
    granted_raw = credentials.granted_scopes
    granted = set(granted_raw) if granted_raw else set(requested)

    missing_core = [info for info in wanted if info.core and info.scope not in granted]
    if missing_core:
        # Not revoked: revoking would end the whole grant of this client for the user,
        # including an earlier login that still works.
        names = ", ".join(info.name for info in missing_core)
        raise AuthError(
            f"Google did not grant {names}, without which followupd cannot work ("
            + "; ".join(f"{info.name}: {info.reason}" for info in missing_core)
            + "). Run `followupd login` again and keep those permissions ticked"
        )
    missing = [info for info in wanted if not info.core and info.scope not in granted]
    for info in missing:
        say(
            f"Not granted: {info.name}. Turned off: {info.feature}. To turn it on, run "
            "`followupd login` again and tick it."
        )
    if GMAIL_METADATA in granted and GMAIL_READONLY in granted:
        say(
            "Warning: gmail.metadata was granted alongside gmail.readonly, and Gmail then "
            "applies the metadata limits to every read. Remove followupd's access at "
            "https://myaccount.google.com/permissions and run `followupd login` again."
        )
    return granted, missing


def _account_of(credentials: Any, endpoints: Endpoints, config: Config, refresh_token: str) -> str:
    """Whose account the login is for; AuthError (and the grant revoked) when it is not
    the configured ``google.account``."""
    account = _fetch_account(credentials, endpoints)
    configured = config.google.account.strip()
    if configured and configured.lower() != account.lower():
        # A grant for another person's account is of no use: do not leave it behind.
        revoke_token(refresh_token, endpoints.revoke_uri)
        raise AuthError(
            f"you logged in as {account}, but google.account in the config is "
            f"{configured}: run `followupd login` again and pick {configured} on "
            "Google's page (or change google.account)"
        )
    return account


def _fetch_account(credentials: Any, endpoints: Endpoints) -> str:
    """The account's address, from Gmail users.getProfile."""
    import httplib2

    google_auth_httplib2 = importlib.import_module("google_auth_httplib2")
    from googleapiclient.discovery import build
    from googleapiclient.errors import HttpError

    http = google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=30))
    try:
        service = build(
            "gmail",
            "v1",
            http=http,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": endpoints.gmail_api},
        )
        profile = service.users().getProfile(userId="me").execute(num_retries=2)
    except HttpError as exc:
        status = getattr(exc.resp, "status", "?")
        raise AuthError(
            f"Gmail refused to name the account ({status}: {short(exc.reason)}): run "
            "`followupd login` again and keep gmail.compose ticked"
        ) from None
    except Exception as exc:
        if is_network_error(exc) or isinstance(exc, OSError):
            raise GoogleUnavailable(
                f"cannot reach Gmail to learn the account address ({type(exc).__name__}: "
                f"{short(exc)})"
            ) from None
        raise
    address = str(profile.get("emailAddress", "")).strip()
    if not is_address(address):
        raise AuthError("Gmail did not name the account's address: run `followupd login` again")
    return address


def _forget_previous(
    previous: str,
    record: dict[str, Any] | None,
    token_store: TokenStore,
    say: Callable[[str], None],
) -> None:
    """After logging in as someone else: revoke and drop the earlier account's token."""
    token = record.get("refresh_token") if record else None
    revoke_uri = record.get("revoke_uri") if record else None
    if isinstance(token, str) and token and isinstance(revoke_uri, str):
        revoke_token(token, revoke_uri)
    with contextlib.suppress(FollowupdError):
        token_store.delete(previous)
    say(f"Replaced the login of {previous} (its token was revoked and removed).")
