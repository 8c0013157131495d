"""Calendar v3 against the sandbox with the real google-api-python-client."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from googleapiclient.errors import HttpError
from support.sandbox_clients import Login, calendar

from followupd.sandbox import Sandbox

UTC = dt.UTC


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _error(exc: HttpError) -> dict[str, Any]:
    return dict(json.loads(exc.content)["error"])


def _all_pages(request_factory: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(items, responses) across every page."""
    items: list[dict[str, Any]] = []
    responses: list[dict[str, Any]] = []
    token = None
    while True:
        resp = request_factory(token).execute()
        responses.append(resp)
        items.extend(resp.get("items", []))
        token = resp.get("nextPageToken")
        if not token:
            return items, responses


def test_calendar_list_filters(sb: Sandbox, login: Login) -> None:
    sb.add_calendar("team@group.calendar.google.com", "Team", selected=False, access_role="reader")
    sb.add_calendar("hidden@group.calendar.google.com", "Hidden", hidden=True, access_role="writer")
    sb.add_calendar("work@example.com", "Work", access_role="writer", time_zone="Europe/Berlin")
    service = calendar(sb, login(sb))
    items = service.calendarList().list().execute()["items"]
    assert [c["id"] for c in items] == [
        "candidate@example.com",
        "team@group.calendar.google.com",
        "work@example.com",
    ]
    team = items[1]
    assert team["accessRole"] == "reader" and "selected" not in team and "primary" not in team
    assert items[2]["timeZone"] == "Europe/Berlin" and items[2]["selected"] is True
    writable = service.calendarList().list(minAccessRole="writer", showHidden=True).execute()
    assert [c["id"] for c in writable["items"]] == [
        "candidate@example.com",
        "hidden@group.calendar.google.com",
        "work@example.com",
    ]
    paged = service.calendarList().list(maxResults=2).execute()
    assert len(paged["items"]) == 2 and "nextPageToken" in paged and "nextSyncToken" not in paged


def test_relative_times_in_seed() -> None:
    seed = {
        "user": {"email": "ada@example.org", "name": "Ada"},
        "calendars": [{"id": "primary", "summary": "Ada", "timeZone": "Europe/Berlin"}],
        "events": [
            {"id": "past1", "summary": "Interview", "startIn": "-40m", "duration": "45m"},
            {
                "id": "berlin1",
                "summary": "Onsite",
                "startIn": "2h",
                "duration": "1h30m",
                "timeZone": "Europe/Berlin",
            },
            {"id": "allday1", "summary": "Holiday", "startIn": "1d", "allDay": True},
        ],
    }
    with Sandbox(seed) as sb:
        assert sb.user_email == "ada@example.org"
        start = sb.started_at
        ev = sb.get_event("primary", "past1")
        assert ev["start"]["dateTime"].endswith("Z")
        assert abs(
            _parse(ev["start"]["dateTime"]) - (start - dt.timedelta(minutes=40))
        ) < dt.timedelta(seconds=2)
        assert _parse(ev["end"]["dateTime"]) - _parse(ev["start"]["dateTime"]) == dt.timedelta(
            minutes=45
        )
        assert ev["organizer"] == {"email": "ada@example.org", "displayName": "Ada", "self": True}
        assert ev["status"] == "confirmed" and ev["iCalUID"] == "past1@google.com"
        assert ev["eventType"] == "default" and ev["sequence"] == 0 and ev["etag"].startswith('"')
        berlin = sb.get_event("primary", "berlin1")
        assert berlin["start"]["timeZone"] == "Europe/Berlin"
        assert berlin["start"]["dateTime"][-6:] in ("+01:00", "+02:00")
        allday = sb.get_event("primary", "allday1")
        assert set(allday["start"]) == {"date"}
        assert dt.date.fromisoformat(allday["end"]["date"]) - dt.date.fromisoformat(
            allday["start"]["date"]
        ) == dt.timedelta(days=1)


