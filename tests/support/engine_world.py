"""The engine on in-memory twins: a world with a clock, a calendar and a mailbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from followupd.adapters.calendar_memory import FakeCalendar
from followupd.adapters.mailbox_memory import FakeMailbox
from followupd.adapters.notify.memory import InMemoryNotifier
from followupd.adapters.store import Store
from followupd.adapters.templates import TemplateStore
from followupd.config import validate
from followupd.core.model import Attendee, Event
from followupd.core.settings import Config
from followupd.core.timing import FixedClock
from followupd.engine.cycle import Engine

ME = "casey@example.com"


# Monday 2026-11-23 10:00 UTC: an ordinary working week.
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def make_config(**over: Any) -> Config:
    data: dict[str, Any] = {
        "mode": "send",
        "timing": {"timezone": "UTC", "draft_delay": "10m"},
        "profile": {"name": "Casey Candidate", "highlights": ["payments backends"]},
        "nudge": {"channels": []},
    }
    for key, value in over.items():
        if isinstance(value, dict):
            data.setdefault(key, {}).update(value)
        else:
            data[key] = value
    return validate(data, "test")


def interview(
    event_id: str = "ev1",
    *,
    start: datetime = T0,
    minutes: int = 45,
    people: tuple[tuple[str, str], ...] = (("jane.doe@acme.com", "Jane Doe"),),
    summary: str = "Interview: Backend Engineer, Acme",
) -> Event:
    attendees = [Attendee(ME, response="accepted", is_self=True)]
    attendees += [Attendee(email, name, "accepted") for email, name in people]
    return Event(
        calendar_id="primary",
        id=event_id,
        summary=summary,
        start=start,
        end=start + timedelta(minutes=minutes),
        attendees=tuple(attendees),
        organizer_email=people[0][0],
    )


class World:
    """A store, fakes and a clock; `engine()` builds a fresh engine as a restart would."""

    def __init__(self, tmp_path: Path, config: Config) -> None:
        self.clock = FixedClock(T0 - timedelta(hours=1))
        self.config = config
        self.calendar = FakeCalendar(primary_id=ME)
        self.mailbox = FakeMailbox(ME, now=self.clock.now)
        self.notifier = InMemoryNotifier()
        self.db = tmp_path / "state.db"
        self.store = Store(self.db)
        self.templates = TemplateStore(tmp_path / "templates")

    def engine(self) -> Engine:
        self.store.close()
        self.store = Store(self.db)
        return Engine(
            config=self.config,
            store=self.store,
            calendar=self.calendar,
            mailbox=self.mailbox,
            templates=self.templates,
            notifiers=[self.notifier],
            account=ME,
            clock=self.clock,
        )

    def at(self, moment: datetime) -> Engine:
        self.clock.set(moment)
        engine = self.engine()
        engine.cycle()
        return engine

    def only(self) -> Any:
        items = self.store.all()
        assert len(items) == 1
        return items[0]


def after_end(minutes: int = 11) -> datetime:
    return T0 + timedelta(minutes=45 + minutes)
