"""Rendering: the file format, the sandbox, literal event data, errors with lines."""

from __future__ import annotations

import time

import pytest
from support.scenarios import SCENARIOS, builtin, make_context

from followupd.core.context import context_words
from followupd.core.proofread import proofread
from followupd.core.templates import (
    TemplateProblem,
    TemplateSource,
    parse_template,
    render,
    text_to_html,
    validate,
)

HOSTILE = next(s for s in SCENARIOS if s.id == "hostile")
ONE = SCENARIOS[0]


def src(text: str, name: str = "mine") -> TemplateSource:
    return TemplateSource(name=name, text=text, path_label=f"/home/ada/.config/followupd/{name}.j2")


class TestFormat:
    """The header / --- / body / --- html file format."""

    def test_parts_and_lines(self) -> None:
        parsed = parse_template(
            src(
                "# comment\n\ndescription: Mine\nsubject: Hello\n  {{ company }}\n---\n"
                "Body {{ role }}\n---\nstill body\n--- html\n<p>x</p>\n"
            )
        )
        assert parsed.description == "Mine"
        assert parsed.subject == "Hello {{ company }}"
        assert parsed.subject_line == 4
        assert parsed.text == "Body {{ role }}\n---\nstill body"
        assert parsed.text_line == 7
        assert parsed.html == "<p>x</p>\n"
        assert parsed.html_line == 11

    def test_crlf_files(self) -> None:
        parsed = parse_template(src("subject: Hi\r\n---\r\nBody\r\n"))
        assert parsed.subject == "Hi" and parsed.text == "Body\n"

    @pytest.mark.parametrize(
        ("text", "line", "fragment"),
        [
            ("subject: x\n", None, '"---"'),
            ("subject: x\nBody without separator\n", 2, "subject"),
            ("Dear {{ name }}\n---\n", 1, "subject"),
            ("description: only\n---\nbody\n", 2, "subject"),
            ("subject: a\nsubject: b\n---\n", 2, "twice"),
        ],
    )
    def test_bad_header(self, text: str, line: int | None, fragment: str) -> None:
        with pytest.raises(TemplateProblem) as caught:
            parse_template(src(text))
        assert caught.value.line == line
        assert fragment in caught.value.message
        assert caught.value.template == "mine"

    def test_builtins_parse_and_compile(self) -> None:
        for name in ("thank_you", "panel", "phone_screen", "checkin"):
            source = builtin(name)
            validate(source)
            validate(source, make_context(ONE))
            assert parse_template(source).description


class TestRender:
    """Subject, text and HTML come out clean."""

    def test_trim_blocks_and_blank_runs(self) -> None:
        out = render(
            src("subject: S\n---\nA\n{% if false %}\nhidden\n{% endif %}\n\n\n\nB  \n"), {}
        )
        assert out.text == "A\n\nB\n"
        assert out.html is None

    def test_subject_is_one_line(self) -> None:
        context = {"x": "a\r\nBcc: evil@example.com\n\tb\u2028c\x00d"}
        out = render(src("subject: Re {{ x }}\n  and more\n---\nbody\n"), context)
        assert out.subject == "Re a Bcc: evil@example.com b cd and more"

    def test_subject_is_capped(self) -> None:
        out = render(src("subject: {{ x }}\n---\nb\n"), {"x": "word " * 1000})
        assert len(out.subject) <= 250 and out.subject.endswith("…")

    def test_html_part_is_escaped_text_is_not(self) -> None:
        template = src("subject: {{ c }}\n---\n{{ c }}\n--- html\n<p>{{ c }}</p>\n")
        out = render(template, {"c": "A & B <script>"})
        assert out.subject == "A & B <script>"
        assert out.text == "A & B <script>\n"
        assert out.html == "<p>A &amp; B &lt;script&gt;</p>\n"

    def test_html_modes(self) -> None:
        plain = src("subject: s\n---\nHi & bye\n\nPara <2>\nline\n")
        assert render(plain, {}).html is None
        made = render(plain, {}, html=True).html
        assert made == text_to_html("Hi & bye\n\nPara <2>\nline\n")
        assert "<p>Hi &amp; bye</p>" in (made or "")
        assert "<p>Para &lt;2&gt;<br>\nline</p>" in (made or "")
        both = src("subject: s\n---\nt\n--- html\n<b>h</b>\n")
        assert render(both, {}, html=False).html is None
        assert render(both, {}, html=True).html == "<b>h</b>\n"

    def test_filters(self) -> None:
        template = src("subject: s\n---\n{{ xs | map('phrase') | join_and }}|{{ [] | join_and }}\n")
        assert render(template, {"xs": ["a.", "b!", "c"]}).text == "a, b and c|\n"