def test_events_list_paging_and_incremental_sync(sb: Sandbox, login: Login) -> None:
    for i in range(7):
        sb.add_event(
            {"id": f"ev{i}x", "summary": f"Event {i}", "startIn": f"{i}h", "duration": "30m"}
        )
    service = calendar(sb, login(sb))
    events = service.events()

    items, pages = _all_pages(
        lambda tok: events.list(calendarId="primary", maxResults=3, pageToken=tok)
    )
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    assert all("nextSyncToken" not in p for p in pages[:-1])
    sync = pages[-1]["nextSyncToken"]
    assert sorted(i["id"] for i in items) == [f"ev{i}x" for i in range(7)]
    assert pages[0]["kind"] == "calendar#events" and pages[0]["timeZone"] == "UTC"

    # nothing changed: empty incremental result with a fresh token
    resp = events.list(calendarId="primary", syncToken=sync).execute()
    assert resp["items"] == [] and resp["nextSyncToken"]
    sync = resp["nextSyncToken"]

    # sync tokens cannot be combined with a time window
    with pytest.raises(HttpError) as info:
        events.list(calendarId="primary", syncToken=sync, timeMin="2020-01-01T00:00:00Z").execute()
    assert info.value.status_code == 400

    sb.update_event("primary", "ev1x", {"startIn": "30h", "duration": "1h"})
    sb.cancel_event("primary", "ev2x")
    sb.delete_event("primary", "ev3x")
    sb.add_event({"id": "newone", "summary": "Phone screen", "startIn": "3d", "duration": "30m"})
    resp = events.list(calendarId="primary", syncToken=sync).execute()
    by_id = {i["id"]: i for i in resp["items"]}
    assert set(by_id) == {"ev1x", "ev2x", "ev3x", "newone"}
    assert by_id["ev1x"]["sequence"] == 1 and by_id["ev1x"]["status"] == "confirmed"
    assert by_id["ev2x"] == {
        "kind": "calendar#event",
        "etag": by_id["ev2x"]["etag"],
        "id": "ev2x",
        "status": "cancelled",
    }
    assert by_id["ev3x"]["status"] == "cancelled" and "summary" not in by_id["ev3x"]
    sync = resp["nextSyncToken"]

    # a full list hides cancelled events unless showDeleted
    full = events.list(calendarId="primary").execute()
    assert {"ev2x", "ev3x"}.isdisjoint(i["id"] for i in full["items"])
    shown = events.list(calendarId="primary", showDeleted=True).execute()
    assert {"ev2x", "ev3x"} <= {i["id"] for i in shown["items"]}

    # events.get still answers for a cancelled event; unknown ids are 404
    got = events.get(calendarId="primary", eventId="ev2x").execute()
    assert got["status"] == "cancelled" and got["summary"] == "Event 2"
    with pytest.raises(HttpError) as info:
        events.get(calendarId="primary", eventId="nosuchevent").execute()
    assert info.value.status_code == 404 and _error(info.value)["errors"][0]["reason"] == "notFound"

    # invalidated or garbled tokens: 410 fullSyncRequired
    sb.invalidate_sync_tokens()
    for token in (sync, "garbage"):
        with pytest.raises(HttpError) as info:
            events.list(calendarId="primary", syncToken=token).execute()
        assert info.value.status_code == 410
        assert _error(info.value)["errors"][0]["reason"] == "fullSyncRequired"
    assert sb.counts()["calendar.events.list"] == 10  # 3 pages, 2 syncs, 1 bad, 2 full, 2 gone


def test_incremental_sync_paging_keeps_the_snapshot(sb: Sandbox, login: Login) -> None:
    for i in range(4):
        sb.add_event({"id": f"base{i}", "startIn": f"{i}h", "duration": "1h"})
    events = calendar(sb, login(sb)).events()
    sync = events.list(calendarId="primary").execute()["nextSyncToken"]
    for i in range(5):
        sb.update_event("primary", f"base{i % 4}", {"summary": f"v{i}"})
    first = events.list(calendarId="primary", syncToken=sync, maxResults=2).execute()
    assert len(first["items"]) == 2 and "nextSyncToken" not in first
    # a change between pages must not be lost: it comes with the next sync
    sb.add_event({"id": "late1", "startIn": "5h", "duration": "1h"})
    second = events.list(
        calendarId="primary", syncToken=sync, maxResults=2, pageToken=first["nextPageToken"]
    ).execute()
    ids = [i["id"] for i in first["items"] + second["items"]]
    assert sorted(ids) == ["base0", "base1", "base2", "base3"]
    nxt = events.list(calendarId="primary", syncToken=second["nextSyncToken"]).execute()
    assert [i["id"] for i in nxt["items"]] == ["late1"]


