"""core.detect: interview or not, recipients, names, company, role, kind."""

from __future__ import annotations

import json
import re
import time
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.paths import EVENT_FIXTURES

from followupd.adapters.google.calendar_events import event_from_api
from followupd.core.detect import (
    company_from_domain,
    detect,
    fold,
    match_rule,
    name_from_address,
)
from followupd.core.model import Attendee, AttendeeKind, Detection, Event, EventKind
from followupd.core.settings import DetectSettings

FIXTURES = EVENT_FIXTURES
USER = "ada.lovelace@gmail.com"
RULES = DetectSettings()
START = datetime(2024, 6, 12, 13, tzinfo=UTC)
BAD_NAME_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069<>\"{}]")


def fixture_names() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.json"))


def run_fixture(name: str) -> tuple[Detection, dict[str, Any]]:
    data = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    rules = DetectSettings(**data.get("_rules", {}))
    event = event_from_api("primary", data)
    return detect(event, rules, data.get("_user", USER)), data["_expect"]


def make_event(
    summary: str = "Interview with Acme",
    attendees: tuple[Attendee, ...] | None = None,
    **kw: Any,
) -> Event:
    if attendees is None:
        attendees = (
            Attendee("jane.doe@acme.com", "Jane Doe", "accepted", is_organizer=True),
            Attendee(USER, "", "accepted", is_self=True),
        )
    fields: dict[str, Any] = {
        "calendar_id": "primary",
        "id": "ev1",
        "summary": summary,
        "start": START,
        "end": START + timedelta(hours=1),
        "attendees": attendees,
        "organizer_email": "jane.doe@acme.com",
    }
    fields.update(kw)
    return Event(**fields)


# --------------------------------------------------------------------------- fixtures


@pytest.mark.parametrize("name", fixture_names())
def test_fixture(name: str) -> None:
    det, expect = run_fixture(name)
    assert det.is_interview is expect["is_interview"], det.reason
    if "reason_contains" in expect:
        assert expect["reason_contains"] in det.reason
    if not expect["is_interview"]:
        assert det.recipients == ()
        return
    assert [p.email for p in det.recipients] == expect["recipients"]
    assert [p.name for p in det.recipients] == expect["names"]
    if "first_names" in expect:
        assert [p.first_name for p in det.recipients] == expect["first_names"]
    if "interviewers" in expect:
        assert [p.name for p in det.interviewers] == expect["interviewers"]
    assert det.company == expect["company"]
    assert det.role == expect["role"]
    assert det.kind == expect["kind"]


RULE = r"'[^'\r\n]{1,40}'"
REASON = re.compile(
    r"event cancelled|event type [A-Za-z]{1,30} is never an interview|all-day event"
    r"|no start or end time|event ends before it starts|you declined|#nofollowup in description"
    rf"|title matches excluded {RULE}|title matches no include word"
    r"|not accepted \(your response: (?:needsAction|unknown)\)"
    rf"|title matches {RULE}; no external attendee"
    rf"|(?:title matches {RULE}|#followup in description)"
    r"; (?:\d+ external attendees?|no recipient with an email|no recipients)"
    r"(?:; attendee list incomplete)?"
)


def assert_reason_shape(reason: str) -> None:
    """A reason is one of a few fixed sentences: no room for event text."""
    assert REASON.fullmatch(reason), reason


@pytest.mark.parametrize("name", fixture_names())
def test_reason_is_a_fixed_sentence(name: str) -> None:
    det, _ = run_fixture(name)
    assert_reason_shape(det.reason)


def test_fixture_set_covers_the_brief() -> None:
    names = set(fixture_names())
    required = {
        "meet_recruiter", "zoom_invite", "greenhouse_scheduler", "goodtime_panel_onsite",
        "recurring_instance", "all_day", "out_of_office", "focus_time", "working_location",
        "birthday", "colleague_only", "mock_interview", "german_umlaut", "user_declined",
        "tentative", "force_followup", "force_nofollowup", "hostile_names", "attendees_omitted",
    }  # fmt: skip
    assert required <= names


def test_greenhouse_interviewer_without_attendee_has_no_email() -> None:
    det, _ = run_fixture("greenhouse_scheduler")
    sam = [p for p in det.interviewers if p.name == "Sam Lee"]
    assert len(sam) == 1 and sam[0].email == "" and sam[0].first_name == "Sam"


def test_panel_onsite_excludes_rooms_scheduler_declined_and_self() -> None:
    det, _ = run_fixture("goodtime_panel_onsite")
    emails = {p.email for p in det.recipients}
    assert "oscar.diaz@umbrella-corp.com" not in emails
    assert "scheduling@umbrella-corp.com" not in emails
    assert USER not in emails
    assert not any("resource.calendar.google.com" in e for e in emails)
    # the declined interviewer is named in the schedule, but matched: not re-added
    assert "Oscar Díaz" not in [p.name for p in det.interviewers]


def test_hostile_fixture_names_are_clean() -> None:
    det, _ = run_fixture("hostile_names")
    for person in det.interviewers:
        assert not BAD_NAME_CHARS.search(person.name), person
        assert not BAD_NAME_CHARS.search(person.email), person
        assert "{{" not in person.name and "{%" not in person.name
    for person in det.recipients:
        assert re.fullmatch(r"[a-z0-9.]+@hostile\.example", person.email)


