"""Calendars: the interface the engine watches them through, in the core's types.

:class:`CalendarSource` is the interface: the calendars the user has and incremental
event sync, events as the core's `Event`. ``followupd.adapters.google.calendar``
holds Google's (:class:`GoogleCalendar`) and ``followupd.adapters.calendar_memory``
its in-memory twin (:class:`FakeCalendar`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from followupd.core.model import Event

SELECTED = "selected"  # config value: every calendar ticked in Google Calendar
PRIMARY = "primary"


@dataclass(frozen=True)
class CalendarInfo:
    id: str
    summary: str
    primary: bool
    selected: bool
    time_zone: str


@dataclass(frozen=True)
class SyncResult:
    items: list[Event]  # what changed, cancelled and deleted events as cancelled stubs
    next_sync_token: str
    full: bool  # True for a full sync (no token, or the token was refused with 410)


class CalendarSource(Protocol):
    def list_calendars(self) -> list[CalendarInfo]: ...

    def sync(self, calendar_id: str, sync_token: str | None, time_min: datetime) -> SyncResult:
        """Events changed since ``sync_token``; with no token (or an expired one), all
        events ending after ``time_min``. Each event's ``calendar_id`` is the one asked
        for (``"primary"`` stays ``"primary"``)."""
        ...

    def get_event(self, calendar_id: str, event_id: str) -> Event | None:
        """One event; None when it does not exist."""
        ...


def resolve_calendars(source: CalendarSource, configured: list[str]) -> list[str]:
    """The calendar ids to watch for ``[detect] calendars``.

    ``"selected"`` expands to every calendar ticked in Google Calendar's list; the
    primary calendar is always named ``"primary"`` so that its events keep one
    calendar id whichever way the config names it. Order is kept, duplicates dropped.
    The calendar list is fetched only when ``"selected"`` is configured.
    """
    calendars = source.list_calendars() if SELECTED in configured else []
    primary_id = next((c.id for c in calendars if c.primary), None)
    result: list[str] = []
    for entry in configured:
        expanded = [c.id for c in calendars if c.selected] if entry == SELECTED else [entry]
        for calendar_id in expanded:
            name = PRIMARY if calendar_id == primary_id else calendar_id
            if name not in result:
                result.append(name)
    return result
