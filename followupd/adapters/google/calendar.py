"""Google Calendar v3: the user's calendar list and incremental event sync.

:class:`GoogleCalendar` is the :class:`~followupd.adapters.calendar.CalendarSource`
that speaks Calendar v3 through
:class:`~followupd.adapters.google.transport.GoogleClients`; each event it returns is
read into the core's `Event` by :mod:`followupd.adapters.google.calendar_events`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from followupd.adapters.calendar import CalendarInfo, SyncResult
from followupd.adapters.google.api_errors import ApiGone, ApiNotFound
from followupd.adapters.google.calendar_events import event_from_api

if TYPE_CHECKING:
    from followupd.adapters.google.transport import GoogleClients
    from followupd.core.model import Event

log = logging.getLogger(__name__)

PAGE_SIZE = 2500  # events.list's maximum


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
                return self._result(calendar_id, items, token, full=False)
            except ApiGone:
                log.info("calendar %s: sync token expired (410); doing a full sync", calendar_id)
        items, token = self._list(calendar_id, {"timeMin": _rfc3339(time_min)})
        return self._result(calendar_id, items, token, full=True)

    @staticmethod
    def _result(
        calendar_id: str, items: list[dict[str, Any]], token: str, *, full: bool
    ) -> SyncResult:
        events = [event_from_api(calendar_id, item) for item in items]
        return SyncResult(items=events, next_sync_token=token, full=full)

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

    def get_event(self, calendar_id: str, event_id: str) -> Event | None:
        service = self._clients.calendar()
        request = service.events().get(calendarId=calendar_id, eventId=event_id)
        try:
            event: dict[str, Any] = self._clients.call(request, idempotent=True)
        except ApiNotFound:
            return None
        return event_from_api(calendar_id, event)
