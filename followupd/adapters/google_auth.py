"""Google login: scopes, endpoints, the OAuth client file, the consent flow, tokens.

Where each secret lives
-----------------------
* The **OAuth client** (Desktop app JSON with ``client_id`` and ``client_secret``) is
  copied by :func:`import_client_secrets` to ``<config dir>/client_secret.json``,
  mode 0600. Google documents that an installed app's client secret cannot be kept
  confidential, but the token endpoint still wants it for every refresh.
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
  (0600), so the daemon knows which keyring entry to read. ``google.account`` in the
  config, when set, wins.
* No access token is stored: the daemon refreshes once at start. Nothing is pickled
  and no token is ever logged (the chatty oauthlib loggers are held at WARNING while
  the flow runs).

Imports of Google's libraries are lazy: the CLI imports this module for commands that
never talk to Google.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import ipaddress
import json
import logging
import os
import re
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
import webbrowser
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from followupd import paths
from followupd.adapters.tokens import TokenStore
from followupd.errors import (
    AuthError,
    ConfigError,
    FollowupdError,
    GoogleUnavailable,
    KeyringUnavailable,
)

if TYPE_CHECKING:
    from google.oauth2.credentials import Credentials

    from followupd.core.settings import Config

log = logging.getLogger(__name__)

# ------------------------------------------------------------------------ scopes

_AUTH = "https://www.googleapis.com/auth/"
CALENDAR_READONLY = _AUTH + "calendar.readonly"
GMAIL_COMPOSE = _AUTH + "gmail.compose"
GMAIL_METADATA = _AUTH + "gmail.metadata"
GMAIL_READONLY = _AUTH + "gmail.readonly"
CORE_SCOPES: tuple[str, ...] = (CALENDAR_READONLY, GMAIL_COMPOSE)


@dataclass(frozen=True)
class ScopeInfo:
    """One permission followupd asks for, and why (shown at login and in README)."""

    scope: str
    reason: str
    feature: str
    core: bool = False

    @property
    def name(self) -> str:
        """The short name Google's consent page and docs use, e.g. ``gmail.compose``."""
        return self.scope.removeprefix(_AUTH)


SCOPES: dict[str, ScopeInfo] = {
    CALENDAR_READONLY: ScopeInfo(
        CALENDAR_READONLY,
        "read your calendars to find interviews, their times and who attended",
        "interview detection",
        core=True,
    ),
    GMAIL_COMPOSE: ScopeInfo(
        GMAIL_COMPOSE,
        "put follow-up notes in your Gmail Drafts and send the ones you approve",
        "drafts and sending",
        core=True,
    ),
    GMAIL_METADATA: ScopeInfo(
        GMAIL_METADATA,
        "read message headers and thread lists (never message bodies) to tell a draft you "
        "sent by hand from one you deleted, and to notice the interviewer's reply",
        "sent-by-hand and reply detection",
    ),
    GMAIL_READONLY: ScopeInfo(
        GMAIL_READONLY,
        "read your mail",
        "reading mail",
    ),
}
"""Every scope followupd may ask for, with its general reason."""


def scopes_for(config: Config) -> list[ScopeInfo]:
    """The scopes this config needs, each with the reason and the feature it serves.

    ``gmail.readonly`` replaces ``gmail.metadata`` rather than joining it: Gmail applies
    the metadata scope's limits (no ``q`` search, no ``format=full``) to any token that
    carries it, even alongside ``gmail.readonly`` (google-api-python-client #582).
    """
    wanted = [SCOPES[CALENDAR_READONLY], SCOPES[GMAIL_COMPOSE]]
    readers = []
    if config.google.readonly_scope:
        readers.append(("google.readonly_scope", "reading whole messages"))
    if config.nudge.reply_approval:
        readers.append(
            ("nudge.reply_approval", 'approving a draft by answering the nudge with "send"')
        )
    if config.drafts.thread_with_invite:
        readers.append(
            ("drafts.thread_with_invite", "threading the follow-up with the invitation email")
        )
    if readers:
        features = [text for _, text in readers]
        if config.google.metadata_scope:
            features.append(SCOPES[GMAIL_METADATA].feature)
        keys = ", ".join(key for key, _ in readers)
        wanted.append(
            ScopeInfo(
                GMAIL_READONLY,
                f"read your mail, for {', '.join(features)} (asked for because {keys} is on)",
                "; ".join(features),
            )
        )
    elif config.google.metadata_scope:
        wanted.append(SCOPES[GMAIL_METADATA])
    return wanted


