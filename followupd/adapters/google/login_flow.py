"""Google's installed-app consent flow on a loopback port, with hard time limits.

:func:`run_consent` says the consent URL (and, without a browser, how to forward the
port over SSH), waits for the browser to come back to ``127.0.0.1``, exchanges the
code and returns google-auth Credentials; every failure comes out as a followupd
error that says what to do. The authorization code and the tokens stay out of log
records: the chatty oauthlib loggers are held at WARNING while the flow runs.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import logging
import os
import socket
import threading
import urllib.parse
import webbrowser
from collections.abc import Callable, Iterator
from typing import Any

from followupd.adapters.google.auth_problems import is_network_error, short
from followupd.adapters.google.client_secrets import CREATE_CLIENT_HELP
from followupd.adapters.google.endpoints import Endpoints
from followupd.errors import AuthError, ConfigError, FollowupdError, GoogleUnavailable

_SUCCESS_PAGE = (
    "followupd received Google's answer. You can close this tab; the terminal says "
    "whether the login worked."
)
_GRACE = 15.0  # seconds beyond the wait for the browser, for the token exchange


def run_consent(
    client: dict[str, Any],
    endpoints: Endpoints,
    scopes: list[str],
    *,
    open_browser: bool,
    port: int,
    timeout: float,
    login_hint: str,
    say: Callable[[str], None],
) -> Any:
    """Google's consent page for *scopes*, answered on ``127.0.0.1:port`` (0: any free
    port); returns google-auth Credentials. *client*: the client file's JSON."""
    flow = _flow_class().from_client_config(_client_config(client, endpoints), scopes=scopes)
    flow.on_url = lambda url, redirect_uri: _prompt(
        url, redirect_uri, open_browser=open_browser, timeout=timeout, say=say
    )
    try:
        # A user who unticks a scope makes oauthlib raise "Scope has changed" unless
        # relaxed; login compares the granted scopes instead.
        with _quiet_oauth_logs(), _env("OAUTHLIB_RELAX_TOKEN_SCOPE", "1"):
            return _run_flow(flow, port=port, timeout=timeout, login_hint=login_hint)
    except FollowupdError:
        raise
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise _flow_error(exc, port=port, timeout=timeout, endpoints=endpoints) from None


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
            f"Google does not accept the OAuth client ({exc.error}). " + CREATE_CLIENT_HELP
        )
    if isinstance(exc, oerr.OAuth2Error):
        return AuthError(
            f"Google refused the login ({exc.error}: {short(exc.description)}): run "
            "`followupd login` again"
        )
    if is_network_error(exc) or isinstance(exc, OSError):
        return GoogleUnavailable(
            f"cannot reach {endpoints.token_uri} to finish the login "
            f"({type(exc).__name__}: {short(exc)})"
        )
    if isinstance(exc, FollowupdError):
        return exc
    return AuthError(f"login failed ({type(exc).__name__}: {short(exc)})")
