"""The CalendarSource contract, run against FakeCalendar and GoogleCalendar+sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support.adapter_worlds import CalendarWorld

from followupd.adapters.calendar import resolve_calendars
from followupd.adapters.google.api_errors import ApiNotFound
from followupd.core.model import Event

NOW = datetime.now(UTC).replace(microsecond=0)
LOOKBACK = NOW - timedelta(hours=48)


def event(summary: str, start: datetime, minutes: int = 45, **extra: Any) -> dict[str, Any]:
    return {
        "summary": summary,
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + timedelta(minutes=minutes)).isoformat()},
        "attendees": [{"email": "grace@corp.example"}],
        **extra,
    }


def ids(items: list[Event]) -> set[str]:
    return {item.id for item in items}


class TestCalendarSource:
    """Full and incremental sync, cancellations, 410, calendars: the same on both sides."""

    def test_full_sync_returns_events_ending_after_time_min(
        self, calendar_world: CalendarWorld
    ) -> None:
        cw = calendar_world
        old = cw.add_event(event("Old interview", NOW - timedelta(days=5)))
        recent = cw.add_event(event("Interview", NOW - timedelta(hours=3)))
        future = cw.add_event(event("Onsite", NOW + timedelta(days=2)))

        result = cw.source.sync("primary", None, LOOKBACK)

        assert result.full is True
        assert result.next_sync_token
        assert ids(result.items) == {recent, future}
        assert old not in ids(result.items)
        by_id = {item.id: item for item in result.items}
        assert by_id[recent].summary == "Interview"
        assert by_id[recent].attendees[0].email == "grace@corp.example"
        assert by_id[recent].calendar_id == "primary"

    def test_full_sync_follows_pages(self, calendar_world: CalendarWorld) -> None:
        cw = calendar_world
        for n in range(6000):
            cw.add_event(event(f"Event {n}", NOW + timedelta(minutes=n)))
        before = cw.counts().get("calendar.events.list", 0)

        result = cw.source.sync("primary", None, LOOKBACK)

        assert len(result.items) == 6000
        assert len(ids(result.items)) == 6000
        assert cw.counts()["calendar.events.list"] - before == 3  # 2500 + 2500 + 1000

        again = cw.source.sync("primary", result.next_sync_token, LOOKBACK)
        assert again.items == [] and again.full is False

    def test_incremental_sync_returns_only_changes(self, calendar_world: CalendarWorld) -> None:
        cw = calendar_world
        kept = cw.add_event(event("Unchanged", NOW + timedelta(hours=1)))
        moved = cw.add_event(event("Phone screen", NOW + timedelta(hours=2)))
        cancelled = cw.add_event(event("Interview A", NOW + timedelta(hours=3)))
        deleted = cw.add_event(event("Interview B", NOW + timedelta(hours=4)))
        first = cw.source.sync("primary", None, LOOKBACK)
        assert {kept, moved, cancelled, deleted} <= ids(first.items)

        added = cw.add_event(event("Onsite", NOW + timedelta(days=1)))
        new_start = NOW + timedelta(hours=5)
        cw.move_event(moved, new_start, new_start + timedelta(minutes=30))
        cw.control.cancel_event("primary", cancelled)
        cw.control.delete_event("primary", deleted)

        second = cw.source.sync("primary", first.next_sync_token, LOOKBACK)

        assert second.full is False
        assert ids(second.items) == {added, moved, cancelled, deleted}
        by_id = {item.id: item for item in second.items}
        assert by_id[moved].start == new_start
        assert by_id[cancelled].status == "cancelled"
        assert by_id[deleted].status == "cancelled"
        assert by_id[added].status == "confirmed"
        assert second.next_sync_token

        third = cw.source.sync("primary", second.next_sync_token, LOOKBACK)
        assert third.items == [] and third.full is False

    def test_expired_token_means_full_resync(self, calendar_world: CalendarWorld) -> None:
        cw = calendar_world
        one = cw.add_event(event("Interview", NOW + timedelta(hours=1)))
        first = cw.source.sync("primary", None, LOOKBACK)
        two = cw.add_event(event("Onsite", NOW + timedelta(hours=2)))
        cw.expire_tokens()

        result = cw.source.sync("primary", first.next_sync_token, LOOKBACK)

        assert result.full is True
        assert ids(result.items) >= {one, two}
        assert result.next_sync_token != first.next_sync_token
        after = cw.source.sync("primary", result.next_sync_token, LOOKBACK)
        assert after.full is False and after.items == []

    def test_tokens_are_per_calendar(self, calendar_world: CalendarWorld) -> None:
        cw = calendar_world
        cw.control.add_calendar("team@group.calendar.google.com", "Team")
        cw.add_event(event("Team sync", NOW + timedelta(hours=1)), "primary")
        theirs = cw.add_event(
            event("Panel interview", NOW + timedelta(hours=2)), "team@group.calendar.google.com"
        )
        result = cw.source.sync("team@group.calendar.google.com", None, LOOKBACK)
        assert ids(result.items) == {theirs}
        assert {item.calendar_id for item in result.items} == {"team@group.calendar.google.com"}

    def test_get_event(self, calendar_world: CalendarWorld) -> None:
        cw = calendar_world
        created = cw.add_event(event("Interview", NOW + timedelta(hours=1)))
        got = cw.source.get_event("primary", created)
        assert got is not None and got.summary == "Interview"
        assert cw.source.get_event("primary", "nosuchevent0123") is None
        cw.control.cancel_event("primary", created)
        after = cw.source.get_event("primary", created)
        assert after is not None and after.status == "cancelled"

    def test_unknown_calendar_is_not_found(self, calendar_world: CalendarWorld) -> None:
        with pytest.raises(ApiNotFound):
            calendar_world.source.sync("nobody@group.calendar.google.com", None, LOOKBACK)

    def test_naive_time_min_is_refused(self, calendar_world: CalendarWorld) -> None:
        with pytest.raises(ValueError, match="timezone"):
            calendar_world.source.sync("primary", None, datetime(2026, 1, 1))

    def test_list_calendars_and_selected(self, calendar_world: CalendarWorld) -> None:
        cw = calendar_world
        cw.control.add_calendar("team@group.calendar.google.com", "Team", selected=True)
        cw.control.add_calendar("holidays@group.calendar.google.com", "Holidays", selected=False)

        calendars = {c.id: c for c in cw.source.list_calendars()}

        primary = [c for c in calendars.values() if c.primary]
        assert len(primary) == 1
        assert calendars["team@group.calendar.google.com"].summary == "Team"
        assert calendars["team@group.calendar.google.com"].selected is True
        assert calendars["holidays@group.calendar.google.com"].selected is False
        assert all(c.time_zone for c in calendars.values())

        expected = ["primary", "team@group.calendar.google.com"]
        if primary[0].selected:
            assert resolve_calendars(cw.source, ["selected"]) == expected
        assert resolve_calendars(cw.source, ["primary", "selected"]) == expected
        assert resolve_calendars(cw.source, ["selected", "x@group.calendar.google.com"]) == [
            *expected,
            "x@group.calendar.google.com",
        ]

    def test_resolve_without_selected_lists_nothing(self, calendar_world: CalendarWorld) -> None:
        cw = calendar_world
        before = cw.counts().get("calendar.calendarList.list", 0)
        assert resolve_calendars(cw.source, ["primary", "a@b.c", "primary"]) == ["primary", "a@b.c"]
        assert cw.counts().get("calendar.calendarList.list", 0) == before
