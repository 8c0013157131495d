"""Events as the API shows them: in the response's time zone, attendees capped,
deleted ones as tombstones."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from ..errors import bad_request
from ..timeutil import format_datetime, zone
from .recurrence import event_time
from .store import CalendarRecord, CalendarStore

Json = dict[str, Any]


def tombstone(body: Json) -> Json:
    out: Json = {
        "kind": "calendar#event",
        "etag": body.get("etag"),
        "id": body["id"],
        "status": "cancelled",
    }
    if "recurringEventId" in body:
        out["recurringEventId"] = body["recurringEventId"]
        out["originalStartTime"] = body.get("originalStartTime")
    return out


def response_tz(store: CalendarStore, cal: CalendarRecord, p: Json) -> dt.tzinfo:
    """The `timeZone` parameter, else the calendar's zone."""
    name = p.get("timeZone")
    if name:
        try:
            return zone(str(name))
        except ValueError:
            raise bad_request(
                f"Invalid time zone: {name}", reason="invalid", location="timeZone"
            ) from None
    return store.tz(cal)


def event_view(body: Json, max_attendees: int | None, tz: dt.tzinfo) -> Json:
    """An event as the API shows it: dateTime values in the response's time zone."""
    out = copy.deepcopy(body)
    for key in ("start", "end", "originalStartTime"):
        when = out.get(key)
        if isinstance(when, dict) and when.get("dateTime"):
            try:
                moment = event_time(when, tz)
            except ValueError:
                continue
            when["dateTime"] = format_datetime(moment.astimezone(tz))
    if max_attendees is not None and len(out.get("attendees") or []) > max_attendees:
        out["attendees"] = [a for a in out["attendees"] if a.get("self")]
        out["attendeesOmitted"] = True
    return out
