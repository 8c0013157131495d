"""core.drafting.compose_draft: one render, message and proofreading for the engine,
`preview` and `check`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support.scenarios import (
    NOW,
    PROFILE,
    SCENARIOS,
    START,
    USER_EMAIL,
    ZONE,
    builtin,
    make_context,
)

from followupd.core.drafting import (
    Envelope,
    InviteThread,
    compose_draft,
    followup_context,
    reply_subject,
)
from followupd.core.message import parse_message
from followupd.core.model import FollowUp
from followupd.core.settings import DraftSettings
from followupd.core.templates import TemplateProblem, TemplateSource

ONE = SCENARIOS[0]
ANNA = ONE.interviewers[0]
MESSAGE_ID = "<followupd.tok@example.org>"


def envelope(**over: object) -> Envelope:
    fields: dict[str, object] = {
        "from_name": PROFILE.name,
        "from_email": USER_EMAIL,
        "to": [ANNA],
        "message_id": MESSAGE_ID,
        "date": NOW,
    }
    fields.update(over)
    return Envelope(**fields)  # type: ignore[arg-type]


def test_without_an_envelope_the_draft_is_rendered_and_proofread_but_not_built() -> None:
    composed = compose_draft(
        builtin("thank_you"), make_context(ONE), drafts=DraftSettings(), profile=PROFILE, notes=[]
    )
    assert composed.raw is None
    assert composed.rendered.subject
    assert [f.code for f in composed.findings] == ["no_detail"]


def test_with_an_envelope_the_message_carries_the_rendered_note() -> None:
    composed = compose_draft(
        builtin("thank_you"),
        make_context(ONE),
        drafts=DraftSettings(),
        profile=PROFILE,
        notes=list(ONE.notes),
        envelope=envelope(),
    )
    assert composed.raw is not None
    parsed = parse_message(composed.raw)
    assert parsed.headers["Subject"] == composed.rendered.subject
    assert parsed.headers["Message-ID"] == MESSAGE_ID
    assert parsed.text == composed.rendered.text
    assert "In-Reply-To" not in parsed.headers


def test_a_draft_answering_the_invitation_replies_in_its_thread() -> None:
    invite = InviteThread(
        subject="Your interview  with Northwind", rfc_message_id="<inv@nw.example>"
    )
    composed = compose_draft(
        builtin("thank_you"),
        make_context(ONE),
        drafts=DraftSettings(),
        profile=PROFILE,
        notes=list(ONE.notes),
        envelope=envelope(invite=invite),
    )
    assert composed.raw is not None
    parsed = parse_message(composed.raw)
    assert composed.rendered.subject == "Re: Your interview with Northwind"
    assert parsed.headers["In-Reply-To"] == parsed.headers["References"] == "<inv@nw.example>"


def test_a_reply_subject_is_never_prefixed_twice() -> None:
    assert reply_subject("RE:  Interview") == "RE: Interview"
    assert reply_subject("Interview") == "Re: Interview"


def test_the_users_words_and_highlights_are_known_to_proofreading() -> None:
    source = TemplateSource("t", "subject: Thanks\n---\nThank you. Zyxwarble and Qorvath.\n", "t")
    context = make_context(ONE)
    unknown = compose_draft(source, context, drafts=DraftSettings(), profile=PROFILE, notes=["x"])
    assert {f.code for f in unknown.findings} == {"spelling"}
    profile = type(PROFILE)(name=PROFILE.name, highlights=["Qorvath"])
    known = compose_draft(
        source, context, drafts=DraftSettings(words=["Zyxwarble"]), profile=profile, notes=["x"]
    )
    assert known.findings == []


def test_html_drafts_get_an_html_part() -> None:
    composed = compose_draft(
        builtin("thank_you"),
        make_context(ONE),
        drafts=DraftSettings(html=True),
        profile=PROFILE,
        notes=[],
    )
    assert composed.rendered.html is not None


def test_a_template_that_does_not_render_raises_its_problem() -> None:
    broken = TemplateSource("broken", "subject: {{ nope }}\n---\nHi\n", "broken")
    with pytest.raises(TemplateProblem):
        compose_draft(broken, make_context(ONE), drafts=DraftSettings(), profile=PROFILE, notes=[])


def test_an_address_that_cannot_be_written_safely_is_refused() -> None:
    bad = envelope(to=[type(ANNA)(email="anna@@x", name="Anna", first_name="Anna")])
    with pytest.raises(ValueError, match="usable email address"):
        compose_draft(
            builtin("thank_you"),
            make_context(ONE),
            drafts=DraftSettings(),
            profile=PROFILE,
            notes=[],
            envelope=bad,
        )


def test_a_follow_ups_context_greets_the_one_recipient() -> None:
    fu = FollowUp(
        id="abc123",
        calendar_id="primary",
        event_id="ev1",
        summary=ONE.summary,
        start=START,
        end=START + timedelta(minutes=45),
        company=ONE.company,
        interviewers=ONE.interviewers,
    )
    context = followup_context(
        fu, [ANNA], profile=PROFILE, user_email=USER_EMAIL, zone=ZONE, now=NOW
    )
    assert context["greeting_name"] == "Anna"
    assert context["company"] == ONE.company
