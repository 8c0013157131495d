"""Google Calendar v3: calendars, events with recurrence, and incremental sync."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from dateutil.rrule import rrulestr

from .errors import ApiError, Response, bad_request, not_found
from .timeutil import UTC, format_datetime, format_updated, now, parse_duration, parse_rfc3339, zone

Json = dict[str, Any]

EVENT_TYPES = ("birthday", "default", "focusTime", "fromGmail", "outOfOffice", "workingLocation")
ROLE_RANK = {"freeBusyReader": 0, "reader": 1, "writer": 2, "owner": 3}
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
MAX_INSTANCES = 1000
HORIZON = dt.timedelta(days=2 * 366)


def _b64(data: Json) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


def _unb64(token: str) -> Json:
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


def new_event_id() -> str:
    # Google event ids use base32hex characters (a-v, 0-9).
    alphabet = "abcdefghijklmnopqrstuv0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(26))


def full_sync_required() -> ApiError:
    return ApiError(
        410,
        "Sync token is no longer valid, a full sync is required.",
        "fullSyncRequired",
        status="GONE",
    )


@dataclass
class CalendarRecord:
    id: str
    summary: str
    time_zone: str = "UTC"
    primary: bool = False
    selected: bool = True
    hidden: bool = False
    access_role: str = "owner"
    description: str | None = None
    seq: int = 0
    deleted: bool = False
    extra: Json = field(default_factory=dict)

    def entry(self) -> Json:
        out: Json = {
            "kind": "calendar#calendarListEntry",
            "etag": f'"{1700000000000 + self.seq}"',
            "id": self.id,
            "summary": self.summary,
            "timeZone": self.time_zone,
            "colorId": "14",
            "backgroundColor": "#9fe1e7",
            "foregroundColor": "#000000",
            "accessRole": self.access_role,
            "defaultReminders": [],
        }
        if self.description:
            out["description"] = self.description
        if self.selected:
            out["selected"] = True
        if self.primary:
            out["primary"] = True
        if self.hidden:
            out["hidden"] = True
        if self.deleted:
            out["deleted"] = True
        out.update(self.extra)
        return out


@dataclass
class EventRecord:
    body: Json
    created_seq: int
    seq: int
    updated: dt.datetime


@dataclass
class _Item:
    """One list result with its sort keys."""

    body: Json
    created_seq: int
    start: float
    updated: float
    id: str


def _when(value: Any, default_tz: dt.tzinfo) -> dt.datetime:
    """An event start/end object -> aware datetime (dates: local midnight)."""
    if not isinstance(value, dict):
        raise ValueError("start/end must be an object")
    if value.get("date"):
        day = dt.date.fromisoformat(str(value["date"]))
        return dt.datetime.combine(day, dt.time(0), tzinfo=default_tz)
    text = value.get("dateTime")
    if not text:
        raise ValueError("start/end needs dateTime or date")
    try:
        return parse_rfc3339(str(text))
    except ValueError:
        naive = dt.datetime.fromisoformat(str(text))
        if naive.tzinfo is not None:
            return naive
        if not value.get("timeZone"):
            raise ValueError(f"dateTime {text!r} has no offset and no timeZone was given") from None
        return naive.replace(tzinfo=zone(str(value["timeZone"])))


def _all_day(body: Json) -> bool:
    return bool(body.get("start", {}).get("date"))


def _parse_rdate_values(line: str, default_tz: dt.tzinfo, all_day: bool) -> list[Any]:
    head, _, values = line.partition(":")
    params = dict(p.split("=", 1) for p in head.split(";")[1:] if "=" in p)
    tz = zone(params["TZID"]) if "TZID" in params else default_tz
    out: list[Any] = []
    for value in values.split(","):
        value = value.strip()
        if not value:
            continue
        if len(value) == 8:
            day = dt.datetime.strptime(value, "%Y%m%d").date()
            out.append(day if all_day else dt.datetime.combine(day, dt.time(0), tzinfo=tz))
            continue
        utc = value.endswith("Z")
        moment = dt.datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")
        aware = moment.replace(tzinfo=UTC if utc else tz)
        out.append(aware.date() if all_day else aware)
    return out


def _fix_until(rule: str, all_day: bool, tz: dt.tzinfo) -> str:
    def repl(m: re.Match[str]) -> str:
        value = m.group(1)
        if all_day:
            return "UNTIL=" + value[:8]
        if len(value) == 8:
            return "UNTIL=" + value + "T235959Z"
        if not value.endswith("Z"):
            local = dt.datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=tz)
            return "UNTIL=" + local.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        return "UNTIL=" + value

    return re.sub(r"UNTIL=([0-9TZ]+)", repl, rule)


def expand(
    base: Json,
    cal_tz: dt.tzinfo,
    lo: dt.datetime | None,
    hi: dt.datetime | None,
    limit: int = MAX_INSTANCES,
) -> list[Json]:
    """Instances of a recurring event that overlap [lo, hi)."""
    rules = [str(r) for r in base.get("recurrence", [])]
    all_day = _all_day(base)
    start_obj = base["start"]
    tz_name = start_obj.get("timeZone")
    if all_day:
        first = dt.date.fromisoformat(start_obj["date"])
        last = dt.date.fromisoformat(base["end"]["date"])
        span_days = (last - first).days
        dtstart: dt.datetime = dt.datetime.combine(first, dt.time(0))
        tz: dt.tzinfo = cal_tz
    else:
        begin = _when(start_obj, cal_tz)
        end = _when(base["end"], cal_tz)
        duration = end - begin
        if tz_name:
            tz = zone(tz_name)
            dtstart = begin.astimezone(tz)
        else:
            dtstart = begin
            tz = begin.tzinfo or UTC
    if hi is None:
        hi = now() + HORIZON
    starts: list[Any] = []
    exdates: set[Any] = set()
    for line in rules:
        upper = line.upper()
        if upper.startswith("RRULE:"):
            rule = rrulestr(_fix_until(line, all_day, tz), dtstart=dtstart)
            if all_day:
                hi_naive = hi.astimezone(cal_tz).replace(tzinfo=None)
                for occ in rule:
                    if occ >= hi_naive or len(starts) > 20 * limit:
                        break
                    starts.append(occ.date())
            else:
                for occ in rule:
                    if occ >= hi or len(starts) > 20 * limit:
                        break
                    starts.append(occ)
        elif upper.startswith("RDATE"):
            starts.extend(_parse_rdate_values(line, tz, all_day))
        elif upper.startswith("EXDATE"):
            exdates.update(_parse_rdate_values(line, tz, all_day))
    if not starts:
        starts.append(dtstart.date() if all_day else dtstart)
    elif all_day and dtstart.date() not in starts:
        starts.append(dtstart.date())
    elif not all_day and dtstart not in starts:
        starts.append(dtstart)
    unique = sorted(set(starts))
    out: list[Json] = []
    base_id = base["id"]
    for occ in unique:
        if occ in exdates:
            continue
        inst = copy.deepcopy(base)
        inst.pop("recurrence", None)
        inst["recurringEventId"] = base_id
        if all_day:
            day: dt.date = occ
            inst_lo = dt.datetime.combine(day, dt.time(0), tzinfo=cal_tz)
            inst_hi = dt.datetime.combine(
                day + dt.timedelta(days=span_days), dt.time(0), tzinfo=cal_tz
            )
            inst["id"] = f"{base_id}_{day:%Y%m%d}"
            inst["start"] = {"date": day.isoformat()}
            inst["end"] = {"date": (day + dt.timedelta(days=span_days)).isoformat()}
            inst["originalStartTime"] = {"date": day.isoformat()}
        else:
            moment: dt.datetime = occ
            inst_lo, inst_hi = moment, moment + duration
            utc = moment.astimezone(UTC)
            inst["id"] = f"{base_id}_{utc:%Y%m%dT%H%M%SZ}"
            start_v: Json = {"dateTime": format_datetime(moment)}
            end_v: Json = {"dateTime": format_datetime(inst_hi.astimezone(moment.tzinfo))}
            if tz_name:
                start_v["timeZone"] = tz_name
                end_v["timeZone"] = base["end"].get("timeZone", tz_name)
            inst["start"] = start_v
            inst["end"] = end_v
            inst["originalStartTime"] = dict(start_v)
        if hi is not None and inst_lo >= hi:
            continue
        if lo is not None and inst_hi <= lo:
            continue
        out.append(inst)
        if len(out) >= limit:
            break
    return out


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


def _merge(target: Json, patch: Json) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif (
            isinstance(value, dict)
            and isinstance(target.get(key), dict)
            and key not in ("start", "end")
        ):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


class CalendarStore:
    def __init__(self, user_email: str, user_name: str) -> None:
        self.user_email = user_email
        self.user_name = user_name
        self.calendars: dict[str, CalendarRecord] = {}
        self.events: dict[str, dict[str, EventRecord]] = {}
        self.seq = 0
        self.calendar_seq = 0
        self.generation = 1
        self._last_update = now()
        self.add_calendar(user_email, user_email, primary=True)

    # ------------------------------------------------------------ helpers
    def _tick(self) -> tuple[int, dt.datetime]:
        self.seq += 1
        stamp = now().replace(microsecond=now().microsecond // 1000 * 1000)
        if stamp <= self._last_update:
            stamp = self._last_update + dt.timedelta(milliseconds=1)
        self._last_update = stamp
        return self.seq, stamp

    def resolve(self, calendar_id: str) -> CalendarRecord:
        cid = self.user_email if calendar_id == "primary" else calendar_id
        cal = self.calendars.get(cid)
        if cal is None:
            for c in self.calendars.values():
                if c.id.lower() == cid.lower():
                    return c
            raise not_found("Not Found")
        return cal

    def tz(self, cal: CalendarRecord) -> dt.tzinfo:
        return zone(cal.time_zone)

    # ----------------------------------------------------------- calendars
    def add_calendar(
        self,
        calendar_id: str,
        summary: str,
        selected: bool = True,
        primary: bool = False,
        access_role: str = "owner",
        time_zone: str = "UTC",
        hidden: bool = False,
        description: str | None = None,
        **extra: Any,
    ) -> Json:
        if access_role not in ROLE_RANK:
            raise ValueError(f"access_role must be one of {', '.join(ROLE_RANK)}")
        zone(time_zone)  # validate
        if calendar_id == "primary":
            calendar_id = self.user_email
            primary = True
        if primary:
            # one primary calendar: the user's own address
            for c in self.calendars.values():
                if c.primary and c.id != calendar_id:
                    raise ValueError("the primary calendar is the user's address")
        self.calendar_seq += 1
        existing = self.calendars.get(calendar_id)
        if existing is not None:
            existing.summary = summary
            existing.selected = selected
            existing.access_role = access_role
            existing.time_zone = time_zone
            existing.hidden = hidden
            existing.description = description
            existing.extra.update(extra)
            existing.seq = self.calendar_seq
            return existing.entry()
        rec = CalendarRecord(
            id=calendar_id,
            summary=summary,
            time_zone=time_zone,
            primary=primary or calendar_id == self.user_email,
            selected=selected,
            hidden=hidden,
            access_role=access_role,
            description=description,
            seq=self.calendar_seq,
            extra=dict(extra),
        )
        self.calendars[calendar_id] = rec
        self.events.setdefault(calendar_id, {})
        return rec.entry()

    # --------------------------------------------------------------- events
    def _relative(self, event: Json, base: dt.datetime) -> Json:
        ev = copy.deepcopy(event)
        start_in = ev.pop("startIn", None)
        duration = ev.pop("duration", None)
        all_day = bool(ev.pop("allDay", False))
        tz_name = ev.pop("timeZone", None)
        if start_in is None and duration is None:
            if tz_name is not None:
                ev["timeZone"] = tz_name  # not ours: leave it
            return ev
        tz = zone(tz_name)
        begin = base + parse_duration(str(start_in or "0s"))
        length = parse_duration(str(duration or ("1d" if all_day else "1h")))
        if all_day:
            day = begin.astimezone(tz).date()
            days = max(1, round(length.total_seconds() / 86400))
            ev["start"] = {"date": day.isoformat()}
            ev["end"] = {"date": (day + dt.timedelta(days=days)).isoformat()}
            return ev
        begin = begin.replace(microsecond=0)
        end = begin + length
        if tz_name:
            ev["start"] = {"dateTime": format_datetime(begin.astimezone(tz)), "timeZone": tz_name}
            ev["end"] = {"dateTime": format_datetime(end.astimezone(tz)), "timeZone": tz_name}
        else:
            ev["start"] = {"dateTime": format_datetime(begin.astimezone(UTC))}
            ev["end"] = {"dateTime": format_datetime(end.astimezone(UTC))}
        return ev

    def _check_times(self, body: Json, cal: CalendarRecord) -> None:
        if "start" not in body:
            raise bad_request("Missing start time.", reason="required")
        if "end" not in body:
            raise bad_request("Missing end time.", reason="required")
        try:
            start = _when(body["start"], self.tz(cal))
            end = _when(body["end"], self.tz(cal))
        except ValueError as exc:
            raise bad_request(str(exc)) from None
        if bool(body["start"].get("date")) != bool(body["end"].get("date")):
            raise bad_request("Start and end must both be dates or both be date-times.")
        if end < start:
            raise bad_request("The specified time range is empty.", reason="timeRangeEmpty")
        for rule in body.get("recurrence", []) or []:
            if not isinstance(rule, str) or not re.match(r"^(RRULE|EXRULE|RDATE|EXDATE)[:;]", rule):
                raise bad_request(f"Invalid recurrence rule: {rule!r}", reason="invalid")
        etype = body.get("eventType", "default")
        if etype not in EVENT_TYPES:
            raise bad_request(f"Invalid event type: {etype}", reason="invalid")

    def _stamp(self, body: Json, cal: CalendarRecord, seq: int, when: dt.datetime) -> None:
        body["etag"] = f'"{int(when.timestamp() * 1000)}{seq % 1000:03d}"'
        body["updated"] = format_updated(when)
        eid = base64.b64encode(f"{body['id']} {cal.id}".encode()).decode().rstrip("=")
        body["htmlLink"] = f"https://www.google.com/calendar/event?eid={eid}"

    def _decorate(self, body: Json) -> None:
        me = self.user_email.lower()
        for person in body.get("attendees", []) or []:
            if not isinstance(person, dict):
                continue
            person.setdefault("responseStatus", "needsAction")
            if str(person.get("email", "")).lower() == me:
                person["self"] = True
        for key in ("organizer", "creator"):
            person = body.get(key)
            if isinstance(person, dict) and str(person.get("email", "")).lower() == me:
                person["self"] = True

    def add_event(
        self, event: Json, calendar_id: str = "primary", base: dt.datetime | None = None
    ) -> Json:
        cal = self.resolve(calendar_id)
        body = self._relative(event, base or now())
        body.pop("calendarId", None)
        self._check_times(body, cal)
        if "id" in body:
            if not re.fullmatch(r"[a-v0-9_]{5,1024}", str(body["id"])) and not re.fullmatch(
                r"[A-Za-z0-9_\-]{1,1024}", str(body["id"])
            ):
                raise bad_request("Invalid resource id value.", reason="invalid")
            if body["id"] in self.events[cal.id]:
                raise ApiError(409, "The requested identifier already exists.", "duplicate")
        else:
            body["id"] = new_event_id()
        seq, when = self._tick()
        owner = {"email": cal.id if not cal.primary else self.user_email}
        if cal.primary:
            owner["displayName"] = self.user_name
        body.setdefault("kind", "calendar#event")
        body.setdefault("status", "confirmed")
        body["created"] = format_updated(when)
        body.setdefault("creator", dict(owner))
        body.setdefault("organizer", dict(owner))
        body.setdefault("iCalUID", f"{body['id']}@google.com")
        body.setdefault("sequence", 0)
        body.setdefault("reminders", {"useDefault": True})
        body.setdefault("eventType", "default")
        self._decorate(body)
        self._stamp(body, cal, seq, when)
        self.events[cal.id][body["id"]] = EventRecord(
            body=body, created_seq=seq, seq=seq, updated=when
        )
        return copy.deepcopy(body)

    def _record(self, cal: CalendarRecord, event_id: str, materialize: bool) -> EventRecord:
        rec = self.events[cal.id].get(event_id)
        if rec is not None:
            return rec
        inst = self._instance(cal, event_id)
        if inst is None:
            raise not_found("Not Found")
        if not materialize:
            base = self.events[cal.id][inst["recurringEventId"]]
            return EventRecord(
                body=inst, created_seq=base.created_seq, seq=base.seq, updated=base.updated
            )
        base = self.events[cal.id][inst["recurringEventId"]]
        rec = EventRecord(
            body=inst, created_seq=base.created_seq, seq=base.seq, updated=base.updated
        )
        self.events[cal.id][event_id] = rec
        return rec

    def _instance(self, cal: CalendarRecord, event_id: str) -> Json | None:
        base_id, sep, suffix = event_id.rpartition("_")
        if not sep:
            return None
        base = self.events[cal.id].get(base_id)
        if base is None or not base.body.get("recurrence"):
            return None
        try:
            if len(suffix) == 8:
                day = dt.datetime.strptime(suffix, "%Y%m%d").replace(tzinfo=self.tz(cal))
                lo, hi = day - dt.timedelta(days=1), day + dt.timedelta(days=2)
            else:
                moment = dt.datetime.strptime(suffix, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
                lo, hi = moment, moment + dt.timedelta(seconds=1)
        except ValueError:
            return None
        for inst in expand(base.body, self.tz(cal), lo, hi):
            if inst["id"] == event_id:
                if base.body.get("status") == "cancelled":
                    inst["status"] = "cancelled"
                return inst
        return None

    def update_event(self, calendar_id: str, event_id: str, patch: Json) -> Json:
        cal = self.resolve(calendar_id)
        rec = self._record(cal, event_id, materialize=True)
        body = copy.deepcopy(rec.body)
        fixed = self._relative(patch, now())
        for key in ("id", "kind", "etag", "created", "updated", "iCalUID", "recurringEventId"):
            fixed.pop(key, None)
        _merge(body, fixed)
        self._check_times(body, cal)
        seq, when = self._tick()
        body["sequence"] = int(body.get("sequence", 0)) + 1
        self._decorate(body)
        self._stamp(body, cal, seq, when)
        rec.body, rec.seq, rec.updated = body, seq, when
        return copy.deepcopy(body)

    def cancel_event(self, calendar_id: str, event_id: str) -> Json:
        cal = self.resolve(calendar_id)
        rec = self._record(cal, event_id, materialize=True)
        seq, when = self._tick()
        rec.body["status"] = "cancelled"
        rec.body["sequence"] = int(rec.body.get("sequence", 0)) + 1
        self._stamp(rec.body, cal, seq, when)
        rec.seq, rec.updated = seq, when
        return copy.deepcopy(rec.body)

    def delete_event(self, calendar_id: str, event_id: str, strict: bool = False) -> None:
        """Delete: Google keeps a tombstone, so the event reads as cancelled."""
        cal = self.resolve(calendar_id)
        rec = self._record(cal, event_id, materialize=True)
        if rec.body.get("status") == "cancelled":
            if strict:
                raise ApiError(410, "Resource has been deleted", "deleted")
            return
        self.cancel_event(calendar_id, event_id)

    def get_event(self, calendar_id: str, event_id: str) -> Json:
        cal = self.resolve(calendar_id)
        return copy.deepcopy(self._record(cal, event_id, materialize=False).body)

    def all_events(self, calendar_id: str) -> list[Json]:
        cal = self.resolve(calendar_id)
        return [copy.deepcopy(r.body) for r in self.events[cal.id].values()]

    def invalidate_sync_tokens(self) -> None:
        self.generation += 1

    # ------------------------------------------------------------ API: list
    def _sync_token(self, cal: CalendarRecord, seq: int) -> str:
        return "sbx" + _b64({"c": cal.id, "s": seq, "g": self.generation})

    def _read_sync_token(self, cal: CalendarRecord, token: str) -> int:
        try:
            if not token.startswith("sbx"):
                raise ValueError
            data = _unb64(token[3:])
            if data["c"] != cal.id or data["g"] != self.generation:
                raise ValueError
            seq = int(data["s"])
        except (ValueError, KeyError, TypeError):
            raise full_sync_required() from None
        return seq

    def _matches_q(self, body: Json, q: str) -> bool:
        fields = [str(body.get(k, "")) for k in ("summary", "description", "location")]
        for person in [*(body.get("attendees") or []), body.get("organizer") or {}]:
            if isinstance(person, dict):
                fields += [str(person.get("email", "")), str(person.get("displayName", ""))]
        hay = " ".join(fields).lower()
        return all(term in hay for term in q.lower().split())

    def list_events(self, calendar_id: str, p: Json) -> Json:
        cal = self.resolve(calendar_id)
        cal_tz = self.tz(cal)
        sync = p.get("syncToken")
        if sync is not None:
            bad = [k for k in SYNC_CONFLICTS if k in p]
            if bad:
                raise bad_request(
                    f"The syncToken parameter cannot be combined with {', '.join(bad)}.",
                    reason="invalid",
                    location="syncToken",
                )
        single = bool(p.get("singleEvents", False))
        order = p.get("orderBy")
        if order == "startTime" and not single:
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
        max_results = min(int(p.get("maxResults", 250)), 2500)
        fingerprint = hashlib.sha256(
            json.dumps(
                {k: str(v) for k, v in sorted(p.items()) if k not in ("pageToken", "maxResults")}
            ).encode()
        ).hexdigest()[:16]
        after: list[Any] | None = None
        if p.get("pageToken"):
            try:
                page = _unb64(str(p["pageToken"]))
                if page["h"] != fingerprint or page["c"] != cal.id:
                    raise ValueError
                snapshot, since, after = int(page["s"]), page["f"], list(page["k"])
            except (ValueError, KeyError, TypeError):
                raise bad_request(
                    "Invalid page token.", reason="invalid", location="pageToken"
                ) from None
            if since is not None and page.get("g") != self.generation:
                raise full_sync_required()
        else:
            snapshot = self.seq
            since = self._read_sync_token(cal, str(sync)) if sync is not None else None
        incremental = since is not None
        show_deleted = bool(p.get("showDeleted", False)) or incremental or "updatedMin" in p
        types: list[str] | None = p.get("eventTypes")
        updated_min: dt.datetime | None = p.get("updatedMin")
        q: str | None = p.get("q")
        ical: str | None = p.get("iCalUID")
        records = self.events[cal.id]
        exceptions = {rid for rid, r in records.items() if "recurringEventId" in r.body}
        items: list[_Item] = []

        def window_ok(body: Json) -> bool:
            if lo is None and hi is None:
                return True
            if body.get("recurrence"):
                return bool(expand(body, cal_tz, lo, hi, limit=1))
            try:
                b, e = _when(body["start"], cal_tz), _when(body["end"], cal_tz)
            except (ValueError, KeyError):
                return False
            if e == b:
                e = b + dt.timedelta(seconds=1)
            return (hi is None or b < hi) and (lo is None or e > lo)

        def start_key(body: Json) -> float:
            try:
                return _when(body["start"], cal_tz).timestamp()
            except (ValueError, KeyError):
                return 0.0

        def add(body: Json, rec: EventRecord) -> None:
            items.append(
                _Item(body, rec.created_seq, start_key(body), rec.updated.timestamp(), body["id"])
            )

        for rec in records.values():
            body = rec.body
            if rec.created_seq > snapshot:
                continue
            if incremental and rec.seq <= since:
                continue
            if updated_min is not None and rec.updated < updated_min:
                continue
            if types is not None and body.get("eventType", "default") not in types:
                continue
            if ical is not None and body.get("iCalUID") != ical:
                continue
            if q is not None and not self._matches_q(body, q):
                continue
            cancelled = body.get("status") == "cancelled"
            recurring = bool(body.get("recurrence"))
            if cancelled:
                is_instance = "recurringEventId" in body
                if not (show_deleted or (is_instance and not single)):
                    continue
                if not incremental and not window_ok(body):
                    continue
                if recurring and single:
                    # singleEvents: deleted series come back as deleted instances
                    for inst in expand(
                        body, cal_tz, None if incremental else lo, None if incremental else hi
                    ):
                        if inst["id"] not in exceptions:
                            add(tombstone(inst), rec)
                    continue
                add(tombstone(body), rec)
                continue
            if recurring and single:
                for inst in expand(
                    body, cal_tz, None if incremental else lo, None if incremental else hi
                ):
                    if inst["id"] in exceptions:
                        continue
                    add(inst, rec)
                continue
            if not incremental and not window_ok(body):
                continue
            add(body, rec)

        def key(it: _Item) -> list[Any]:
            if order == "startTime":
                return [it.start, it.id]
            if order == "updated":
                return [it.updated, it.id]
            return [it.created_seq, it.start, it.id]

        items.sort(key=key)
        if after is not None:
            items = [it for it in items if key(it) > after]
        page_items = items[:max_results]
        more = len(items) > max_results
        max_att = p.get("maxAttendees")
        out_tz = self.response_tz(cal, p)
        out_items = [self._view(it.body, max_att, out_tz) for it in page_items]
        latest = max((r.updated for r in records.values()), default=self._last_update)
        result: Json = {
            "kind": "calendar#events",
            "etag": f'"{int(latest.timestamp() * 1000)}"',
            "summary": cal.summary,
            "description": cal.description or "",
            "updated": format_updated(latest),
            "timeZone": str(p.get("timeZone") or cal.time_zone),
            "accessRole": cal.access_role,
            "defaultReminders": [],
            "items": out_items,
        }
        if more:
            result["nextPageToken"] = _b64(
                {
                    "c": cal.id,
                    "h": fingerprint,
                    "s": snapshot,
                    "f": since,
                    "k": key(page_items[-1]),
                    "g": self.generation,
                }
            )
        else:
            result["nextSyncToken"] = self._sync_token(cal, snapshot)
        return result

    def response_tz(self, cal: CalendarRecord, p: Json) -> dt.tzinfo:
        """The `timeZone` parameter, else the calendar's zone."""
        name = p.get("timeZone")
        if name:
            try:
                return zone(str(name))
            except ValueError:
                raise bad_request(
                    f"Invalid time zone: {name}", reason="invalid", location="timeZone"
                ) from None
        return self.tz(cal)

    def _view(self, body: Json, max_attendees: int | None, tz: dt.tzinfo) -> Json:
        """An event as the API shows it: dateTime values in the response's time zone."""
        out = copy.deepcopy(body)
        for key in ("start", "end", "originalStartTime"):
            when = out.get(key)
            if isinstance(when, dict) and when.get("dateTime"):
                try:
                    moment = _when(when, tz)
                except ValueError:
                    continue
                when["dateTime"] = format_datetime(moment.astimezone(tz))
        if max_attendees is not None and len(out.get("attendees") or []) > max_attendees:
            out["attendees"] = [a for a in out["attendees"] if a.get("self")]
            out["attendeesOmitted"] = True
        return out

    def instances(self, calendar_id: str, event_id: str, p: Json) -> Json:
        cal = self.resolve(calendar_id)
        rec = self.events[cal.id].get(event_id)
        if rec is None or not rec.body.get("recurrence"):
            raise not_found("Not Found")
        lo, hi = p.get("timeMin"), p.get("timeMax")
        records = self.events[cal.id]
        result: list[Json] = []
        for inst in expand(rec.body, self.tz(cal), lo, hi):
            exc = records.get(inst["id"])
            body = exc.body if exc is not None else inst
            if body.get("status") == "cancelled" and not p.get("showDeleted"):
                continue
            result.append(tombstone(body) if body.get("status") == "cancelled" else body)
        max_results = min(int(p.get("maxResults", 250)), 2500)
        offset = 0
        if p.get("pageToken"):
            try:
                offset = int(_unb64(str(p["pageToken"]))["o"])
            except (ValueError, KeyError, TypeError):
                raise bad_request("Invalid page token.", reason="invalid") from None
        page = result[offset : offset + max_results]
        out: Json = {
            "kind": "calendar#events",
            "summary": cal.summary,
            "updated": format_updated(rec.updated),
            "timeZone": cal.time_zone,
            "accessRole": cal.access_role,
            "defaultReminders": [],
            "items": [self._view(b, p.get("maxAttendees"), self.response_tz(cal, p)) for b in page],
        }
        if offset + max_results < len(result):
            out["nextPageToken"] = _b64({"o": offset + max_results})
        return out

    def calendar_list(self, p: Json) -> Json:
        min_role = p.get("minAccessRole")
        show_hidden = bool(p.get("showHidden", False))
        show_deleted = bool(p.get("showDeleted", False))
        since: int | None = None
        sync = p.get("syncToken")
        if sync is not None:
            if min_role is not None:
                raise bad_request(
                    "minAccessRole cannot be combined with syncToken.", location="syncToken"
                )
            try:
                data = _unb64(str(sync)[3:]) if str(sync).startswith("sbl") else None
                if data is None or data["g"] != self.generation:
                    raise ValueError
                since = int(data["s"])
            except (ValueError, KeyError, TypeError):
                raise full_sync_required() from None
        cals = sorted(
            self.calendars.values(), key=lambda c: (not c.primary, c.summary.lower(), c.id)
        )
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
        offset = 0
        if p.get("pageToken"):
            try:
                offset = int(_unb64(str(p["pageToken"]))["o"])
            except (ValueError, KeyError, TypeError):
                raise bad_request("Invalid page token.", reason="invalid") from None
        out: Json = {
            "kind": "calendar#calendarList",
            "etag": f'"{self.calendar_seq}"',
            "items": entries[offset : offset + max_results],
        }
        if offset + max_results < len(entries):
            out["nextPageToken"] = _b64({"o": offset + max_results})
        else:
            out["nextSyncToken"] = "sbl" + _b64({"s": self.calendar_seq, "g": self.generation})
        return out


# ---------------------------------------------------------------- handlers
Handler = Callable[["CalendarStore", dict[str, str], Json, Any], Response]


def _list(store: CalendarStore, path: dict[str, str], p: Json, body: Any) -> Response:
    return Response.json(store.list_events(path["calendarId"], p))


def _get(store: CalendarStore, path: dict[str, str], p: Json, body: Any) -> Response:
    ev = store.get_event(path["calendarId"], path["eventId"])
    tz = store.response_tz(store.resolve(path["calendarId"]), p)
    return Response.json(store._view(ev, p.get("maxAttendees"), tz))


def _instances(store: CalendarStore, path: dict[str, str], p: Json, body: Any) -> Response:
    return Response.json(store.instances(path["calendarId"], path["eventId"], p))


def _calendar_list(store: CalendarStore, path: dict[str, str], p: Json, body: Any) -> Response:
    return Response.json(store.calendar_list(p))


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
