"""What a failed cycle means: how each kind of failure maps to the status the user
sees, the wait before the next attempt (backoff), and the recorded auth state. A
login problem also nudges the user, once per new state: the daemon never crash-loops
on a refused token, a locked keyring or an unreachable Google."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta

from followupd.adapters import systemd
from followupd.adapters.store import Store
from followupd.app import status
from followupd.app.status import AuthState
from followupd.core.settings import Config
from followupd.errors import AuthError, FollowupdError, GoogleUnavailable, KeyringUnavailable

log = logging.getLogger("followupd.daemon")

AUTH_RETRY = timedelta(hours=1)
BACKOFF_MAX = timedelta(minutes=30)


def backoff_delay(failures: int, retry_after: float | None, rng: random.Random) -> float:
    """Exponential backoff with full jitter, never below Retry-After."""
    cap = min(BACKOFF_MAX.total_seconds(), 5.0 * (2 ** min(failures, 12)))
    delay = rng.uniform(cap / 2, cap)
    if retry_after:
        delay = max(delay, retry_after)
    return delay


@dataclass(frozen=True)
class Failure:
    """What to do after a failed cycle."""

    failures: int  # consecutive failures counted for backoff, this one included
    delay: float  # seconds until the next attempt
    message: str  # for `status` (last_error, and auth_error for a login problem)
    auth_state: AuthState | None = None  # a login problem: recorded, nudged about
    drop_engine: bool = False  # its credentials are no good: build a new one


def on_failure(exc: Exception, failures: int, rng: random.Random) -> Failure:
    """The policy for `exc`, raised by a cycle after `failures` failures in a row.
    Call it inside the `except` block (an unexpected error logs its traceback)."""
    if isinstance(exc, KeyringUnavailable):
        # Locked or unreachable keyring: the user may unlock it any minute.
        failures += 1
        delay = backoff_delay(failures, None, rng)
        return Failure(failures, delay, str(exc), AuthState.KEYRING_UNAVAILABLE, True)
    if isinstance(exc, AuthError):
        from followupd.adapters.google.api_errors import TokenRefused

        # Refused or missing login: nothing changes until the user logs in again
        # (which pokes the daemon), so once an hour is enough.
        state = AuthState.REFUSED if isinstance(exc, TokenRefused) else AuthState.ERROR
        return Failure(failures, AUTH_RETRY.total_seconds(), str(exc), state, True)
    failures += 1
    if isinstance(exc, GoogleUnavailable):
        delay = backoff_delay(failures, getattr(exc, "retry_after", None), rng)
        log.warning("Google unreachable (%s); retrying in %.0fs", exc, delay)
        systemd.status(f"Google unreachable; retrying in {delay:.0f}s")
        return Failure(failures, delay, f"Google unreachable: {exc}")
    delay = backoff_delay(failures, None, rng)
    if isinstance(exc, FollowupdError):
        log.error("%s", exc)
        return Failure(failures, delay, str(exc))
    log.exception("unexpected error in a cycle; retrying in %.0fs", delay)
    return Failure(failures, delay, "unexpected error (see the log)")


def record_failure(store: Store, config: Config, failure: Failure) -> None:
    """Put the failure where `status` shows it (and nudge about a login problem)."""
    if failure.auth_state is None:
        status.record_error(store, failure.message)
    else:
        auth_problem(store, config, failure.auth_state, failure.message)


def auth_problem(store: Store, config: Config, state: AuthState, message: str) -> None:
    """state: "refused" (Google refused the token), "keyring_unavailable", or
    "error" (not logged in, a saved login that does not fit the config)."""
    first = status.read_auth_state(store) is not state
    status.record_auth_problem(store, state, message)
    if state is AuthState.KEYRING_UNAVAILABLE:
        title = "followupd cannot read your login from the keyring"
        systemd.status("keyring unavailable: see `followupd status`")
        log.error("cannot use the keyring: %s", message)
    else:
        title = "followupd needs you to log in again"
        systemd.status("login needed: run `followupd login`")
        what = "Google refused the login" if state is AuthState.REFUSED else "cannot log in"
        log.error("%s: %s", what, message)
    if first:
        _nudge(config, title, message)


def _nudge(config: Config, title: str, message: str) -> None:
    from followupd.adapters.notify.base import NotifyError
    from followupd.adapters.notify.registry import NotifierRegistry
    from followupd.core.model import Nudge, NudgeKind

    for notifier in NotifierRegistry.from_settings(config.nudge):
        try:
            notifier.send(
                Nudge(
                    followup_id="",
                    kind=NudgeKind.PROBLEM,
                    title=title,
                    body=message,
                    actions=(),
                    open_url=None,
                    payload={"error": message},
                )
            )
        except NotifyError as exc:
            log.warning("could not nudge about the login: %s", exc)