# --------------------------------------------------------------------------- never


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"status": "cancelled"}, "cancelled"),
        ({"kind": EventKind.OUT_OF_OFFICE, "kind_label": "outOfOffice"}, "event type outOfOffice"),
        ({"kind": EventKind.FOCUS_TIME}, "event type"),
        ({"kind": EventKind.WORKING_LOCATION}, "event type"),
        ({"kind": EventKind.BIRTHDAY}, "event type"),
        ({"kind": EventKind.OTHER, "kind_label": "x\r\nInjected: 1"}, "event type unknown"),
        ({"all_day": True, "start": None, "end": None}, "all-day"),
        ({"start": None}, "no start"),
        ({"end": None}, "no start or end"),
        ({"end": START - timedelta(minutes=1)}, "ends before"),
    ],
)
def test_never(change: dict[str, Any], reason: str) -> None:
    event = make_event(description="#followup", **change)
    det = detect(event, RULES, USER)
    assert not det.is_interview
    assert reason in det.reason
    assert "\n" not in det.reason


def test_from_gmail_counts_like_default() -> None:
    assert detect(make_event(kind=EventKind.FROM_EMAIL), RULES, USER).is_interview
    assert detect(make_event(kind=EventKind.MEETING), RULES, USER).is_interview


def test_baseline_yes() -> None:
    det = detect(make_event(), RULES, USER)
    assert det.is_interview
    assert det.reason == "title matches 'interview'; 1 external attendee"
    assert [(p.email, p.name, p.first_name) for p in det.recipients] == [
        ("jane.doe@acme.com", "Jane Doe", "Jane")
    ]
    assert det.interviewers == det.recipients
    assert det.company == "Acme"


# --------------------------------------------------------------------------- tags


def test_nofollowup_beats_followup_and_title() -> None:
    det = detect(make_event(description="#followup\n#nofollowup"), RULES, USER)
    assert not det.is_interview and "#nofollowup" in det.reason
    det = detect(make_event(description="notes... #NO-FOLLOWUP"), RULES, USER)
    assert not det.is_interview


def test_followup_forces_yes_without_title_or_acceptance() -> None:
    attendees = (
        Attendee("jane.doe@acme.com", "Jane Doe", "accepted"),
        Attendee(USER, "", "needsAction", is_self=True),
    )
    det = detect(make_event("Catch-up", attendees, description="<b>#Follow-Up</b>"), RULES, USER)
    assert det.is_interview and det.reason.startswith("#followup in description")
    assert [p.email for p in det.recipients] == ["jane.doe@acme.com"]


def test_followup_tag_needs_to_stand_alone() -> None:
    for text in ("#followups", "x#followup", "#followup_later", "followup", "# followup"):
        assert not detect(make_event("Catch-up", description=text), RULES, USER).is_interview


def test_followup_does_not_override_declined() -> None:
    attendees = (
        Attendee("jane.doe@acme.com", "Jane Doe", "accepted"),
        Attendee(USER, "", "declined", is_self=True),
    )
    det = detect(make_event(attendees=attendees, description="#followup"), RULES, USER)
    assert not det.is_interview and det.reason == "you declined"


def test_followup_without_recipients() -> None:
    attendees = (Attendee("noreply@greenhouse.io", "", "accepted"),)
    event = make_event("Chat", attendees, description="#followup", organizer_email="")
    det = detect(event, RULES, USER)
    assert det.is_interview and det.recipients == ()
    assert "no recipient with an email" in det.reason


# --------------------------------------------------------------------------- title words


@pytest.mark.parametrize(
    ("words", "text", "hit"),
    [
        (["interview"], "Technical Interview", "interview"),
        (["interview"], "INTERVIEW!", "interview"),
        (["interview"], "Interviewer sync", None),
        (["interview"], "preinterview chat", None),
        (["interview"], "interview_round", None),
        (["interview"], "Interviewのご案内", "interview"),
        (["phone screen"], "Phone-Screen", "phone screen"),
        (["phone screen"], "phone   screen", "phone screen"),
        (["phone screen"], "PhoneScreen", "phone screen"),
        (["phone screen"], "phone screening", None),
        (["onsite"], "On-site", None),
        (["on-site"], "On site visit", "on-site"),
        (["Vorstellungsgespräch"], "VORSTELLUNGSGESPRACH", "Vorstellungsgespräch"),
        (["vorstellungsgesprach"], "Vorstellungsgespräch bei X", "vorstellungsgesprach"),
        (["entretien"], "Entretien d'embauche", "entretien"),
        (["entrevista"], "Entrevísta técnica", "entrevista"),
        (["résumé review"], "RESUME REVIEW", "résumé review"),
        (["面接"], "一次面接のご案内", "面接"),
        (["面接"], "面接", "面接"),
        (["面试"], "技术面试通知", "面试"),
        (["면접"], "1차 면접 안내", "면접"),
        (["면접"], "면접을 봅니다", "면접"),
        (["собеседование"], "Собеседование в Яндекс", "собеседование"),
        (["interview"], "ＩＮＴＥＲＶＩＥＷ", "interview"),  # fullwidth (NFKD)
        (["mock"], "Mockingbird review", None),
        (["c++"], "C++ interview", "c++"),
        (["", "   "], "anything", None),
    ],
)
def test_match_rule(words: list[str], text: str, hit: str | None) -> None:
    assert match_rule(words, text) == hit


