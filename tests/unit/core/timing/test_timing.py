"""Unit tests for followupd.core.timing, with exact expected datetimes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support.timing import local, settings, utc

from followupd.core.timing import (
    Clock,
    FixedClock,
    Schedule,
    SystemClock,
    checkin_at,
    day_phrase,
    is_business_day,
    is_holiday,
    next_morning,
    plan,
    send_slot,
)

BERLIN = "Europe/Berlin"
ALL_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


# --------------------------------------------------------------------------- plan


def test_monday_morning_interview_is_sent_tuesday_at_nine() -> None:
    schedule = plan(local(BERLIN, 2026, 6, 8, 8, 45), settings())
    assert schedule == Schedule(
        draft_at=utc(2026, 6, 8, 6, 55),
        window_start=utc(2026, 6, 9, 6, 45),
        window_end=utc(2026, 6, 10, 6, 45),
        send_at=utc(2026, 6, 9, 7, 0),  # Tuesday 09:00 CEST
        late=False,
        reminders=(
            ("reminder", utc(2026, 6, 8, 7, 0)),  # draft ready 08:55: the same morning
            ("closing", utc(2026, 6, 10, 2, 45)),
        ),
    )


def test_results_are_utc_and_independent_of_the_input_zone() -> None:
    end = local(BERLIN, 2026, 3, 28, 10, 0)  # the day before spring-forward
    in_berlin = plan(end, settings())
    in_utc = plan(end.astimezone(UTC), settings())
    in_tokyo = plan(end.astimezone(ZoneInfo("Asia/Tokyo")), settings())
    assert in_berlin == in_utc == in_tokyo
    assert in_berlin.send_at.tzinfo is UTC
    # 24 elapsed hours, not 24 wall-clock hours: 10:00 CET + 24h = 11:00 CEST.
    assert in_berlin.window_start == utc(2026, 3, 29, 9, 0)


@pytest.mark.parametrize(
    ("no_slot", "send_at", "late"),
    [
        ("next_business_morning", utc(2026, 6, 15, 7, 0), True),  # Monday 09:00 CEST
        ("window_start", utc(2026, 6, 13, 16, 0), False),  # Saturday 18:00, in the window
    ],
)
def test_friday_evening_interview_has_no_slot(no_slot: str, send_at: datetime, late: bool) -> None:
    schedule = plan(local(BERLIN, 2026, 6, 12, 18, 0), settings(no_slot=no_slot))
    assert schedule.window_start == utc(2026, 6, 13, 16, 0)
    assert schedule.window_end == utc(2026, 6, 14, 16, 0)  # Sunday 18:00
    assert (schedule.send_at, schedule.late) == (send_at, late)
    # The Monday reminder would come after the window: only the closing nudge is left.
    assert schedule.reminders == (("closing", utc(2026, 6, 14, 12, 0)),)


def test_window_opening_mid_slot_sends_at_the_window_start() -> None:
    schedule = plan(local(BERLIN, 2026, 6, 8, 10, 15), settings())
    assert (schedule.send_at, schedule.late) == (utc(2026, 6, 9, 8, 15), False)


def test_window_opening_after_the_slot_sends_the_next_day() -> None:
    schedule = plan(local(BERLIN, 2026, 6, 8, 12, 0), settings())
    assert (schedule.send_at, schedule.late) == (utc(2026, 6, 10, 7, 0), False)


def test_slot_end_is_exclusive() -> None:
    just_inside = plan(local(BERLIN, 2026, 6, 8, 11, 29, 59), settings())
    assert just_inside.send_at == utc(2026, 6, 9, 9, 29, 59)
    at_the_end = plan(local(BERLIN, 2026, 6, 8, 11, 30), settings())
    assert at_the_end.send_at == utc(2026, 6, 10, 7, 0)


def test_window_end_is_inclusive() -> None:
    # New York fall-back: Saturday 10:00 EDT + 48h = Monday 09:00 EST, the slot opening.
    tz = settings("America/New_York")
    schedule = plan(local("America/New_York", 2026, 10, 31, 10, 0), tz)
    assert schedule.window_start == utc(2026, 11, 1, 14, 0)
    assert schedule.window_end == utc(2026, 11, 2, 14, 0)
    assert (schedule.send_at, schedule.late) == (utc(2026, 11, 2, 14, 0), False)
    # One minute less and the slot is missed.
    shorter = settings("America/New_York", window=["24h", "2879m"])
    missed = plan(local("America/New_York", 2026, 10, 31, 10, 0), shorter)
    assert (missed.send_at, missed.late) == (utc(2026, 11, 2, 14, 0), True)


# --------------------------------------------------------------------------- DST


def test_berlin_spring_forward_keeps_nine_local() -> None:
    # Saturday 28 March 2026 10:00 CET; clocks go forward on Sunday the 29th.
    schedule = plan(local(BERLIN, 2026, 3, 28, 10, 0), settings())
    assert schedule.window_end == utc(2026, 3, 30, 9, 0)  # Monday 11:00 CEST
    assert (schedule.send_at, schedule.late) == (utc(2026, 3, 30, 7, 0), False)
    assert schedule.send_at.astimezone(ZoneInfo(BERLIN)).strftime("%H:%M %z") == "09:00 +0200"
    # Both sides of the change: Friday 09:00 CET is 08:00Z, Monday 09:00 CEST is 07:00Z.
    assert next_morning(local(BERLIN, 2026, 3, 26, 12, 0), settings()) == utc(2026, 3, 27, 8, 0)
    assert next_morning(local(BERLIN, 2026, 3, 27, 12, 0), settings()) == utc(2026, 3, 30, 7, 0)


def test_berlin_fall_back_keeps_nine_local() -> None:
    # Saturday 24 October 2026 10:00 CEST; clocks go back on Sunday the 25th.
    schedule = plan(local(BERLIN, 2026, 10, 24, 10, 0), settings())
    assert schedule.window_start == utc(2026, 10, 25, 8, 0)  # Sunday 09:00 CET
    assert schedule.window_end == utc(2026, 10, 26, 8, 0)  # Monday 09:00 CET
    assert (schedule.send_at, schedule.late) == (utc(2026, 10, 26, 8, 0), False)
    assert next_morning(local(BERLIN, 2026, 10, 23, 12, 0), settings()) == utc(2026, 10, 26, 8, 0)
    assert next_morning(local(BERLIN, 2026, 10, 22, 12, 0), settings()) == utc(2026, 10, 23, 7, 0)


def test_slot_starting_in_the_spring_forward_gap_moves_to_the_gap_end() -> None:
    tz = settings(send_hours=["02:30", "04:00"], business_days=ALL_DAYS)
    # 02:30 does not exist on 29 March 2026: the slot opens at 03:00 CEST.
    assert next_morning(utc(2026, 3, 28, 12, 0), tz) == utc(2026, 3, 29, 1, 0)
    assert next_morning(utc(2026, 3, 29, 1, 0), tz) == utc(2026, 3, 30, 0, 30)


def test_slot_entirely_inside_the_gap_does_not_exist_that_day() -> None:
    tz = settings(send_hours=["02:00", "02:45"], business_days=ALL_DAYS)
    assert next_morning(utc(2026, 3, 28, 12, 0), tz) == utc(2026, 3, 30, 0, 0)  # Monday 02:00


def test_slot_in_the_fall_back_overlap() -> None:
    tz = settings(send_hours=["02:30", "04:00"], business_days=ALL_DAYS)
    far = utc(2026, 11, 30)
    # The opening is the first 02:30 (CEST, fold=0).
    assert next_morning(utc(2026, 10, 24, 12, 0), tz) == utc(2026, 10, 25, 0, 30)
    # 02:45 CEST is inside the slot: immediately.
    assert send_slot(utc(2026, 10, 25, 0, 45), utc(2026, 10, 25), far, tz) == (
        utc(2026, 10, 25, 0, 45),
        False,
    )
    # 02:10 CET (second pass) is before 02:30 on the wall: wait for 02:30 CET.
    second = local(BERLIN, 2026, 10, 25, 2, 10, fold=1)
    # (PEP 495: an ambiguous fold=1 time never compares equal across zones.)
    assert second.astimezone(UTC) == utc(2026, 10, 25, 1, 10)
    assert send_slot(second, utc(2026, 10, 25), far, tz) == (utc(2026, 10, 25, 1, 30), False)


def test_new_york_spring_forward() -> None:
    tz = settings("America/New_York")
    schedule = plan(local("America/New_York", 2026, 3, 7, 10, 0), tz)  # Saturday 10:00 EST
    assert schedule.window_end == utc(2026, 3, 9, 15, 0)  # Monday 11:00 EDT
    assert (schedule.send_at, schedule.late) == (utc(2026, 3, 9, 13, 0), False)  # 09:00 EDT


def test_kolkata_half_hour_offset() -> None:
    tz = settings("Asia/Kolkata")
    mid_slot = plan(local("Asia/Kolkata", 2026, 6, 1, 10, 0), tz)
    assert (mid_slot.send_at, mid_slot.late) == (utc(2026, 6, 2, 4, 30), False)  # Tue 10:00 IST
    after_slot = plan(local("Asia/Kolkata", 2026, 6, 1, 14, 0), tz)
    assert (after_slot.send_at, after_slot.late) == (utc(2026, 6, 3, 3, 30), False)  # Wed 09:00


def test_lord_howe_half_hour_dst() -> None:
    zone = "Australia/Lord_Howe"
    tz = settings(zone)
    # Ordinary week in summer time (+11:00): Tuesday 09:00 is Monday 22:00Z.
    summer = plan(local(zone, 2026, 10, 5, 8, 0), tz)
    assert (summer.send_at, summer.late) == (utc(2026, 10, 5, 22, 0), False)
    # Across the end of DST on Sunday 5 April 2026 (02:00 +11 -> 01:30 +10:30).
    autumn = plan(local(zone, 2026, 4, 4, 10, 0), tz)
    assert autumn.window_end == utc(2026, 4, 5, 23, 0)  # Monday 09:30 +10:30
    assert (autumn.send_at, autumn.late) == (utc(2026, 4, 5, 22, 30), False)  # Monday 09:00
    # A slot at 02:00 on 4 October 2026 (02:00 -> 02:30 gap) opens at 02:30 +11.
    night = settings(zone, send_hours=["02:00", "03:00"], business_days=ALL_DAYS)
    assert next_morning(utc(2026, 10, 3, 0, 0), night) == utc(2026, 10, 3, 15, 30)


def test_chatham_quarter_hour_offset() -> None:
    zone = "Pacific/Chatham"
    schedule = plan(local(zone, 2026, 6, 1, 8, 0), settings(zone))  # Monday 08:00 +12:45
    assert (schedule.send_at, schedule.late) == (utc(2026, 6, 1, 20, 15), False)  # Tue 09:00


def test_utc_zone() -> None:
    schedule = plan(utc(2026, 6, 1, 12, 0), settings("UTC"))
    assert (schedule.send_at, schedule.late) == (utc(2026, 6, 3, 9, 0), False)


# --------------------------------------------------------------------------- holidays


def test_christmas_day_is_skipped() -> None:
    end = local(BERLIN, 2026, 12, 24, 8, 0)  # Thursday; window Fri 25 08:00 - Sat 26 08:00
    assert plan(end, settings()).send_at == utc(2026, 12, 25, 8, 0)  # no holidays configured
    german = plan(end, settings(holidays="DE"))
    assert (german.send_at, german.late) == (utc(2026, 12, 28, 8, 0), True)  # Monday 09:00
    lenient = plan(end, settings(holidays="DE", no_slot="window_start"))
    assert (lenient.send_at, lenient.late) == (utc(2026, 12, 25, 7, 0), False)


def test_christmas_eve_afternoon_runs_into_the_holidays() -> None:
    schedule = plan(local(BERLIN, 2026, 12, 23, 16, 0), settings(holidays="DE"))
    assert schedule.window_end == utc(2026, 12, 25, 15, 0)
    assert (schedule.send_at, schedule.late) == (utc(2026, 12, 28, 8, 0), True)


def test_new_years_day_is_skipped() -> None:
    schedule = plan(local(BERLIN, 2026, 12, 31, 8, 0), settings(holidays="DE"))
    assert (schedule.send_at, schedule.late) == (utc(2027, 1, 4, 8, 0), True)


def test_easter_monday_is_skipped() -> None:
    # Sunday 28 March 2027 (also the spring-forward day) 08:00 CEST.
    end = local(BERLIN, 2027, 3, 28, 8, 0)
    default = plan(end, settings(holidays="DE"))
    assert default.window_end == utc(2027, 3, 30, 6, 0)  # Tuesday 08:00 CEST
    assert (default.send_at, default.late) == (utc(2027, 3, 30, 7, 0), True)
    longer = plan(end, settings(holidays="DE", window=["24h", "72h"]))
    assert (longer.send_at, longer.late) == (utc(2027, 3, 30, 7, 0), False)
    assert plan(end, settings()).send_at == utc(2027, 3, 29, 7, 0)  # no holidays: Monday


def test_is_business_day_and_holidays() -> None:
    german = settings(holidays="DE")
    assert is_business_day(date(2026, 12, 24), german)
    assert not is_business_day(date(2026, 12, 25), german)
    assert not is_business_day(date(2027, 1, 1), german)
    assert not is_business_day(date(2027, 3, 29), german)
    assert not is_business_day(date(2026, 12, 27), german)  # Sunday
    assert is_business_day(date(2026, 12, 25), settings())
    assert is_holiday(date(2027, 3, 29), "DE")
    assert is_holiday(date(2027, 3, 29), "de")
    assert not is_holiday(date(2027, 3, 29), "")


# --------------------------------------------------------------------------- business days


def test_sunday_to_thursday_week() -> None:
    zone = "Asia/Jerusalem"
    tz = settings(zone, business_days=["sun", "mon", "tue", "wed", "thu"])
    assert is_business_day(date(2026, 6, 14), tz)  # Sunday
    assert not is_business_day(date(2026, 6, 12), tz)  # Friday
    thursday = plan(local(zone, 2026, 6, 11, 12, 0), tz)  # window Fri 12:00 - Sat 12:00
    assert (thursday.send_at, thursday.late) == (utc(2026, 6, 14, 6, 0), True)  # Sun 09:00 IDT
    saturday = plan(local(zone, 2026, 6, 13, 12, 0), tz)  # window Sun 12:00 - Mon 12:00
    assert (saturday.send_at, saturday.late) == (utc(2026, 6, 15, 6, 0), False)  # Mon 09:00


# --------------------------------------------------------------------------- send_slot


WINDOW = (utc(2026, 6, 9, 6, 45), utc(2026, 6, 10, 6, 45))  # Tue 08:45 - Wed 08:45 CEST


def test_confirmed_before_the_window_waits_for_the_slot() -> None:
    assert send_slot(utc(2026, 6, 8, 7, 0), *WINDOW, settings()) == (utc(2026, 6, 9, 7, 0), False)


def test_confirmed_inside_an_open_slot_sends_now() -> None:
    assert send_slot(utc(2026, 6, 9, 8, 0), *WINDOW, settings()) == (utc(2026, 6, 9, 8, 0), False)


@pytest.mark.parametrize(
    ("no_slot", "expected"),
    [
        # Wednesday 09:00 is 15 minutes after the window closes.
        ("next_business_morning", (utc(2026, 6, 10, 7, 0), True)),
        ("window_start", (utc(2026, 6, 9, 12, 0), False)),
    ],
)
def test_confirmed_after_the_last_slot_of_the_window(
    no_slot: str, expected: tuple[datetime, bool]
) -> None:
    assert send_slot(utc(2026, 6, 9, 12, 0), *WINDOW, settings(no_slot=no_slot)) == expected


@pytest.mark.parametrize(
    ("confirmed", "no_slot", "expected"),
    [
        # Wednesday 10:00 CEST, in a slot but after the window: right away, late.
        (utc(2026, 6, 10, 8, 0), "next_business_morning", (utc(2026, 6, 10, 8, 0), True)),
        # Wednesday 14:00: the next morning, late.
        (utc(2026, 6, 10, 12, 0), "next_business_morning", (utc(2026, 6, 11, 7, 0), True)),
        (utc(2026, 6, 10, 8, 0), "window_start", (utc(2026, 6, 10, 8, 0), True)),
        (utc(2026, 6, 10, 12, 0), "window_start", (utc(2026, 6, 10, 12, 0), True)),
    ],
)
def test_confirmed_after_the_window_is_late(
    confirmed: datetime, no_slot: str, expected: tuple[datetime, bool]
) -> None:
    assert send_slot(confirmed, *WINDOW, settings(no_slot=no_slot)) == expected


def test_send_slot_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        send_slot(datetime(2026, 6, 9, 8, 0), *WINDOW, settings())
    with pytest.raises(ValueError, match="before window_start"):
        send_slot(utc(2026, 6, 9, 8, 0), WINDOW[1], WINDOW[0], settings())
    with pytest.raises(ValueError, match="timezone-aware"):
        plan(datetime(2026, 6, 9, 8, 0), settings())


# --------------------------------------------------------------------------- reminders


def test_reminders_next_morning_then_closing() -> None:
    schedule = plan(local(BERLIN, 2026, 6, 8, 13, 0), settings())  # Monday 13:00
    assert schedule.reminders == (
        ("reminder", utc(2026, 6, 9, 7, 0)),  # Tuesday 09:00
        ("closing", utc(2026, 6, 10, 7, 0)),  # Wednesday 13:00 - 4h
    )


def test_reminder_after_the_closing_nudge_is_dropped() -> None:
    # Saturday 11:00: closing Monday 07:00, next morning Monday 09:00.
    schedule = plan(local(BERLIN, 2026, 6, 13, 11, 0), settings())
    assert schedule.reminders == (("closing", utc(2026, 6, 15, 5, 0)),)


def test_reminder_at_the_closing_time_is_a_duplicate() -> None:
    # Saturday 13:00: closing and next morning are both Monday 09:00.
    schedule = plan(local(BERLIN, 2026, 6, 13, 13, 0), settings())
    assert schedule.reminders == (("closing", utc(2026, 6, 15, 7, 0)),)


def test_reminders_not_after_the_draft_are_omitted() -> None:
    short = settings(window=["1h", "3h"])  # closing = end - 1h, before the draft
    assert plan(local(BERLIN, 2026, 6, 8, 13, 0), short).reminders == ()
    no_closing = settings(remind_before_close="48h")  # closing = end
    assert plan(local(BERLIN, 2026, 6, 8, 13, 0), no_closing).reminders == (
        ("reminder", utc(2026, 6, 9, 7, 0)),
    )


def test_next_morning_is_strictly_after() -> None:
    tz = settings()
    assert next_morning(local(BERLIN, 2026, 6, 8, 8, 59), tz) == utc(2026, 6, 8, 7, 0)
    assert next_morning(local(BERLIN, 2026, 6, 8, 9, 0), tz) == utc(2026, 6, 9, 7, 0)
    assert next_morning(local(BERLIN, 2026, 6, 12, 9, 30), tz) == utc(2026, 6, 15, 7, 0)


# --------------------------------------------------------------------------- check-in


def test_checkin_disabled() -> None:
    assert checkin_at(utc(2026, 6, 9, 7, 5), settings()) is None


def test_checkin_inside_a_slot_is_kept() -> None:
    tz = settings(checkin_after="7d")
    assert checkin_at(utc(2026, 6, 9, 7, 5), tz) == utc(2026, 6, 16, 7, 5)


def test_checkin_moves_to_the_next_slot() -> None:
    tz = settings(checkin_after="2d")
    assert checkin_at(utc(2026, 6, 12, 14, 0), tz) == utc(2026, 6, 15, 7, 0)  # Sun -> Mon


def test_checkin_counts_elapsed_time_across_dst() -> None:
    # Friday 27 March 2026 10:30 CET + 72h = Monday 11:30 CEST: the slot has just closed.
    tz = settings(checkin_after="3d")
    assert checkin_at(local(BERLIN, 2026, 3, 27, 10, 30), tz) == utc(2026, 3, 31, 7, 0)


# --------------------------------------------------------------------------- day_phrase


NOW = utc(2026, 6, 10, 12, 0)  # Wednesday 14:00 CEST


@pytest.mark.parametrize(
    ("moment", "phrase"),
    [
        (utc(2026, 6, 10, 8, 0), "this morning"),
        (utc(2026, 6, 9, 22, 30), "this morning"),  # 00:30 local: today, not yesterday
        (utc(2026, 6, 10, 9, 59), "this morning"),
        (utc(2026, 6, 10, 10, 0), "this afternoon"),
        (utc(2026, 6, 10, 14, 59), "this afternoon"),
        (utc(2026, 6, 10, 15, 0), "this evening"),
        (utc(2026, 6, 9, 8, 0), "yesterday"),
        (utc(2026, 6, 11, 8, 0), "tomorrow"),
        (utc(2026, 6, 8, 8, 0), "on Monday"),
        (utc(2026, 6, 4, 8, 0), "on Thursday"),  # six days ago
        (utc(2026, 6, 16, 8, 0), "on Tuesday"),  # six days ahead
        (utc(2026, 6, 3, 8, 0), "on 3 June"),  # a week ago
        (utc(2026, 6, 17, 8, 0), "on 17 June"),
        (utc(2027, 3, 3, 8, 0), "on 3 March 2027"),
    ],
)
def test_day_phrase(moment: datetime, phrase: str) -> None:
    assert day_phrase(moment, NOW, ZoneInfo(BERLIN)) == phrase


def test_day_phrase_uses_the_local_date_of_now() -> None:
    just_after_midnight = utc(2026, 6, 10, 22, 30)  # Thursday 00:30 CEST
    assert day_phrase(NOW, just_after_midnight, ZoneInfo(BERLIN)) == "yesterday"
    assert day_phrase(NOW, just_after_midnight, ZoneInfo("UTC")) == "this afternoon"


# --------------------------------------------------------------------------- clocks


def test_fixed_clock() -> None:
    clock = FixedClock(local(BERLIN, 2026, 6, 8, 9, 0))
    assert isinstance(clock, Clock)
    assert clock.now() == utc(2026, 6, 8, 7, 0)
    assert clock.now().tzinfo is UTC
    assert clock.advance(timedelta(hours=25)) == utc(2026, 6, 9, 8, 0)
    assert clock.now() == utc(2026, 6, 9, 8, 0)
    clock.set(utc(2030, 1, 1))
    assert clock.now() == utc(2030, 1, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2026, 6, 8, 9, 0))


def test_system_clock() -> None:
    clock = SystemClock()
    assert isinstance(clock, Clock)
    now = clock.now()
    assert now.tzinfo is UTC
    assert abs(now - datetime.now(UTC)) < timedelta(minutes=1)
