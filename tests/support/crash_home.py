"""Killing the daemon around Gmail writes, and the ledger of what Gmail saw."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from followupd.sandbox import Sandbox
from followupd.sandbox.server import Request
from support.daemon_home import Home, wait_for

# Gmail method paths (POST) that get latency; the sandbox routes them to these ids.
SEND_PATH = "/gmail/v1/users/me/drafts/send"


CREATE_PATH = "/gmail/v1/users/me/drafts"


class SlowSandbox(Sandbox):
    """A sandbox whose answers to drafts.create / drafts.send come late.

    The sandbox acts first, then sleeps before answering: a daemon killed during the
    sleep has sent (or created) without knowing it, the case an intent must settle.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.latency: dict[tuple[str, str], float] = {}
        self.latency_lock = threading.Lock()
        # Answers to Google requests (the test API excluded): "ok", "drop", "429"...
        self.outcomes: Counter[str] = Counter()

    def handle(self, req: Request) -> Any:
        response = super().handle(req)
        with self.latency_lock:
            delay = self.latency.get((req.method, req.path), 0.0)
            if not req.path.startswith("/_sandbox"):
                outcome = "drop" if response.drop else str(response.status)
                self.outcomes[outcome if outcome in ("drop", "429", "500") else "other"] += 1
        if delay:
            time.sleep(delay)
        return response


class CrashHome(Home):
    """The e2e Home with a fast config: sends at once, polls every second."""

    def write_config(
        self, extra: str = "", mode: str = "send", calendar: str = "primary", poll: str = "1s"
    ) -> None:
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(
            f'mode = "{mode}"\n'
            'token_store = "file"\n'
            "[google]\n"
            f'endpoint = "{self.sandbox.url}"\n'
            f'poll_interval = "{poll}"\n'
            "[detect]\n"
            f"calendars = [{json.dumps(calendar)}]\n"
            "[timing]\n"
            'timezone = "UTC"\n'
            'draft_delay = "1s"\n'
            'window = ["3s", "300s"]\n'
            'send_hours = ["00:00", "23:59"]\n'
            'business_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
            "[profile]\n"
            'name = "Casey Candidate"\n'
            'highlights = ["six years of payments backends"]\n'
            "[nudge]\n"
            "channels = []\n" + extra
        )

    @property
    def db(self) -> Path:
        return self.root / "state" / "followupd" / "state.db"

    def start_daemon(self) -> subprocess.Popen[str]:
        proc = super().start_daemon()
        log = self.root / f"daemon-{len(self.procs) - 1}.log"
        # Approving before the daemon holds its lock would let the CLI take the lock
        # itself for a moment (and a daemon starting then would refuse to run).
        wait_for(
            lambda: proc.poll() is not None or "followupd started" in log.read_text(),
            20,
            f"daemon {len(self.procs) - 1} to start",
        )
        assert proc.poll() is None, f"the daemon exited at start:\n{log.read_text()[-3000:]}"
        return proc

    def kill(self, proc: subprocess.Popen[str]) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def state_rows(self) -> list[dict[str, Any]]:
        """The follow-ups as stored (read-only; for counting open intents after a kill)."""
        if not self.db.exists():
            return []
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return [json.loads(row[0]) for row in conn.execute("SELECT data FROM followups")]
        finally:
            conn.close()

    def approve_all(self, fu_ids: list[str], *, queued_ok: bool = False) -> None:
        """`followupd approve` for each id, in parallel, while the daemon runs.
        `queued_ok`: a daemon busy for 15 s (retrying Google) may answer "Queued"."""
        procs = [
            (
                fu_id,
                subprocess.Popen(
                    [sys.executable, "-m", "followupd", "approve", fu_id],
                    env=self.env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                ),
            )
            for fu_id in fu_ids
        ]
        for fu_id, proc in procs:
            out, err = proc.communicate(timeout=60)
            said = out.lower()
            assert proc.returncode == 0 and (
                "approved" in said or (queued_ok and "queued" in said)
            ), f"approve {fu_id}: exit {proc.returncode}: {out} {err}"


def _addresses(value: object) -> list[str]:
    return [a.lower() for _, a in getaddresses([str(value or "")]) if "@" in a]


@dataclass
class Ledger:
    """What Gmail holds for a set of recipients, counted from the sandbox."""

    sent_to: Counter[str] = field(default_factory=Counter)
    drafts_to: Counter[str] = field(default_factory=Counter)
    message_ids: Counter[str] = field(default_factory=Counter)  # drafts + sent
    sent_per_draft: Counter[str] = field(default_factory=Counter)
    first_sent: dict[str, float] = field(default_factory=dict)  # recipient -> epoch s

    @classmethod
    def read(cls, sandbox: Sandbox, recipients: set[str]) -> Ledger:
        ledger = cls()
        for kind, items in (("sent", sandbox.sent_messages()), ("draft", sandbox.drafts())):
            for item in items:
                to = [a for a in _addresses(item["parsed"]["To"]) if a in recipients]
                if not to:
                    continue
                for address in to:
                    (ledger.sent_to if kind == "sent" else ledger.drafts_to)[address] += 1
                ledger.message_ids[str(item["rfc822_message_id"])] += 1
                if kind == "sent" and item["draft_id"]:
                    ledger.sent_per_draft[str(item["draft_id"])] += 1
                if kind == "sent":
                    for address in to:
                        when = int(item["internal_date"]) / 1000
                        ledger.first_sent[address] = min(ledger.first_sent.get(address, when), when)
        return ledger

    def duplicates(self) -> list[str]:
        """One line per duplicate: a recipient mailed twice, a Message-ID held twice, or
        one draft sent twice."""
        found = [f"{a} received {n} notes" for a, n in self.sent_to.items() if n > 1]
        found += [f"Message-ID {m} exists {n} times" for m, n in self.message_ids.items() if n > 1]
        found += [f"draft {d} was sent {n} times" for d, n in self.sent_per_draft.items() if n > 1]
        return found
