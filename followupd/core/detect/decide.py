"""`detect`: is this calendar event an interview, and who gets a follow-up?

Decisions, in the order `detect` applies them (where the brief left room):
- Never an interview: a cancelled event; an event of a kind other than a meeting or
  one made from an email (those, e.g. an interview booked by email, go through the
  same rules; they rarely have attendees, so in practice only `#followup` makes them
  count); an all-day event; an event without a start or end, or ending before it
  starts; an event the user declined (even with `#followup`).
- `#nofollowup` in the description beats `#followup` (see `rules`). `#followup` skips
  the title words and the accepted/external requirements, not the checks above;
  recipients are still only external humans who did not decline.
- Title words: see `rules`.
- require_accepted: "accepted" and "tentative" both count (a draft is only a draft:
  missing an interview costs more than an unneeded draft); "needsAction" does not,
  unless the user organizes the event.
- Who is an external human, and their names: see `people` and `listing`; company,
  role and kind: see `titles`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from followupd.core.detect.listing import recipients_and_interviewers
from followupd.core.detect.people import Guests, guests_of
from followupd.core.detect.rules import forcing_tag, match_rule, quote_rule
from followupd.core.detect.titles import company_and_role, kind_from_title
from followupd.core.model import Attendee, Detection, Event, EventKind, Person

if TYPE_CHECKING:
    from followupd.core.settings import DetectSettings


class _Candidate(NamedTuple):
    """An event that passed the gate: why, and whether `#followup` forced it."""

    reason: str
    forced: bool = False


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _kind_label(event: Event) -> str:
    """The calendar's own name for the event's kind, when it is one plain word."""
    label = event.kind_label or event.kind.value.replace("_", "")
    return label if re.fullmatch(r"[A-Za-z]{1,30}", label) else "unknown"


def _never(event: Event) -> Detection | None:
    """The events that are never an interview, whatever their words or tags."""
    if event.cancelled:
        return Detection(False, "event cancelled")
    if event.kind not in (EventKind.MEETING, EventKind.FROM_EMAIL):
        return Detection(False, f"event type {_kind_label(event)} is never an interview")
    if event.all_day:
        return Detection(False, "all-day event")
    if event.start is None or event.end is None:
        return Detection(False, "no start or end time")
    if event.end < event.start:
        return Detection(False, "event ends before it starts")
    return None


def _user_organizes(event: Event, user: str, mine: list[Attendee]) -> bool:
    organizer = event.organizer_self or (bool(user) and event.organizer_email == user)
    return organizer or any(a.is_organizer for a in mine)


def _title_and_response(
    event: Event, rules: DetectSettings, mine: list[Attendee], organizer: bool
) -> str | Detection:
    """The reason the title counts, or the Detection that says why not (title words,
    then the user's response)."""
    excluded = match_rule(rules.exclude, event.summary)
    if excluded is not None:
        return Detection(False, f"title matches excluded {quote_rule(excluded)}")
    included = match_rule(rules.include, event.summary)
    if included is None:
        return Detection(False, "title matches no include word")
    if rules.require_accepted and not organizer:
        responses = {a.response for a in mine}
        if not responses & {"accepted", "tentative"}:
            state = sorted(responses)[0] if responses else "unknown"
            return Detection(False, f"not accepted (your response: {state})")
    return f"title matches {quote_rule(included)}"


def _gate(event: Event, rules: DetectSettings, guests: Guests, user: str) -> _Candidate | Detection:
    """Why the event may be an interview (before its recipients are known), or the
    Detection that says it is not."""
    mine = [a for a in guests.attendees if guests.is_user(a)]
    if any(a.response == "declined" for a in mine):
        return Detection(False, "you declined")
    tag = forcing_tag(event.description)
    if tag is False:
        return Detection(False, "#nofollowup in description")
    if tag is True:
        return _Candidate("#followup in description", forced=True)
    gate = _title_and_response(event, rules, mine, _user_organizes(event, user, mine))
    return _Candidate(gate) if isinstance(gate, str) else gate


def _reason(first: str, recipients: list[Person], forced: bool, omitted: bool) -> str:
    reasons = [first]
    if recipients:
        reasons.append(_plural(len(recipients), "external attendee"))
    elif forced:
        reasons.append("no recipient with an email")
    else:
        reasons.append("no recipients")
    if omitted:
        reasons.append("attendee list incomplete")
    return "; ".join(reasons)


def detect(event: Event, rules: DetectSettings, user_email: str) -> Detection:
    """Decide whether `event` is an interview and who should get a follow-up."""
    user = user_email.strip().lower() if isinstance(user_email, str) else ""
    never = _never(event)
    if never is not None:
        return never
    guests = guests_of(event, user)
    candidate = _gate(event, rules, guests, user)
    if isinstance(candidate, Detection):
        return candidate
    forced = candidate.forced

    externals = guests.externals(rules.ignore_domains, rules.ignore_senders)
    present = [(a, n) for a, n in externals if a.email not in guests.declined_emails]
    if not forced and rules.require_external and not present:
        return Detection(False, f"{candidate.reason}; no external attendee")

    named = guests.named(rules.ignore_senders)
    recipients, interviewers = recipients_and_interviewers(present, named, event.description)
    company, role = company_and_role(
        event.summary,
        rules.include,
        [*(p.name for p in interviewers), *(name for _, name in named)],
        [a.email for a, _ in externals],
    )
    return Detection(
        is_interview=True,
        reason=_reason(candidate.reason, recipients, forced, event.attendees_omitted),
        recipients=tuple(recipients),
        interviewers=tuple(interviewers),
        company=company,
        role=role,
        kind=kind_from_title(event.summary, len(recipients)),
    )
