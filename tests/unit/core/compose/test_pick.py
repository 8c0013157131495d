"""pick_template: rules first, then the interview's kind."""

from __future__ import annotations

import pytest

from followupd.core.settings import TemplateRule
from followupd.core.template_rules import pick_template, rule_problems
from followupd.core.templates import BUILTIN_NAMES

AVAILABLE = {*BUILTIN_NAMES, "agency", "acme"}


def pick(rules: list[TemplateRule], **kwargs: object) -> str:
    args: dict[str, object] = {
        "title": "Interview",
        "calendar_id": "primary",
        "domains": [],
        "kind": "interview",
        "available": AVAILABLE,
    }
    args.update(kwargs)
    return pick_template(rules, **args)  # type: ignore[arg-type]


class TestByKind:
    """Without a matching rule the kind decides."""

    @pytest.mark.parametrize(
        ("kind", "template"),
        [
            ("phone_screen", "phone_screen"),
            ("panel", "panel"),
            ("onsite", "panel"),
            ("interview", "thank_you"),
            ("anything", "thank_you"),
        ],
    )
    def test_kind(self, kind: str, template: str) -> None:
        assert pick([], kind=kind) == template


class TestRules:
    """The first matching rule with an existing template wins."""

    def test_title_words_case_blind(self) -> None:
        rules = [TemplateRule(template="agency", title=["recruiter", "Agency call"])]
        assert pick(rules, title="AGENCY CALL with Bob") == "agency"
        assert pick(rules, title="Interview") == "thank_you"

    def test_calendar(self) -> None:
        rules = [TemplateRule(template="agency", calendar=["jobs@group.calendar.google.com"])]
        assert pick(rules, calendar_id="jobs@group.calendar.google.com") == "agency"
        assert pick(rules) == "thank_you"

    def test_domain_and_subdomain(self) -> None:
        rules = [TemplateRule(template="acme", domain=["@Acme.com"])]
        assert pick(rules, domains=["eu.acme.com"]) == "acme"
        assert pick(rules, domains=["ACME.COM"]) == "acme"
        assert pick(rules, domains=["notacme.com"]) == "thank_you"

    def test_all_given_criteria_must_match(self) -> None:
        rules = [TemplateRule(template="acme", title=["onsite"], domain=["acme.com"])]
        assert pick(rules, title="Onsite", domains=["acme.com"]) == "acme"
        assert pick(rules, title="Onsite", domains=["other.com"], kind="onsite") == "panel"

    def test_order_and_catch_all(self) -> None:
        rules = [
            TemplateRule(template="acme", domain=["acme.com"]),
            TemplateRule(template="agency"),
        ]
        assert pick(rules, domains=["acme.com"]) == "acme"
        assert pick(rules, kind="phone_screen") == "agency"

    def test_missing_template_is_skipped_and_reported(self) -> None:
        rules = [TemplateRule(template="gone"), TemplateRule(template="acme", title=["x"])]
        assert pick(rules, title="x") == "acme"
        problems = rule_problems(rules, AVAILABLE)
        assert len(problems) == 1 and "drafts.rules[0]" in problems[0] and "'gone'" in problems[0]
