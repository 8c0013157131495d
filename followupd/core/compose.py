"""Templates: their file format, the context they see, rendering and choosing one.

Pure: no I/O (followupd.adapters.templates reads the files), no Google imports.

Template file format (`NAME.j2`, UTF-8)
======================================
A header block, a line `---`, the plain-text body, and optionally a line
`--- html` followed by an HTML body::

    # Lines starting with "#" in the header are comments.
    description: One-to-one interview
    subject: Thank you{% if role %} – {{ role }}{% endif %}
    ---
    Hi {{ greeting_name }},
    ...
    --- html
    <p>Hi {{ greeting_name }},</p>

Header keys: `subject` (required, a one-line template; indented lines continue
it) and `description` (optional, plain text for `templates list`). The first
line that is exactly `---` ends the header; the first later line that is exactly
`--- html` starts the HTML body. Every part is a Jinja2 template run in a sandbox
with StrictUndefined (a misspelt variable is an error, not a blank), trim_blocks
and lstrip_blocks (a `{% if %}` on a line of its own leaves no empty line; a
tag that ends a line of text swallows that line's newline unless written with
`+%}`, e.g. `{% endif +%}`). Only the HTML part is autoescaped. Errors name the
template and the line in the file. Write a paragraph on one line: the text is
sent as written, without re-wrapping, and mail programs wrap it for display.

After rendering, the subject becomes one line (whitespace collapsed, no CR/LF,
at most 250 characters); the text keeps its lines, loses trailing spaces and
runs of blank lines (an `{% if %}` that renders nothing leaves no gap) and ends
in one newline. Filters besides Jinja's own: `join_and` (["a", "b", "c"] ->
"a, b and c") and `phrase` (strip a trailing ".", "!", ";" or "," so a note or
highlight fits inside a sentence).

Event data (titles, names, notes, locations) only ever reach a template as
values: they are never compiled, so "{{ 7*7 }}" in a title stays literal.

Notes (`followupd note ID TEXT`) and profile.highlights are phrases that the
built-ins put inside a sentence: a note completes "I especially enjoyed our
conversation about ..." ("how your team runs on-call"), a highlight completes
"I bring ..." ("six years of building data pipelines").

The context
===========
`CONTEXT_VARIABLES` below is the one table of what a template can use (the CLI
prints it for `templates show`); `build_context` produces exactly those keys.
"""

from __future__ import annotations

import functools
import html as html_lib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from followupd.core.text import normalize_text, single_line
from followupd.core.timing import day_phrase

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    from followupd.core.model import Person
    from followupd.core.settings import TemplateRule

__all__ = [
    "BUILTIN_NAMES",
    "CONTEXT_VARIABLES",
    "NAME_PATTERN",
    "ParsedTemplate",
    "ProfileLike",
    "Rendered",
    "TemplateProblem",
    "TemplateSource",
    "build_context",
    "context_help",
    "context_words",
    "example_context",
    "parse_template",
    "pick_template",
    "render",
    "rule_problems",
    "text_to_html",
    "validate",
]

BUILTIN_NAMES = ("thank_you", "panel", "phone_screen", "checkin")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$")

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


# --------------------------------------------------------------------------- data


