"""Property tests for followupd.core.timing, against a brute-force minute-by-minute oracle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from followupd.core.settings import WEEKDAYS, TimingSettings
from followupd.core.timing import checkin_at, is_business_day, next_morning, plan, send_slot

ZONES = [
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/St_Johns",  # -03:30 / -02:30
    "America/Santiago",  # transitions at midnight
    "America/Havana",  # transitions at midnight
    "Asia/Kolkata",
    "Asia/Jerusalem",
    "Australia/Lord_Howe",  # 30-minute DST
    "Pacific/Chatham",  # +12:45 / +13:45
    "Pacific/Apia",  # dropped DST in 2021
    "UTC",
]
SEND_HOURS = [
    ("09:00", "11:30"),
    ("08:00", "18:00"),
    ("00:00", "01:00"),  # midnight transitions
    ("02:00", "03:00"),  # inside European/Lord Howe transitions
    ("02:30", "04:00"),
    ("23:00", "23:59"),
]
MINUTE = timedelta(minutes=1)
SCAN_LIMIT = timedelta(days=10)

zones = st.sampled_from(ZONES)
moments = st.datetimes(
    min_value=datetime(2020, 1, 1),
    max_value=datetime(2035, 12, 31),
    timezones=zones.map(ZoneInfo),
)


@st.composite
def timing_settings(draw: st.DrawFn) -> TimingSettings:
    window = draw(st.sampled_from([("24h", "48h"), ("1h", "3h"), ("2d", "5d"), ("0s", "24h")]))
    return TimingSettings.model_validate(
        {
            "timezone": draw(zones),
            "draft_delay": draw(st.sampled_from(["10m", "0s", "30h"])),
            "window": list(window),
            "send_hours": list(draw(st.sampled_from(SEND_HOURS))),
            "business_days": draw(
                st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True)
            ),
            "holidays": draw(st.sampled_from(["", "DE", "US", "CL"])),
            "no_slot": draw(st.sampled_from(["next_business_morning", "window_start"])),
            "remind_before_close": draw(st.sampled_from(["4h", "0s", "30h"])),
            "checkin_after": draw(st.sampled_from(["", "7d", "36h"])),
        }
    )


def in_slot(moment: datetime, tz: TimingSettings) -> bool:
    """The definition, applied directly: a business day and a wall time in send_hours."""
    wall = moment.astimezone(ZoneInfo(tz.timezone))
    start, end = tz.send_hours
    return is_business_day(wall.date(), tz) and start <= wall.time().replace(tzinfo=None) < end


def minutes(start: datetime, stop: datetime) -> list[datetime]:
    """Whole UTC minutes in [start, stop), at most SCAN_LIMIT of them."""
    start, stop = start.astimezone(UTC), stop.astimezone(UTC)  # no wall-clock arithmetic
    first = start.replace(second=0, microsecond=0)
    if first < start:
        first += MINUTE
    stop = min(stop, start + SCAN_LIMIT)
    count = max(0, int((stop - first) / MINUTE) + (1 if (stop - first) % MINUTE else 0))
    return [first + i * MINUTE for i in range(count)]


def first_in_slot_oracle(start: datetime, tz: TimingSettings) -> datetime | None:
    for minute in [start, *minutes(start, start + SCAN_LIMIT)]:
        if in_slot(minute, tz):
            return minute
    return None


def check_send(
    start: datetime,
    window_end: datetime,
    earliest: datetime,
    tz: TimingSettings,
    result: tuple[datetime, bool],
) -> None:
    """send_slot's contract, checked against the minute-by-minute oracle."""
    send_at, late = result
    assert send_at.tzinfo is UTC
    assert late == (send_at > window_end)
    assert send_at >= earliest
    expected_slot = first_in_slot_oracle(start, tz)
    if expected_slot is not None and expected_slot <= window_end:
        assert (send_at, late) == (expected_slot, False)
    elif tz.no_slot == "next_business_morning":
        assert late
        if expected_slot is not None:
            assert send_at == expected_slot
        else:  # beyond what the oracle scans
            assert send_at >= start + SCAN_LIMIT
        assert in_slot(send_at, tz)
    elif start <= window_end:
        assert (send_at, late) == (start, False)
    else:
        assert (send_at, late) == (earliest, True)


@settings(max_examples=150, deadline=None)
@given(end=moments, tz=timing_settings())
def test_plan_properties(end: datetime, tz: TimingSettings) -> None:
    schedule = plan(end, tz)
    end_utc = end.astimezone(UTC)
    assert schedule.draft_at == end_utc + tz.draft_delay
    assert schedule.window_start == end_utc + tz.window[0]
    assert schedule.window_end == end_utc + tz.window[1]
    assert schedule.send_at >= schedule.window_start
    assert schedule.send_at >= schedule.draft_at
    if not schedule.late:
        assert schedule.send_at <= schedule.window_end
    if not schedule.late and tz.no_slot == "next_business_morning":
        assert in_slot(schedule.send_at, tz)
    start = max(schedule.draft_at, schedule.window_start)
    check_send(start, schedule.window_end, schedule.draft_at, tz, (schedule.send_at, schedule.late))

    times = [moment for _, moment in schedule.reminders]
    labels = [label for label, _ in schedule.reminders]
    assert times == sorted(times)
    assert len(set(times)) == len(times)
    assert len(set(labels)) == len(labels) and set(labels) <= {"reminder", "closing"}
    for moment in times:
        assert schedule.draft_at < moment < schedule.window_end
    for label, moment in schedule.reminders:
        if label == "reminder":
            assert in_slot(moment, tz)
        else:
            assert moment == schedule.window_end - tz.remind_before_close


@settings(max_examples=100, deadline=None)
@given(
    end=moments,
    confirmed_after=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=4)),
    tz=timing_settings(),
)
def test_send_slot_for_any_confirmation(
    end: datetime, confirmed_after: timedelta, tz: TimingSettings
) -> None:
    schedule = plan(end, tz)
    confirmed = schedule.draft_at + confirmed_after
    result = send_slot(confirmed, schedule.window_start, schedule.window_end, tz)
    start = max(confirmed, schedule.window_start)
    check_send(start, schedule.window_end, confirmed, tz, result)


@settings(max_examples=100, deadline=None)
@given(after=moments, tz=timing_settings())
def test_next_morning_is_the_next_slot_opening(after: datetime, tz: TimingSettings) -> None:
    morning = next_morning(after, tz)
    assert morning > after
    assert in_slot(morning, tz)
    assert not in_slot(morning - MINUTE, tz)  # an opening, not the middle of a slot
    zone = ZoneInfo(tz.timezone)
    for minute in minutes(after + timedelta(microseconds=1), morning):
        # No opening in between, except the re-entry of a repeated (fall-back) hour.
        if in_slot(minute, tz) and not in_slot(minute - MINUTE, tz):
            assert minute.astimezone(zone).fold == 1


@settings(max_examples=60, deadline=None)
@given(sent=moments, tz=timing_settings())
def test_checkin_is_the_first_slot_moment(sent: datetime, tz: TimingSettings) -> None:
    result = checkin_at(sent, tz)
    if tz.checkin_after is None:
        assert result is None
        return
    assert result is not None
    due = sent.astimezone(UTC) + tz.checkin_after
    expected = first_in_slot_oracle(due, tz)
    if expected is None:  # beyond what the oracle scans (e.g. one business day a week)
        assert result >= due + SCAN_LIMIT
        assert in_slot(result, tz)
    else:
        assert result == expected
