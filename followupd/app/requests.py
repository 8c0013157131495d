"""The request protocol between the CLI and the daemon.

A decision (approve, skip, note) or "sync now" is a row in the store's requests
table; the CLI pokes the daemon (SIGUSR1) and waits for the row's result. Without a
daemon, the CLI holds the instance lock and applies the decision itself. Applying
needs no Google: the daemon (or the next `sync`) acts on the result.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from followupd import paths
from followupd.adapters.store import Store
from followupd.app import status
from followupd.app.lock import InstanceLock, daemon_pid
from followupd.app.state import open_store
from followupd.core.settings import Config
from followupd.engine.decisions import apply_request
from followupd.errors import FollowupdError

# How long the CLI waits for a busy daemon's answer before saying "queued".
ANSWER_WAIT = 15.0


# --- asking: the CLI's side, and the desktop buttons' --------------------------------


def queue_request(store: Store, followup_id: str | None, action: str, arg: str = "") -> int:
    """A request for the daemon (`followup_id` None: "sync now"); returns its id."""
    with store.transaction():
        return store.add_request(datetime.now(UTC), followup_id, action, arg)


def poke_daemon() -> None:
    """Wake the daemon (it sleeps between polls) to apply a queued request now."""
    pid = daemon_pid()
    if pid:
        with contextlib.suppress(OSError):  # it will see the request at its next tick
            os.kill(pid, signal.SIGUSR1)


@dataclass(frozen=True)
class RequestOutcome:
    """What became of a decision sent from the CLI."""

    message: str  # what was done ("" when the daemon has not answered yet)
    daemon_running: bool
    answered: bool  # False: queued, the busy daemon applies it shortly


def submit(config: Config, action: str, followup_id: str, arg: str = "") -> RequestOutcome:
    """Apply a decision here (no daemon) or through the running daemon.

    Raises FollowupdError with the reason when the decision is refused."""
    store = open_store()
    store.find(followup_id)  # a clear message for a wrong id, daemon or not
    lock = InstanceLock(paths.state_dir())
    if lock.acquire():
        try:
            ok, message, _ = apply_request(
                store, config, datetime.now(UTC), action, followup_id, arg, "cli"
            )
        finally:
            lock.release()
        if not ok:
            raise FollowupdError(message)
        return RequestOutcome(message, daemon_running=False, answered=True)
    request_id = queue_request(store, followup_id, action, arg)
    poke_daemon()
    deadline = time.monotonic() + ANSWER_WAIT
    while time.monotonic() < deadline:
        result = store.request_result(request_id)
        if result is not None:
            if result.startswith("error: "):
                raise FollowupdError(result[len("error: ") :])
            return RequestOutcome(result.removeprefix("ok: "), daemon_running=True, answered=True)
        time.sleep(0.2)
    return RequestOutcome("", daemon_running=True, answered=False)


def ask_daemon_to_sync() -> None:
    """Queue "sync now" for the running daemon and wake it."""
    queue_request(open_store(), None, "sync")
    poke_daemon()


def announce_login() -> int | None:
    """Stamp the new login in the state; a running daemon picks it up and, poked,
    retries right away instead of at its next (hourly, after a refusal) attempt.
    Returns the running daemon's pid, if any."""
    now = datetime.now(UTC)
    pid = daemon_pid()
    store = open_store()
    try:
        with store.transaction():
            status.record_login(store, now)
            if pid:
                store.add_request(now, None, "sync")
    finally:
        store.close()
    if pid:
        poke_daemon()
    return pid
