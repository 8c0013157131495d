"""What every room of the engine shares: its wiring, saving a follow-up, requests."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from followupd.adapters.calendar import CalendarSource
from followupd.adapters.mailbox import Mailbox
from followupd.adapters.notify.base import Notifier
from followupd.adapters.notify.registry import NotifierRegistry
from followupd.adapters.store import Store
from followupd.adapters.templates import TemplateStore
from followupd.core import lifecycle, timing
from followupd.core.message import make_message_id
from followupd.core.model import Draft, FollowUp, Person
from followupd.core.settings import Config
from followupd.engine.decisions import apply_open_requests, apply_request

log = logging.getLogger(__name__)


@dataclass
class CycleReport:
    events_seen: int = 0
    new_followups: list[str] = field(default_factory=list)
    drafts_created: int = 0
    sent: int = 0
    nudges: int = 0
    problems: list[str] = field(default_factory=list)


class EngineBase:
    def __init__(
        self,
        *,
        config: Config,
        store: Store,
        calendar: CalendarSource,
        mailbox: Mailbox,
        templates: TemplateStore,
        notifiers: Iterable[Notifier],
        account: str,
        clock: timing.Clock,
        calendars: Callable[[], list[str]] | None = None,
        on_change: Callable[[FollowUp, str], None] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self.calendar = calendar
        self.mailbox = mailbox
        self.templates = templates
        self.notifiers = NotifierRegistry(notifiers)
        self.account = account.lower()
        self.clock = clock
        self._calendars = calendars or (lambda: list(config.detect.calendars))
        # Called with (follow-up, what happened) for live output (demo, foreground run).
        self.on_change = on_change or (lambda fu, what: None)
        self._reply_warned = False  # approval by reply without a read scope: said once

    @property
    def policy(self) -> lifecycle.Policy:
        return lifecycle.Policy.from_config(self.config)

    def _save(self, fu: FollowUp) -> None:
        now = self.clock.now()
        fu.updated_at = now
        due = lifecycle.next_due(fu, now, self.policy)
        if due is not None and fu.retry_at is not None and fu.retry_at > due:
            due = fu.retry_at  # a problem is retried later, not in a hot loop
        self.store.save(fu, due)

    def _commit(self, fu: FollowUp) -> None:
        with self.store.transaction():
            self._save(fu)

    def _message_id(self, draft: Draft) -> str:
        domain = self.account.rpartition("@")[2] or "followupd.invalid"
        return make_message_id(domain, draft.rfc_message_id)

    def _person(self, fu: FollowUp, email: str) -> Person:
        for person in fu.people:
            if person.email == email:
                return person
        return Person(email=email, name="", first_name="")

    # --- requests from the CLI ------------------------------------------------------

    def apply_requests(self) -> bool:
        """Apply approve/skip/note requests queued by the CLI. True if any."""
        return apply_open_requests(self.store, self.config, self.clock.now, self.on_change)

    def apply(self, action: str, fu_id: str, arg: str = "", via: str = "cli") -> str:
        """approve / skip / note on one follow-up; returns 'ok: ...' or 'error: ...'."""
        ok, detail, fu = apply_request(
            self.store, self.config, self.clock.now(), action, fu_id, arg, via
        )
        if fu is not None:
            self.on_change(fu, action)
        return f"{'ok' if ok else 'error'}: {detail}"
