"""Calendar queries: events.list (filters, ordering, paging, incremental sync),
events.instances and calendarList.list."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ApiError, bad_request, not_found
from ..timeutil import format_updated
from .recurrence import event_time, expand
from .store import ROLE_RANK, CalendarRecord, CalendarStore, EventRecord
from .tokens import (
    decode_token,
    encode_token,
    events_sync_token,
    full_sync_required,
    read_events_sync_token,
)
from .views import event_view, response_tz, tombstone

Json = dict[str, Any]

SYNC_CONFLICTS = (
    "timeMin",
    "timeMax",
    "orderBy",
    "q",
    "updatedMin",
    "iCalUID",
    "privateExtendedProperty",
    "sharedExtendedProperty",
)


@dataclass
class _Item:
    """One list result with its sort keys."""

    body: Json
    created_seq: int
    start: float
    updated: float
    id: str


@dataclass(frozen=True)
class _Listing:
    """What one events.list request asks for, once its parameters are read."""

    cal_tz: dt.tzinfo
    lo: dt.datetime | None
    hi: dt.datetime | None
    single: bool
    snapshot: int  # events created after this change are left to the next page set
    since: int | None  # the change an incremental sync starts after
    show_deleted: bool
    types: list[str] | None
    updated_min: dt.datetime | None
    q: str | None
    ical: str | None

    @property
    def incremental(self) -> bool:
        return self.since is not None


def matches_q(body: Json, q: str) -> bool:
    fields = [str(body.get(k, "")) for k in ("summary", "description", "location")]
    for person in [*(body.get("attendees") or []), body.get("organizer") or {}]:
        if isinstance(person, dict):
            fields += [str(person.get("email", "")), str(person.get("displayName", ""))]
    hay = " ".join(fields).lower()
    return all(term in hay for term in q.lower().split())


def _check_list_params(p: Json) -> None:
    """Combinations Google refuses before looking at any event."""
    if p.get("syncToken") is not None:
        bad = [k for k in SYNC_CONFLICTS if k in p]
        if bad:
            raise bad_request(
                f"The syncToken parameter cannot be combined with {', '.join(bad)}.",
                reason="invalid",
                location="syncToken",
            )
    single = bool(p.get("singleEvents", False))
    if p.get("orderBy") == "startTime" and not single:
        raise bad_request(
            "The requested ordering is not available for the particular query.",
            location="orderBy",
        )
    lo: dt.datetime | None = p.get("timeMin")
    hi: dt.datetime | None = p.get("timeMax")
    if lo is not None and hi is not None and lo >= hi:
        raise ApiError(
            400,
            "The specified time range is empty.",
            "timeRangeEmpty",
            domain="calendar",
            location="timeMax",
        )


def _fingerprint(p: Json) -> str:
    """The query a page token belongs to: every parameter but the paging ones."""
    return hashlib.sha256(
        json.dumps(
            {k: str(v) for k, v in sorted(p.items()) if k not in ("pageToken", "maxResults")}
        ).encode()
    ).hexdigest()[:16]


def _position(
    store: CalendarStore, cal: CalendarRecord, p: Json, fingerprint: str
) -> tuple[int, int | None, list[Any] | None]:
    """Where this request starts: (snapshot, sync point, sort key of the last item seen)."""
    if not p.get("pageToken"):
        sync = p.get("syncToken")
        since = read_events_sync_token(store, cal, str(sync)) if sync is not None else None
        return store.seq, since, None
    try:
        page = decode_token(str(p["pageToken"]))
        if page["h"] != fingerprint or page["c"] != cal.id:
            raise ValueError
        snapshot, since, after = int(page["s"]), page["f"], list(page["k"])
    except (ValueError, KeyError, TypeError):
        raise bad_request("Invalid page token.", reason="invalid", location="pageToken") from None
    if since is not None and page.get("g") != store.generation:
        raise full_sync_required()
    return snapshot, since, after


def _listing(cal_tz: dt.tzinfo, p: Json, snapshot: int, since: int | None) -> _Listing:
    return _Listing(
        cal_tz=cal_tz,
        lo=p.get("timeMin"),
        hi=p.get("timeMax"),
        single=bool(p.get("singleEvents", False)),
        snapshot=snapshot,
        since=since,
        show_deleted=bool(p.get("showDeleted", False)) or since is not None or "updatedMin" in p,
        types=p.get("eventTypes"),
        updated_min=p.get("updatedMin"),
        q=p.get("q"),
        ical=p.get("iCalUID"),
    )


def _window_ok(lst: _Listing, body: Json) -> bool:
    lo, hi = lst.lo, lst.hi
    if lo is None and hi is None:
        return True
    if body.get("recurrence"):
        return bool(expand(body, lst.cal_tz, lo, hi, limit=1))
    try:
        b, e = event_time(body["start"], lst.cal_tz), event_time(body["end"], lst.cal_tz)
    except (ValueError, KeyError):
        return False
    if e == b:
        e = b + dt.timedelta(seconds=1)
    return (hi is None or b < hi) and (lo is None or e > lo)


def _start_key(body: Json, cal_tz: dt.tzinfo) -> float:
    try:
        return event_time(body["start"], cal_tz).timestamp()
    except (ValueError, KeyError):
        return 0.0


def _selected(lst: _Listing, rec: EventRecord) -> bool:
    """The filters on a stored event itself, before any expansion."""
    body = rec.body
    if rec.created_seq > lst.snapshot:
        return False
    if lst.since is not None and rec.seq <= lst.since:
        return False
    if lst.updated_min is not None and rec.updated < lst.updated_min:
        return False
    if lst.types is not None and body.get("eventType", "default") not in lst.types:
        return False
    if lst.ical is not None and body.get("iCalUID") != lst.ical:
        return False
    return not (lst.q is not None and not matches_q(body, lst.q))


def _instances_in(lst: _Listing, body: Json) -> list[Json]:
    # an incremental sync reports every instance of a changed series, not a window
    if lst.incremental:
        return expand(body, lst.cal_tz, None, None)
    return expand(body, lst.cal_tz, lst.lo, lst.hi)


def _bodies_of(lst: _Listing, body: Json, exceptions: set[str]) -> list[Json]:
    """What one stored event contributes: itself, its instances, or tombstones."""
    expand_series = bool(body.get("recurrence")) and lst.single
    if body.get("status") == "cancelled":
        is_instance = "recurringEventId" in body
        if not (lst.show_deleted or (is_instance and not lst.single)):
            return []
        if not lst.incremental and not _window_ok(lst, body):
            return []
        if expand_series:
            # singleEvents: deleted series come back as deleted instances
            insts = _instances_in(lst, body)
            return [tombstone(inst) for inst in insts if inst["id"] not in exceptions]
        return [tombstone(body)]
    if expand_series:
        return [inst for inst in _instances_in(lst, body) if inst["id"] not in exceptions]
    if not lst.incremental and not _window_ok(lst, body):
        return []
    return [body]


def _collect(lst: _Listing, records: dict[str, EventRecord]) -> list[_Item]:
    exceptions = {rid for rid, r in records.items() if "recurringEventId" in r.body}
    items: list[_Item] = []
    for rec in records.values():
        if not _selected(lst, rec):
            continue
        for body in _bodies_of(lst, rec.body, exceptions):
            start = _start_key(body, lst.cal_tz)
            items.append(_Item(body, rec.created_seq, start, rec.updated.timestamp(), body["id"]))
    return items


def _sort_key(order: Any) -> Callable[[_Item], list[Any]]:
    def key(it: _Item) -> list[Any]:
        if order == "startTime":
            return [it.start, it.id]
        if order == "updated":
            return [it.updated, it.id]
        return [it.created_seq, it.start, it.id]

    return key


def list_events(store: CalendarStore, calendar_id: str, p: Json) -> Json:
    cal = store.resolve(calendar_id)
    cal_tz = store.tz(cal)
    _check_list_params(p)
    max_results = min(int(p.get("maxResults", 250)), 2500)
    fingerprint = _fingerprint(p)
    snapshot, since, after = _position(store, cal, p, fingerprint)
    records = store.events[cal.id]
    items = _collect(_listing(cal_tz, p, snapshot, since), records)
    key = _sort_key(p.get("orderBy"))
    items.sort(key=key)
    if after is not None:
        items = [it for it in items if key(it) > after]
    page_items = items[:max_results]
    out_tz = response_tz(store, cal, p)
    latest = max((r.updated for r in records.values()), default=store.last_update)
    result: Json = {
        "kind": "calendar#events",
        "etag": f'"{int(latest.timestamp() * 1000)}"',
        "summary": cal.summary,
        "description": cal.description or "",
        "updated": format_updated(latest),
        "timeZone": str(p.get("timeZone") or cal.time_zone),
        "accessRole": cal.access_role,
        "defaultReminders": [],
        "items": [event_view(it.body, p.get("maxAttendees"), out_tz) for it in page_items],
    }
    if len(items) > max_results:
        result["nextPageToken"] = encode_token(
            {
                "c": cal.id,
                "h": fingerprint,
                "s": snapshot,
                "f": since,
                "k": key(page_items[-1]),
                "g": store.generation,
            }
        )
    else:
        result["nextSyncToken"] = events_sync_token(store, cal, snapshot)
    return result


def _offset(p: Json) -> int:
    """Where a simple (offset) page token points."""
    if not p.get("pageToken"):
        return 0
    try:
        return int(decode_token(str(p["pageToken"]))["o"])
    except (ValueError, KeyError, TypeError):
        raise bad_request("Invalid page token.", reason="invalid") from None


def instances(store: CalendarStore, calendar_id: str, event_id: str, p: Json) -> Json:
    cal = store.resolve(calendar_id)
    rec = store.events[cal.id].get(event_id)
    if rec is None or not rec.body.get("recurrence"):
        raise not_found("Not Found")
    lo, hi = p.get("timeMin"), p.get("timeMax")
    records = store.events[cal.id]
    result: list[Json] = []
    for inst in expand(rec.body, store.tz(cal), lo, hi):
        exc = records.get(inst["id"])
        body = exc.body if exc is not None else inst
        if body.get("status") == "cancelled" and not p.get("showDeleted"):
            continue
        result.append(tombstone(body) if body.get("status") == "cancelled" else body)
    max_results = min(int(p.get("maxResults", 250)), 2500)
    offset = _offset(p)
    page = result[offset : offset + max_results]
    out: Json = {
        "kind": "calendar#events",
        "summary": cal.summary,
        "updated": format_updated(rec.updated),
        "timeZone": cal.time_zone,
        "accessRole": cal.access_role,
        "defaultReminders": [],
        "items": [event_view(b, p.get("maxAttendees"), response_tz(store, cal, p)) for b in page],
    }
    if offset + max_results < len(result):
        out["nextPageToken"] = encode_token({"o": offset + max_results})
    return out


def _calendar_list_since(store: CalendarStore, p: Json) -> int | None:
    """The change a calendarList sync token stands for; 410 when it is stale."""
    sync = p.get("syncToken")
    if sync is None:
        return None
    if p.get("minAccessRole") is not None:
        raise bad_request("minAccessRole cannot be combined with syncToken.", location="syncToken")
    try:
        data = decode_token(str(sync)[3:]) if str(sync).startswith("sbl") else None
        if data is None or data["g"] != store.generation:
            raise ValueError
        return int(data["s"])
    except (ValueError, KeyError, TypeError):
        raise full_sync_required() from None


def calendar_list(store: CalendarStore, p: Json) -> Json:
    min_role = p.get("minAccessRole")
    show_hidden = bool(p.get("showHidden", False))
    show_deleted = bool(p.get("showDeleted", False))
    since = _calendar_list_since(store, p)
    cals = sorted(store.calendars.values(), key=lambda c: (not c.primary, c.summary.lower(), c.id))
    entries: list[Json] = []
    for c in cals:
        if since is not None:
            if c.seq <= since:
                continue
        else:
            if c.deleted and not show_deleted:
                continue
            if c.hidden and not show_hidden:
                continue
        if min_role is not None and ROLE_RANK[c.access_role] < ROLE_RANK[min_role]:
            continue
        entries.append(c.entry())
    max_results = min(int(p.get("maxResults", 100)), 250)
    offset = _offset(p)
    out: Json = {
        "kind": "calendar#calendarList",
        "etag": f'"{store.calendar_seq}"',
        "items": entries[offset : offset + max_results],
    }
    if offset + max_results < len(entries):
        out["nextPageToken"] = encode_token({"o": offset + max_results})
    else:
        out["nextSyncToken"] = "sbl" + encode_token(
            {"s": store.calendar_seq, "g": store.generation}
        )
    return out
