"""Calendar v3 method handlers: each maps one API method to the store or a query,
with Google's access checks and errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ApiError, Response, bad_request
from .query import calendar_list, instances, list_events
from .store import ROLE_RANK, CalendarStore
from .views import event_view, response_tz

Json = dict[str, Any]

Handler = Callable[[CalendarStore, dict[str, str], Json, Any], Response]


def _list(store: CalendarStore, path: dict[str, str], p: Json, body: Any) -> Response:
    return Response.json(list_events(store, path["calendarId"], p))


def _get(store: CalendarStore, path: dict[str, str], p: Json, body: Any) -> Response:
    ev = store.get_event(path["calendarId"], path["eventId"])
    tz = response_tz(store, store.resolve(path["calendarId"]), p)
    return Response.json(event_view(ev, p.get("maxAttendees"), tz))


def _instances(store: CalendarStore, path: dict[str, str], p: Json, body: Any) -> Response:
    return Response.json(instances(store, path["calendarId"], path["eventId"], p))


def _calendar_list(store: CalendarStore, path: dict[str, str], p: Json, body: Any) -> Response:
    return Response.json(calendar_list(store, p))


def _calendar_list_get(store: CalendarStore, path: dict[str, str], p: Json, body: Any) -> Response:
    return Response.json(store.resolve(path["calendarId"]).entry())


def _calendars_get(store: CalendarStore, path: dict[str, str], p: Json, body: Any) -> Response:
    cal = store.resolve(path["calendarId"])
    out: Json = {
        "kind": "calendar#calendar",
        "etag": f'"{cal.seq}"',
        "id": cal.id,
        "summary": cal.summary,
        "timeZone": cal.time_zone,
    }
    if cal.description:
        out["description"] = cal.description
    return Response.json(out)


def _require_object(body: Any) -> Json:
    if not isinstance(body, dict):
        raise bad_request("Request body must be a JSON object.", reason="parseError")
    return body


def _writable(store: CalendarStore, calendar_id: str) -> None:
    if ROLE_RANK[store.resolve(calendar_id).access_role] < ROLE_RANK["writer"]:
        raise ApiError(
            403, "You need to have writer access to this calendar.", "requiredAccessLevel"
        )


def _insert(store: CalendarStore, path: dict[str, str], p: Json, body: Any) -> Response:
    _writable(store, path["calendarId"])
    return Response.json(store.add_event(_require_object(body), path["calendarId"]))


def _patch(store: CalendarStore, path: dict[str, str], p: Json, body: Any) -> Response:
    _writable(store, path["calendarId"])
    return Response.json(
        store.update_event(path["calendarId"], path["eventId"], _require_object(body))
    )


def _update(store: CalendarStore, path: dict[str, str], p: Json, body: Any) -> Response:
    _writable(store, path["calendarId"])
    new = _require_object(body)
    old = store.get_event(path["calendarId"], path["eventId"])
    keep = {
        "kind",
        "id",
        "etag",
        "created",
        "updated",
        "iCalUID",
        "htmlLink",
        "creator",
        "organizer",
        "status",
        "sequence",
        "recurringEventId",
        "originalStartTime",
        "eventType",
    }
    patch: Json = {k: None for k in old if k not in new and k not in keep}
    patch.update(new)
    return Response.json(store.update_event(path["calendarId"], path["eventId"], patch))


def _delete(store: CalendarStore, path: dict[str, str], p: Json, body: Any) -> Response:
    _writable(store, path["calendarId"])
    store.delete_event(path["calendarId"], path["eventId"], strict=True)
    return Response.empty()


HANDLERS: dict[str, Handler] = {
    "calendar.events.list": _list,
    "calendar.events.get": _get,
    "calendar.events.instances": _instances,
    "calendar.events.insert": _insert,
    "calendar.events.patch": _patch,
    "calendar.events.update": _update,
    "calendar.events.delete": _delete,
    "calendar.calendarList.list": _calendar_list,
    "calendar.calendarList.get": _calendar_list_get,
    "calendar.calendars.get": _calendars_get,
}