def test_fold() -> None:
    assert fold("Ünïcödé ÉCOLE") == "unicode ecole"
    assert fold("Straße") == "strasse"
    assert fold("İstanbul") == "istanbul"


def test_exclude_wins_over_include() -> None:
    det = detect(make_event("Mock interview with Acme"), RULES, USER)
    assert not det.is_interview and "excluded 'mock'" in det.reason


def test_no_include_word() -> None:
    det = detect(make_event("Coffee with Jane"), RULES, USER)
    assert not det.is_interview and det.reason == "title matches no include word"


def test_empty_include_means_only_the_tag() -> None:
    rules = DetectSettings(include=[])
    assert not detect(make_event(), rules, USER).is_interview
    assert detect(make_event(description="#followup"), rules, USER).is_interview


def test_custom_rules_and_accents() -> None:
    rules = DetectSettings(include=["entretien"], exclude=["entraînement"])
    assert detect(make_event("Entretien – Acme"), rules, USER).is_interview
    assert not detect(make_event("Entretien (ENTRAINEMENT)"), rules, USER).is_interview


# --------------------------------------------------------------------------- acceptance


@pytest.mark.parametrize(
    ("response", "yes"),
    [("accepted", True), ("tentative", True), ("needsAction", False), ("declined", False)],
)
def test_acceptance(response: str, yes: bool) -> None:
    attendees = (
        Attendee("jane.doe@acme.com", "Jane Doe", "accepted"),
        Attendee(USER, "", response),  # no self flag: matched by address
    )
    assert detect(make_event(attendees=attendees), RULES, USER).is_interview is yes
    assert (
        detect(make_event(attendees=attendees), RULES, "  ADA.Lovelace@Gmail.com ").is_interview
        is yes
    )


def test_organizer_needs_no_acceptance_but_declined_user_never() -> None:
    attendees = (Attendee("jane.doe@acme.com", "Jane Doe", "needsAction"),)
    event = make_event(attendees=attendees, organizer_email=USER, organizer_self=True)
    assert detect(event, RULES, USER).is_interview
    event = make_event(attendees=attendees, organizer_email=USER)
    assert detect(event, RULES, USER).is_interview


def test_require_accepted_off() -> None:
    attendees = (
        Attendee("jane.doe@acme.com", "Jane Doe", "accepted"),
        Attendee(USER, "", "needsAction", is_self=True),
    )
    assert not detect(make_event(attendees=attendees), RULES, USER).is_interview
    rules = DetectSettings(require_accepted=False)
    assert detect(make_event(attendees=attendees), rules, USER).is_interview
    declined = (attendees[0], Attendee(USER, "", "declined", is_self=True))
    assert not detect(make_event(attendees=declined), rules, USER).is_interview


def test_unknown_user_is_not_accepted() -> None:
    attendees = (Attendee("jane.doe@acme.com", "Jane Doe", "accepted"),)
    det = detect(make_event(attendees=attendees), RULES, "")
    assert not det.is_interview and "unknown" in det.reason


# --------------------------------------------------------------------------- external


def me() -> Attendee:
    return Attendee(USER, "", "accepted", is_self=True)


def google_attendee(email: str, name: str, *, resource: bool = False) -> Attendee:
    """An accepted attendee as the Google parser reads it (rooms and groups by address)."""
    data = {"attendees": [{"email": email, "displayName": name, "responseStatus": "accepted",
                           "resource": resource}]}  # fmt: skip
    return event_from_api("primary", data).attendees[0]


