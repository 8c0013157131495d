"""Calendar v3 event JSON -> the core's `Event`. Pure: no I/O, no Google libraries.

The input is hostile: any key may be missing or hold the wrong type, dates may be
junk. `event_from_api` never raises on JSON-shaped input (dicts, lists, strings,
numbers, booleans, None); whatever it cannot read falls back to the field's default.

Decisions (where the Calendar API documentation leaves room):
- A `dateTime` with an offset is aware as given; when the event also names a valid
  `timeZone`, the instant is converted to that zone (same instant, local wall time).
- A `dateTime` without an offset takes the `timeZone` of its start/end object; an
  unknown or missing zone means UTC (the calendar's own zone is not known here).
- A `date` (and no `dateTime`) makes the event all-day; start and end are then None.
- Leap seconds (":60") are read as ":59".
- `conference_url` is `hangoutLink`, else the first `video` entry point of
  `conferenceData`; only http(s) URLs without whitespace or control characters
  are kept (a `javascript:` or `tel:` URI is not a meeting link).
- Emails are stripped and lower-cased (a leading "mailto:" is dropped); they are not
  validated here: detection decides who is a usable recipient.
- Google's own signs become the core's facts. An attendee is a resource when it
  carries `resource: true` or an address under resource.calendar.google.com; a group
  when its address is under any other *.calendar.google.com (group and imported
  calendars) or googlegroups.com; a person otherwise. The organizer, who carries no
  resource flag, is judged by the address alone. `eventType` maps to `EventKind`
  (missing: "default", a meeting; unknown: OTHER), and is kept as given (stripped) in
  `kind_label` for messages.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from followupd.core.model import Attendee, AttendeeKind, Event, EventKind

__all__ = ["attendee_kind", "event_from_api", "normalize_email", "parse_rfc3339"]

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,12}))?)?"
    r"\s*([Zz]|[+-]\d{2}(?::?\d{2})?)?",
    re.ASCII,
)
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
_RESPONSES = frozenset({"accepted", "declined", "tentative", "needsAction"})
_STATUSES = frozenset({"confirmed", "tentative", "cancelled"})
_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f<>\"']{1,2000}", re.IGNORECASE)
_MAX_ZONE_NAME = 64
_RESOURCE_DOMAINS = ("resource.calendar.google.com",)
_GROUP_DOMAINS = ("calendar.google.com", "googlegroups.com")  # after the resource ones
_EVENT_KINDS = {
    "default": EventKind.MEETING,
    "fromGmail": EventKind.FROM_EMAIL,
    "birthday": EventKind.BIRTHDAY,
    "focusTime": EventKind.FOCUS_TIME,
    "outOfOffice": EventKind.OUT_OF_OFFICE,
    "workingLocation": EventKind.WORKING_LOCATION,
}


def parse_rfc3339(value: object, default_tz: tzinfo | None = None) -> datetime | None:
    """Parse an RFC 3339 timestamp ("2024-06-12T15:00:00+02:00", "...Z").

    Without an offset the result takes `default_tz`, or UTC when that is None.
    Always returns an aware datetime, or None when `value` is not a readable
    timestamp (wrong type, junk, out-of-range fields). Never raises.
    """
    if not isinstance(value, str) or len(value) > 64:
        return None
    match = _RFC3339.fullmatch(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute = (int(match.group(i)) for i in range(1, 6))
    second = int(match.group(6) or 0)
    fraction = match.group(7) or ""
    micro = int((fraction + "000000")[:6])
    if second == 60:  # a leap second: the closest representable instant
        second = 59
    tz: tzinfo
    offset = match.group(8)
    if offset is None:
        tz = default_tz if default_tz is not None else UTC
    elif offset in ("Z", "z"):
        tz = UTC
    else:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            return None
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except (ValueError, OverflowError):
        return None


def normalize_email(value: object) -> str:
    """'  Jane.Doe@Acme.COM ' -> 'jane.doe@acme.com'; anything but a string -> ''."""
    if not isinstance(value, str):
        return ""
    email = value.strip().lower()
    if email.startswith("mailto:"):
        email = email[len("mailto:") :].strip()
    return email


def attendee_kind(email: str, *, resource: bool) -> AttendeeKind:
    """A person, a resource (room) or a group, from Google's flag and address."""
    domain = email.rpartition("@")[2]
    if resource or _under(domain, _RESOURCE_DOMAINS):
        return AttendeeKind.RESOURCE
    if _under(domain, _GROUP_DOMAINS):
        return AttendeeKind.GROUP
    return AttendeeKind.PERSON


