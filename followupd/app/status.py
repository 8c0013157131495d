"""The daemon's status: one typed record kept in the store's meta table.

The daemon writes it (each writer touches only its own fields: the main thread and
the worker write at the same time), `followupd login` stamps the login in it, and
`status` and `check` read it. Every field is one meta row, named as the field
(`pid` is the row `daemon_pid`, `mode` the row `daemon_mode`), so other readers of
the table (the service tests) keep working.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from followupd.adapters.store import LAST_SYNC, Store
from followupd.app.lock import daemon_pid
from followupd.errors import ConfigError

if TYPE_CHECKING:
    from followupd.core.settings import Config


class AuthState(StrEnum):
    """What the daemon knows of the login (`status` shows the value as it is)."""

    OK = "ok"
    NOT_LOGGED_IN = "not logged in"  # said by `status` when the daemon recorded nothing
    REFUSED = "refused"  # Google refused the token
    KEYRING_UNAVAILABLE = "keyring_unavailable"
    ERROR = "error"  # not logged in, or a saved login that does not fit the config
    UNKNOWN = "unknown"  # logged in, but no daemon has tried the login yet


# Field -> meta key (the keys predate the record).
_KEYS = {
    "pid": "daemon_pid",
    "mode": "daemon_mode",
    "config_error": "config_error",
    "next_poll": "next_poll",
    "last_sync": LAST_SYNC,  # written by the engine after each cycle
    "auth_state": "auth_state",
    "auth_error": "auth_error",
    "last_error": "last_error",
    "login_at": "login_at",
}


def _time(text: str) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True)
class DaemonStatus:
    """What the running (or last) daemon recorded; "" / None: nothing recorded."""

    pid: int | None  # while it runs; cleared when it stops
    mode: str  # the running daemon's mode (the file may have changed since)
    config_error: str  # a refused reload; its own field: a good cycle does not clear it
    next_poll: datetime | None
    last_sync: datetime | None
    auth_state: AuthState | None
    auth_error: str
    last_error: str  # the last cycle's problem; cleared by a good cycle
    login_at: str  # stamped by `followupd login`: a new one means new credentials

    @classmethod
    def read(cls, store: Store) -> DaemonStatus:
        raw = {field: store.get_meta(key) for field, key in _KEYS.items()}
        return cls(
            pid=int(raw["pid"]) if raw["pid"] else None,
            mode=raw["mode"],
            config_error=raw["config_error"],
            next_poll=_time(raw["next_poll"]),
            last_sync=_time(raw["last_sync"]),
            auth_state=AuthState(raw["auth_state"]) if raw["auth_state"] else None,
            auth_error=raw["auth_error"],
            last_error=raw["last_error"],
            login_at=raw["login_at"],
        )


def _write(store: Store, **fields: str) -> None:
    for field, value in fields.items():
        store.set_meta(_KEYS[field], value)


def read_last_error(store: Store) -> str:
    return store.get_meta(_KEYS["last_error"])


def read_auth_state(store: Store) -> AuthState | None:
    value = store.get_meta(_KEYS["auth_state"])
    return AuthState(value) if value else None


def read_login_stamp(store: Store) -> str:
    return store.get_meta(_KEYS["login_at"])


def record_started(store: Store, pid: int, mode: str) -> None:
    """A daemon took over the state directory (a stale reload error goes away)."""
    _write(store, pid=str(pid), mode=mode, config_error="")


def record_stopped(store: Store) -> None:
    _write(store, pid="")


def record_reload(store: Store, *, mode: str | None, config_error: str = "") -> None:
    """A reload: accepted (its mode) or refused (`mode` None, the error kept)."""
    _write(store, config_error=config_error)
    if mode is not None:
        _write(store, mode=mode)


def record_next_poll(store: Store, at: datetime) -> None:
    _write(store, next_poll=at.isoformat())


def record_cycle_ok(store: Store) -> None:
    _write(store, auth_state=AuthState.OK, auth_error="", last_error="")


def record_error(store: Store, message: str) -> None:
    _write(store, last_error=message)


def record_auth_problem(store: Store, state: AuthState, message: str) -> None:
    _write(store, auth_state=state, auth_error=message, last_error=message)


def record_login(store: Store, at: datetime) -> None:
    _write(store, login_at=at.isoformat())


# --- the report `followupd status` shows ------------------------------------------


@dataclass(frozen=True)
class StatusReport:
    """Everything `status` shows, for people and for scripts."""

    config: Config  # the file's, or the defaults when it is broken
    pid: int | None
    mode: str
    last_sync: datetime | None
    next_poll: datetime | None
    auth_state: AuthState
    auth_error: str
    config_error: str
    last_error: str  # the config problem first, else the daemon's last error
    problem: str  # the daemon's own last error
    counts: dict[str, int]
    next_actions: list[tuple[str, datetime]]
    recent: list[dict[str, str]]
    recent_errors: list[dict[str, str]]


def status_report(load_config: Callable[[], Config], store: Store) -> StatusReport:
    """The state of the daemon and the follow-ups, as `status` shows it."""
    # A broken config file must not hide the state: the daemon may well be running
    # with the previous one (a refused reload), and this is where the user looks.
    try:
        config = load_config()
        config_problem = ""
    except ConfigError as exc:
        from followupd.config import validate

        config, config_problem = validate({}, "defaults"), str(exc)
    pid = daemon_pid()
    recorded = DaemonStatus.read(store)
    config_error = (recorded.config_error if pid else "") or config_problem
    auth_state = recorded.auth_state
    if auth_state is None and not config_problem:
        from followupd.adapters.google.account import current_account

        logged_in = current_account(config)
        auth_state = AuthState.UNKNOWN if logged_in else AuthState.NOT_LOGGED_IN
    return StatusReport(
        config=config,
        pid=pid,
        mode=(recorded.mode if pid else "") or config.mode,
        last_sync=recorded.last_sync,
        next_poll=recorded.next_poll if pid else None,
        auth_state=auth_state or AuthState.UNKNOWN,
        auth_error=recorded.auth_error,
        config_error=config_error,
        last_error=config_error or recorded.last_error,
        problem=recorded.last_error,
        counts=store.counts(),
        next_actions=sorted(store.timers(), key=lambda t: t[1])[:5],
        recent=store.history(limit=5),
        recent_errors=[h for h in store.history(limit=500) if h["kind"] == "error"][-5:],
    )