@pytest.mark.parametrize(
    "other",
    [
        Attendee("room@acme.com", "Big Room", "accepted", kind=AttendeeKind.RESOURCE),
        Attendee("team@acme.com", "Team", "accepted", kind=AttendeeKind.GROUP),
        google_attendee("room@acme.com", "Jane Doe", resource=True),
        google_attendee("c_123@resource.calendar.google.com", "Lobby"),
        google_attendee("team@group.calendar.google.com", "Team"),
        google_attendee("x@import.calendar.google.com", "Imported"),
        google_attendee("eng@googlegroups.com", "Eng"),
        Attendee("conf-5@acme.com", "Conference Room 5 (12)", "accepted"),
        Attendee("noreply@acme.com", "", "accepted"),
        Attendee("no-reply@acme.com", "", "accepted"),
        Attendee("do_not_reply@acme.com", "", "accepted"),
        Attendee("donotreply@acme.com", "", "accepted"),
        Attendee("notifications@acme.com", "", "accepted"),
        Attendee("calendar-notification@google.com", "", "accepted"),
        Attendee("scheduling@acme.com", "", "accepted"),
        Attendee("recruiting-scheduling@acme.com", "", "accepted"),
        Attendee("jane@greenhouse.io", "Jane", "accepted"),
        Attendee("x@us.greenhouse-mail.io", "", "accepted"),
        Attendee("bot@goodtime.io", "", "accepted"),
        Attendee("jane@calendly.com", "", "accepted"),
        Attendee("jane@hire.lever.co", "", "accepted"),
        Attendee("jane@ashbyhq.com", "", "accepted"),
        Attendee("acme@myworkday.com", "", "accepted"),
        Attendee("acme@wd5.myworkdayjobs.com", "", "accepted"),
        Attendee("x@gem.com", "", "accepted"),
        Attendee("x@modernloop.io", "", "accepted"),
        Attendee("olivia@paradox.ai", "Olivia", "accepted"),
        Attendee("jane.doe@acme.com", "Jane Doe", "declined"),
        Attendee("jane doe@acme.com", "Jane Doe", "accepted"),
        Attendee("jane.doe@acme", "Jane Doe", "accepted"),
        Attendee("", "Jane Doe", "accepted"),
    ],
)
def test_not_external_human(other: Attendee) -> None:
    event = make_event(attendees=(other, me()), organizer_email="")
    det = detect(event, RULES, USER)
    assert not det.is_interview
    assert "no external attendee" in det.reason


def test_ignore_domains_include_subdomains() -> None:
    rules = DetectSettings(ignore_domains=["acme.com"])
    for email in ("jane@acme.com", "jane@eng.acme.com"):
        event = make_event(
            attendees=(Attendee(email, "Jane", "accepted"), me()), organizer_email=""
        )
        assert not detect(event, rules, USER).is_interview
    event = make_event(
        attendees=(Attendee("jane@notacme.com", "Jane", "accepted"), me()), organizer_email=""
    )
    assert detect(event, rules, USER).is_interview


@pytest.mark.parametrize(
    ("pattern", "email", "ignored"),
    [
        ("*@talent.acme.com", "jane@talent.acme.com", True),
        ("*@talent.acme.com", "jane@acme.com", False),
        ("bot@acme.com", "bot@acme.com", True),
        ("bot@acme.com", "bot2@acme.com", False),
        ("@hirebot.io", "x@eu.hirebot.io", True),
        ("hirebot.io", "x@hirebot.io", True),
        ("hirebot.io", "x@nothirebot.io", False),
        ("careers", "careers@acme.com", True),
        ("careers", "careers.team@acme.com", False),
        ("jobs-*", "jobs-noreply2@acme.com", True),
    ],
)
def test_ignore_senders(pattern: str, email: str, ignored: bool) -> None:
    rules = DetectSettings(ignore_senders=[pattern])
    event = make_event(attendees=(Attendee(email, "", "accepted"), me()), organizer_email="")
    assert detect(event, rules, USER).is_interview is not ignored


def test_require_external_off() -> None:
    rules = DetectSettings(require_external=False)
    event = make_event(attendees=(me(),), organizer_email="")
    det = detect(event, rules, USER)
    assert det.is_interview and det.recipients == () and "no recipients" in det.reason


def test_recipients_deduplicated_and_organizer_fallback() -> None:
    attendees = (
        Attendee("jane.doe@acme.com", "Jane Doe", "accepted"),
        Attendee("jane.doe@acme.com", "Jane D.", "accepted"),
        me(),
    )
    det = detect(
        make_event(
            attendees=attendees, organizer_email="bob.smith@acme.com", organizer_name="Bob Smith"
        ),
        RULES,
        USER,
    )
    assert [p.email for p in det.recipients] == ["jane.doe@acme.com", "bob.smith@acme.com"]
    assert [p.name for p in det.recipients] == ["Jane Doe", "Bob Smith"]


@pytest.mark.parametrize(
    "flagged",
    [
        Attendee("jane.doe@acme.com", "", "accepted", is_self=True),
        Attendee("jane.doe@acme.com", "", "accepted", kind=AttendeeKind.RESOURCE),
        Attendee("jane.doe@acme.com", "", "accepted", kind=AttendeeKind.GROUP),
        Attendee("jane.doe@acme.com", "", "declined"),
    ],
)
def test_duplicate_entries_cannot_sneak_past_a_flag(flagged: Attendee) -> None:
    plain = Attendee("jane.doe@acme.com", "Jane Doe", "accepted")
    for attendees in ((flagged, plain, me()), (plain, flagged, me())):
        det = detect(make_event(attendees=attendees, organizer_email=""), RULES, USER)
        assert "jane.doe@acme.com" not in [p.email for p in det.recipients]


