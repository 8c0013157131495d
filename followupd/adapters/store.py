"""The SQLite state: the single source of truth for follow-ups, sync tokens and
daemon status. The daemon and the CLI both open it (WAL, busy timeout); the
CLI queues requests that the daemon applies when SIGUSR1 wakes it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from followupd.core.model import Draft, DraftStatus, Finding, FollowUp, NudgeKind, Person, State
from followupd.errors import FollowupdError, NotFound

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS followups (
    id          TEXT PRIMARY KEY,
    calendar_id TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    state       TEXT NOT NULL,
    next_due    TEXT,            -- UTC ISO time of the next planned action, NULL: none
    data        TEXT NOT NULL,   -- the FollowUp as JSON
    UNIQUE (calendar_id, event_id)
);
CREATE INDEX IF NOT EXISTS followups_next_due ON followups(next_due);
CREATE TABLE IF NOT EXISTS sync_tokens (
    calendar_id TEXT PRIMARY KEY,
    token       TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- Requests from the CLI (approve, skip, note, sync) while the daemon runs: only the
-- lock holder writes follow-ups, so a slow Gmail call can never undo an approval.
CREATE TABLE IF NOT EXISTS requests (
    id          INTEGER PRIMARY KEY,
    followup_id TEXT,
    action      TEXT NOT NULL,
    arg         TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    done_at     TEXT,
    result      TEXT
);
CREATE TABLE IF NOT EXISTS history (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    followup_id TEXT,
    kind        TEXT NOT NULL,
    detail      TEXT NOT NULL
);
"""


# The meta row of the last full cycle's end (see followupd.app.status).
LAST_SYNC = "last_sync"