class ProfileLike(Protocol):
    """What build_context reads of config.ProfileSettings."""

    @property
    def name(self) -> str: ...
    @property
    def signature(self) -> str: ...
    @property
    def highlights(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class TemplateSource:
    """A template's text and where it came from (a path, or "built-in")."""

    name: str
    text: str
    path_label: str


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None = None


@dataclass(frozen=True)
class ParsedTemplate:
    """A template file split into its parts; `*_line` is the file line each part starts on."""

    name: str
    description: str
    subject: str
    subject_line: int
    text: str
    text_line: int
    html: str | None
    html_line: int


class TemplateProblem(Exception):
    """A template that cannot be parsed or rendered. The caller maps it to
    followupd.errors.TemplateError. The message never holds event data values."""

    def __init__(self, template: str, line: int | None, message: str, path_label: str = "") -> None:
        self.template = template
        self.line = line
        self.message = message
        self.path_label = path_label
        where = f"template {template}"
        if path_label and path_label != template:
            where += f" ({path_label})"
        if line is not None:
            where += f", line {line}"
        super().__init__(f"{where}: {message}")


# --------------------------------------------------------------------------- parsing


_HEADER_KEYS = ("subject", "description")


def parse_template(source: TemplateSource) -> ParsedTemplate:
    """Split a template file into header, text and HTML parts (see the module doc)."""
    lines = source.text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    header: dict[str, tuple[str, int]] = {}
    last_key = ""
    separator = None
    for index, line in enumerate(lines):
        number = index + 1
        if line.rstrip() == "---":
            separator = index
            break
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if line[:1] in (" ", "\t") and last_key:
            value, start = header[last_key]
            header[last_key] = (f"{value} {line.strip()}", start)
            continue
        key, colon, value = line.partition(":")
        key = key.strip().lower()
        if not colon or key not in _HEADER_KEYS:
            raise TemplateProblem(
                source.name,
                number,
                'expected "subject: ..." or "description: ..." before the "---" line',
                source.path_label,
            )
        if key in header:
            raise TemplateProblem(source.name, number, f"{key} given twice", source.path_label)
        header[key] = (value.strip(), number)
        last_key = key
    if separator is None:
        raise TemplateProblem(
            source.name,
            None,
            'no "---" line between the header (subject: ...) and the body',
            source.path_label,
        )
    if "subject" not in header:
        raise TemplateProblem(
            source.name, separator + 1, 'no "subject:" line in the header', source.path_label
        )
    body = lines[separator + 1 :]
    html_at = next((i for i, line in enumerate(body) if line.rstrip() == "--- html"), None)
    text_lines = body if html_at is None else body[:html_at]
    html_lines = None if html_at is None else body[html_at + 1 :]
    subject, subject_line = header["subject"]
    return ParsedTemplate(
        name=source.name,
        description=header.get("description", ("", 0))[0],
        subject=subject,
        subject_line=subject_line,
        text="\n".join(text_lines),
        text_line=separator + 2,
        html=None if html_lines is None else "\n".join(html_lines),
        html_line=0 if html_at is None else separator + html_at + 3,
    )


# --------------------------------------------------------------------------- Jinja


def _join_and(items: Iterable[object], last: str = "and") -> str:
    words = [str(item) for item in items if str(item).strip()]
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"


def _phrase(value: object) -> str:
    return str(value).strip().rstrip(".!;,").rstrip()


def _autoescape(name: str | None) -> bool:
    return name is not None and name.endswith("#html")


@functools.cache
def _environment() -> SandboxedEnvironment:
    # Jinja2 loads on the first render: an idle daemon does not carry it.
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=_autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    env.filters["join_and"] = _join_and
    env.filters["phrase"] = _phrase
    return env


def _filename(name: str) -> str:
    return f"<followupd template {name}>"


@functools.lru_cache(maxsize=256)
def _compile(name: str, part: str, text: str, first_line: int) -> jinja2.Template:
    """Compile one part so that Jinja's line numbers are the file's line numbers:
    a Jinja comment holding the right number of newlines goes in front."""
    env = _environment()
    padded = "{#" + "\n" * (first_line - 1) + "#}" + text if first_line > 1 else text
    code = env.compile(padded, name=f"{name}#{part}", filename=_filename(name))
    return env.template_class.from_code(env, code, env.make_globals(None))


def _runtime_line(exc: BaseException, name: str) -> int | None:
    """The template line of the innermost frame that ran template code."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _filename(name):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _short(message: str) -> str:
    return single_line(message, 200)


def _render_part(
    source: TemplateSource, part: str, text: str, first_line: int, context: Mapping[str, Any]
) -> str:
    import jinja2

    try:
        template = _compile(source.name, part, text, first_line)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem(
            source.name, exc.lineno, _short(exc.message or "syntax error"), source.path_label
        ) from None
    try:
        return template.render(context)
    except jinja2.TemplateSyntaxError as exc:  # e.g. from an {% include %} attempt
        raise TemplateProblem(
            source.name, exc.lineno, _short(exc.message or "syntax error"), source.path_label
        ) from None
    except jinja2.UndefinedError as exc:
        raise TemplateProblem(
            source.name,
            _runtime_line(exc, source.name),
            _short(f"{exc.message} (see `followupd templates show` for the variables)"),
            source.path_label,
        ) from None
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateProblem(
            source.name,
            _runtime_line(exc, source.name),
            _short(f"not allowed in a template: {exc}"),
            source.path_label,
        ) from None
    except Exception as exc:  # any other failure inside template code is the template's
        raise TemplateProblem(
            source.name,
            _runtime_line(exc, source.name),
            _short(f"{type(exc).__name__}: {exc}"),
            source.path_label,
        ) from None


# --------------------------------------------------------------------------- render

_SUBJECT_LIMIT = 250
_BLANK_RUNS = re.compile(r"\n{3,}")


def render(
    source: TemplateSource, context: Mapping[str, Any], *, html: bool | None = None
) -> Rendered:
    """Render a template. `html`: None -> the template's HTML part if it has one;
    True -> that part, or one made from the text; False -> text only.
    Raises TemplateProblem (template name, line, message)."""
    parsed = parse_template(source)
    subject = _render_part(source, "subject", parsed.subject, parsed.subject_line, context)
    text = _render_part(source, "text", parsed.text, parsed.text_line, context)
    text = _BLANK_RUNS.sub("\n\n", normalize_text(text))
    html_out: str | None = None
    if html is not False and parsed.html is not None:
        html_out = _render_part(source, "html", parsed.html, parsed.html_line, context)
        html_out = "\n".join(html_out.splitlines()).strip() + "\n"
    elif html:
        html_out = text_to_html(text)
    return Rendered(subject=single_line(subject, _SUBJECT_LIMIT), text=text, html=html_out)


def text_to_html(text: str) -> str:
    """A plain-text body as simple HTML: paragraphs at blank lines, <br> within."""
    paragraphs = [p for p in text.strip("\n").split("\n\n") if p.strip()]
    body = "\n".join(
        "<p>" + "<br>\n".join(html_lib.escape(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
    )
    return f'<div dir="auto">\n{body}\n</div>\n'


def validate(source: TemplateSource, context: Mapping[str, Any] | None = None) -> None:
    """Raise TemplateProblem if the template does not compile, or (with a
    context, e.g. `example_context`) does not render."""
    if context is not None:
        render(source, context, html=None)
        return
    parsed = parse_template(source)
    parts = [
        ("subject", parsed.subject, parsed.subject_line),
        ("text", parsed.text, parsed.text_line),
    ]
    if parsed.html is not None:
        parts.append(("html", parsed.html, parsed.html_line))
    import jinja2

    for part, text, line in parts:
        try:
            _compile(source.name, part, text, line)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateProblem(
                source.name, exc.lineno, _short(exc.message or "syntax error"), source.path_label
            ) from None


# --------------------------------------------------------------------------- context

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
    from followupd.core.model import Person  # runtime import: only needed here

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


# --------------------------------------------------------------------------- choosing

_BY_KIND = {"phone_screen": "phone_screen", "panel": "panel", "onsite": "panel"}


def _domain_matches(domain: str, wanted: str) -> bool:
    wanted = wanted.strip().lower().lstrip("@")
    return bool(wanted) and (domain == wanted or domain.endswith("." + wanted))


def pick_template(
    rules: Sequence[TemplateRule],
    *,
    title: str,
    calendar_id: str,
    domains: Iterable[str],
    kind: str,
    available: set[str],
) -> str:
    """The template for an interview: the first rule that matches and names an
    available template, else by kind (phone_screen -> phone_screen, panel and
    onsite -> panel, else thank_you).

    A rule matches when each criterion it gives matches (a rule with none matches
    everything): `title` — any word or phrase occurs in the title (case-blind);
    `calendar` — the calendar id is one of them; `domain` — an attendee's email
    domain is one of them or a subdomain of one.
    """
    folded_title = title.casefold()
    attendee_domains = {d.strip().lower().lstrip("@") for d in domains if d.strip()}
    for rule in rules:
        if rule.template not in available:
            continue
        if rule.title and not any(w.casefold() in folded_title for w in rule.title if w.strip()):
            continue
        if rule.calendar and calendar_id.casefold() not in {c.casefold() for c in rule.calendar}:
            continue
        if rule.domain and not any(
            _domain_matches(d, w) for d in attendee_domains for w in rule.domain
        ):
            continue
        return rule.template
    fallback = _BY_KIND.get(kind, "thank_you")
    return fallback if fallback in available or not available else "thank_you"


def rule_problems(rules: Sequence[TemplateRule], available: set[str]) -> list[str]:
    """Rules naming a template that does not exist (for `followupd check`)."""
    return [
        f"drafts.rules[{i}]: no template named {rule.template!r} "
        f"(available: {', '.join(sorted(available))})"
        for i, rule in enumerate(rules)
        if rule.template not in available
    ]
