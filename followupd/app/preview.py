"""`followupd preview`: render a draft without touching Gmail, for a follow-up in
the state, a Calendar event file, or a built-in sample interview. Two steps: the
subject (what the draft is about, with its context) and its rendering."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from followupd.adapters.templates import TemplateStore
from followupd.app.state import open_store
from followupd.errors import FollowupdError

if TYPE_CHECKING:
    from followupd.core.model import Finding, FollowUp
    from followupd.core.settings import Config
    from followupd.core.templates import Rendered

SAMPLE_NOTES = ["the migration to event sourcing"]


def sample_context(config: Config) -> dict[str, Any]:
    """The context of the built-in sample interview (also used by `check`)."""
    from followupd.core.context import example_context

    return example_context(zone=config.timing.zone, now=datetime.now(UTC))


@dataclass(frozen=True)
class Subject:
    """What a preview renders: the template context and what the rules look at."""

    context: dict[str, Any]
    title: str
    calendar_id: str
    domains: list[str]
    kind: str
    notes: list[str]
    detection: str = ""  # for an event file: why it is (or is not) an interview


@dataclass(frozen=True)
class Preview:
    template: str
    rendered: Rendered
    findings: list[Finding] = field(default_factory=list)


def sample_subject(config: Config) -> Subject:
    return Subject(
        context=sample_context(config),
        title="Interview",
        calendar_id="primary",
        domains=[],
        kind="interview",
        notes=list(SAMPLE_NOTES),
    )


def fixture_subject(config: Config, fixture: Path) -> Subject:
    """A Calendar event JSON file, detected as the daemon would."""
    from followupd.adapters.google.calendar_events import event_from_api
    from followupd.core.detect import detect
    from followupd.core.model import FollowUp

    now = datetime.now(UTC)
    event = event_from_api("primary", json.loads(fixture.read_text(encoding="utf-8")))
    detection = detect(event, config.detect, _account(config))
    fu = FollowUp(
        id="preview",
        calendar_id="primary",
        event_id=event.id,
        summary=event.summary,
        start=event.start or now,
        end=event.end or now,
        people=detection.recipients,
        interviewers=detection.interviewers,
        company=detection.company,
        role=detection.role,
        kind=detection.kind,
        location=event.location,
    )
    return _subject(config, fu, detection=detection.reason)


def followup_subject(config: Config, followup_id: str) -> Subject:
    """A follow-up from the state, with the notes taken so far."""
    return _subject(config, open_store().find(followup_id))


def _account(config: Config) -> str:
    return config.google.account or "you@example.com"


def _subject(config: Config, fu: FollowUp, detection: str = "") -> Subject:
    """The subject of a follow-up's draft, with the context the daemon would build
    (core.drafting.followup_context) at the moment the draft falls due."""
    from followupd.core.drafting import followup_context

    people = list(fu.people)
    context = followup_context(
        fu,
        people,
        profile=config.profile,
        user_email=_account(config),
        zone=config.timing.zone,
        now=max(datetime.now(UTC), fu.end + timedelta(minutes=10)),
    )
    return Subject(
        context=context,
        title=fu.summary,
        calendar_id=fu.calendar_id,
        domains=[p.email.rpartition("@")[2] for p in people],
        kind=fu.kind,
        notes=list(fu.notes),
        detection=detection,
    )


def render_preview(
    config: Config, store: TemplateStore, subject: Subject, template_name: str | None
) -> Preview:
    """Pick the template (the rules, or the one asked for), render and proofread it
    as the daemon would (core.drafting.compose_draft)."""
    from followupd.core.drafting import compose_draft
    from followupd.core.template_rules import pick_template
    from followupd.core.templates import TemplateProblem

    name = template_name or pick_template(
        config.drafts.rules,
        title=subject.title,
        calendar_id=subject.calendar_id,
        domains=subject.domains,
        kind=subject.kind,
        available=set(store.names()),
    )
    try:
        composed = compose_draft(
            store.source(name),
            subject.context,
            drafts=config.drafts,
            profile=config.profile,
            notes=subject.notes,
        )
    except TemplateProblem as exc:
        raise FollowupdError(str(exc)) from None
    rendered, findings = composed.rendered, composed.findings
    return Preview(template=name, rendered=rendered, findings=list(findings))