def test_optional_and_needs_action_attendees_are_recipients() -> None:
    attendees = (
        Attendee("jane.doe@acme.com", "Jane Doe", "needsAction", optional=True),
        Attendee("bob.smith@acme.com", "Bob Smith", "tentative"),
        me(),
    )
    det = detect(make_event(attendees=attendees, organizer_email=""), RULES, USER)
    assert [p.email for p in det.recipients] == ["jane.doe@acme.com", "bob.smith@acme.com"]


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("email", "name"),
    [
        ("jane.doe@acme.com", "Jane Doe"),
        ("jane_doe@acme.com", "Jane Doe"),
        ("jane-doe@acme.com", "Jane Doe"),
        ("firstname_lastname@acme.com", "Firstname Lastname"),
        ("jane.doe2@acme.com", "Jane Doe"),
        ("jane.doe.1987@acme.com", "Jane Doe"),
        ("jane.doe+jobs@acme.com", "Jane Doe"),
        ("mary.ann.smith@acme.com", "Mary Ann Smith"),
        ("josé.garcía@acme.es", "José García"),
        ("jdoe@acme.com", ""),
        ("jane@acme.com", ""),
        ("j.doe@acme.com", ""),
        ("jane.d@acme.com", ""),
        ("recruiting.team@acme.com", ""),
        ("talent.acquisition@acme.com", ""),
        ("123.456@acme.com", ""),
        ("a.b.c.d.e@acme.com", ""),
        ("", ""),
    ],
)
def test_name_from_address(email: str, name: str) -> None:
    assert name_from_address(email) == name


@pytest.mark.parametrize(
    ("display", "email", "name", "first"),
    [
        ("Jane Doe", "jd@acme.com", "Jane Doe", "Jane"),
        ("Doe, Jane", "jd@acme.com", "Jane Doe", "Jane"),
        ("Jane Doe, PhD", "jd@acme.com", "Jane Doe", "Jane"),
        ("Dr. Jane Doe", "jd@acme.com", "Dr. Jane Doe", "Jane"),
        ("Jane Doe (she/her)", "jd@acme.com", "Jane Doe", "Jane"),
        ("Jane Doe | Acme", "jd@acme.com", "Jane Doe", "Jane"),
        ('"Jane  Doe"', "jd@acme.com", "Jane Doe", "Jane"),
        ("Conan O'Brien", "co@acme.com", "Conan O'Brien", "Conan"),
        ("Ludwig van Beethoven", "lvb@acme.com", "Ludwig van Beethoven", "Ludwig"),
        ("jane.doe@acme.com", "jane.doe@acme.com", "Jane Doe", "Jane"),
        ("jane.doe", "jane.doe@acme.com", "Jane Doe", "Jane"),
        ("jdoe", "jdoe@acme.com", "", ""),
        ("Jane\r\nBcc: victim@x.com", "jane.doe@acme.com", "Jane Doe", "Jane"),
        ("Jane\r\nDoe", "jd@acme.com", "Jane Doe", "Jane"),
        ("<Jane> Doe", "jd@acme.com", "Jane Doe", "Jane"),
        ("{{ 7*7 }}", "jane.doe@acme.com", "Jane Doe", "Jane"),
        ("{% for x in y %}", "jd@acme.com", "", ""),
        ("${jndi:ldap://x}", "jd@acme.com", "", ""),
        ("\u202eJane Doe\u202c", "jd@acme.com", "Jane Doe", "Jane"),
        ("🦄 Zoë 🚀", "jd@acme.com", "Zoë", "Zoë"),
        ("👩‍💻👨‍👩‍👧", "jane.doe@acme.com", "Jane Doe", "Jane"),
        ("محمد علي", "m@acme.com", "محمد علي", "محمد"),
        ("\u0000\u0007", "jd@acme.com", "", ""),
        ("\x1bJane\x07 Doe\x00", "jd@acme.com", "Jane Doe", "Jane"),
        ("Jane\u2028Doe\u0085", "jd@acme.com", "Jane Doe", "Jane"),
        ("Ja\u200bne\ufeff Doe", "jd@acme.com", "Jane Doe", "Jane"),
        ("X" * 300, "jd@acme.com", "X" * 64, "X" * 64),
        ("Jane " * 40, "jd@acme.com", ("Jane " * 12).strip(), "Jane"),
    ],
)
def test_recipient_names(display: str, email: str, name: str, first: str) -> None:
    attendees = (Attendee(email, display, "accepted"), me())
    det = detect(make_event(attendees=attendees, organizer_email=""), RULES, USER)
    assert det.is_interview, det.reason
    (person,) = det.recipients
    assert (person.name, person.first_name) == (name, first)


def test_names_from_description_lists() -> None:
    attendees = (
        Attendee("jdoe@acme.com", "", "accepted"),
        Attendee("bsmith@acme.com", "", "accepted"),
        Attendee("carol@acme.com", "", "accepted"),
        Attendee("x7@acme.com", "", "accepted"),
        me(),
    )
    description = (
        "Hi Ada!\n\nYour interviewers:\n"
        "  • Bob Smith – Staff Engineer\n"
        "  • Jane Doe (Hiring Manager)\n"
        "  • Carol White\n"
        "  • Dan Brown <dan.brown@acme.com>\n"
        "\nThe interview is 60 minutes."
    )
    det = detect(
        make_event(attendees=attendees, description=description, organizer_email=""), RULES, USER
    )
    by_email = {p.email: p.name for p in det.recipients}
    assert by_email == {
        "jdoe@acme.com": "Jane Doe",
        "bsmith@acme.com": "Bob Smith",
        "carol@acme.com": "Carol White",
        "x7@acme.com": "",
    }
    assert [p.name for p in det.interviewers if not p.email] == ["Dan Brown"]


