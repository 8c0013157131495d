"""The daemon's status record: one typed record over the store's meta table."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from followupd.adapters.store import Store
from followupd.app import status
from followupd.app.status import AuthState, DaemonStatus


def test_auth_states_keep_the_strings_status_has_always_shown() -> None:
    assert [s.value for s in AuthState] == [
        "ok",
        "not logged in",
        "refused",
        "keyring_unavailable",
        "error",
        "unknown",
    ]


def test_a_fresh_state_has_recorded_nothing(tmp_path: Path) -> None:
    recorded = DaemonStatus.read(Store(tmp_path / "state.db"))
    assert recorded == DaemonStatus(
        pid=None,
        mode="",
        config_error="",
        next_poll=None,
        last_sync=None,
        auth_state=None,
        auth_error="",
        last_error="",
        login_at="",
    )


def test_what_the_daemon_records_reads_back_typed(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    status.record_started(store, 4242, "send")
    status.record_next_poll(store, at)
    status.record_auth_problem(store, AuthState.REFUSED, "invalid_grant")
    recorded = DaemonStatus.read(store)
    assert (recorded.pid, recorded.mode, recorded.next_poll) == (4242, "send", at)
    assert recorded.auth_state is AuthState.REFUSED
    assert recorded.auth_error == recorded.last_error == "invalid_grant"
    status.record_cycle_ok(store)
    status.record_stopped(store)
    recorded = DaemonStatus.read(store)
    assert recorded.auth_state is AuthState.OK and recorded.pid is None
    assert recorded.auth_error == recorded.last_error == ""


def test_a_refused_reload_is_kept_apart_from_the_cycle_error(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    status.record_reload(store, mode=None, config_error="bad key")
    status.record_cycle_ok(store)
    assert DaemonStatus.read(store).config_error == "bad key"
    status.record_reload(store, mode="draft")
    recorded = DaemonStatus.read(store)
    assert (recorded.config_error, recorded.mode) == ("", "draft")


def test_each_field_is_one_meta_row_under_its_historic_key(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    status.record_started(store, 7, "nudge")
    status.record_login(store, datetime(2026, 3, 2, tzinfo=UTC))
    store.close()
    with sqlite3.connect(tmp_path / "state.db") as db:
        rows = dict(db.execute("SELECT key, value FROM meta").fetchall())
    assert rows["daemon_pid"] == "7" and rows["daemon_mode"] == "nudge"
    assert rows["login_at"] == "2026-03-02T00:00:00+00:00"