def _dt(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_dt(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def followup_to_dict(fu: FollowUp) -> dict[str, Any]:
    data = asdict(fu)
    for key, value in list(data.items()):
        if isinstance(value, datetime):
            data[key] = value.isoformat()
    data["state"] = fu.state.value
    return data


# Every FollowUp field holding a moment (derived, so a new field cannot be forgotten).
_DATETIME_FIELDS = tuple(
    name for name, f in FollowUp.__dataclass_fields__.items() if "datetime" in str(f.type)
)


def followup_from_dict(data: dict[str, Any]) -> FollowUp:
    data = dict(data)
    for key in _DATETIME_FIELDS:
        data[key] = _parse_dt(data.get(key))
    data["state"] = State(data["state"])
    data["recipients"] = tuple(data.get("recipients", ()))
    data["people"] = tuple(Person(**p) for p in data.get("people", ()))
    data["interviewers"] = tuple(Person(**p) for p in data.get("interviewers", ()))
    data["drafts"] = [
        Draft(
            **{
                **d,
                "recipients": tuple(d["recipients"]),
                "status": DraftStatus(d.get("status", "planned")),
            }
        )
        for d in data.get("drafts", ())
    ]
    data["nudges_sent"] = [NudgeKind(kind) for kind in data.get("nudges_sent", ())]
    data["proofread"] = [Finding(**f) for f in data.get("proofread", ())]
    known = set(FollowUp.__dataclass_fields__)
    return FollowUp(**{k: v for k, v in data.items() if k in known})


class Store:
    """One connection; use one Store per thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Create the file 0600 before SQLite does (it would honour the umask). Only
        # when missing: closing any descriptor of a database file drops every POSIX
        # lock this process holds on it, behind the back of open connections.
        if not path.exists():
            with contextlib.suppress(FileExistsError):  # another process won the race
                os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
        try:
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self._run("PRAGMA journal_mode=WAL")
            # FULL: a committed intent survives power loss (the send protocol needs it).
            self._run("PRAGMA synchronous=FULL")
            self._run("PRAGMA busy_timeout=30000")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise FollowupdError(
                f"{path}: the state database cannot be opened ({exc}); move it aside "
                "and run `followupd sync` to rebuild it from Google"
            ) from None
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                os.chmod(side, 0o600)
        self._run(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
        )

    def _run(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Execute and fetch everything, so no statement (and no read snapshot) is left
        open: a half-read cursor would pin this connection to an old view of the
        database, and changes by the CLI or the daemon would go unseen."""
        cur = self._db.execute(sql, params)
        try:
            return cur.fetchall()
        finally:
            cur.close()

    def _first(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self._run(sql, params)
        return rows[0] if rows else None

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE: read-modify-write without racing the CLI or the daemon."""
        self._run("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._run("ROLLBACK")
            raise
        self._run("COMMIT")

    def save(self, fu: FollowUp, next_due: datetime | None) -> None:
        self._run(
            """INSERT INTO followups(id, calendar_id, event_id, state, next_due, data)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT(id) DO UPDATE SET state=excluded.state,
                   next_due=excluded.next_due, data=excluded.data""",
            (
                fu.id,
                fu.calendar_id,
                fu.event_id,
                fu.state.value,
                _utc_key(next_due),
                json.dumps(followup_to_dict(fu), ensure_ascii=False),
            ),
        )

    def get(self, fu_id: str) -> FollowUp | None:
        row = self._first("SELECT data FROM followups WHERE id = ?", (fu_id,))
        return followup_from_dict(json.loads(row[0])) if row else None

    def find(self, prefix: str) -> FollowUp:
        """By id or unambiguous id prefix (as typed by the user)."""
        prefix = prefix.strip().lower()
        if not prefix:
            raise NotFound("give a follow-up id (see `followupd list`)")
        rows = self._run(
            "SELECT data FROM followups WHERE id LIKE ? || '%' ESCAPE '\\'",
            (prefix.replace("%", "\\%").replace("_", "\\_"),),
        )
        if not rows:
            raise NotFound(f"no follow-up with id {prefix!r} (see `followupd list`)")
        if len(rows) > 1:
            raise NotFound(f"{prefix!r} matches {len(rows)} follow-ups: type more of the id")
        return followup_from_dict(json.loads(rows[0][0]))

    def by_event(self, calendar_id: str, event_id: str) -> FollowUp | None:
        row = self._first(
            "SELECT data FROM followups WHERE calendar_id = ? AND event_id = ?",
            (calendar_id, event_id),
        )
        return followup_from_dict(json.loads(row[0])) if row else None

    def all(self) -> list[FollowUp]:
        rows = self._run("SELECT data FROM followups")
        items = [followup_from_dict(json.loads(r[0])) for r in rows]
        return sorted(items, key=lambda f: f.start)

    def timers(self) -> list[tuple[str, datetime]]:
        rows = self._run("SELECT id, next_due FROM followups WHERE next_due IS NOT NULL")
        return [(r[0], datetime.fromisoformat(r[1])) for r in rows]

    def counts(self) -> dict[str, int]:
        rows = self._run("SELECT state, COUNT(*) FROM followups GROUP BY state")
        return {r[0]: int(r[1]) for r in rows}

    # --- sync tokens and meta -----------------------------------------------------

    def sync_token(self, calendar_id: str) -> str | None:
        row = self._first("SELECT token FROM sync_tokens WHERE calendar_id = ?", (calendar_id,))
        return str(row[0]) if row else None

    def set_sync_token(self, calendar_id: str, token: str) -> None:
        self._run(
            "INSERT INTO sync_tokens(calendar_id, token) VALUES (?, ?) "
            "ON CONFLICT(calendar_id) DO UPDATE SET token=excluded.token",
            (calendar_id, token),
        )

    def get_meta(self, key: str, default: str = "") -> str:
        row = self._first("SELECT value FROM meta WHERE key = ?", (key,))
        return str(row[0]) if row else default

    def set_meta(self, key: str, value: str) -> None:
        self._run(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (key, value),
        )

    def mark_synced(self, at: datetime) -> None:
        """A full cycle ended at `at` (the status record reads it as `last_sync`)."""
        self.set_meta(LAST_SYNC, at.isoformat())

    # --- requests from the CLI ------------------------------------------------------

    def add_request(self, at: datetime, followup_id: str | None, action: str, arg: str = "") -> int:
        cur = self._db.execute(
            "INSERT INTO requests(followup_id, action, arg, created_at) VALUES (?, ?, ?, ?)",
            (followup_id, action, arg, at.isoformat()),
        )
        cur.close()
        return int(cur.lastrowid or 0)

    def open_requests(self) -> list[tuple[int, str | None, str, str]]:
        rows = self._run(
            "SELECT id, followup_id, action, arg FROM requests WHERE done_at IS NULL ORDER BY id"
        )
        return [(int(r[0]), r[1], str(r[2]), str(r[3])) for r in rows]

    def finish_request(self, request_id: int, at: datetime, result: str) -> None:
        self._run(
            "UPDATE requests SET done_at = ?, result = ? WHERE id = ?",
            (at.isoformat(), result, request_id),
        )

    def request_result(self, request_id: int) -> str | None:
        row = self._first(
            "SELECT result FROM requests WHERE id = ? AND done_at IS NOT NULL", (request_id,)
        )
        return str(row[0]) if row else None

    def record(self, at: datetime, followup_id: str | None, kind: str, detail: str) -> None:
        """History line for `show` and `status` (never bodies or descriptions)."""
        self._run(
            "INSERT INTO history(at, followup_id, kind, detail) VALUES (?, ?, ?, ?)",
            (at.isoformat(), followup_id, kind, detail[:500]),
        )

    def history(self, followup_id: str | None = None, limit: int = 50) -> list[dict[str, str]]:
        if followup_id is None:
            rows = self._run(
                "SELECT at, followup_id, kind, detail FROM history ORDER BY id DESC LIMIT ?",
                (limit,),
            )
        else:
            rows = self._run(
                "SELECT at, followup_id, kind, detail FROM history WHERE followup_id = ? "
                "ORDER BY id DESC LIMIT ?",
                (followup_id, limit),
            )
        return [
            {"at": r[0], "followup_id": r[1] or "", "kind": r[2], "detail": r[3]}
            for r in reversed(rows)
        ]


def _utc_key(moment: datetime | None) -> str | None:
    """Sortable text key: every stored due time is UTC with the same format."""
    if moment is None:
        return None
    from datetime import UTC

    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
