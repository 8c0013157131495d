"""The saved login (the token record) and the Credentials built from it.

Where each secret lives
-----------------------
* The **OAuth client** (Desktop app JSON with ``client_id`` and ``client_secret``) is
  copied by :func:`~followupd.adapters.google.client_secrets.import_client_secrets`
  to ``<config dir>/client_secret.json``, mode 0600. Google documents that an
  installed app's client secret cannot be kept confidential, but the token endpoint
  still wants it for every refresh.
* The **refresh token** goes to the token store (the system keyring by default,
  service ``followupd``, user = the account address) as a JSON record holding
  ``refresh_token``, ``client_id``, ``token_uri``, ``revoke_uri``, the granted
  ``scopes``, the path of the client file (``client_secrets``), ``account`` and
  ``created``. The record does **not** hold the client secret: the secret is read
  from the 0600 client file when credentials are built. So a copy of the keyring
  entry alone, or of the config directory alone, is not a usable login, and a
  re-downloaded client file (new secret, same client) needs no new login. Before
  building credentials, the client file's ``client_id`` is checked against the
  record's, so a swapped client file gives a clear "log in again" instead of an
  opaque ``invalid_client`` at the next refresh.
* The **account address** (not a secret) is written to ``<state dir>/account``
  (see :mod:`~followupd.adapters.google.account`).
* No access token is stored: credentials start without one and the first request
  refreshes. A refresh token the server rotates is saved back to the token store
  (:func:`store_rotated_token`). Nothing is pickled and no token is ever logged.

Imports of Google's libraries are lazy: the CLI imports this module for commands that
never talk to Google.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from followupd.adapters.google.account import current_account
from followupd.adapters.google.client_secrets import client_secrets_path, read_client_secrets
from followupd.adapters.google.endpoints import Endpoints
from followupd.adapters.tokens import TokenStore
from followupd.errors import AuthError

if TYPE_CHECKING:
    from google.oauth2.credentials import Credentials

    from followupd.core.settings import Config

log = logging.getLogger(__name__)

NOT_LOGGED_IN = "not logged in: run `followupd login`"
RECORD_VERSION = 1


def token_record(
    *,
    account: str,
    refresh_token: str,
    client_id: str,
    client_secrets: Path,
    endpoints: Endpoints,
    scopes: Iterable[str],
) -> dict[str, Any]:
    """The record login saves in the token store (no client secret, no access token)."""
    return {
        "version": RECORD_VERSION,
        "account": account,
        "refresh_token": refresh_token,
        "client_id": client_id,
        "client_secrets": str(client_secrets),
        "token_uri": endpoints.token_uri,
        "revoke_uri": endpoints.revoke_uri,
        "scopes": sorted(set(scopes)),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _field(record: dict[str, Any], key: str, account: str) -> str:
    value = record.get(key)
    if not isinstance(value, str) or not value:
        raise AuthError(
            f"the saved login for {account} is incomplete (no {key}): run `followupd login`"
        )
    return value


def load_credentials(config: Config, token_store: TokenStore) -> Credentials:
    """Credentials for the logged-in account, ready to refresh (no access token yet).

    Raises AuthError (exit 77) when nobody is logged in or the saved login does not fit
    this config, ConfigError when the client file is missing or broken, and
    KeyringUnavailable when the keyring cannot be read.
    """
    from google.oauth2.credentials import Credentials

    account = current_account(config)
    if account is None:
        raise AuthError(NOT_LOGGED_IN)
    record = token_store.load(account)
    if record is None:
        raise AuthError(
            f"not logged in: no saved login for {account} in {token_store.describe()}: "
            "run `followupd login`"
        )
    refresh_token = _field(record, "refresh_token", account)
    client_id = _field(record, "client_id", account)
    token_uri = _field(record, "token_uri", account)
    endpoints = Endpoints.for_config(config)
    if token_uri != endpoints.token_uri:
        raise AuthError(
            f"the saved login for {account} was made against {token_uri}, but the config "
            f"now points at {endpoints.token_uri} (google.endpoint): run `followupd login`"
        )
    secrets_file = Path(record.get("client_secrets") or client_secrets_path(config))
    installed = read_client_secrets(secrets_file)["installed"]
    if installed["client_id"] != client_id:
        raise AuthError(
            f"{secrets_file} holds a different OAuth client than the one {account} logged in "
            "with: run `followupd login` to log in with this client"
        )
    scopes = record.get("scopes")
    scope_list = [s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else None
    # The constructor, not from_authorized_user_info(): that one resets token_uri to
    # Google's, which would send the sandbox's refresh token to Google.
    return Credentials(  # type: ignore[no-untyped-call]
        None,
        refresh_token=refresh_token,
        token_uri=token_uri,
        client_id=client_id,
        client_secret=installed["client_secret"],
        scopes=scope_list or None,
        granted_scopes=scope_list or None,
        account=account,
    )


# ------------------------------------------------------------------------- refresh


def store_rotated_token(token_store: TokenStore, credentials: Credentials) -> bool:
    """Save *credentials*' refresh token when it differs from the stored one.

    google-auth replaces ``credentials.refresh_token`` when a refresh answer carries a
    new one; the daemon's transport calls this then (``GoogleClients``'s
    ``on_refresh_token_rotated``, wired in ``followupd.app.wiring``). True when it saved.
    """
    account = credentials.account
    token = credentials.refresh_token
    if not account or not token:
        return False
    record = token_store.load(account)
    if record is None or record.get("refresh_token") == token:
        return False
    record["refresh_token"] = token
    token_store.save(account, record)
    log.info("saved the refresh token Google rotated for the account")
    return True