class TestEventDataStaysLiteral:
    """Names, titles, notes holding template syntax are printed, never run."""

    @pytest.mark.parametrize("name", ["thank_you", "panel", "phone_screen", "checkin"])
    def test_hostile_context(self, name: str) -> None:
        context = make_context(HOSTILE)
        out = render(builtin(name), context)
        assert "{{ 7*7 }}" in out.text and "49" not in out.text
        assert "{% for x in y %}" in out.text
        assert "\r" not in out.text
        assert "\n" not in out.subject and "\r" not in out.subject

    def test_values_are_never_compiled(self) -> None:
        template = src("subject: {{ t }}\n---\n{{ t }} {{ n }}\n")
        nasty = (
            "{{ ''.__class__.__mro__[1].__subclasses__() }} {% for x in range(9) %}x{% endfor %}"
        )
        out = render(template, {"t": nasty, "n": "{# c #}{% raw %}"})
        assert out.text == f"{nasty} {{# c #}}{{% raw %}}\n"
        assert out.subject == nasty

    def test_megabyte_notes_and_title_are_quick(self) -> None:
        big = "the quick brown fox jumps over a lazy dog " * 25_000  # 1 MB
        started = time.perf_counter()
        context = make_context(ONE, notes=[big])
        context["interview"]["title"] = big
        out = render(builtin("thank_you"), context)
        findings = proofread(
            out, known_words=[], max_words=200, notes=[big], context_names=context_words(context)
        )
        assert time.perf_counter() - started < 5
        assert [f.code for f in findings] == ["too_long"]
        assert len(out.text) > 1_000_000


class TestErrors:
    """Template errors name the template and the line of the file."""

    def test_undefined_variable(self) -> None:
        text = "subject: Hi\n---\nHello {{ greeting_name }},\n\n{{ recipient.nickname }}\n"
        with pytest.raises(TemplateProblem) as caught:
            render(src(text), make_context(ONE))
        problem = caught.value
        assert (problem.template, problem.line) == ("mine", 5)
        assert "nickname" in problem.message
        assert "mine" in str(problem) and "line 5" in str(problem)

    def test_undefined_in_subject_and_html(self) -> None:
        with pytest.raises(TemplateProblem) as caught:
            render(src("# c\nsubject: {{ nope }}\n---\nx\n"), {})
        assert caught.value.line == 2
        with pytest.raises(TemplateProblem) as caught:
            render(src("subject: s\n---\nx\n--- html\n\n<p>{{ nope }}</p>\n"), {})
        assert caught.value.line == 6

    def test_undefined_in_condition(self) -> None:
        with pytest.raises(TemplateProblem) as caught:
            render(src("subject: s\n---\n{% if notez %}\nx\n{% endif %}\n"), {})
        assert caught.value.line == 3

    def test_syntax_error(self) -> None:
        with pytest.raises(TemplateProblem) as caught:
            render(src("subject: s\n---\nfine\n\n{% for %}\n"), {})
        assert caught.value.line == 5
        with pytest.raises(TemplateProblem) as caught:
            validate(src("subject: s\n---\nfine\n{% if x %}\n"))
        assert caught.value.line is not None

    @pytest.mark.parametrize(
        "expression",
        [
            "''.__class__.__mro__",
            "company.__class__",
            "notes.pop.__self__",
            "range(10**9) | list",
            "cycler.__init__.__globals__",
        ],
    )
    def test_sandbox(self, expression: str) -> None:
        with pytest.raises(TemplateProblem) as caught:
            render(src(f"subject: s\n---\n\n{{{{ {expression} }}}}\n"), make_context(ONE))
        assert caught.value.line == 4

    def test_include_is_refused(self) -> None:
        with pytest.raises(TemplateProblem):
            render(src("subject: s\n---\n{% include 'config.toml' %}\n"), {})

    def test_error_message_holds_no_values(self) -> None:
        context = {"secret": "hunter2-private-note"}
        with pytest.raises(TemplateProblem) as caught:
            render(src("subject: s\n---\n{{ secret.missing.deeper }}\n"), context)
        assert "hunter2" not in str(caught.value)