def test_time_window_type_filter_and_order(sb: Sandbox, login: Login) -> None:
    sb.add_event({"id": "a1111", "summary": "Late", "startIn": "5h", "duration": "1h"})
    sb.add_event({"id": "b1111", "summary": "Early", "startIn": "1h", "duration": "1h"})
    sb.add_event(
        {
            "id": "c1111",
            "summary": "Focus",
            "startIn": "2h",
            "duration": "1h",
            "eventType": "focusTime",
        }
    )
    sb.add_event({"id": "d1111", "summary": "Past", "startIn": "-3h", "duration": "1h"})
    events = calendar(sb, login(sb)).events()
    now = dt.datetime.now(UTC)
    resp = events.list(
        calendarId="primary",
        timeMin=now.isoformat(),
        timeMax=(now + dt.timedelta(hours=4)).isoformat(),
        singleEvents=True,
        orderBy="startTime",
    ).execute()
    assert [i["id"] for i in resp["items"]] == ["b1111", "c1111"]
    resp = events.list(
        calendarId="primary", eventTypes=["default"], singleEvents=True, orderBy="startTime"
    ).execute()
    assert [i["id"] for i in resp["items"]] == ["d1111", "b1111", "a1111"]
    with pytest.raises(HttpError) as info:
        events.list(calendarId="primary", orderBy="startTime").execute()  # needs singleEvents
    assert info.value.status_code == 400
    with pytest.raises(HttpError) as info:
        events.list(
            calendarId="primary", timeMin=now.isoformat(), timeMax=now.isoformat()
        ).execute()
    assert info.value.status_code == 400
    assert _error(info.value)["errors"][0]["reason"] == "timeRangeEmpty"


def test_recurring_events_expand_across_dst(sb: Sandbox, login: Login) -> None:
    sb.add_calendar("primary", "Casey", time_zone="Europe/Berlin")
    sb.add_event(
        {
            "id": "weekly1",
            "summary": "Weekly sync",
            "start": {"dateTime": "2025-03-17T10:00:00+01:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2025-03-17T10:30:00+01:00", "timeZone": "Europe/Berlin"},
            "recurrence": [
                "RRULE:FREQ=WEEKLY;COUNT=4",
                "EXDATE;TZID=Europe/Berlin:20250324T100000",
            ],
        }
    )
    events = calendar(sb, login(sb)).events()
    window = {"timeMin": "2025-03-01T00:00:00Z", "timeMax": "2025-05-01T00:00:00Z"}
    resp = events.list(
        calendarId="primary", singleEvents=True, orderBy="startTime", **window
    ).execute()
    items = resp["items"]
    # 4 occurrences minus the EXDATE; Berlin goes to summer time on 2025-03-30
    assert [i["id"] for i in items] == [
        "weekly1_20250317T090000Z",
        "weekly1_20250331T080000Z",
        "weekly1_20250407T080000Z",
    ]
    assert [i["start"]["dateTime"] for i in items] == [
        "2025-03-17T10:00:00+01:00",
        "2025-03-31T10:00:00+02:00",
        "2025-04-07T10:00:00+02:00",
    ]
    assert all(i["recurringEventId"] == "weekly1" and "recurrence" not in i for i in items)
    # dateTime values come in the response's time zone (the calendar's, or `timeZone`)
    in_utc = events.list(
        calendarId="primary", singleEvents=True, timeZone="UTC", **window
    ).execute()
    assert in_utc["timeZone"] == "UTC"
    assert in_utc["items"][0]["start"] == {
        "dateTime": "2025-03-17T09:00:00Z",
        "timeZone": "Europe/Berlin",
    }
    assert items[1]["originalStartTime"] == {
        "dateTime": "2025-03-31T10:00:00+02:00",
        "timeZone": "Europe/Berlin",
    }
    assert items[1]["end"]["dateTime"] == "2025-03-31T10:30:00+02:00"
    # without singleEvents: the series itself
    series = events.list(calendarId="primary", **window).execute()["items"]
    assert [i["id"] for i in series] == ["weekly1"] and series[0]["recurrence"]

    sync = resp["nextSyncToken"]
    # one instance is moved, another cancelled: exceptions with their own ids
    sb.update_event(
        "primary",
        "weekly1_20250331T080000Z",
        {
            "start": {"dateTime": "2025-03-31T14:00:00+02:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2025-03-31T14:30:00+02:00", "timeZone": "Europe/Berlin"},
        },
    )
    sb.cancel_event("primary", "weekly1_20250407T080000Z")
    changes = events.list(calendarId="primary", syncToken=sync, singleEvents=True).execute()[
        "items"
    ]
    by_id = {i["id"]: i for i in changes}
    assert by_id["weekly1_20250407T080000Z"] == {
        "kind": "calendar#event",
        "etag": by_id["weekly1_20250407T080000Z"]["etag"],
        "id": "weekly1_20250407T080000Z",
        "status": "cancelled",
        "recurringEventId": "weekly1",
        "originalStartTime": {"dateTime": "2025-04-07T10:00:00+02:00", "timeZone": "Europe/Berlin"},
    }
    assert by_id["weekly1_20250331T080000Z"]["start"]["dateTime"] == "2025-03-31T14:00:00+02:00"
    again = events.list(calendarId="primary", singleEvents=True, **window).execute()["items"]
    assert [i["start"]["dateTime"] for i in sorted(again, key=lambda i: i["id"])] == [
        "2025-03-17T10:00:00+01:00",
        "2025-03-31T14:00:00+02:00",
    ]
    # an instance reads through events.get
    got = events.get(calendarId="primary", eventId="weekly1_20250317T090000Z").execute()
    assert got["recurringEventId"] == "weekly1"


