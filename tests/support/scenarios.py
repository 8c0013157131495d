"""Interviews to render the templates for, and the context they make."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from followupd.adapters.templates import TemplateStore
from followupd.core.context import build_context
from followupd.core.model import Person
from followupd.core.settings import ProfileSettings
from followupd.core.templates import TemplateSource

ZONE = ZoneInfo("Europe/Berlin")


# Tuesday 5 March 2024, 16:30 in Berlin; the interviews were this afternoon.
NOW = datetime(2024, 3, 5, 16, 30, tzinfo=ZONE)


START = datetime(2024, 3, 5, 14, 0, tzinfo=ZONE)


PROFILE = ProfileSettings(
    name="Ada Lovelace",
    highlights=[
        "six years of building data pipelines in Python",
        "experience leading a small team through a platform migration.",
    ],
)


USER_EMAIL = "ada@example.org"


def P(email: str, name: str, first: str = "") -> Person:
    return Person(email=email, name=name, first_name=first or name.split(" ")[0])


@dataclass(frozen=True)
class Scenario:
    id: str
    interviewers: tuple[Person, ...]
    company: str
    role: str
    summary: str
    kind: str = "interview"
    location: str = ""
    notes: tuple[str, ...] = ()
    group: bool = False  # one draft to everyone instead of one per interviewer
    extra: dict[str, Any] = field(default_factory=dict)


SCENARIOS = (
    Scenario(
        id="one_to_one",
        interviewers=(P("anna.schmidt@northwind.example", "Anna Schmidt"),),
        company="Northwind Traders",
        role="Data Engineer",
        summary="Interview: Data Engineer (Ada Lovelace)",
        location="Video call",
        notes=("how your team handles on-call rotations",),
    ),
    Scenario(
        id="panel_of_3",
        interviewers=(
            P("priya@contoso.example", "Priya Raman"),
            P("tomas@contoso.example", "Tomás García"),
            P("wei.li@contoso.example", "Li Wei", "Wei"),
        ),
        company="Contoso",
        role="Senior Backend Engineer",
        summary="Onsite panel – Senior Backend Engineer",
        kind="panel",
        location="Contoso HQ, Room 4.12",
        notes=("the plans for the new billing service", "your approach to code review."),
    ),
    Scenario(
        id="panel_group",
        interviewers=(
            P("priya@contoso.example", "Priya Raman"),
            P("tomas@contoso.example", "Tomás García"),
            P("wei.li@contoso.example", "Li Wei", "Wei"),
        ),
        company="Contoso",
        role="Senior Backend Engineer",
        summary="Onsite panel – Senior Backend Engineer",
        kind="onsite",
        notes=("the plans for the new billing service",),
        group=True,
    ),
    Scenario(
        id="phone_screen",
        interviewers=(P("jordan@globex.example", "Jordan Lee"),),
        company="Globex",
        role="Backend Developer",
        summary="Phone screen with Globex",
        kind="phone_screen",
        notes=("what a typical week looks like for the team",),
    ),
    Scenario(
        id="german_accented",
        interviewers=(
            P("juergen.mueller@mueller-soehne.example", "Jürgen Müller-Lüdenscheidt"),
            P("zoe@mueller-soehne.example", "Zoë Ångström-Łukasiewicz"),
        ),
        company="Müller & Söhne GmbH",
        role="Softwareentwicklerin",
        summary="Vorstellungsgespräch: Softwareentwicklerin (Müller & Söhne)",
        location="Königstraße 12, Stuttgart",
        notes=("the move of the warehouse system to the cloud",),
    ),
    Scenario(
        id="ampersand",
        interviewers=(P("o.brien@pandg.example", "Siobhán O'Brien"),),
        company="Procter & Gamble",
        role="R&D Analyst",
        summary="P&G interview: R&D Analyst <final round>",
        notes=("the research roadmap & how results reach the product teams",),
        extra={"words": ["roadmap"]},
    ),
    Scenario(
        id="rtl_emoji",
        interviewers=(
            P("m.alahmad@example.com", "محمد الأحمد"),
            P("noa@example.co.il", "נועה כהן"),
            P("dana@example.com", "Dana 😀 Cohen", "Dana"),
        ),
        company="Startup 🚀",
        role="Product Designer",
        summary="Interview 🎉 Product Designer",
        kind="panel",
        notes=("the design system and how it grew",),
    ),
    Scenario(
        id="hostile",
        interviewers=(
            P("eve@evil.example", "Eve\r\nBcc: victim@evil.example\r\nX-Injected: yes", "Eve"),
            P("mallory@evil.example", "{{ 7*7 }} {% for x in y %}", "{{ 7*7 }}"),
            P("trudy@evil.example", 'Doe, "Trudy" <admin@evil.example>', "Trudy"),
        ),
        company="Evil <script>alert(1)</script> & Co {{ config }}",
        role="{{ profile.__class__.__mro__ }} Engineer\r\nBcc: x@evil.example",
        summary="Interview\r\nBcc: attacker@evil.example\n{% raw %}{{ 7*7 }}",
        kind="panel",
        location="{% include 'secrets' %}",
        notes=("the puzzle with {{ 7*7 }} and {% for x in y %} blocks",),
    ),
)


BUILTINS = TemplateStore(None)


def builtin(name: str) -> TemplateSource:
    return BUILTINS.source(name)


def known_words(scenario: Scenario) -> list[str]:
    return list(scenario.extra.get("words", []))


def make_context(
    scenario: Scenario,
    *,
    notes: Sequence[str] | None = None,
    recipient_index: int = 0,
    now: datetime = NOW,
    profile: ProfileSettings = PROFILE,
) -> dict[str, Any]:
    recipient = None if scenario.group else scenario.interviewers[recipient_index]
    return build_context(
        recipient=recipient,
        interviewers=scenario.interviewers,
        company=scenario.company,
        role=scenario.role,
        summary=scenario.summary,
        start=START,
        end=START + timedelta(minutes=45),
        kind=scenario.kind,
        location=scenario.location,
        notes=scenario.notes if notes is None else notes,
        profile=profile,
        user_email=USER_EMAIL,
        zone=ZONE,
        now=now,
    )
