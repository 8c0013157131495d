"""Google Calendar: the calendars the user has and incremental event sync.

:class:`CalendarSource` is the interface; :class:`GoogleCalendar` speaks Calendar v3
through :class:`~followupd.adapters.google_clients.GoogleClients`, and
``followupd.adapters.fakes.FakeCalendar`` is its in-memory twin.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from followupd.adapters.google_clients import ApiGone, ApiNotFound

if TYPE_CHECKING:
    from followupd.adapters.google_clients import GoogleClients

log = logging.getLogger(__name__)

PAGE_SIZE = 2500  # events.list's maximum
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
    items: list[dict[str, Any]]  # raw Calendar v3 event JSON, cancelled stubs included
    next_sync_token: str
    full: bool  # True for a full sync (no token, or the token was refused with 410)


class CalendarSource(Protocol):
    def list_calendars(self) -> list[CalendarInfo]: ...

    def sync(self, calendar_id: str, sync_token: str | None, time_min: datetime) -> SyncResult:
        """Events changed since ``sync_token``; with no token (or an expired one), all
        events ending after ``time_min``."""
        ...

    def get_event(self, calendar_id: str, event_id: str) -> dict[str, Any] | None:
        """One event's JSON; None when it does not exist."""
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


def _rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("time_min must be timezone-aware")
    return moment.isoformat()


class GoogleCalendar:
    """Calendar v3 events.list with sync tokens (see PITFALLS.md, Calendar v3)."""

    def __init__(self, clients: GoogleClients) -> None:
        self._clients = clients

    def list_calendars(self) -> list[CalendarInfo]:
        service = self._clients.calendar()
        result: list[CalendarInfo] = []
        page_token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"maxResults": 250}
            if page_token:
                kwargs["pageToken"] = page_token
            page = self._clients.call(service.calendarList().list(**kwargs), idempotent=True)
            for item in page.get("items", []):
                result.append(
                    CalendarInfo(
                        id=str(item["id"]),
                        summary=str(item.get("summaryOverride") or item.get("summary") or ""),
                        primary=bool(item.get("primary", False)),
                        selected=bool(item.get("selected", False)),
                        time_zone=str(item.get("timeZone") or ""),
                    )
                )
            page_token = page.get("nextPageToken")
            if not page_token:
                return result

    def sync(self, calendar_id: str, sync_token: str | None, time_min: datetime) -> SyncResult:
        if sync_token:
            try:
                items, token = self._list(calendar_id, {"syncToken": sync_token})
                return SyncResult(items=items, next_sync_token=token, full=False)
            except ApiGone:
                log.info("calendar %s: sync token expired (410); doing a full sync", calendar_id)
        items, token = self._list(calendar_id, {"timeMin": _rfc3339(time_min)})
        return SyncResult(items=items, next_sync_token=token, full=True)

    def _list(self, calendar_id: str, params: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
        service = self._clients.calendar()
        items: list[dict[str, Any]] = []
        page_token: str | None = None
        while True:
            kwargs: dict[str, Any] = {
                "calendarId": calendar_id,
                "singleEvents": True,
                "showDeleted": True,
                "maxResults": PAGE_SIZE,
                **params,
            }
            if page_token:
                kwargs["pageToken"] = page_token
            page = self._clients.call(service.events().list(**kwargs), idempotent=True)
            items.extend(page.get("items", []))
            page_token = page.get("nextPageToken")
            if not page_token:
                token = page.get("nextSyncToken")
                if not token:
                    raise ValueError(f"calendar {calendar_id}: last page has no nextSyncToken")
                return items, str(token)

    def get_event(self, calendar_id: str, event_id: str) -> dict[str, Any] | None:
        service = self._clients.calendar()
        request = service.events().get(calendarId=calendar_id, eventId=event_id)
        try:
            event: dict[str, Any] = self._clients.call(request, idempotent=True)
        except ApiNotFound:
            return None
        return event