def _under(domain: str, domains: tuple[str, ...]) -> bool:
    return any(domain == d or domain.endswith("." + d) for d in domains)


def event_from_api(calendar_id: str, data: Mapping[str, Any]) -> Event:
    """Normalise one Calendar v3 event resource (or a cancelled incremental stub)."""
    if not isinstance(data, Mapping):
        data = {}
    cal = calendar_id if isinstance(calendar_id, str) else ""
    status = _str(data.get("status"))
    start, start_all_day = _when(data.get("start"))
    end, end_all_day = _when(data.get("end"))
    all_day = start_all_day or (start is None and end_all_day)
    if all_day:
        start = end = None
    organizer = _map(data.get("organizer"))
    event_type = _str(data.get("eventType")).strip()
    organizer_email = normalize_email(organizer.get("email"))
    recurring = data.get("recurringEventId")
    return Event(
        calendar_id=cal,
        id=_id(data.get("id")),
        status=status if status in _STATUSES else "confirmed",
        summary=_str(data.get("summary")),
        description=_str(data.get("description")),
        location=_str(data.get("location")),
        start=start,
        end=end,
        all_day=all_day,
        kind=_EVENT_KINDS.get(event_type or "default", EventKind.OTHER),
        kind_label=event_type,
        attendees=_attendees(data.get("attendees")),
        attendees_omitted=data.get("attendeesOmitted") is True,
        organizer_email=organizer_email,
        organizer_self=organizer.get("self") is True,
        organizer_name=_str(organizer.get("displayName")),
        organizer_kind=attendee_kind(organizer_email, resource=False),
        recurring_event_id=recurring if isinstance(recurring, str) and recurring else None,
        html_link=_str(data.get("htmlLink")),
        conference_url=_conference_url(data),
    )


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _id(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _zone(value: object) -> tzinfo | None:
    if not isinstance(value, str) or not value or len(value) > _MAX_ZONE_NAME:
        return None
    try:
        return ZoneInfo(value)
    except Exception:  # ZoneInfoNotFoundError, ValueError, and odd OSErrors on junk paths
        return None


def _when(value: object) -> tuple[datetime | None, bool]:
    """A start/end object -> (aware datetime or None, is all-day)."""
    obj = _map(value)
    zone = _zone(obj.get("timeZone"))
    stamp = parse_rfc3339(obj.get("dateTime"), zone)
    if stamp is not None:
        if zone is not None and stamp.tzinfo is not zone:
            with contextlib.suppress(ValueError, OverflowError):
                stamp = stamp.astimezone(zone)
        return stamp, False
    date = obj.get("date")
    if isinstance(date, str) and _DATE.fullmatch(date.strip()):
        return None, True
    return None, False


def _attendees(value: object) -> tuple[Attendee, ...]:
    if not isinstance(value, list):
        return ()
    out: list[Attendee] = []
    for item in value:
        if not isinstance(item, Mapping):
            continue
        response = _str(item.get("responseStatus"))
        email = normalize_email(item.get("email"))
        out.append(
            Attendee(
                email=email,
                name=_str(item.get("displayName")),
                response=response if response in _RESPONSES else "needsAction",
                is_self=item.get("self") is True,
                is_organizer=item.get("organizer") is True,
                kind=attendee_kind(email, resource=item.get("resource") is True),
                optional=item.get("optional") is True,
            )
        )
    return tuple(out)


def _clean_url(value: object) -> str:
    if not isinstance(value, str):
        return ""
    url = value.strip()
    return url if _URL.fullmatch(url) else ""


def _conference_url(data: Mapping[str, Any]) -> str:
    url = _clean_url(data.get("hangoutLink"))
    if url:
        return url
    points = _map(data.get("conferenceData")).get("entryPoints")
    if not isinstance(points, list):
        return ""
    for point in points:
        if isinstance(point, Mapping) and point.get("entryPointType") == "video":
            url = _clean_url(point.get("uri"))
            if url:
                return url
    return ""
