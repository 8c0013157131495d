"""When things happen: the follow-up window, the send slot, nudge times, business days.

Pure: no I/O and no clock reads. ``now`` is always a parameter; the only clock is the
injectable :class:`Clock` at the bottom of this module, for the shell to use.

Conventions
-----------
- Every datetime taken is timezone-aware (a naive one raises ``ValueError``); every
  datetime returned is in UTC. Arithmetic is always done on UTC values, because
  Python adds a ``timedelta`` to a zone-aware datetime in *wall-clock* time.
- Durations from the config (``draft_delay``, ``window``, ``remind_before_close``,
  ``checkin_after``) are elapsed time: a "24h" window across a DST change is 24 real
  hours, so its end may read 23:00 or 01:00 on the wall clock.
- Preferred times are local wall-clock times in ``ZoneInfo(settings.timezone)``: a slot
  at 09:00 is 09:00 local on both sides of a DST change.

The preferred sending slot
--------------------------
A moment is *inside a slot* when, in the configured zone, its local date is a business
day (weekday in ``business_days`` and not a public holiday of ``settings.holidays``)
and its local wall time ``t`` satisfies ``send_hours[0] <= t < send_hours[1]``.

A day's *slot opening* is the first instant of that day that is inside its slot. That
is ``send_hours[0]`` local, with two DST refinements:

- nonexistent (spring-forward gap): the opening moves forward to the end of the gap,
  the first wall time that exists (02:30 in a 02:00-03:00 gap opens at 03:00);
  a slot that lies entirely inside a gap does not exist that day;
- ambiguous (fall-back): the first occurrence (``fold=0``). The repeated hour is
  still inside the slot where its wall time is, so :func:`send_slot` may pick it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from followupd.core.settings import WEEKDAYS, TimingSettings

__all__ = [
    "Clock",
    "FixedClock",
    "Schedule",
    "SystemClock",
    "checkin_at",
    "day_phrase",
    "is_business_day",
    "is_holiday",
    "next_morning",
    "plan",
    "send_slot",
]

_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)
_SECOND = timedelta(seconds=1)
# How far ahead a slot is looked for before the settings are declared unusable. No
# valid config gets near this; it only keeps a pathological one from looping forever.
_SEARCH_DAYS = 3 * 366

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip

Interval = tuple[datetime, datetime]


# --------------------------------------------------------------------------- schedule


@dataclass(frozen=True)
class Schedule:
    """The timeline of one follow-up, all in UTC.

    ``reminders`` holds the nudges for an unconfirmed draft, sorted by time:
    ``("reminder", next_morning(draft_at))`` and
    ``("closing", window_end - remind_before_close)``. A nudge is left out when it is
    not strictly after ``draft_at`` or not strictly before ``window_end`` (the follow-up
    expires then). The "reminder" is also left out when it is not strictly before the
    "closing" nudge (same time, or later: the closing nudge supersedes it).
    """

    draft_at: datetime  # end + draft_delay
    window_start: datetime  # end + window[0]
    window_end: datetime  # end + window[1]
    send_at: datetime  # see send_slot(draft_at, window_start, window_end)
    late: bool  # send_at is after window_end (no slot fitted; the policy moved it)
    reminders: tuple[tuple[str, datetime], ...]


def plan(end: datetime, settings: TimingSettings) -> Schedule:
    """The schedule of the follow-up to an interview that ends at ``end``.

    ``send_at`` assumes the user confirms before the window opens; for a confirmation
    arriving later, call ``send_slot(confirmed_at, window_start, window_end, settings)``.
    """
    end = _utc(end, "end")
    draft_at = end + settings.draft_delay
    window_start = end + settings.window[0]
    window_end = end + settings.window[1]
    send_at, late = send_slot(draft_at, window_start, window_end, settings)

    closing = window_end - settings.remind_before_close
    morning = next_morning(draft_at, settings)
    reminders: list[tuple[str, datetime]] = []
    if draft_at < closing < window_end:
        reminders.append(("closing", closing))
    if draft_at < morning < window_end and not (reminders and morning >= closing):
        reminders.append(("reminder", morning))
    reminders.sort(key=lambda item: item[1])
    return Schedule(
        draft_at=draft_at,
        window_start=window_start,
        window_end=window_end,
        send_at=send_at,
        late=late,
        reminders=tuple(reminders),
    )


def send_slot(
    earliest: datetime,
    window_start: datetime,
    window_end: datetime,
    settings: TimingSettings,
) -> tuple[datetime, bool]:
    """When to send a confirmed follow-up, and whether that is late.

    Let ``start = max(earliest, window_start)`` (``earliest`` is typically the moment
    of confirmation, or ``draft_at`` when planning ahead) and ``slot`` the first moment
    at or after ``start`` that is inside a preferred slot (``start`` itself when it
    already is; otherwise a slot opening). Both ends of the window are inclusive.

    - ``slot <= window_end``: ``(slot, False)``.
    - Otherwise no slot fits (or the confirmation came after the window), and
      ``settings.no_slot`` decides:

      - ``"next_business_morning"``: ``(slot, True)``, i.e. the next business
        morning's slot opening, or right away when ``start`` (necessarily after the
        window then) is already inside a slot: a late follow-up is not delayed further.
      - ``"window_start"``: ``(start, False)`` when ``start <= window_end`` (sent inside
        the window, outside the preferred hours); else ``(earliest, True)``: sent as
        soon as it is confirmed.

    The flag is True exactly when the returned moment is after ``window_end``.
    """
    earliest = _utc(earliest, "earliest")
    window_start = _utc(window_start, "window_start")
    window_end = _utc(window_end, "window_end")
    if window_end < window_start:
        raise ValueError("window_end comes before window_start")
    start = max(earliest, window_start)
    slot = _first_in_slot(start, settings)
    if slot <= window_end:
        return slot, False
    if settings.no_slot == "window_start":
        if start <= window_end:
            return start, False
        return earliest, True
    return slot, True


def next_morning(after: datetime, settings: TimingSettings) -> datetime:
    """The first slot opening strictly after ``after``: the "next morning" nudge.

    For a draft ready at 08:00 on a business day that is the same morning's opening;
    ready at 10:00 (or exactly at the opening), the next business day's.
    """
    return _next_opening(_utc(after, "after"), settings, strict=True)


def checkin_at(sent_at: datetime, settings: TimingSettings) -> datetime | None:
    """The check-in nudge: ``sent_at + checkin_after`` moved into a preferred slot.

    Unchanged when that moment is inside a slot, else the next slot opening.
    None when check-ins are disabled (``checkin_after`` unset).
    """
    if settings.checkin_after is None:
        return None
    return _first_in_slot(_utc(sent_at, "sent_at") + settings.checkin_after, settings)


def day_phrase(moment: datetime, now: datetime, zone: tzinfo) -> str:
    """How to say which day ``moment`` is, seen from ``now``, in ``zone``.

    Same local date: "this morning" (before 12:00), "this afternoon" (before 17:00),
    "this evening". One day before: "yesterday"; one day after: "tomorrow". Up to six
    days either way: "on Monday". Else "on 3 March", with the year when it differs
    from now's ("on 3 March 2027"). English, independent of the process locale.
    """
    local = _utc(moment, "moment").astimezone(zone)
    today = _utc(now, "now").astimezone(zone).date()
    days = (local.date() - today).days
    if days == 0:
        if local.hour < 12:
            return "this morning"
        if local.hour < 17:
            return "this afternoon"
        return "this evening"
    if days == -1:
        return "yesterday"
    if days == 1:
        return "tomorrow"
    if abs(days) <= 6:
        return f"on {_WEEKDAY_NAMES[local.weekday()]}"
    text = f"on {local.day} {_MONTH_NAMES[local.month - 1]}"
    return text if local.year == today.year else f"{text} {local.year}"


def is_business_day(day: date, settings: TimingSettings) -> bool:
    """A weekday listed in ``business_days`` that is not a public holiday."""
    return WEEKDAYS[day.weekday()] in settings.business_days and not is_holiday(
        day, settings.holidays
    )


def is_holiday(day: date, country: str) -> bool:
    """A public holiday of ``country`` (ISO code, national holidays); "" means none."""
    return bool(country) and day in _holiday_dates(country.upper(), day.year)


# --------------------------------------------------------------------------- clocks


@runtime_checkable
class Clock(Protocol):
    """Where the shell gets "now" from; tests inject a :class:`FixedClock`."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, moment: datetime) -> None:
        self._now = _utc(moment, "moment")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` (backwards if negative); returns the new now."""
        self._now = self._now + delta
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = _utc(moment, "moment")

    def __repr__(self) -> str:
        return f"FixedClock({self._now.isoformat()})"


# --------------------------------------------------------------------------- internals


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    return value.astimezone(UTC)


def _day_slots(day: date, settings: TimingSettings) -> tuple[Interval, ...]:
    """The UTC intervals [start, end) of ``day`` whose local wall time is in the slot."""
    if not is_business_day(day, settings):
        return ()
    return _wall_intervals(settings.timezone, day, settings.send_hours[0], settings.send_hours[1])


def _first_in_slot(moment: datetime, settings: TimingSettings) -> datetime:
    """The first moment at or after ``moment`` (UTC) that is inside a slot."""
    day = moment.astimezone(ZoneInfo(settings.timezone)).date() - _DAY
    for _ in range(_SEARCH_DAYS):
        for start, end in _day_slots(day, settings):
            if end > moment:
                return max(start, moment)
        day += _DAY
    raise ValueError(_no_slot_message(settings))


def _next_opening(moment: datetime, settings: TimingSettings, *, strict: bool) -> datetime:
    """The first slot opening after ``moment`` (UTC): strictly, or at or after."""
    day = moment.astimezone(ZoneInfo(settings.timezone)).date() - _DAY
    for _ in range(_SEARCH_DAYS):
        slots = _day_slots(day, settings)
        if slots:
            opening = slots[0][0]
            if opening > moment or (opening == moment and not strict):
                return opening
        day += _DAY
    raise ValueError(_no_slot_message(settings))


def _no_slot_message(settings: TimingSettings) -> str:
    return (
        f"timing: no sending slot in {_SEARCH_DAYS} days (send_hours={settings.send_hours}, "
        f"business_days={settings.business_days}, holidays={settings.holidays!r})"
    )


@lru_cache(maxsize=256)
def _holiday_dates(country: str, year: int) -> frozenset[date]:
    import holidays as holidays_lib  # imported late: it is large and only needed here

    return frozenset(holidays_lib.country_holidays(country, years=year).keys())


@lru_cache(maxsize=8192)
def _wall_intervals(zone_name: str, day: date, start: time, end: time) -> tuple[Interval, ...]:
    """The UTC instants whose wall time in ``zone_name`` lies in [day+start, day+end).

    Usually one interval, [start - offset, end - offset). A DST transition inside the
    wall range cuts it: a gap yields an interval that starts at the transition, an
    overlap yields two intervals (both passes through the repeated wall times).
    """
    zone = ZoneInfo(zone_name)
    lo = datetime.combine(day, start)
    hi = datetime.combine(day, end)
    # A UTC offset is strictly within a day, so every matching instant lies in here.
    span_start = (lo - _DAY).replace(tzinfo=UTC)
    span_end = (hi + _DAY).replace(tzinfo=UTC)
    found: list[Interval] = []
    for piece_start, piece_end, offset in _offset_pieces(zone, span_start, span_end):
        first = max(piece_start, (lo - offset).replace(tzinfo=UTC))
        last = min(piece_end, (hi - offset).replace(tzinfo=UTC))
        if first >= last:
            continue
        if found and found[-1][1] == first:  # a transition inside the slot: contiguous
            found[-1] = (found[-1][0], last)
        else:
            found.append((first, last))
    return tuple(found)


def _offset(zone: ZoneInfo, moment: datetime) -> timedelta:
    offset = moment.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


def _offset_pieces(
    zone: ZoneInfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, timedelta]]:
    """[start, end) cut into UTC pieces of constant offset.

    The offset is probed hourly and each change is located to the second by bisection
    (tz transitions fall on whole seconds; two transitions less than an hour apart that
    cancel out are not seen, and no zone has any).
    """
    pieces: list[tuple[datetime, datetime, timedelta]] = []
    piece_start, current = start, _offset(zone, start)
    probe = start
    while probe < end:
        ahead = min(probe + _HOUR, end)
        if _offset(zone, ahead) == current:
            probe = ahead
            continue
        before, after = probe, ahead  # offset(before) == current != offset(after)
        while after - before > _SECOND:
            middle = before + timedelta(seconds=int((after - before).total_seconds()) // 2)
            if _offset(zone, middle) == current:
                before = middle
            else:
                after = middle
        pieces.append((piece_start, after, current))
        piece_start, current, probe = after, _offset(zone, after), after
    pieces.append((piece_start, end, current))
    return pieces
