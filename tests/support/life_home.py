"""A daemon home whose config is written whole, and the command channel's recorder."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from followupd.sandbox import Sandbox
from support.daemon_home import Home, wait_for

# Appends stdin (one JSON object, no raw newline in it) as one line of the file.
_RECORDER = "import sys; data = sys.stdin.read(); open(sys.argv[1], 'a').write(data + '\\n')"


class LifeHome(Home):
    """A Home whose config is written whole: channels, window, check-in, reply approval."""

    def __init__(self, root: Path, sandbox: Sandbox) -> None:
        super().__init__(root, sandbox)
        self.nudge_file = root / "nudges.jsonl"

    def configure(
        self,
        *,
        mode: str = "send",
        channels: tuple[str, ...] = ("command",),
        window: tuple[str, str] = ("3s", "300s"),
        remind_before_close: str = "4h",
        checkin_after: str = "",
        reply_approval: bool = False,
        max_words: int = 200,
        log_level: str = "INFO",
    ) -> None:
        command = json.dumps([sys.executable, "-c", _RECORDER, str(self.nudge_file)])
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(
            f'mode = "{mode}"\n'
            'token_store = "file"\n'
            f'log_level = "{log_level}"\n'
            "[google]\n"
            f'endpoint = "{self.sandbox.url}"\n'
            'poll_interval = "2s"\n'
            f"readonly_scope = {str(reply_approval).lower()}\n"
            "[drafts]\n"
            f"max_words = {max_words}\n"
            "[timing]\n"
            'timezone = "UTC"\n'
            'draft_delay = "2s"\n'
            f'window = ["{window[0]}", "{window[1]}"]\n'
            'send_hours = ["00:00", "23:59"]\n'
            'business_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
            f'remind_before_close = "{remind_before_close}"\n'
            f'checkin_after = "{checkin_after}"\n'
            "[profile]\n"
            'name = "Casey Candidate"\n'
            'highlights = ["six years of payments backends"]\n'
            "[nudge]\n"
            f"channels = {json.dumps(list(channels))}\n"
            f"command = {command}\n"
            f"reply_approval = {str(reply_approval).lower()}\n"
        )

    # --- observing ------------------------------------------------------------------

    def nudges(self) -> list[dict[str, Any]]:
        if not self.nudge_file.exists():
            return []
        lines = self.nudge_file.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def kinds(self) -> list[str]:
        return [str(n["kind"]) for n in self.nudges()]

    def followup(self, fu_id: str | None = None) -> dict[str, Any]:
        items = self.list_json()
        if fu_id is None:
            assert len(items) == 1, items
            return items[0]
        (item,) = [i for i in items if i["id"] == fu_id]
        return item

    def drafted_id(self, timeout: float = 30) -> str:
        ids: list[str] = wait_for(
            lambda: [f["id"] for f in self.list_json() if f["state"] == "drafted"],
            timeout,
            "a drafted follow-up",
        )
        return ids[0]

    def state_of(self, fu_id: str) -> str:
        return str(self.followup(fu_id)["state"])

    def stored(self, fu_id: str) -> dict[str, Any]:
        """The follow-up as the daemon stored it (fields `list --json` leaves out)."""
        db = self.root / "state" / "followupd" / "state.db"
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            row = conn.execute("SELECT data FROM followups WHERE id = ?", (fu_id,)).fetchone()
        finally:
            conn.close()
        assert row is not None
        data: dict[str, Any] = json.loads(row[0])
        return data

    def history(self, fu_id: str) -> list[tuple[str, str]]:
        db = self.root / "state" / "followupd" / "state.db"
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
        try:
            rows = conn.execute(
                "SELECT kind, detail FROM history WHERE followup_id = ? ORDER BY id", (fu_id,)
            ).fetchall()
        finally:
            conn.close()
        return [(str(k), str(d)) for k, d in rows]
