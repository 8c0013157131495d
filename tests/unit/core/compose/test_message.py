"""The MIME message: headers, parts, hostile names, and reading it back."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.scenarios import PROFILE, SCENARIOS, USER_EMAIL, builtin, make_context

from followupd.core.message import build_message, make_message_id, parse_message
from followupd.core.model import Person
from followupd.core.templates import Rendered, render
from followupd.core.text import header_text, single_line

DATE = datetime(2024, 3, 6, 9, 0, tzinfo=UTC)
MSGID = make_message_id("example.org", "fu-1.anna")


def build(rendered: Rendered, to: list[Person], **kwargs: object) -> bytes:
    args: dict[str, object] = {
        "rendered": rendered,
        "from_name": PROFILE.name,
        "from_email": USER_EMAIL,
        "to": to,
        "message_id": MSGID,
        "date": DATE,
    }
    args.update(kwargs)
    return build_message(**args)  # type: ignore[arg-type]


def squeeze(name: str) -> str:
    """A display name without whitespace. A non-ASCII name too long for one
    encoded word is split in two; RFC 2047 readers (Gmail) join the halves, the
    email package reads a space between them."""
    return "".join(name.split())


def header_block(raw: bytes) -> bytes:
    return raw.partition(b"\r\n\r\n")[0]


def assert_clean_headers(raw: bytes) -> None:
    head = header_block(raw)
    assert re.search(rb"\r(?!\n)|(?<!\r)\n", head) is None  # no bare CR or LF
    names = [
        line.split(b":", 1)[0].lower()
        for line in head.split(b"\r\n")
        if line and line[:1] not in (b" ", b"\t")
    ]
    for once in (b"from", b"to", b"subject", b"message-id"):
        assert names.count(once) == 1
    assert b"bcc" not in names and b"cc" not in names and b"x-injected" not in names
    parsed = message_from_bytes(raw, policy=policy.default)
    for name, value in parsed.items():
        assert "\r" not in str(value) and "\n" not in str(value), name


def recipients_of(scenario_id: str) -> list[Person]:
    return list(next(s for s in SCENARIOS if s.id == scenario_id).interviewers)


class TestBuild:
    """Every scenario builds, and parses back to the same headers and text."""

    @pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.id for s in SCENARIOS])
    def test_round_trip(self, scenario: object) -> None:
        from support.scenarios import Scenario

        assert isinstance(scenario, Scenario)
        context = make_context(scenario)
        rendered = render(builtin("thank_you"), context, html=True)
        to = list(scenario.interviewers)
        raw = build(
            rendered,
            to,
            in_reply_to="<abc@mail.gmail.com>",
            references="<x@y.example> <abc@mail.gmail.com>",
        )
        assert_clean_headers(raw)
        parsed = parse_message(raw)
        assert parsed.headers["Subject"] == header_text(rendered.subject)
        assert parsed.headers["Message-ID"] == MSGID
        assert parsed.headers["In-Reply-To"] == "<abc@mail.gmail.com>"
        assert parsed.headers["References"] == "<x@y.example> <abc@mail.gmail.com>"
        assert parsed.headers["Date"] == "Wed, 06 Mar 2024 09:00:00 +0000"
        assert parsed.text == rendered.text
        assert parsed.html == rendered.html
        message = message_from_bytes(raw, policy=policy.default)
        assert isinstance(message, EmailMessage)
        sender = message["From"].addresses
        assert [(a.display_name, a.addr_spec) for a in sender] == [("Ada Lovelace", USER_EMAIL)]
        got = [(a.display_name, a.addr_spec) for a in message["To"].addresses]
        assert got == [(header_text(p.name, 100), p.email) for p in to]
        assert message.get_content_type() == "multipart/alternative"

    def test_text_only(self) -> None:
        raw = build(Rendered("Hi", "Hello\nthere\n"), recipients_of("one_to_one"), date=None)
        message = message_from_bytes(raw, policy=policy.default)
        assert message.get_content_type() == "text/plain"
        assert message.get_content_charset() == "utf-8"
        assert "Date" not in message
        assert parse_message(raw).html is None
        assert raw.isascii()  # 7bit-safe: no raw 8-bit bytes anywhere

    def test_hostile_names_cannot_inject_headers(self) -> None:
        to = recipients_of("hostile")
        rendered = Rendered("Thanks\r\nBcc: all@evil.example", "Body\r\n.\r\nBcc: x\n")
        raw = build(rendered, to)
        assert_clean_headers(raw)
        message = message_from_bytes(raw, policy=policy.default)
        assert len(message["To"].addresses) == 3
        assert message["To"].addresses[2].display_name == 'Doe, "Trudy" <admin@evil.example>'
        assert message["Subject"] == "Thanks Bcc: all@evil.example"

    def test_encoded_word_lookalikes_stay_literal(self) -> None:
        # The email package would decode these and write the NULs/CRLF into the header.
        name = "=?utf-8?b?AAAA?= =?utf-8?q?=0D=0ABcc:_x@evil.example?="
        raw = build(Rendered(name, "b\n"), [Person("a@b.example", name, "")])
        assert_clean_headers(raw)
        assert b"\x00" not in raw
        parsed = parse_message(raw)
        assert parsed.headers["Subject"].replace("\u200b", "") == name
        message = message_from_bytes(raw, policy=policy.default)
        shown = message["To"].addresses[0].display_name.replace("\u200b", "")
        assert squeeze(shown) == squeeze(name)  # long: split in two encoded words

    def test_rtl_and_emoji_use_rfc2047(self) -> None:
        to = recipients_of("rtl_emoji")
        raw = build(Rendered("شكرا 🙏 תודה", "نص 😀\n"), to, from_name="Zoë Ångström")
        head = header_block(raw)
        assert head.isascii()
        assert b"=?utf-8?" in head
        message = message_from_bytes(raw, policy=policy.default)
        assert message["Subject"] == "شكرا 🙏 תודה"
        assert [a.display_name for a in message["To"].addresses] == [p.name for p in to]
        assert message["From"].addresses[0].display_name == "Zoë Ångström"
        assert parse_message(raw).text == "نص 😀\n"

    def test_international_addresses(self) -> None:
        raw = build(Rendered("s", "t\n"), [Person("jürgen@müller.example", "Jürgen", "")])
        message = parse_message(raw)
        assert "jürgen@xn--mller-kva.example" in message.headers["To"]
        assert_clean_headers(raw)

    def test_megabyte_body_is_quick(self) -> None:
        text = ("Zoë wrote a long note about the migration." * 25_000) + "\n"
        started = time.perf_counter()
        raw = build(Rendered("s", text), recipients_of("one_to_one"))
        assert parse_message(raw).text == text
        assert time.perf_counter() - started < 5


class TestRefusals:
    """What cannot be made safe is refused with ValueError."""

    @pytest.mark.parametrize(
        "email",
        [
            "",
            "no-at-sign",
            "a@",
            "@b.example",
            "a b@c.example",
            "a@b.example\r\nBcc: x@y",
            "a@-bad-.example",
            "a..b@c.example",
            "<a@b.example>",
            'a"b@c.example',
        ],
    )
    def test_bad_recipient(self, email: str) -> None:
        with pytest.raises(ValueError, match="recipient 1"):
            build(Rendered("s", "t"), [Person(email, "X", "X")])

    def test_no_recipients(self) -> None:
        with pytest.raises(ValueError):
            build(Rendered("s", "t"), [])

    def test_bad_sender(self) -> None:
        with pytest.raises(ValueError, match="sender"):
            build(Rendered("s", "t"), recipients_of("one_to_one"), from_email="me")

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("message_id", "<a@b>\r\nBcc: x@y"),
            ("message_id", "no-brackets@x"),
            ("message_id", "<a@b> <c@d>"),
            ("in_reply_to", "<a b@c>"),
            ("references", "<a@b>\n<c@d>\r\nBcc: x"),
        ],
    )
    def test_bad_ids(self, field: str, value: str) -> None:
        with pytest.raises(ValueError):
            build(Rendered("s", "t"), recipients_of("one_to_one"), **{field: value})

    def test_naive_date(self) -> None:
        with pytest.raises(ValueError, match="timezone"):
            build(Rendered("s", "t"), recipients_of("one_to_one"), date=datetime(2024, 1, 1))


class TestMessageId:
    """Ids are ours, stable for a token, and always well formed."""

    def test_deterministic(self) -> None:
        assert make_message_id("Example.ORG", "fu-1.anna") == "<followupd.fu-1.anna@example.org>"
        assert make_message_id("example.org", "x") == make_message_id("example.org", "x")

    def test_odd_tokens_are_hashed(self) -> None:
        weird = make_message_id("example.org", "a b>\r\n<c")
        assert re.fullmatch(r"<followupd\.[0-9a-f]{32}@example\.org>", weird)
        assert weird == make_message_id("example.org", "a b>\r\n<c")
        assert weird != make_message_id("example.org", "a b>\r\n<d")

    def test_idn_domain(self) -> None:
        assert make_message_id("müller.example", "t") == "<followupd.t@xn--mller-kva.example>"

    def test_bad_domain(self) -> None:
        with pytest.raises(ValueError):
            make_message_id("bad domain\r\n", "t")


def test_single_line_never_breaks() -> None:
    assert single_line("a\r\nb\x85c\u2029d\x0be\tf") == "a b c d e f"
    assert single_line("x" * 50, 10) == "x" * 9 + "…"
    assert single_line("one two three four", 12) == "one two…"


# ---------------------------------------------------------------- properties

texts = st.text(max_size=120)
names = st.text(st.characters(codec="utf-8"), max_size=60)  # CR, LF, NUL, RTL, emoji...


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=names, subject=texts, note=texts, from_name=names)
def test_no_header_ever_holds_cr_or_lf(name: str, subject: str, note: str, from_name: str) -> None:
    """Arbitrary names, subjects and notes: clean headers, one To, body round-trips."""
    context = make_context(SCENARIOS[0], notes=[note])
    context["role"] = subject
    rendered = render(builtin("thank_you"), context)
    raw = build(rendered, [Person("anna@example.com", name, name)], from_name=from_name)
    assert_clean_headers(raw)
    parsed = parse_message(raw)
    assert parsed.text == rendered.text
    assert parsed.headers["Subject"] == header_text(rendered.subject, 250)
    message = message_from_bytes(raw, policy=policy.default)
    to = [squeeze(a.display_name) for a in message["To"].addresses]
    assert to == [squeeze(header_text(name, 100))]
    assert squeeze(message["From"].addresses[0].display_name) == squeeze(
        header_text(from_name, 100)
    )


@settings(max_examples=150, deadline=None)
@given(subject=texts, body=st.text(max_size=400))
def test_any_rendered_text_round_trips(subject: str, body: str) -> None:
    """build_message on raw strings: headers clean, body back as normalised."""
    from followupd.core.text import normalize_text

    raw = build(Rendered(subject, body), [Person("anna@example.com", "Anna", "Anna")])
    assert_clean_headers(raw)
    parsed = parse_message(raw)
    assert parsed.text == normalize_text(body)
    assert parsed.headers["Subject"] == header_text(subject, 250)


def test_date_header_keeps_the_offset() -> None:
    berlin = datetime(2024, 3, 6, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    raw = build(Rendered("s", "t"), recipients_of("one_to_one"), date=berlin)
    assert parse_message(raw).headers["Date"] == "Wed, 06 Mar 2024 10:00:00 +0100"