def scope_gaps(config: Config, granted: Iterable[str]) -> list[ScopeInfo]:
    """The scopes this config needs that *granted* lacks (for `check` and the daemon)."""
    have = set(granted)
    return [info for info in scopes_for(config) if info.scope not in have]


# --------------------------------------------------------------------- endpoints

GOOGLE_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL
GOOGLE_REVOKE_URI = "https://oauth2.googleapis.com/revoke"
GOOGLE_CALENDAR_API = "https://www.googleapis.com/calendar/v3/"
GOOGLE_GMAIL_API = "https://gmail.googleapis.com/"

INSECURE_TRANSPORT_VAR = "OAUTHLIB_INSECURE_TRANSPORT"


def is_loopback_url(url: str) -> bool:
    """True when *url*'s host is 127.0.0.0/8, ::1 or localhost (nothing else)."""
    host = (urllib.parse.urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Endpoints:
    """Where the OAuth and API requests go: Google, or ``google.endpoint`` (sandbox)."""

    auth_uri: str
    token_uri: str
    revoke_uri: str
    calendar_api: str
    """``client_options={"api_endpoint": ...}`` for ``build("calendar", "v3")``."""
    gmail_api: str
    """``client_options={"api_endpoint": ...}`` for ``build("gmail", "v1")``."""
    base: str = ""
    """The configured ``google.endpoint``; empty for Google."""

    @property
    def is_google(self) -> bool:
        return not self.base

    @property
    def is_loopback(self) -> bool:
        return bool(self.base) and is_loopback_url(self.base)

    @classmethod
    def google(cls) -> Endpoints:
        return cls(
            GOOGLE_AUTH_URI,
            GOOGLE_TOKEN_URI,
            GOOGLE_REVOKE_URI,
            GOOGLE_CALENDAR_API,
            GOOGLE_GMAIL_API,
        )

    @classmethod
    def for_base(cls, base: str) -> Endpoints:
        base = base.strip().rstrip("/")
        if not base:
            return cls.google()
        scheme = urllib.parse.urlsplit(base).scheme
        if scheme not in ("http", "https"):
            raise ConfigError([f'google.endpoint: expected an http(s) base URL, got "{base}"'])
        if scheme == "http" and not is_loopback_url(base):
            raise ConfigError(
                [
                    f"google.endpoint: plain http is allowed only for a loopback address "
                    f'(127.0.0.1, ::1, localhost), got "{base}": tokens would cross the '
                    "network unencrypted. Use https."
                ]
            )
        return cls(
            auth_uri=f"{base}/o/oauth2/auth",
            token_uri=f"{base}/token",
            revoke_uri=f"{base}/revoke",
            calendar_api=f"{base}/calendar/v3/",
            gmail_api=f"{base}/",
            base=base,
        )

    @classmethod
    def for_config(cls, config: Config) -> Endpoints:
        """The endpoints for *config*; also sets the process's oauthlib transport policy.

        ``OAUTHLIB_INSECURE_TRANSPORT=1`` is set only when the endpoint is a loopback
        address (the sandbox over plain http) and removed otherwise, so that it is never
        in force while talking to Google.
        """
        endpoints = cls.for_base(config.google.endpoint)
        endpoints.apply_transport_policy()
        return endpoints

    def apply_transport_policy(self) -> None:
        if self.is_loopback:
            os.environ[INSECURE_TRANSPORT_VAR] = "1"
        else:
            os.environ.pop(INSECURE_TRANSPORT_VAR, None)


# ---------------------------------------------------------------- client secrets

CLIENT_SECRETS_FILE = "client_secret.json"

_CREATE_CLIENT = (
    "In Google Cloud Console open APIs & Services > Credentials > Create credentials > "
    'OAuth client ID, choose Application type "Desktop app", download its JSON and run '
    "`followupd login --client-secrets FILE`."
)


def client_secrets_path(config: Config) -> Path:
    """``google.client_secrets`` when set (relative to the config dir), else the copy
    :func:`import_client_secrets` makes."""
    configured = config.google.client_secrets.strip()
    if configured:
        path = Path(configured).expanduser()
        return path if path.is_absolute() else paths.config_dir() / path
    return paths.config_dir() / CLIENT_SECRETS_FILE


def _secrets_problem(path: Path, problem: str) -> ConfigError:
    return ConfigError([f"{path}: {problem}"])


def read_client_secrets(path: Path) -> dict[str, Any]:
    """The whole client JSON from *path*, checked to be a Desktop app client."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _secrets_problem(path, f"no such file. {_CREATE_CLIENT}") from None
    except OSError as exc:
        raise _secrets_problem(path, f"cannot read it: {exc.strerror}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _secrets_problem(
            path, f"not JSON, so not an OAuth client file. {_CREATE_CLIENT}"
        ) from None
    if not isinstance(data, dict):
        raise _secrets_problem(path, f"not an OAuth client file. {_CREATE_CLIENT}")
    if "installed" not in data and "web" in data:
        raise _secrets_problem(
            path,
            'this is a "Web application" OAuth client; followupd needs a "Desktop app" '
            "client, whose loopback redirect works on any port of this machine. " + _CREATE_CLIENT,
        )
    installed = data.get("installed")
    if not isinstance(installed, dict):
        raise _secrets_problem(
            path,
            'not an OAuth client file (expected {"installed": {"client_id": ..., '
            f'"client_secret": ...}}}}). {_CREATE_CLIENT}',
        )
    missing = [
        key
        for key in ("client_id", "client_secret")
        if not isinstance(installed.get(key), str) or not installed[key].strip()
    ]
    if missing:
        raise _secrets_problem(
            path, f'the "installed" client lacks {" and ".join(missing)}. {_CREATE_CLIENT}'
        )
    return data


def import_client_secrets(src: Path) -> Path:
    """Check *src* is a Desktop app client and copy it, mode 0600, into the config dir.

    Returns the path of the copy, which later logins reuse.
    """
    data = read_client_secrets(src)
    dest = paths.config_dir() / CLIENT_SECRETS_FILE
    body = json.dumps(data, indent=2, sort_keys=True).encode("utf-8") + b"\n"
    paths.atomic_write(dest, body, mode=0o600)
    return dest


# ------------------------------------------------------------------ the account

ACCOUNT_FILE = "account"
_ADDRESS = re.compile(r"^[^\s@]+@[^\s@]+$")

NOT_LOGGED_IN = "not logged in: run `followupd login`"


def account_file() -> Path:
    return paths.state_dir() / ACCOUNT_FILE


def current_account(config: Config) -> str | None:
    """``google.account`` from the config, else the address the last login recorded."""
    configured = config.google.account.strip()
    if configured:
        return configured
    try:
        text = account_file().read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise AuthError(f"{account_file()}: cannot read it: {exc.strerror}") from None
    return text if _ADDRESS.match(text) else None


def _write_account(account: str) -> None:
    state = paths.ensure_private_dir(paths.state_dir())
    paths.atomic_write(state / ACCOUNT_FILE, (account + "\n").encode("utf-8"), mode=0o600)


# -------------------------------------------------------------------- the record

RECORD_VERSION = 1


def _record(
    *,
    account: str,
    refresh_token: str,
    client_id: str,
    client_secrets: Path,
    endpoints: Endpoints,
    scopes: Iterable[str],
) -> dict[str, Any]:
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


# -------------------------------------------------------------- refresh problems

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


def _short(text: object, limit: int = 200) -> str:
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
                f"Google refused the saved login ({_short(detail)})",
                TESTING_STATUS_FIX,
            )
        if error in ("invalid_client", "unauthorized_client", "deleted_client"):
            return AuthProblem(
                "invalid_client",
                f"Google does not accept the OAuth client ({_short(detail)})",
                "The client in client_secret.json was deleted or its secret was reset. "
                + _CREATE_CLIENT,
            )
        if exc.retryable:
            return AuthProblem(
                "unreachable",
                f"Google's token endpoint answered with a temporary error ({_short(exc.args[0])})",
                "followupd retries with backoff; nothing to do unless it persists",
                retryable=True,
            )
        return AuthProblem(
            "other",
            f"Google refused to refresh the token ({_short(detail or _first_arg(exc))})",
            "Run `followupd login` again",
        )
    if isinstance(exc, (gexc.TransportError, OSError)) or _is_network_error(exc):
        return AuthProblem(
            "unreachable",
            f"cannot reach Google ({type(exc).__name__}: {_short(exc)})",
            "Check the network; followupd retries with backoff",
            retryable=True,
        )
    return AuthProblem(
        "other",
        f"refreshing the Google token failed ({type(exc).__name__}: {_short(exc)})",
        "Run `followupd check`; if it persists, `followupd login`",
    )


def _first_arg(exc: BaseException) -> object:
    return exc.args[0] if exc.args else exc


def _is_network_error(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    return module.startswith(("httplib2", "requests", "urllib3")) and "Error" in type(exc).__name__


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
    credentials: Credentials,
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


def store_rotated_token(token_store: TokenStore, credentials: Credentials) -> bool:
    """Save *credentials*' refresh token when it differs from the stored one."""
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


# ------------------------------------------------------------------------ revoke

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
        return "failed", f"cannot reach {parts.netloc} ({_short(reason)})"
    return "revoked", "Google revoked the token"


# ------------------------------------------------------------------------- login


@dataclass(frozen=True)
class LoginResult:
    account: str
    granted: list[str]
    missing: list[ScopeInfo] = field(default_factory=list)
    """Optional scopes the user did not grant: the features they serve are off."""


_SUCCESS_PAGE = (
    "followupd received Google's answer. You can close this tab; the terminal says "
    "whether the login worked."
)
_GRACE = 15.0  # seconds beyond the wait for the browser, for the token exchange


@contextlib.contextmanager
def _quiet_oauth_logs() -> Iterator[None]:
    """Keep the authorization code and tokens out of log records during the flow.

    requests_oauthlib logs token responses at DEBUG, and the flow's loopback server
    logs the redirect's request line (``GET /?code=...``) at INFO.
    """
    saved = {}
    for name in ("requests_oauthlib", "oauthlib"):
        logger = logging.getLogger(name)
        saved[name] = logger.level
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)

    def drop_requests(record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING

    flow_logger = logging.getLogger("google_auth_oauthlib.flow")
    flow_logger.addFilter(drop_requests)
    try:
        yield
    finally:
        flow_logger.removeFilter(drop_requests)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


@contextlib.contextmanager
def _env(name: str, value: str) -> Iterator[None]:
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


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


def _open_browser(url: str, say: Callable[[str], None]) -> None:
    """Start a browser without blocking the flow (a console browser would)."""

    def run() -> None:
        try:
            opened = webbrowser.open(url, new=1, autoraise=True)
        except Exception:  # webbrowser.Error, or a broken $BROWSER
            opened = False
        if not opened:
            say(
                "Could not start a browser here: open the URL above yourself "
                "(`followupd login --no-browser` explains how from another machine)."
            )

    threading.Thread(target=run, name="followupd-browser", daemon=True).start()


def _prompt(
    url: str,
    redirect_uri: str,
    *,
    open_browser: bool,
    timeout: float,
    say: Callable[[str], None],
) -> None:
    port = urllib.parse.urlsplit(redirect_uri).port or 0
    wait = f"{timeout / 60:g} min" if timeout >= 60 else f"{timeout:g} s"
    if open_browser:
        say("Opening Google's consent page in your browser. If it does not open, visit:")
        say(url)
        say(f"Waiting up to {wait} for the browser to come back to {redirect_uri} ...")
        _open_browser(url, say)
        return
    say("Open this URL in a browser and allow access (copy the whole line):")
    say(url)
    say(
        f"Google then sends the browser to {redirect_uri}, which followupd is listening on; "
        f"waiting up to {wait}."
    )
    say(
        "If the browser runs on another machine, first forward that port to this one, "
        "from the machine with the browser:"
    )
    say(f"    ssh -L {port}:127.0.0.1:{port} {socket.gethostname()}")
    say(
        "then open the URL there. (To set up the forward before logging in, choose the "
        "port yourself: `followupd login --no-browser --port 8765`.)"
    )


def _flow_class() -> Any:
    from google_auth_oauthlib.flow import InstalledAppFlow

    class Flow(InstalledAppFlow):  # type: ignore[misc]
        """InstalledAppFlow that reports the URL through a callback and puts a timeout
        on the token exchange (run_local_server only prints and passes none)."""

        on_url: Callable[[str, str], None] | None = None
        http_timeout: float = 30.0

        def authorization_url(self, **kwargs: Any) -> tuple[str, str]:
            url, state = super().authorization_url(**kwargs)
            if self.on_url is not None:
                self.on_url(url, self.redirect_uri)
            return url, state

        def fetch_token(self, **kwargs: Any) -> Any:
            kwargs.setdefault("timeout", self.http_timeout)
            return super().fetch_token(**kwargs)

    return Flow


def _client_config(data: dict[str, Any], endpoints: Endpoints) -> dict[str, Any]:
    installed = dict(data["installed"])
    installed["auth_uri"] = endpoints.auth_uri
    installed["token_uri"] = endpoints.token_uri
    installed.setdefault("redirect_uris", ["http://localhost"])
    return {"installed": installed}


def _run_flow(flow: Any, *, port: int, timeout: float, login_hint: str) -> Any:
    """run_local_server in a worker thread, so that the wait has a hard upper bound.

    run_local_server's own timeout covers a browser that never comes back, but not a
    connection that opens and sends nothing (browsers open speculative connections).
    """
    box: dict[str, Any] = {}
    done = threading.Event()
    extra: dict[str, Any] = {"prompt": "consent"}  # consent again: a new refresh token
    if login_hint:
        extra["login_hint"] = login_hint

    def work() -> None:
        try:
            box["credentials"] = flow.run_local_server(
                host="127.0.0.1",
                port=port,
                open_browser=False,  # opened from the URL callback, without blocking
                timeout_seconds=timeout,
                authorization_prompt_message="",  # said through `say` by the callback
                success_message=_SUCCESS_PAGE,
                **extra,
            )
        except BaseException as exc:
            box["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=work, name="followupd-login", daemon=True)
    worker.start()
    if not done.wait(timeout + _GRACE):
        raise _timeout_error(timeout)
    if "error" in box:
        raise box["error"]
    return box["credentials"]


def _timeout_error(timeout: float) -> AuthError:
    return AuthError(
        f"login timed out: the browser did not come back within {timeout:g} s. Run "
        "`followupd login` again and finish on Google's page sooner (on a machine "
        "without a browser, use --no-browser and follow the printed steps)"
    )


def _flow_error(
    exc: BaseException, *, port: int, timeout: float, endpoints: Endpoints
) -> FollowupdError:
    from google_auth_oauthlib.flow import WSGITimeoutError

    oerr = importlib.import_module("oauthlib.oauth2.rfc6749.errors")

    if isinstance(exc, WSGITimeoutError):
        return _timeout_error(timeout)
    if isinstance(exc, OSError) and exc.errno == errno.EADDRINUSE:
        return AuthError(
            f"port {port} on 127.0.0.1 is already in use: choose another with --port "
            "(or leave it out to take a free one)"
        )
    if isinstance(exc, oerr.InsecureTransportError):
        return ConfigError(
            [
                f"google.endpoint: {endpoints.base or 'Google'} must use https (plain http only "
                "for loopback addresses)"
            ]
        )
    if isinstance(exc, oerr.AccessDeniedError):
        return AuthError(
            "login cancelled: Google's consent page was declined (or every permission was "
            "unticked). Run `followupd login` again and allow at least calendar.readonly and "
            "gmail.compose"
        )
    if isinstance(exc, (oerr.MismatchingStateError, oerr.MissingCodeError)):
        return AuthError(
            "the browser came back with an unexpected answer (another tab or a stale page "
            "reached the login port): run `followupd login` again"
        )
    if isinstance(exc, oerr.InvalidClientError):
        return AuthError(
            f"Google does not accept the OAuth client ({exc.error}). " + _CREATE_CLIENT
        )
    if isinstance(exc, oerr.OAuth2Error):
        return AuthError(
            f"Google refused the login ({exc.error}: {_short(exc.description)}): run "
            "`followupd login` again"
        )
    if _is_network_error(exc) or isinstance(exc, OSError):
        return GoogleUnavailable(
            f"cannot reach {endpoints.token_uri} to finish the login "
            f"({type(exc).__name__}: {_short(exc)})"
        )
    if isinstance(exc, FollowupdError):
        return exc
    return AuthError(f"login failed ({type(exc).__name__}: {_short(exc)})")


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
            f"Gmail refused to name the account ({status}: {_short(exc.reason)}): run "
            "`followupd login` again and keep gmail.compose ticked"
        ) from None
    except Exception as exc:
        if _is_network_error(exc) or isinstance(exc, OSError):
            raise GoogleUnavailable(
                f"cannot reach Gmail to learn the account address ({type(exc).__name__}: "
                f"{_short(exc)})"
            ) from None
        raise
    address = str(profile.get("emailAddress", "")).strip()
    if not _ADDRESS.match(address):
        raise AuthError("Gmail did not name the account's address: run `followupd login` again")
    return address


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
    if client_secrets is not None:
        secrets_file = import_client_secrets(client_secrets)
        say(f"Saved the OAuth client to {secrets_file} (mode 0600); later logins reuse it.")
    else:
        secrets_file = client_secrets_path(config)
        if not secrets_file.exists():
            raise ConfigError([f"{secrets_file}: no OAuth client yet. {_CREATE_CLIENT}"])
    data = read_client_secrets(secrets_file)
    client_id: str = data["installed"]["client_id"]

    # Fail before the browser dance, not after it, when the token store is unusable.
    previous = current_account(config)
    previous_record: dict[str, Any] | None = None
    try:
        previous_record = token_store.load(previous or "followupd-probe")
    except KeyringUnavailable:
        raise
    except AuthError:
        pass  # an unreadable old record is replaced below

    wanted = scopes_for(config)
    _describe_scopes(wanted, say)

    flow = _flow_class().from_client_config(
        _client_config(data, endpoints), scopes=[info.scope for info in wanted]
    )
    flow.on_url = lambda url, redirect_uri: _prompt(
        url, redirect_uri, open_browser=open_browser, timeout=timeout, say=say
    )
    try:
        # A user who unticks a scope makes oauthlib raise "Scope has changed" unless
        # relaxed; the granted scopes are compared below instead.
        with _quiet_oauth_logs(), _env("OAUTHLIB_RELAX_TOKEN_SCOPE", "1"):
            credentials = _run_flow(
                flow, port=port, timeout=timeout, login_hint=config.google.account.strip()
            )
    except FollowupdError:
        raise
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise _flow_error(exc, port=port, timeout=timeout, endpoints=endpoints) from None

    refresh_token = credentials.refresh_token
    if not refresh_token:
        raise AuthError(
            "Google sent no refresh token, so followupd could not work in the background: "
            "run `followupd login` again"
        )
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
    record = _record(
        account=account,
        refresh_token=refresh_token,
        client_id=client_id,
        client_secrets=secrets_file,
        endpoints=endpoints,
        scopes=granted,
    )
    token_store.save(account, record)
    _write_account(account)
    if previous and previous.lower() != account.lower():
        _forget_previous(previous, previous_record, token_store, say)
    say(f"Logged in as {account}; the token is kept in {token_store.describe()}.")
    return LoginResult(account=account, granted=sorted(granted), missing=missing)


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


# ------------------------------------------------------------------------ logout


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
