"""The context a template sees: one table of its variables, and building it.

Pure. Event data (titles, names, notes, locations) are cleaned to single lines and
shortened here, and only ever reach a template as values, never as template code.
`CONTEXT_VARIABLES` is the one table of what a template can use (the CLI prints it
for `templates show`); `build_context` produces exactly those keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from followupd.core.model import Person
from followupd.core.text import normalize_text, single_line
from followupd.core.timing import day_phrase

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

__all__ = [
    "CONTEXT_VARIABLES",
    "ProfileLike",
    "build_context",
    "context_help",
    "context_words",
    "example_context",
]


# One row per variable: (name, what it holds). Keep build_context in step (a test checks).
CONTEXT_VARIABLES: tuple[tuple[str, str], ...] = (
    (
        "recipient",
        "the person this draft goes to: .name, .first_name, .email; "
        "None for one draft to the whole panel",
    ),
    ("recipients", "everyone on the To line (list of people as above)"),
    ("interviewers", "everyone who interviewed, emails or not (list of people)"),
    ("other_interviewers", "interviewers other than the recipient (list of people)"),
    (
        "greeting_name",
        'recipient\'s first name; "there" when unknown; "everyone" for a draft to a group',
    ),
    ("company", 'the company ("" when unknown)'),
    ("role", 'the role applied for ("" when unknown)'),
    ("position", '"the ROLE role at COMPANY", shortened when either is unknown'),
    ("interview.title", "the calendar event's title"),
    (
        "interview.start",
        "start, a datetime in your time zone (e.g. {{ interview.start.strftime('%A') }})",
    ),
    ("interview.end", "end, a datetime in your time zone"),
    ("interview.duration_minutes", "length in minutes (a number)"),
    ("interview.kind", "phone_screen, interview, panel or onsite"),
    (
        "interview.kind_label",
        '"phone screen", "interview", "panel interview" or "on-site interview"',
    ),
    ("interview.location", 'the event\'s location ("" when none)'),
    (
        "interview.day_phrase",
        '"this morning", "this afternoon", "this evening", "yesterday", '
        '"on Monday" (within a week) or "on 3 March", relative to when the draft is made',
    ),
    ("interview.weekday", 'e.g. "Monday"'),
    ("interview.date", 'e.g. "3 March"'),
    ("profile.name", "your name (config: profile.name)"),
    ("profile.first_name", "the first word of your name"),
    ("profile.signature", 'your sign-off block (config: profile.signature; "" when unset)'),
    ("profile.highlights", 'list of phrases completing "I bring ..." (config: profile.highlights)'),
    ("profile.email", "your address"),
    (
        "notes",
        "list of your notes on the conversation (`followupd note ID TEXT`), phrases "
        'completing "I enjoyed talking about ..."',
    ),
)


def context_help() -> str:
    """The context table as text, for `templates show`."""
    width = max(len(name) for name, _ in CONTEXT_VARIABLES)
    return "\n".join(f"{name.ljust(width)}  {text}" for name, text in CONTEXT_VARIABLES)


class ProfileLike(Protocol):
    """What build_context reads of config.ProfileSettings."""

    @property
    def name(self) -> str: ...
    @property
    def signature(self) -> str: ...
    @property
    def highlights(self) -> Sequence[str]: ...


_KIND_LABELS = {
    "phone_screen": "phone screen",
    "interview": "interview",
    "panel": "panel interview",
    "onsite": "on-site interview",
}
_LIMIT = 200
_PERSON_LIMIT = 100


def _person(person: Person) -> dict[str, str]:
    name = single_line(person.name, _PERSON_LIMIT)
    first = single_line(person.first_name, _PERSON_LIMIT)
    return {"name": name, "first_name": first, "email": single_line(person.email, 254)}


def _same(a: Person, b: Person) -> bool:
    if a.email and b.email:
        return a.email.lower() == b.email.lower()
    return bool(a.name) and a.name == b.name


def _lines(values: Iterable[str]) -> list[str]:
    cleaned = (single_line(value) for value in values)
    return [value for value in cleaned if value]


def _position(role: str, company: str) -> str:
    if role and company:
        return f"the {role} role at {company}"
    if role:
        return f"the {role} role"
    if company:
        return f"the role at {company}"
    return "the role"


# English names, independent of the process locale.
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _day_month(day: date, today: date) -> str:
    text = f"{day.day} {_MONTHS[day.month - 1]}"
    return text if day.year == today.year else f"{text} {day.year}"


def build_context(
    *,
    recipient: Person | None,
    interviewers: Sequence[Person],
    company: str,
    role: str,
    summary: str,
    start: datetime,
    end: datetime,
    kind: str,
    location: str,
    notes: Sequence[str],
    profile: ProfileLike,
    user_email: str,
    zone: ZoneInfo,
    now: datetime,
    recipients: Sequence[Person] = (),
) -> dict[str, Any]:
    """The variables a template sees (documented in CONTEXT_VARIABLES).

    `recipient` is None for one draft to a group; `recipients` then lists the To
    line (default: the interviewers who have an email). Every string is cleaned
    to one line (notes and highlights too; the signature keeps its lines), long
    values are shortened, and nothing here is ever compiled as template code.
    `now` should be when the user will read the draft (day_phrase is relative to it).
    """
    local_start = start.astimezone(zone)
    local_end = end.astimezone(zone)
    if recipient is not None:
        to = [recipient]
    else:
        to = list(recipients) or [p for p in interviewers if p.email]
    single = recipient if recipient is not None else (to[0] if len(to) == 1 else None)
    if single is not None:
        greeting = single_line(single.first_name, _PERSON_LIMIT) or "there"
    else:
        greeting = "everyone"
    others = [p for p in interviewers if recipient is None or not _same(p, recipient)]
    company = single_line(company, _LIMIT)
    role = single_line(role, _LIMIT)
    name = single_line(profile.name, _PERSON_LIMIT)
    signature = normalize_text(profile.signature).strip("\n") if profile.signature.strip() else ""
    minutes = max(0, int((end - start).total_seconds() // 60))
    return {
        "recipient": None if recipient is None else _person(recipient),
        "recipients": [_person(p) for p in to],
        "interviewers": [_person(p) for p in interviewers],
        "other_interviewers": [_person(p) for p in others],
        "greeting_name": greeting,
        "company": company,
        "role": role,
        "position": _position(role, company),
        "interview": {
            "title": single_line(summary, _LIMIT),
            "start": local_start,
            "end": local_end,
            "duration_minutes": minutes,
            "kind": kind if kind in _KIND_LABELS else "interview",
            "kind_label": _KIND_LABELS.get(kind, "interview"),
            "location": single_line(location, _LIMIT),
            "day_phrase": day_phrase(start, now, zone),
            "weekday": _WEEKDAYS[local_start.weekday()],
            "date": _day_month(local_start.date(), now.astimezone(zone).date()),
        },
        "profile": {
            "name": name,
            "first_name": name.split(" ")[0] if name else "",
            "signature": signature,
            "highlights": _lines(profile.highlights),
            "email": single_line(user_email, 254),
        },
        "notes": _lines(notes),
    }


def context_words(context: Mapping[str, Any]) -> list[str]:
    """The strings of a context that proofreading should take as correctly spelt:
    names, company, role, title, location, your name and signature."""
    words: list[str] = []
    people = [*context.get("recipients", ()), *context.get("interviewers", ())]
    for person in people:
        words += [person.get("name", ""), person.get("first_name", "")]
    interview = context.get("interview", {})
    profile = context.get("profile", {})
    words += [
        context.get("company", ""),
        context.get("role", ""),
        interview.get("title", ""),
        interview.get("location", ""),
        profile.get("name", ""),
        profile.get("signature", ""),
    ]
    return [w for w in words if isinstance(w, str) and w]


@dataclass(frozen=True)
class _Profile:
    name: str
    signature: str
    highlights: tuple[str, ...]


def example_context(*, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """A realistic context for previews (`templates show`) and `check`."""
    profile = _Profile(
        name="Ada Lovelace",
        signature="",
        highlights=(
            "six years of building data pipelines in Python",
            "a habit of writing things down",
        ),
    )
    start = (now.astimezone(zone) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    anna = Person(email="anna.schmidt@example.com", name="Anna Schmidt", first_name="Anna")
    return build_context(
        recipient=anna,
        interviewers=[anna, Person(email="", name="Ben Okafor", first_name="Ben")],
        company="Example & Co",
        role="Data Engineer",
        summary="Interview: Data Engineer (Ada Lovelace)",
        start=start,
        end=start + timedelta(minutes=45),
        kind="interview",
        location="Video call",
        notes=["how your team moved its reporting to streaming"],
        profile=profile,
        user_email="ada@example.org",
        zone=zone,
        now=now,
    )
