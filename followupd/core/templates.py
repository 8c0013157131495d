"""Templates: their file format, parsing, the Jinja2 sandbox, rendering, validation.

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

The context a template sees is built in followupd.core.context; choosing a
template by the rules is followupd.core.template_rules.
"""

from __future__ import annotations

import functools
import html as html_lib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from followupd.core.text import normalize_text, single_line

if TYPE_CHECKING:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

__all__ = [
    "BUILTIN_NAMES",
    "NAME_PATTERN",
    "ParsedTemplate",
    "Rendered",
    "TemplateProblem",
    "TemplateSource",
    "parse_template",
    "render",
    "text_to_html",
    "validate",
]

BUILTIN_NAMES = ("thank_you", "panel", "phone_screen", "checkin")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$")


# --------------------------------------------------------------------------- data


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
