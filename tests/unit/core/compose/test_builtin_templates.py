"""The built-in templates: golden renders, and every template against every
realistic interview reads well and proofreads clean.

Golden files live in tests/unit/core/compose/golden/NAME.txt ("Subject: ..." line, blank
line, text body). After changing a built-in template on purpose, regenerate
them and review the diff:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/unit/core/compose -k golden
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from support.scenarios import NOW, SCENARIOS, Scenario, builtin, known_words, make_context

from followupd.core.context import context_words
from followupd.core.model import Person
from followupd.core.proofread import count_words, proofread
from followupd.core.templates import BUILTIN_NAMES, render

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
BY_ID = {s.id: s for s in SCENARIOS}

# (golden file, template, scenario, notes or None for the scenario's own, days after)
GOLDEN_CASES = [
    ("thank_you", "thank_you", "one_to_one", None, 0),
    ("thank_you_no_notes", "thank_you", "one_to_one", (), 0),
    ("panel", "panel", "panel_of_3", None, 0),
    ("panel_group", "panel", "panel_group", None, 0),
    ("phone_screen", "phone_screen", "phone_screen", None, 0),
    ("checkin", "checkin", "one_to_one", None, 6),
]


def _as_text(subject: str, text: str) -> str:
    return f"Subject: {subject}\n\n{text}"


class TestGolden:
    """Each built-in renders exactly as its reviewed golden file."""

    @pytest.mark.parametrize(("golden", "template", "scenario", "notes", "days"), GOLDEN_CASES)
    def test_golden(
        self, golden: str, template: str, scenario: str, notes: tuple[str, ...] | None, days: int
    ) -> None:
        context = make_context(BY_ID[scenario], notes=notes, now=NOW + timedelta(days=days))
        rendered = render(builtin(template), context)
        actual = _as_text(rendered.subject, rendered.text)
        path = GOLDEN / f"{golden}.txt"
        if UPDATE:
            path.write_text(actual, encoding="utf-8")
        assert path.exists(), f"{path} missing: run with UPDATE_GOLDEN=1"
        assert actual == path.read_text(encoding="utf-8")

    def test_every_builtin_has_a_golden(self) -> None:
        assert {case[1] for case in GOLDEN_CASES} == set(BUILTIN_NAMES)


CASES = [(name, s) for name in BUILTIN_NAMES for s in SCENARIOS]


def _ids(case: tuple[str, Scenario]) -> str:
    return f"{case[0]}-{case[1].id}"


class TestEveryTemplateEveryInterview:
    """Every built-in, every realistic interview: clean with notes, one
    no_detail finding without."""

    @pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
    def test_with_notes_no_finding(self, case: tuple[str, Scenario]) -> None:
        name, scenario = case
        context = make_context(scenario)
        rendered = render(builtin(name), context)
        findings = proofread(
            rendered,
            known_words=known_words(scenario),
            max_words=200,
            notes=context["notes"],
            context_names=context_words(context),
        )
        assert findings == []

    @pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
    def test_without_notes_only_no_detail(self, case: tuple[str, Scenario]) -> None:
        name, scenario = case
        context = make_context(scenario, notes=[])
        rendered = render(builtin(name), context)
        findings = proofread(
            rendered,
            known_words=known_words(scenario),
            max_words=200,
            notes=context["notes"],
            context_names=context_words(context),
        )
        assert [f.code for f in findings] == ["no_detail"]
        assert not findings[0].blocking

    @pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
    def test_reads_like_a_follow_up(self, case: tuple[str, Scenario]) -> None:
        name, scenario = case
        context = make_context(scenario)
        rendered = render(builtin(name), context)
        paragraphs = rendered.text.split("\n\n")
        greeting, opening = paragraphs[0], paragraphs[1]
        assert greeting.startswith("Hi ") and greeting.endswith(",")
        assert opening.startswith("Thank you")  # gratitude first
        for note in context["notes"]:  # refers to the conversation
            assert note.rstrip(".") in rendered.text
        if context["company"]:
            assert context["company"] in rendered.text  # interest in this company
        assert "stay in touch" in rendered.text or "let me know" in rendered.text
        assert rendered.text.rstrip().endswith("Ada Lovelace")  # signed
        assert count_words(rendered.text) < 150  # well under the 200 limit
        assert "\n\n\n" not in rendered.text
        if scenario.id != "hostile":  # its data holds "{{" on purpose
            assert "{{" not in rendered.text and "{%" not in rendered.text
        assert "None" not in rendered.text

    @pytest.mark.parametrize("name", BUILTIN_NAMES)
    def test_states_fit_with_highlights(self, name: str) -> None:
        context = make_context(BY_ID["one_to_one"])
        rendered = render(builtin(name), context)
        assert "six years of building data pipelines in Python" in rendered.text
        # the trailing "." of a highlight does not double up inside the sentence
        assert "platform migration." in rendered.text
        assert ".." not in rendered.text

    @pytest.mark.parametrize("name", BUILTIN_NAMES)
    def test_reads_well_without_company_role_or_names(self, name: str) -> None:
        from followupd.core.settings import ProfileSettings

        bare = Scenario(
            id="bare",
            interviewers=(Person(email="someone@example.com", name="", first_name=""),),
            company="",
            role="",
            summary="Chat",
        )
        context = make_context(bare, notes=[], profile=ProfileSettings(name="Ada Lovelace"))
        rendered = render(builtin(name), context)
        assert rendered.text.startswith("Hi there,\n")
        assert " at ." not in rendered.text and "  " not in rendered.text
        assert " role " in rendered.text or "the role" in rendered.text
        assert rendered.subject and "  " not in rendered.subject
        findings = proofread(rendered, known_words=[], max_words=200, notes=[])
        assert [f.code for f in findings] == ["no_detail"]

    def test_panel_addresses_each_person_and_thanks_the_others(self) -> None:
        context = make_context(BY_ID["panel_of_3"], recipient_index=1)
        rendered = render(builtin("panel"), context)
        assert rendered.text.startswith("Hi Tomás,\n")
        assert "Priya and Wei" in rendered.text
        assert "panel interview" in rendered.subject

    def test_panel_addresses_the_group(self) -> None:
        context = make_context(BY_ID["panel_group"])
        rendered = render(builtin("panel"), context)
        assert rendered.text.startswith("Hi Priya, Tomás and Wei,\n")
        assert "Thank you all" in rendered.text
        assert "on-site interview" in rendered.subject

    def test_signature_replaces_the_name(self) -> None:
        from followupd.core.settings import ProfileSettings

        profile = ProfileSettings(name="Ada Lovelace", signature="Ada\nhttps://ada.example")
        context = make_context(BY_ID["one_to_one"], profile=profile)
        rendered = render(builtin("thank_you"), context)
        assert rendered.text.endswith("Best regards,\nAda\nhttps://ada.example\n")
