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
    from followupd.core.model import Finding
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

    now = datetime.now(UTC)
    event = event_from_api("primary", json.loads(fixture.read_text(encoding="utf-8")))
    account = config.google.account or "you@example.com"
    detection = detect(event, config.detect, account)
    people = list(detection.recipients)
    context = _context(
        config,
        people=people,
        interviewers=list(detection.interviewers),
        company=detection.company,
        role=detection.role,
        summary=event.summary,
        start=event.start or now,
        end=event.end or now,
        kind=detection.kind,
        location=event.location,
        notes=[],
        account=account,
    )
    return Subject(
        context=context,
        title=event.summary,
        calendar_id="primary",
        domains=_domains(people),
        kind=detection.kind,
        notes=[],
        detection=detection.reason,
    )


def followup_subject(config: Config, followup_id: str) -> Subject:
    """A follow-up from the state, with the notes taken so far."""
    fu = open_store().find(followup_id)
    people = list(fu.people)
    context = _context(
        config,
        people=people,
        interviewers=list(fu.interviewers),
        company=fu.company,
        role=fu.role,
        summary=fu.summary,
        start=fu.start,
        end=fu.end,
        kind=fu.kind,
        location=fu.location,
        notes=list(fu.notes),
        account=config.google.account or "you@example.com",
    )
    return Subject(
        context=context,
        title=fu.summary,
        calendar_id=fu.calendar_id,
        domains=_domains(people),
        kind=fu.kind,
        notes=list(fu.notes),
    )


def _domains(people: list[Any]) -> list[str]:
    return [p.email.rpartition("@")[2] for p in people]


def _context(
    config: Config,
    *,
    people: list[Any],
    interviewers: list[Any],
    account: str,
    end: datetime,
    **event: Any,
) -> dict[str, Any]:
    from followupd.core.context import build_context

    return build_context(
        recipient=people[0] if len(people) == 1 else None,
        recipients=people,
        interviewers=interviewers or people,
        end=end,
        profile=config.profile,
        user_email=account,
        zone=config.timing.zone,
        now=max(datetime.now(UTC), end + timedelta(minutes=10)),
        **event,
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