@pytest.mark.parametrize(
    "description",
    [
        "Interviewers: Jane Doe, Bob Smith",
        "Interviewer: Jane Doe and Bob Smith",
        "Interviewer(s): Jane Doe; Bob Smith",
        "Panel: Jane Doe & Bob Smith",
        "<p>Hi!</p><p><b>Interviewers:</b><br/>Jane Doe<br>Bob Smith</p><p>Good luck</p>",
        "<ul><li>intro</li></ul><div>Interview panel:</div>"
        "<ul><li>Jane Doe</li><li>Bob Smith</li></ul>",
        "You'll be meeting with:\n1. Jane Doe\n2. Bob Smith\nJoin: https://zoom.us/j/1",
        "Interviewers:\r\n- Jane Doe\r\n- Bob Smith\r\nPowered by Greenhouse",
        "&lt;b&gt;Interviewers:&lt;/b&gt; Jane Doe, Bob Smith",
    ],
)
def test_description_list_formats(description: str) -> None:
    attendees = (Attendee("jdoe@acme.com", "", "accepted"), me())
    det = detect(
        make_event(attendees=attendees, description=description, organizer_email=""), RULES, USER
    )
    assert [p.name for p in det.recipients] == ["Jane Doe"]
    assert [p.name for p in det.interviewers] == ["Jane Doe", "Bob Smith"]
    assert det.interviewers[1].email == ""


def test_schedule_lists_only_name_attendees() -> None:
    attendees = (Attendee("jdoe@acme.com", "", "accepted"), me())
    description = "Schedule:\n10:00 - 10:45: Jane Doe - Coding\n11:00 - 11:30: Introductions"
    det = detect(
        make_event(attendees=attendees, description=description, organizer_email=""), RULES, USER
    )
    assert [p.name for p in det.interviewers] == ["Jane Doe"]


def test_ambiguous_weak_match_is_not_guessed() -> None:
    # "jane@" could be Jane Doe or Jane Roe: no name is invented.
    attendees = (Attendee("jane@acme.com", "", "accepted"), me())
    description = "Interviewers: Jane Doe, Jane Roe"
    det = detect(
        make_event(attendees=attendees, description=description, organizer_email=""), RULES, USER
    )
    assert [p.name for p in det.recipients] == [""]


def test_prose_is_not_a_name() -> None:
    attendees = (Attendee("jdoe@acme.com", "", "accepted"), me())
    description = "Interviewers:\nplease check the portal\n{{ interviewer_names }}\nTBD"
    det = detect(
        make_event(attendees=attendees, description=description, organizer_email=""), RULES, USER
    )
    assert [p.name for p in det.interviewers] == [""]


