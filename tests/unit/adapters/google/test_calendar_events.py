"""adapters.google.calendar_events: Calendar v3 JSON -> Event, never raising on junk."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.paths import EVENT_FIXTURES

from followupd.adapters.google.calendar_events import (
    attendee_kind,
    event_from_api,
    normalize_email,
    parse_rfc3339,
)
from followupd.core.model import AttendeeKind, Event, EventKind

FIXTURES = EVENT_FIXTURES


def fixture_names() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.json"))


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


# --------------------------------------------------------------------------- parse_rfc3339


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-06-12T15:00:00Z", datetime(2024, 6, 12, 15, tzinfo=UTC)),
        ("2024-06-12t15:00:00z", datetime(2024, 6, 12, 15, tzinfo=UTC)),
        ("2024-06-12T15:00:00+02:00", datetime(2024, 6, 12, 13, tzinfo=UTC)),
        ("2024-06-12T15:00:00-0730", datetime(2024, 6, 12, 22, 30, tzinfo=UTC)),
        ("2024-06-12T15:00:00.123456789Z", datetime(2024, 6, 12, 15, 0, 0, 123456, tzinfo=UTC)),
        ("2024-06-12T15:00Z", datetime(2024, 6, 12, 15, tzinfo=UTC)),
        ("2016-12-31T23:59:60Z", datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("  2024-06-12T15:00:00Z  ", datetime(2024, 6, 12, 15, tzinfo=UTC)),
    ],
)
def test_parse_rfc3339_valid(text: str, expected: datetime) -> None:
    parsed = parse_rfc3339(text)
    assert parsed is not None
    assert parsed.tzinfo is not None
    assert parsed == expected


def test_parse_rfc3339_keeps_offset() -> None:
    parsed = parse_rfc3339("2024-06-12T15:00:00+02:00")
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(hours=2)
    assert parsed.hour == 15


def test_parse_rfc3339_without_offset_uses_default_zone_else_utc() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    parsed = parse_rfc3339("2024-06-12T15:00:00", berlin)
    assert parsed is not None and parsed.tzinfo is berlin
    assert parsed.utcoffset() == timedelta(hours=2)
    parsed = parse_rfc3339("2024-06-12T15:00:00")
    assert parsed == datetime(2024, 6, 12, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "junk",
    [
        None,
        42,
        1.5,
        True,
        [],
        {},
        "",
        "tomorrow",
        "2024-06-12",
        "2024-13-01T00:00:00Z",
        "2024-02-30T00:00:00Z",
        "2024-06-12T25:00:00Z",
        "2024-06-12T15:00:00+24:00",
        "2024-06-12T15:00:00+02:60",
        "0000-01-01T00:00:00Z",
        "2024-06-12T15:00:00Z trailing",
        "2024-06-12T15:00:00Z" + "0" * 100,
        "２０２４-06-12T15:00:00Z",  # fullwidth digits are not RFC 3339
    ],
)
def test_parse_rfc3339_junk_is_none(junk: object) -> None:
    assert parse_rfc3339(junk) is None


def test_normalize_email() -> None:
    assert normalize_email("  Jane.Doe@ACME.com ") == "jane.doe@acme.com"
    assert normalize_email("mailto:Bob@X.org") == "bob@x.org"
    assert normalize_email(None) == ""
    assert normalize_email(["a@b.c"]) == ""


# --------------------------------------------------------------------------- event_from_api


def test_full_event() -> None:
    data = load("meet_recruiter")
    event = event_from_api("primary", data)
    assert event.calendar_id == "primary"
    assert event.id == data["id"]
    assert event.status == "confirmed"
    assert event.summary == "Acme - Phone Screen with Jane"
    assert event.start == datetime(2024, 6, 12, 13, tzinfo=UTC)
    assert event.end == datetime(2024, 6, 12, 13, 30, tzinfo=UTC)
    assert event.start is not None and event.start.tzinfo == ZoneInfo("Europe/Berlin")
    assert not event.all_day
    assert event.kind is EventKind.MEETING and event.kind_label == "default"
    assert event.organizer_email == "jane.doe@acme.com"
    assert event.organizer_name == "Jane Doe"
    assert not event.organizer_self
    assert event.conference_url == "https://meet.google.com/abc-defg-hij"
    assert event.html_link.startswith("https://www.google.com/calendar/event?eid=")
    assert [a.email for a in event.attendees] == ["jane.doe@acme.com", "ada.lovelace@gmail.com"]
    jane, me = event.attendees
    assert jane.is_organizer and jane.response == "accepted" and jane.name == "Jane Doe"
    assert me.is_self and not me.is_organizer


def test_datetime_without_offset_takes_time_zone() -> None:
    event = event_from_api("primary", load("zoom_invite"))
    la = ZoneInfo("America/Los_Angeles")
    assert event.start == datetime(2024, 6, 13, 10, tzinfo=la)
    assert event.start is not None and event.start.utcoffset() == timedelta(hours=-7)
    assert event.end == datetime(2024, 6, 13, 11, tzinfo=la)


def test_bad_zone_means_utc() -> None:
    for zone in ("Mars/Olympus_Mons", "../../etc/passwd", "", 7, None, "x" * 500, "UTC\x00"):
        event = event_from_api(
            "c", {"start": {"dateTime": "2024-06-13T10:00:00", "timeZone": zone}}
        )
        assert event.start == datetime(2024, 6, 13, 10, tzinfo=UTC), zone


def test_offset_and_zone_convert_to_the_zone() -> None:
    event = event_from_api(
        "c",
        {
            "start": {"dateTime": "2024-06-13T17:00:00Z", "timeZone": "Asia/Tokyo"},
            "end": {"dateTime": "2024-06-13T18:00:00+00:00", "timeZone": "Nope/Nope"},
        },
    )
    assert event.start is not None and event.start.hour == 2  # 17:00Z is 02:00 in Tokyo
    assert event.start == datetime(2024, 6, 13, 17, tzinfo=UTC)
    assert event.end == datetime(2024, 6, 13, 18, tzinfo=UTC)


def test_all_day() -> None:
    event = event_from_api("primary", load("all_day"))
    assert event.all_day
    assert event.start is None and event.end is None


def test_date_only_end_with_junk_start_is_all_day() -> None:
    event = event_from_api("c", {"start": {"date": "junk"}, "end": {"date": "2024-06-21"}})
    assert event.all_day and event.start is None


def test_cancelled_stub() -> None:
    data = {"id": "abc_20240619T160000Z", "status": "cancelled", "recurringEventId": "abc"}
    event = event_from_api("work", data)
    assert event == Event(
        calendar_id="work", id="abc_20240619T160000Z", status="cancelled", recurring_event_id="abc"
    )
    assert event.cancelled


def test_emails_lowered_and_stripped() -> None:
    event = event_from_api("primary", load("zoom_invite"))
    assert "lisa.simpson@globex.com" in [a.email for a in event.attendees]


def test_wrong_types_fall_back_to_defaults() -> None:
    data: dict[str, Any] = {
        "id": 12345,
        "status": "exploded",
        "summary": ["not", "a", "string"],
        "description": {"html": True},
        "location": 3.14,
        "start": "2024-06-12T15:00:00Z",
        "end": {"dateTime": 1718200000},
        "eventType": None,
        "attendees": [
            "jane@acme.com",
            None,
            {"email": 5, "displayName": 7, "responseStatus": "maybe", "self": "true"},
            {"email": "  X@Y.Z ", "resource": 1, "optional": "yes", "organizer": True},
        ],
        "attendeesOmitted": "true",
        "organizer": "jane@acme.com",
        "recurringEventId": 99,
        "htmlLink": None,
        "hangoutLink": "javascript:alert(1)",
        "conferenceData": {"entryPoints": [{"entryPointType": "video", "uri": "tel:+1555"}]},
    }
    event = event_from_api("primary", data)
    assert event.id == "12345"
    assert event.status == "confirmed"
    assert event.summary == "" and event.description == "" and event.location == ""
    assert event.start is None and event.end is None and not event.all_day
    assert event.kind is EventKind.MEETING and event.kind_label == ""
    assert len(event.attendees) == 2
    odd, xyz = event.attendees
    assert odd.email == "" and odd.name == "" and odd.response == "needsAction"
    assert not odd.is_self
    assert (
        xyz.email == "x@y.z"
        and xyz.kind is AttendeeKind.PERSON
        and not xyz.optional
        and xyz.is_organizer
    )
    assert not event.attendees_omitted
    assert event.organizer_email == ""
    assert event.recurring_event_id is None
    assert event.conference_url == ""


def test_non_mapping_input() -> None:
    junk: object
    for junk in (None, [], "event", 3):
        event = event_from_api("primary", junk)  # type: ignore[arg-type]
        assert event.id == "" and event.start is None
    assert event_from_api(None, {}).calendar_id == ""  # type: ignore[arg-type]


def test_conference_url_from_entry_points() -> None:
    data = {
        "conferenceData": {
            "entryPoints": [
                {"entryPointType": "phone", "uri": "tel:+1-555-0100"},
                {"entryPointType": "video", "uri": "https://evil.example/\r\nx"},
                {
                    "entryPointType": "video",
                    "uri": " https://teams.microsoft.com/l/meetup-join/19 ",
                },
            ]
        }
    }
    assert event_from_api("c", data).conference_url == (
        "https://teams.microsoft.com/l/meetup-join/19"
    )


def test_recurring_instance_and_omitted_attendees() -> None:
    event = event_from_api("primary", load("recurring_instance"))
    assert event.recurring_event_id == "7hq2m3n4o5p6q7r8s9t0u1v2w3"
    omitted = event_from_api("primary", load("attendees_omitted"))
    assert omitted.attendees_omitted
    assert omitted.organizer_name == "Miles Dyson"


@pytest.mark.parametrize(
    ("name", "kind", "label"),
    [
        ("out_of_office", EventKind.OUT_OF_OFFICE, "outOfOffice"),
        ("focus_time", EventKind.FOCUS_TIME, "focusTime"),
        ("working_location", EventKind.WORKING_LOCATION, "workingLocation"),
        ("birthday", EventKind.BIRTHDAY, "birthday"),
    ],
)
def test_event_types_become_kinds_and_keep_their_label(
    name: str, kind: EventKind, label: str
) -> None:
    event = event_from_api("p", load(name))
    assert event.kind is kind and event.kind_label == label


@pytest.mark.parametrize(
    ("event_type", "kind"),
    [
        ("fromGmail", EventKind.FROM_EMAIL),
        ("default", EventKind.MEETING),
        ("  default ", EventKind.MEETING),
        ("", EventKind.MEETING),
        ("somethingNew", EventKind.OTHER),
        ("x\r\nInjected: 1", EventKind.OTHER),
    ],
)
def test_unknown_event_types_are_other(event_type: str, kind: EventKind) -> None:
    assert event_from_api("p", {"eventType": event_type}).kind is kind


@pytest.mark.parametrize(
    ("email", "resource", "kind"),
    [
        ("room@acme.com", True, AttendeeKind.RESOURCE),
        ("c_123@resource.calendar.google.com", False, AttendeeKind.RESOURCE),
        ("team@group.calendar.google.com", False, AttendeeKind.GROUP),
        ("x@import.calendar.google.com", False, AttendeeKind.GROUP),
        ("x@calendar.google.com", False, AttendeeKind.GROUP),
        ("eng@googlegroups.com", False, AttendeeKind.GROUP),
        ("jane@acme.com", False, AttendeeKind.PERSON),
        ("jane@notcalendar.google.com", False, AttendeeKind.PERSON),
        ("jane@google.com", False, AttendeeKind.PERSON),
    ],
)
def test_attendee_kind_from_google_signs(email: str, resource: bool, kind: AttendeeKind) -> None:
    assert attendee_kind(email, resource=resource) is kind
    data = {"attendees": [{"email": email, "resource": resource}], "organizer": {"email": email}}
    event = event_from_api("p", data)
    assert event.attendees[0].kind is kind
    # Google gives an organizer no resource flag: the address alone decides.
    assert event.organizer_kind is attendee_kind(email, resource=False)


@pytest.mark.parametrize("name", fixture_names())
def test_every_fixture_parses(name: str) -> None:
    data = load(name)
    event = event_from_api("primary", data)
    assert event.id == data["id"]
    expect = data["_expect"]
    if "start" in expect:
        assert event.start == datetime.fromisoformat(expect["start"])
        assert event.end == datetime.fromisoformat(expect["end"])
    if "all_day" in expect:
        assert event.all_day is expect["all_day"]
    if "recurring_event_id" in expect:
        assert event.recurring_event_id == expect["recurring_event_id"]
    if "conference_url" in expect:
        assert event.conference_url == expect["conference_url"]
    for stamp in (event.start, event.end):
        assert stamp is None or stamp.tzinfo is not None


# --------------------------------------------------------------------------- properties

KEYS = [
    "id", "status", "summary", "description", "location", "start", "end", "dateTime", "date",
    "timeZone", "eventType", "attendees", "attendeesOmitted", "organizer", "email",
    "displayName", "self", "resource", "optional", "responseStatus", "recurringEventId",
    "htmlLink", "hangoutLink", "conferenceData", "entryPoints", "entryPointType", "uri",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        [
            "2024-06-12T15:00:00Z",
            "2024-06-12T15:00:00",
            "2024-06-12T15:00:00+14:59",
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+23:59",
            "2024-06-12",
            "Europe/Berlin",
            "Pacific/Kiritimati",
            "cancelled",
            "video",
            "accepted",
            "declined",
            "https://meet.google.com/x",
        ]
    ),
)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner, max_size=6),
    ),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), JSONISH, max_size=10))
def test_event_from_api_never_raises(data: dict[str, Any]) -> None:
    event = event_from_api("primary", data)
    assert isinstance(event, Event)
    for stamp in (event.start, event.end):
        assert stamp is None or stamp.tzinfo is not None
    if event.all_day:
        assert event.start is None and event.end is None
    for att in event.attendees:
        assert att.email == att.email.strip().lower()
    assert event.conference_url == "" or event.conference_url.startswith(("http://", "https://"))


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
    ),
    st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59),
)
def test_parse_rfc3339_round_trip(moment: datetime, offset_minutes: int) -> None:
    zone = timezone(timedelta(minutes=offset_minutes))
    try:
        local = moment.astimezone(zone)
    except OverflowError:
        return
    assert parse_rfc3339(local.isoformat()) == moment
