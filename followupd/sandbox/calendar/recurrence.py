"""Event times and recurrence: start/end objects as datetimes, RRULE/RDATE/EXDATE
expansion into the instances Google shows (ids `<base>_<start>`)."""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from dateutil.rrule import rrulestr

from ..timeutil import UTC, format_datetime, now, parse_rfc3339, zone

Json = dict[str, Any]

MAX_INSTANCES = 1000
HORIZON = dt.timedelta(days=2 * 366)


def event_time(value: Any, default_tz: dt.tzinfo) -> dt.datetime:
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


def is_all_day(body: Json) -> bool:
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


@dataclass(frozen=True)
class _Series:
    """The first occurrence of a recurring event, and what every instance copies."""

    all_day: bool
    dtstart: dt.datetime  # all-day series: naive midnight of the first day
    tz: dt.tzinfo  # the zone the rules are read in
    tz_name: str | None  # the start's timeZone field, carried into each instance
    span_days: int = 0  # all-day series: days per instance
    duration: dt.timedelta = dt.timedelta(0)  # timed series: length of each instance


def _series(base: Json, cal_tz: dt.tzinfo) -> _Series:
    start_obj = base["start"]
    tz_name = start_obj.get("timeZone")
    if is_all_day(base):
        first = dt.date.fromisoformat(start_obj["date"])
        last = dt.date.fromisoformat(base["end"]["date"])
        dtstart = dt.datetime.combine(first, dt.time(0))
        return _Series(True, dtstart, cal_tz, tz_name, span_days=(last - first).days)
    begin = event_time(start_obj, cal_tz)
    end = event_time(base["end"], cal_tz)
    if tz_name:
        tz = zone(tz_name)
        dtstart = begin.astimezone(tz)
    else:
        dtstart = begin
        tz = begin.tzinfo or UTC
    return _Series(False, dtstart, tz, tz_name, duration=end - begin)


def _add_rule_starts(
    starts: list[Any], line: str, s: _Series, cal_tz: dt.tzinfo, hi: dt.datetime, limit: int
) -> None:
    """Append the starts of one RRULE up to `hi` (and a bound on runaway rules)."""
    rule = rrulestr(_fix_until(line, s.all_day, s.tz), dtstart=s.dtstart)
    if s.all_day:
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


def _occurrences(
    base: Json, s: _Series, cal_tz: dt.tzinfo, hi: dt.datetime, limit: int
) -> tuple[list[Any], set[Any]]:
    """The series' start dates (all-day) or datetimes, and the excluded ones."""
    rules = [str(r) for r in base.get("recurrence", [])]
    starts: list[Any] = []
    exdates: set[Any] = set()
    for line in rules:
        upper = line.upper()
        if upper.startswith("RRULE:"):
            _add_rule_starts(starts, line, s, cal_tz, hi, limit)
        elif upper.startswith("RDATE"):
            starts.extend(_parse_rdate_values(line, s.tz, s.all_day))
        elif upper.startswith("EXDATE"):
            exdates.update(_parse_rdate_values(line, s.tz, s.all_day))
    # the first occurrence counts even when no rule yields it
    first = s.dtstart.date() if s.all_day else s.dtstart
    if first not in starts:
        starts.append(first)
    return starts, exdates


def _instance_at(
    base: Json, s: _Series, occ: Any, cal_tz: dt.tzinfo
) -> tuple[Json, dt.datetime, dt.datetime]:
    """One instance of the series starting at `occ`, with the span it covers."""
    base_id = base["id"]
    inst = copy.deepcopy(base)
    inst.pop("recurrence", None)
    inst["recurringEventId"] = base_id
    if s.all_day:
        day: dt.date = occ
        inst_lo = dt.datetime.combine(day, dt.time(0), tzinfo=cal_tz)
        inst_hi = dt.datetime.combine(
            day + dt.timedelta(days=s.span_days), dt.time(0), tzinfo=cal_tz
        )
        inst["id"] = f"{base_id}_{day:%Y%m%d}"
        inst["start"] = {"date": day.isoformat()}
        inst["end"] = {"date": (day + dt.timedelta(days=s.span_days)).isoformat()}
        inst["originalStartTime"] = {"date": day.isoformat()}
        return inst, inst_lo, inst_hi
    moment: dt.datetime = occ
    inst_lo, inst_hi = moment, moment + s.duration
    utc = moment.astimezone(UTC)
    inst["id"] = f"{base_id}_{utc:%Y%m%dT%H%M%SZ}"
    start_v: Json = {"dateTime": format_datetime(moment)}
    end_v: Json = {"dateTime": format_datetime(inst_hi.astimezone(moment.tzinfo))}
    if s.tz_name:
        start_v["timeZone"] = s.tz_name
        end_v["timeZone"] = base["end"].get("timeZone", s.tz_name)
    inst["start"] = start_v
    inst["end"] = end_v
    inst["originalStartTime"] = dict(start_v)
    return inst, inst_lo, inst_hi


def expand(
    base: Json,
    cal_tz: dt.tzinfo,
    lo: dt.datetime | None,
    hi: dt.datetime | None,
    limit: int = MAX_INSTANCES,
) -> list[Json]:
    """Instances of a recurring event that overlap [lo, hi)."""
    series = _series(base, cal_tz)
    if hi is None:
        hi = now() + HORIZON
    starts, exdates = _occurrences(base, series, cal_tz, hi, limit)
    out: list[Json] = []
    for occ in sorted(set(starts)):
        if occ in exdates:
            continue
        inst, inst_lo, inst_hi = _instance_at(base, series, occ, cal_tz)
        if inst_lo >= hi:
            continue
        if lo is not None and inst_hi <= lo:
            continue
        out.append(inst)
        if len(out) >= limit:
            break
    return out