def test_huge_description_is_fast_and_lists_are_capped() -> None:
    attendees = (Attendee("jdoe@acme.com", "", "accepted"), me())
    filler = "<p>" + ("lorem ipsum <b>dolor</b> sit amet &amp; " * 30) + "</p>\n"
    description = (
        "Interviewers: Jane Doe\n"
        + filler * ((1_000_000 // len(filler)) + 1)
        + "Interviewers: Zed Late\n#nofollowup"
    )
    assert len(description) > 1_000_000
    event = make_event(attendees=attendees, description=description, organizer_email="")
    began = time.perf_counter()
    det = detect(event, RULES, USER)
    elapsed = time.perf_counter() - began
    assert elapsed < 1.0
    # the tag is read from the whole description; names only from the first 20k
    assert not det.is_interview and "#nofollowup" in det.reason
    det = detect(replace(event, description=description[:-12]), RULES, USER)
    assert det.is_interview
    assert [p.name for p in det.interviewers] == ["Jane Doe"]


@pytest.mark.parametrize(
    "description",
    [
        "<" * 200_000,
        "<a " * 100_000,
        "Interviewers:" + " ," * 100_000,
        "Interviewers:\n" + "- Jane\n" * 50_000,
        "10:00 - " * 100_000,
        "\u202e" * 300_000,
        "#" * 300_000 + "follow",
    ],
)
def test_pathological_descriptions_are_fast(description: str) -> None:
    event = make_event(description=description)
    began = time.perf_counter()
    detect(event, RULES, USER)
    assert time.perf_counter() - began < 1.0


# --------------------------------------------------------------------------- company, role, kind


@pytest.mark.parametrize(
    ("title", "company", "role"),
    [
        ("Onsite: Senior Engineer, Acme", "Acme", "Senior Engineer"),
        ("Acme - Phone Screen with Jane", "Acme", ""),
        ("Interview with Acme for Staff Engineer", "Acme", "Staff Engineer"),
        ("Acme | Backend Engineer | Technical Interview", "Acme", "Backend Engineer"),
        ("Senior Engineer interview at Acme", "Acme", "Senior Engineer"),
        ("Invitation: Acme Robotics | Interview - Round 2 (45 min)", "Acme Robotics", ""),
        ("Hiring Manager Interview - Acme, Inc.", "Acme, Inc.", ""),
        ("Final round interview with Acme — Product Manager", "Acme", "Product Manager"),
        ("Interview for the Data Scientist position at Acme", "Acme", "Data Scientist"),
        ("Phone screen w/ Jane Doe", "Acme Corp", ""),
        ("Interview", "Acme Corp", ""),
        ("Interview {{ 7*7 }} at {% raw %}", "Acme Corp", ""),
    ],
)
def test_company_and_role_from_title(title: str, company: str, role: str) -> None:
    attendees = (Attendee("jane.doe@acme-corp.com", "Jane Doe", "accepted"), me())
    det = detect(make_event(title, attendees, organizer_email=""), RULES, USER)
    assert det.is_interview, det.reason
    assert (det.company, det.role) == (company, role)


@pytest.mark.parametrize(
    ("domain", "company"),
    [
        ("acme-corp.com", "Acme Corp"),
        ("acme.com", "Acme"),
        ("mail.acme.co.uk", "Acme"),
        ("eu.acme.io", "Acme"),
        ("acme_labs.de", "Acme Labs"),
        ("gmail.com", ""),
        ("googlemail.com", ""),
        ("outlook.com", ""),
        ("hotmail.co.uk", ""),
        ("yahoo.fr", ""),
        ("icloud.com", ""),
        ("proton.me", ""),
        ("protonmail.com", ""),
        ("localhost", ""),
        ("", ""),
    ],
)
def test_company_from_domain(domain: str, company: str) -> None:
    assert company_from_domain(domain) == company


def test_company_from_most_common_domain_skipping_personal() -> None:
    attendees = (
        Attendee("a.b@gmail.com", "", "accepted"),
        Attendee("c.d@gmail.com", "", "accepted"),
        Attendee("x.y@agency.io", "", "accepted"),
        Attendee("e.f@globex.com", "", "accepted"),
        Attendee("g.h@globex.com", "", "accepted"),
        me(),
    )
    det = detect(make_event("Interview", attendees, organizer_email=""), RULES, USER)
    assert det.company == "Globex"


@pytest.mark.parametrize(
    ("title", "recipients", "kind"),
    [
        ("Phone Screen", 1, "phone_screen"),
        ("Recruiter call - interview", 1, "phone_screen"),
        ("Initial screening interview", 1, "phone_screen"),
        ("Onsite interview", 1, "onsite"),
        ("On-site interview", 4, "onsite"),
        ("Final round interview", 1, "onsite"),
        ("Superday interview", 1, "onsite"),
        ("Panel interview", 1, "panel"),
        ("Interview", 3, "panel"),
        ("Phone screen interview", 3, "phone_screen"),
        ("Interview", 2, "interview"),
    ],
)
def test_kind(title: str, recipients: int, kind: str) -> None:
    attendees = tuple(
        Attendee(f"person.{chr(97 + i)}x@acme.com", "", "accepted") for i in range(recipients)
    )
    det = detect(make_event(title, (*attendees, me()), organizer_email=""), RULES, USER)
    assert det.is_interview and det.kind == kind


# --------------------------------------------------------------------------- properties

RESOURCE_DOMAINS = [
    "resource.calendar.google.com",
    "group.calendar.google.com",
    "import.calendar.google.com",
]
LOCALS = ["jane.doe", "bob", "x", "noreply", "c_123", "ada.lovelace", "priya_raman", "room-1"]
DOMAINS = ["acme.com", "gmail.com", "greenhouse.io", *RESOURCE_DOMAINS]
RESPONSES = ["accepted", "declined", "tentative", "needsAction", "bogus"]
EMAILS = st.one_of(
    st.builds(lambda local, d: f"{local}@{d}", st.sampled_from(LOCALS), st.sampled_from(DOMAINS)),
    st.sampled_from([USER, " ADA.LOVELACE@GMAIL.COM ", "", "a@b", "x@acme.com\r\nBcc: y@z.io"]),
    st.text(max_size=30),
)
NAMES = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8", categories=["L", "Cc", "Cf", "Zs", "So"]), max_size=30),
    st.sampled_from(
        [
            "Jane\r\nBcc: x@y.z",
            "{{ 7*7 }}",
            "{% for %}",
            "\u202eevil\u202c",
            "🦄 Zoë 🚀",
            "Doe, Jane",
            "\x00\x1b[31mred",
            "Line\u2028Sep",
            "\ud800",
        ]
    ),
)
ATTENDEE_JSON = st.fixed_dictionaries(
    {"email": EMAILS},
    optional={
        "displayName": NAMES,
        "responseStatus": st.sampled_from(RESPONSES),
        "self": st.booleans(),
        "resource": st.booleans(),
        "organizer": st.booleans(),
        "optional": st.booleans(),
    },
)
DESCRIPTIONS = st.one_of(
    st.text(max_size=200),
    st.lists(
        st.one_of(NAMES, st.sampled_from(["Interviewers:", "<br>", "\n", ", ", "#followup"]))
    ).map("".join),
)


def is_room_email(email: str) -> bool:
    return email.endswith(tuple(RESOURCE_DOMAINS))


@settings(max_examples=200, deadline=None)
@given(display=NAMES, local=st.sampled_from(LOCALS))
def test_any_display_name_comes_out_clean(display: str, local: str) -> None:
    attendees = (Attendee(f"{local}@acme.com", display, "accepted"), me())
    det = detect(make_event(attendees=attendees, organizer_email=""), RULES, USER)
    for person in (*det.recipients, *det.interviewers):
        for text in (person.name, person.first_name):
            assert not BAD_NAME_CHARS.search(text), person
            assert not any(
                unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp", "So")
                for ch in text.replace("\u200c", "")
            ), person
            assert text == text.strip() and "  " not in text
            assert len(text) <= 64
            assert text == "" or any(unicodedata.category(ch).startswith("L") for ch in text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    attendees=st.lists(ATTENDEE_JSON, max_size=8),
    with_me=st.booleans(),
    organizer=st.one_of(st.none(), ATTENDEE_JSON),
    summary=st.one_of(st.sampled_from(["Interview", "Acme | Onsite"]), st.text(max_size=60)),
    description=DESCRIPTIONS,
    require_accepted=st.booleans(),
)
def test_recipients_never_user_room_or_declined(
    attendees: list[dict[str, Any]],
    organizer: dict[str, Any] | None,
    summary: str,
    description: str,
    require_accepted: bool,
    with_me: bool,
) -> None:
    if with_me:
        attendees = [{"email": USER, "self": True, "responseStatus": "accepted"}, *attendees]
    data: dict[str, Any] = {
        "id": "p",
        "summary": summary,
        "description": description,
        "start": {"dateTime": "2024-06-12T15:00:00Z"},
        "end": {"dateTime": "2024-06-12T16:00:00Z"},
        "attendees": attendees,
    }
    if organizer is not None:
        data["organizer"] = organizer
    event = event_from_api("primary", data)
    rules = DetectSettings(require_accepted=require_accepted, include=["interview", "onsite"])
    det = detect(event, rules, USER)

    if not det.is_interview:
        assert det.recipients == ()
    by_email: dict[str, list[Attendee]] = {}
    for att in event.attendees:
        by_email.setdefault(att.email, []).append(att)
    emails = [p.email for p in det.recipients]
    assert len(emails) == len(set(emails))
    for person in det.recipients:
        assert person.email != USER
        assert not is_room_email(person.email)
        assert re.fullmatch(r"[^\s<>\"(),;:\\\[\]]+@[^\s<>\"(),;:\\\[\]]+\.[^\s@]+", person.email)
        entries = by_email.get(person.email)
        if entries is None:  # the organizer, not on the attendee list
            assert person.email == event.organizer_email
            assert not event.organizer_self
        else:  # no entry for that address may say "declined", "room" or "me"
            for entry in entries:
                assert entry.response != "declined"
                assert entry.kind is AttendeeKind.PERSON
                assert not entry.is_self
    for person in det.interviewers:
        for text in (person.name, person.first_name):
            assert not BAD_NAME_CHARS.search(text), person
            assert not any(
                unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp")
                for ch in text.replace("\u200c", "")
            ), person
            assert text == text.strip()
            assert len(text) <= 64
        assert person.first_name == "" or person.first_name in person.name.split()
    assert_reason_shape(det.reason)


JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                ["email", "displayName", "dateTime", "date", "timeZone", "responseStatus",
                 "self", "resource", "entryPoints", "uri", "entryPointType", "x"]
            ),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=25,
)  # fmt: skip
EVENT_KEYS = st.sampled_from(
    ["id", "status", "summary", "description", "start", "end", "eventType", "attendees",
     "attendeesOmitted", "organizer", "recurringEventId", "hangoutLink", "conferenceData", "y"]
)  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.dictionaries(EVENT_KEYS, JSONISH, max_size=10),
    user=st.one_of(st.just(USER), st.text(max_size=20)),
    force_times=st.booleans(),
)
def test_arbitrary_json_never_crashes(data: dict[str, Any], user: str, force_times: bool) -> None:
    if force_times:
        data = {
            **data,
            "start": {"dateTime": "2024-06-12T15:00:00+02:00"},
            "end": {"dateTime": "2024-06-12T16:00:00+02:00"},
        }
    event = event_from_api("primary", data)
    det = detect(event, RULES, user)
    assert isinstance(det, Detection)
    assert_reason_shape(det.reason)
    assert det.kind in ("phone_screen", "interview", "panel", "onsite")
    for person in det.interviewers:
        assert not BAD_NAME_CHARS.search(person.name)


def test_rooms_and_groups_are_known_by_kind_not_by_provider_domain() -> None:
    """The core reads the calendar adapter's facts, never a provider's domains."""
    lobby = Attendee("c_123@resource.calendar.google.com", "Lobby", "accepted")
    det = detect(make_event(attendees=(lobby, me()), organizer_email=""), RULES, USER)
    assert [p.email for p in det.recipients] == ["c_123@resource.calendar.google.com"]
    for kind in (AttendeeKind.RESOURCE, AttendeeKind.GROUP):
        event = make_event(attendees=(me(),), organizer_email="team@acme.com", organizer_kind=kind)
        assert "no external attendee" in detect(event, RULES, USER).reason
