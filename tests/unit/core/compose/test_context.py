"""build_context: documented keys, day phrases, greetings, cleaning of event data."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support.scenarios import NOW, PROFILE, SCENARIOS, START, ZONE, make_context

from followupd.core.context import (
    CONTEXT_VARIABLES,
    build_context,
    context_help,
    context_words,
    example_context,
)
from followupd.core.model import Person
from followupd.core.settings import ProfileSettings

BY_ID = {s.id: s for s in SCENARIOS}


def _keys(value: dict[str, Any], prefix: str = "") -> set[str]:
    keys = set()
    for key, inner in value.items():
        if isinstance(inner, dict) and key in ("interview", "profile"):
            keys |= _keys(inner, f"{prefix}{key}.")
        else:
            keys.add(f"{prefix}{key}")
    return keys


class TestDocumented:
    """The one table documents exactly what build_context produces."""

    def test_table_matches_context(self) -> None:
        documented = {name for name, _ in CONTEXT_VARIABLES}
        assert _keys(make_context(BY_ID["one_to_one"])) == documented
        assert _keys(make_context(BY_ID["panel_group"])) == documented

    def test_help_lists_every_variable(self) -> None:
        text = context_help()
        for name, _ in CONTEXT_VARIABLES:
            assert name in text

    def test_example_context_is_complete(self) -> None:
        documented = {name for name, _ in CONTEXT_VARIABLES}
        assert _keys(example_context(zone=ZONE, now=NOW)) == documented


class TestDayPhrase:
    """When the interview was, in words, in the user's zone (core.timing.day_phrase)."""

    @pytest.mark.parametrize(
        ("start", "phrase"),
        [
            (datetime(2024, 3, 5, 9, 0), "this morning"),
            (datetime(2024, 3, 5, 11, 59), "this morning"),
            (datetime(2024, 3, 5, 12, 0), "this afternoon"),
            (datetime(2024, 3, 5, 17, 0), "this evening"),
            (datetime(2024, 3, 4, 23, 0), "yesterday"),
            (datetime(2024, 3, 3, 10, 0), "on Sunday"),
            (datetime(2024, 2, 28, 10, 0), "on Wednesday"),
            (datetime(2024, 2, 27, 10, 0), "on 27 February"),
            (datetime(2023, 12, 1, 10, 0), "on 1 December 2023"),
        ],
    )
    def test_phrases(self, start: datetime, phrase: str) -> None:
        context = build_context(
            recipient=None,
            interviewers=[],
            company="",
            role="",
            summary="",
            start=start.replace(tzinfo=ZONE),
            end=start.replace(tzinfo=ZONE),
            kind="interview",
            location="",
            notes=[],
            profile=PROFILE,
            user_email="ada@example.org",
            zone=ZONE,
            now=NOW,
        )
        assert context["interview"]["day_phrase"] == phrase

    def test_uses_the_users_zone(self) -> None:
        # 23:30 UTC on 4 March is 00:30 on 5 March in Berlin: this morning, not yesterday.
        utc_start = datetime(2024, 3, 4, 23, 30, tzinfo=ZoneInfo("UTC"))
        context = build_context(
            recipient=None,
            interviewers=[],
            company="",
            role="",
            summary="",
            start=utc_start,
            end=utc_start + timedelta(hours=1),
            kind="interview",
            location="",
            notes=[],
            profile=PROFILE,
            user_email="ada@example.org",
            zone=ZONE,
            now=NOW.astimezone(ZoneInfo("America/New_York")),
        )
        interview = context["interview"]
        assert interview["day_phrase"] == "this morning"
        assert interview["start"].tzinfo == ZONE and interview["start"].hour == 0
        assert interview["weekday"] == "Tuesday" and interview["date"] == "5 March"
        assert interview["duration_minutes"] == 60


class TestPeople:
    """Recipient, group, greeting and the other interviewers."""

    def test_one_recipient(self) -> None:
        context = make_context(BY_ID["panel_of_3"], recipient_index=2)
        assert context["recipient"] == {
            "name": "Li Wei",
            "first_name": "Wei",
            "email": "wei.li@contoso.example",
        }
        assert context["greeting_name"] == "Wei"
        assert [p["first_name"] for p in context["recipients"]] == ["Wei"]
        assert [p["first_name"] for p in context["other_interviewers"]] == ["Priya", "Tomás"]
        assert len(context["interviewers"]) == 3

    def test_group(self) -> None:
        context = make_context(BY_ID["panel_group"])
        assert context["recipient"] is None
        assert context["greeting_name"] == "everyone"
        assert len(context["recipients"]) == 3
        assert len(context["other_interviewers"]) == 3

    def test_unknown_first_name(self) -> None:
        nobody = Person(email="hr@example.com", name="", first_name="")
        context = build_context(
            recipient=nobody,
            interviewers=[nobody],
            company="X",
            role="",
            summary="",
            start=START,
            end=START,
            kind="strange",
            location="",
            notes=["  ", "x"],
            profile=ProfileSettings(),
            user_email="a@b.example",
            zone=ZONE,
            now=NOW,
        )
        assert context["greeting_name"] == "there"
        assert context["notes"] == ["x"]
        assert context["interview"]["kind"] == "interview"
        assert context["position"] == "the role at X"
        assert context["profile"]["first_name"] == ""


class TestCleaning:
    """Event data become plain one-line values."""

    def test_hostile_values(self) -> None:
        context = make_context(BY_ID["hostile"])
        eve = context["interviewers"][0]
        assert eve["name"] == "Eve Bcc: victim@evil.example X-Injected: yes"
        assert "\n" not in context["interview"]["title"]
        assert context["role"].endswith("Engineer Bcc: x@evil.example")
        assert context["interview"]["location"] == "{% include 'secrets' %}"

    def test_controls_and_bidi_overrides_dropped(self) -> None:
        context = make_context(BY_ID["one_to_one"], notes=["a\x00b\u202ec\u2028d\x1be"])
        assert context["notes"] == ["abc de"]

    def test_long_values_are_cut(self) -> None:
        scenario = BY_ID["one_to_one"]
        context = build_context(
            recipient=None,
            interviewers=scenario.interviewers,
            company="C" * 5000,
            role="r " * 500_000,
            summary="t" * 1_000_000,
            start=START,
            end=START,
            kind="interview",
            location="",
            notes=[],
            profile=PROFILE,
            user_email="a@b.example",
            zone=ZONE,
            now=NOW,
        )
        assert len(context["company"]) <= 200
        assert len(context["role"]) <= 200
        assert len(context["interview"]["title"]) <= 200

    def test_signature_keeps_lines(self) -> None:
        profile = ProfileSettings(name="Ada", signature="Ada L.\r\n  Analyst  \r\n\x07")
        context = make_context(BY_ID["one_to_one"], profile=profile)
        assert context["profile"]["signature"] == "Ada L.\n  Analyst"

    def test_context_words(self) -> None:
        words = " ".join(context_words(make_context(BY_ID["german_accented"])))
        for expected in ("Jürgen", "Müller-Lüdenscheidt", "Söhne", "Königstraße", "Ada"):
            assert expected in words
