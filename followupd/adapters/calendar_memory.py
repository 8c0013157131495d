"""The in-memory twin of the calendar adapter, with Google's semantics, in core Events.

The contract tests in ``tests/contract/adapters/`` run the same tests against it and against
``GoogleCalendar`` talking to the sandbox, so the engine's unit tests can rely on it.

What it copies from Google: sync tokens that return only what changed (cancelled and
deleted events as cancelled stubs that keep only the id and the recurring event id)
and expire (410, here a silent full sync, as the real adapter does); a full sync that
returns the events ending after ``time_min`` (an all-day event carries no times in the
core: a full sync always returns it). ``counts()`` counts the Google API requests the
real adapter would have made for the same calls (pages included), and ``fail_next``
injects faults (see ``faults_memory``).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from followupd.adapters.calendar import CalendarInfo, SyncResult
from followupd.adapters.faults_memory import Faults, not_found
from followupd.adapters.google.calendar import PAGE_SIZE
from followupd.core.model import Event


def _tombstone(event: Event) -> Event:
    """What a sync shows of a cancelled or deleted event."""
    return Event(
        calendar_id=event.calendar_id,
        id=event.id,
        status="cancelled",
        recurring_event_id=event.recurring_event_id,
    )


def _ends_after(event: Event, time_min: datetime) -> bool:
    return event.end > time_min if event.end is not None else event.all_day


class FakeCalendar(Faults):
    """A CalendarSource in memory. The primary calendar answers to ``"primary"`` too."""

    def __init__(
        self,
        *,
        primary_id: str = "me@example.com",
        time_zone: str = "Europe/Berlin",
        page_size: int = PAGE_SIZE,
    ) -> None:
        super().__init__()
        self.primary_id = primary_id
        self.page_size = page_size
        self._calendars: dict[str, CalendarInfo] = {}
        self._events: dict[str, dict[str, Event]] = {}
        self._changed: dict[tuple[str, str], int] = {}  # (calendar, event) -> sequence
        self._sequence = 0
        self._epoch = 0
        self._ids = itertools.count(1)
        self._hidden: set[str] = set()
        self.add_calendar(primary_id, primary_id, primary=True, time_zone=time_zone)

    # -- test API (the sandbox's names)

    def add_calendar(
        self,
        calendar_id: str,
        summary: str = "",
        selected: bool = True,
        primary: bool = False,
        time_zone: str = "UTC",
        hidden: bool = False,
    ) -> CalendarInfo:
        """Add (or change) a calendar in the user's list; hidden ones are not listed."""
        info = CalendarInfo(calendar_id, summary or calendar_id, primary, selected, time_zone)
        self._calendars[calendar_id] = info
        self._hidden.discard(calendar_id)
        if hidden:
            self._hidden.add(calendar_id)
        self._events.setdefault(calendar_id, {})
        return info

    def add_event(self, event: Event, calendar_id: str = "primary") -> Event:
        """Store ``event`` (an id is made up when it has none); returns it as stored."""
        cal = self._calendar(calendar_id)
        stored = event if event.id else replace(event, id=f"ev{next(self._ids):06d}")
        stored = replace(stored, calendar_id=calendar_id)
        self._events[cal][stored.id] = stored
        self._touch(cal, stored.id)
        return stored

    def update_event(self, calendar_id: str, event_id: str, **changes: Any) -> Event:
        """Change fields of a stored event (``start=..., end=...``); returns it."""
        cal = self._calendar(calendar_id)
        stored = replace(self._events[cal][event_id], **changes)
        self._events[cal][event_id] = stored
        self._touch(cal, event_id)
        return stored

    def cancel_event(self, calendar_id: str, event_id: str) -> None:
        """The organizer cancelled it: ``status: "cancelled"``; syncs show a stub."""
        self.update_event(calendar_id, event_id, status="cancelled")

    def delete_event(self, calendar_id: str, event_id: str) -> None:
        """Deleted: to the API the same as cancelled (Google keeps a tombstone)."""
        cal = self._calendar(calendar_id)
        if not self._events[cal][event_id].cancelled:
            self.cancel_event(calendar_id, event_id)

    def expire_tokens(self) -> None:
        """Every sync token issued so far answers 410 (full sync needed)."""
        self._epoch += 1

    invalidate_sync_tokens = expire_tokens

    # -- CalendarSource

    def list_calendars(self) -> list[CalendarInfo]:
        def action() -> list[CalendarInfo]:
            self._counts["calendar.calendarList.list"] += 1
            return [c for c in self._calendars.values() if c.id not in self._hidden]

        return self._run("list_calendars", action)

    def sync(self, calendar_id: str, sync_token: str | None, time_min: datetime) -> SyncResult:
        if time_min.tzinfo is None:
            raise ValueError("time_min must be timezone-aware")
        return self._run("sync", lambda: self._sync(calendar_id, sync_token, time_min))

    def _sync(self, calendar_id: str, sync_token: str | None, time_min: datetime) -> SyncResult:
        cal = self._calendar(calendar_id)
        since = self._parse_token(cal, sync_token) if sync_token else None
        if sync_token and since is None:
            self._counts["calendar.events.list"] += 1  # the request that got 410
        events = self._events[cal]
        if since is not None:
            items = [e for i, e in events.items() if self._changed[(cal, i)] > since]
        else:
            items = [e for e in events.values() if _ends_after(e, time_min)]
        items.sort(key=lambda e: self._changed[(cal, e.id)])
        items = [replace(e, calendar_id=calendar_id) for e in items]
        items = [_tombstone(e) if e.cancelled else e for e in items]
        self._counts["calendar.events.list"] += max(1, -(-len(items) // self.page_size))
        return SyncResult(
            items=items,
            next_sync_token=f"fake:{self._epoch}:{cal}:{self._sequence}",
            full=since is None,
        )

    def get_event(self, calendar_id: str, event_id: str) -> Event | None:
        def action() -> Event | None:
            self._counts["calendar.events.get"] += 1
            cal = self._calendar(calendar_id)
            event = self._events[cal].get(event_id)
            return replace(event, calendar_id=calendar_id) if event is not None else None

        return self._run("get_event", action)

    # -- internals

    def _calendar(self, calendar_id: str) -> str:
        cal = self.primary_id if calendar_id == "primary" else calendar_id
        if cal not in self._calendars:
            raise not_found(f"calendar {calendar_id}")
        return cal

    def _touch(self, cal: str, event_id: str) -> None:
        self._sequence += 1
        self._changed[(cal, event_id)] = self._sequence

    def _parse_token(self, cal: str, token: str) -> int | None:
        """The sequence a token stands for; None when it is expired or not ours."""
        match = re.fullmatch(r"fake:(\d+):(.+):(\d+)", token)
        if not match or int(match[1]) != self._epoch or match[2] != cal:
            return None
        return int(match[3])