def test_all_day_and_attendees(sb: Sandbox, login: Login) -> None:
    sb.add_event(
        {
            "id": "panel1",
            "summary": "Onsite interview",
            "start": {"dateTime": "2030-05-02T09:00:00-07:00"},
            "end": {"dateTime": "2030-05-02T12:00:00-07:00"},
            "attendees": [
                {"email": "candidate@example.com", "responseStatus": "accepted"},
                {"email": "lee@acme.example", "displayName": "Lee", "organizer": True},
                {"email": "room@resource.calendar.google.com", "resource": True},
            ],
            "organizer": {"email": "lee@acme.example", "displayName": "Lee"},
            "description": "Bring a laptop #followup",
            "hangoutLink": "https://meet.google.com/abc-defg-hij",
        }
    )
    sb.add_event(
        {
            "id": "bday1",
            "summary": "Birthday",
            "eventType": "birthday",
            "start": {"date": "2030-05-03"},
            "end": {"date": "2030-05-04"},
            "recurrence": ["RRULE:FREQ=YEARLY"],
        }
    )
    events = calendar(sb, login(sb)).events()
    got = events.get(calendarId="primary", eventId="panel1").execute()
    me = [a for a in got["attendees"] if a.get("self")]
    assert me == [{"email": "candidate@example.com", "responseStatus": "accepted", "self": True}]
    assert got["organizer"] == {"email": "lee@acme.example", "displayName": "Lee"}
    assert got["hangoutLink"].startswith("https://meet.google.com/")
    short = events.get(calendarId="primary", eventId="panel1", maxAttendees=1).execute()
    assert short["attendeesOmitted"] is True and len(short["attendees"]) == 1
    resp = events.list(
        calendarId="primary",
        singleEvents=True,
        timeMin="2030-01-01T00:00:00Z",
        timeMax="2032-01-01T00:00:00Z",
        eventTypes=["birthday"],
    ).execute()
    assert [i["id"] for i in resp["items"]] == ["bday1_20300503", "bday1_20310503"]
    assert resp["items"][0]["start"] == {"date": "2030-05-03"}
    assert resp["items"][0]["end"] == {"date": "2030-05-04"}


def test_request_validation_against_discovery(sb: Sandbox, login: Login) -> None:
    events = calendar(sb, login(sb)).events()
    req = events.list(calendarId="primary")
    req.uri += "&bogusParam=1"
    with pytest.raises(HttpError) as info:
        req.execute()
    assert info.value.status_code == 400
    assert "bogusParam" in _error(info.value)["message"]
    req = events.list(calendarId="primary")
    req.uri += "&maxResults=many"
    with pytest.raises(HttpError) as info:
        req.execute()
    assert info.value.status_code == 400
    req = events.list(calendarId="primary")
    req.uri += "&singleEvents=yes"
    with pytest.raises(HttpError) as info:
        req.execute()
    assert info.value.status_code == 400
    req = events.list(calendarId="primary")
    req.uri = req.uri.replace("/events?", "/evnts?")
    with pytest.raises(HttpError) as info:
        req.execute()
    assert info.value.status_code == 404
    with pytest.raises(HttpError) as info:
        events.list(calendarId="nobody@example.com").execute()
    assert info.value.status_code == 404
    # `fields` (partial responses) is honoured
    sb.add_event({"id": "f1111", "summary": "S", "startIn": "1h", "duration": "1h"})
    resp = events.list(calendarId="primary", fields="items(id,status),nextSyncToken").execute()
    assert resp["items"] == [{"id": "f1111", "status": "confirmed"}]
    assert set(resp) == {"items", "nextSyncToken"}
    assert sb.counts()["calendar.events.list"] == 5  # the unknown path matched no method


def test_demo_seed_loads(login: Login) -> None:
    from importlib.resources import files

    seed = json.loads(files("followupd.sandbox").joinpath("demo_seed.json").read_text("utf-8"))
    with Sandbox(seed) as demo:
        service = calendar(demo, login(demo))
        ids = [c["id"] for c in service.calendarList().list().execute()["items"]]
        assert ids[0] == "ada@example.org" and len(ids) == 3
        now = dt.datetime.now(UTC)
        items = (
            service.events()
            .list(
                calendarId="primary",
                singleEvents=True,
                orderBy="startTime",
                timeMin=(now - dt.timedelta(days=1)).isoformat(),
                timeMax=(now + dt.timedelta(days=8)).isoformat(),
            )
            .execute()["items"]
        )
        assert "demointerview1" in [i["id"] for i in items]
        assert any(i.get("recurringEventId") == "demoweekly1" for i in items)
