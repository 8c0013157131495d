"""Calendar data and its mutation: calendars, stored events, and the edits that
bump their sequence, etag and updated stamp (what incremental sync reads)."""

from __future__ import annotations

import base64
import copy
import datetime as dt
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from ..errors import ApiError, bad_request, not_found
from ..timeutil import UTC, format_datetime, format_updated, now, parse_duration, zone
from .recurrence import event_time, expand

Json = dict[str, Any]

EVENT_TYPES = ("birthday", "default", "focusTime", "fromGmail", "outOfOffice", "workingLocation")
ROLE_RANK = {"freeBusyReader": 0, "reader": 1, "writer": 2, "owner": 3}


def new_event_id() -> str:
    # Google event ids use base32hex characters (a-v, 0-9).
    alphabet = "abcdefghijklmnopqrstuv0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(26))


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
    """One account's calendars and events.

    `seq` numbers every change (sync and page tokens carry it); bumping `generation`
    makes every earlier sync token answer 410.
    """

    def __init__(self, user_email: str, user_name: str) -> None:
        self.user_email = user_email
        self.user_name = user_name
        self.calendars: dict[str, CalendarRecord] = {}
        self.events: dict[str, dict[str, EventRecord]] = {}
        self.seq = 0
        self.calendar_seq = 0
        self.generation = 1
        self.last_update = now()  # the newest `updated` stamp, strictly increasing
        self.add_calendar(user_email, user_email, primary=True)

    # ------------------------------------------------------------ helpers
    def _tick(self) -> tuple[int, dt.datetime]:
        self.seq += 1
        stamp = now().replace(microsecond=now().microsecond // 1000 * 1000)
        if stamp <= self.last_update:
            stamp = self.last_update + dt.timedelta(milliseconds=1)
        self.last_update = stamp
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
            start = event_time(body["start"], self.tz(cal))
            end = event_time(body["end"], self.tz(cal))
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
