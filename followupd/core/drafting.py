"""Composing one draft: render its template, build its MIME message, proofread it.

One function for the engine, `preview` and the template check of `check`, so that
the three render and proofread alike. Pure: the caller reads the template file and
looks up the scheduling thread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from followupd.core.context import build_context, context_words
from followupd.core.message import build_message
from followupd.core.model import Finding, FollowUp, Person
from followupd.core.proofread import proofread
from followupd.core.settings import DraftSettings, ProfileSettings
from followupd.core.templates import Rendered, TemplateSource, render

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

__all__ = [
    "ComposedDraft",
    "Envelope",
    "InviteThread",
    "compose_draft",
    "followup_context",
    "reply_subject",
]


@dataclass(frozen=True)
class InviteThread:
    """The email the interview was arranged in: the draft answers it."""

    subject: str
    rfc_message_id: str


@dataclass(frozen=True)
class Envelope:
    """Who a draft is from and to, and its headers beyond the template's subject."""

    from_name: str
    from_email: str
    to: Sequence[Person]
    message_id: str
    date: datetime | None = None
    invite: InviteThread | None = None


@dataclass(frozen=True)
class ComposedDraft:
    """A rendered draft, its message bytes (None without an envelope), its findings."""

    rendered: Rendered
    findings: list[Finding] = field(default_factory=list)
    raw: bytes | None = None


def reply_subject(subject: str) -> str:
    subject = " ".join(subject.split())
    return subject if subject.lower().startswith("re:") else f"Re: {subject}"


def compose_draft(
    source: TemplateSource,
    context: Mapping[str, Any],
    *,
    drafts: DraftSettings,
    profile: ProfileSettings,
    notes: Sequence[str],
    followup_id: str = "ID",
    envelope: Envelope | None = None,
) -> ComposedDraft:
    """Render `source` for `context`, build the message when an envelope is given,
    and proofread the result.

    Raises templates.TemplateProblem for a template that does not render and
    ValueError for an address or header that cannot be written safely.
    """
    rendered = render(source, context, html=True if drafts.html else None)
    raw = None
    if envelope is not None:
        invite = envelope.invite
        if invite is not None:
            # Reply in the thread the interview was arranged in: Gmail threads by
            # threadId plus a matching subject, mail clients by the headers.
            rendered = replace(rendered, subject=reply_subject(invite.subject))
        raw = build_message(
            rendered=rendered,
            from_name=envelope.from_name,
            from_email=envelope.from_email,
            to=envelope.to,
            message_id=envelope.message_id,
            date=envelope.date,
            in_reply_to=invite.rfc_message_id if invite else None,
            references=invite.rfc_message_id if invite else None,
        )
    findings = proofread(
        rendered,
        known_words=[*drafts.words, *profile.highlights],
        max_words=drafts.max_words,
        notes=notes,
        context_names=context_words(context),
        followup_id=followup_id,
    )
    return ComposedDraft(rendered=rendered, findings=findings, raw=raw)


def followup_context(
    fu: FollowUp,
    people: Sequence[Person],
    *,
    profile: ProfileSettings,
    user_email: str,
    zone: ZoneInfo,
    now: datetime,
) -> dict[str, Any]:
    """The template context of a follow-up's draft to `people`."""
    return build_context(
        recipient=people[0] if len(people) == 1 else None,
        recipients=people,
        interviewers=list(fu.interviewers) or people,
        company=fu.company,
        role=fu.role,
        summary=fu.summary,
        start=fu.start,
        end=fu.end,
        kind=fu.kind,
        location=fu.location,
        notes=fu.notes,
        profile=profile,
        user_email=user_email,
        zone=zone,
        now=now,
    )
