"""Build the RFC 5322 message of a follow-up draft, and read one back. No I/O.

Attendee names, titles and notes are hostile input. Everything that reaches a
header goes through `single_line` first (no CR, LF or other line breaks, no
control characters, no bidi overrides), addresses are rebuilt from a checked
local part and domain with `email.headerregistry.Address` (which quotes commas,
quotes and angle brackets and encodes non-ASCII names per RFC 2047), and the
finished bytes are checked once more: a header block with a bare CR or LF, a
line that is neither a header nor a continuation, or a second To/From/Subject
raises ValueError instead of producing a message.

The plain-text part is always present (UTF-8, quoted-printable or base64 as the
email package judges shortest); an HTML alternative is added when the rendered
template has one. Message-IDs are deterministic (`make_message_id`), so a draft
re-created after a crash carries the same id and can be recognised as ours.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser, Parser
from email.policy import EmailPolicy as Policy
from typing import TYPE_CHECKING, Any

from followupd.core.text import header_text, normalize_text, unsafe_char

if TYPE_CHECKING:
    from collections.abc import Sequence

    from followupd.core.model import Person
    from followupd.core.templates import Rendered

__all__ = [
    "ParsedMessage",
    "build_message",
    "make_message_id",
    "parse_message",
]

_NAME_LIMIT = 100
_SUBJECT_LIMIT = 250
_ATEXT = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_MSGID = re.compile(r"^<[!-;=?-~]+@[!-;=?-~]+>$")  # printable ASCII without < > and space
_TOKEN = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_HEADER_LINE = re.compile(rb"^[!-9;-~]+:")
_SINGLE_HEADERS = ("from", "to", "subject", "message-id", "date", "in-reply-to", "references")


def make_message_id(domain: str, token: str) -> str:
    """`<followupd.TOKEN@DOMAIN>`, the same for the same token (a re-created draft
    keeps its id). A token with characters unfit for a Message-ID is hashed."""
    if not _TOKEN.match(token):
        token = hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"<followupd.{token}@{_domain(domain)}>"


def _domain(domain: str) -> str:
    domain = domain.strip().rstrip(".").lower()
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        raise ValueError("an email domain is not a valid host name") from None
    labels = ascii_domain.split(".")
    if not ascii_domain or len(ascii_domain) > 253 or not all(_LABEL.match(x) for x in labels):
        raise ValueError("an email domain is not a valid host name")
    return ascii_domain


def _local_part(local: str) -> tuple[str, bool]:
    """The local part, and whether it needs SMTPUTF8 (non-ASCII)."""
    if not local or len(local) > 64 or local.startswith(".") or local.endswith("."):
        raise ValueError("an email address has an unusable local part")
    if ".." in local:
        raise ValueError("an email address has an unusable local part")
    if local.isascii():
        if not _ATEXT.match(local):
            raise ValueError("an email address has an unusable local part")
        return local, False
    if any(ch.isspace() or unsafe_char(ch) or ch in '"(),:;<>@[\\]' for ch in local):
        raise ValueError("an email address has an unusable local part")
    return local, True


def _address(name: str, email: str, what: str) -> tuple[Address, bool]:
    email = email.strip()
    local, at, domain = email.rpartition("@")
    if not at:
        raise ValueError(f"{what} has no usable email address")
    try:
        local, utf8 = _local_part(local)
        host = _domain(domain)
    except ValueError:
        raise ValueError(f"{what} has no usable email address") from None
    display = header_text(name, _NAME_LIMIT)
    return Address(display_name=display, username=local, domain=host), utf8


class _AddressHeader(str):
    """An address header folded with one address per line.

    The email package folds a list of addresses by filling each line, which can
    split a non-ASCII display name into two encoded words; RFC 2047 readers
    (Gmail) join those, but the email package's own parser then reads an extra
    space into the name. Folding each address on its own keeps every display
    name that fits on a line in a single encoded word, so it reads back exactly.
    Headers with a `name` attribute are stored and folded as they are
    (email.policy.EmailPolicy.header_store_parse / fold).
    """

    name: str
    _lines: tuple[str, ...]

    def __new__(
        cls, name: str, addresses: Sequence[Address], chosen: Policy[Any]
    ) -> _AddressHeader:
        lines: list[str] = []
        for index, address in enumerate(addresses):
            folded = chosen.header_factory(name, address).fold(policy=chosen)
            value = folded[len(name) + 1 :].removesuffix(chosen.linesep)
            parts = value.split(chosen.linesep)  # "To:" may be followed by a fold
            if not parts[0].strip():
                parts = parts[1:]
            parts[0] = " " + parts[0].lstrip(" \t")
            if index < len(addresses) - 1:
                parts[-1] += ","
            lines += parts
        header = super().__new__(cls, "".join(lines).strip())
        header.name = name
        header._lines = tuple(lines)
        return header

    def fold(self, *, policy: Policy[Any]) -> str:
        return f"{self.name}:" + policy.linesep.join(self._lines) + policy.linesep


def _check_ids(value: str, what: str, *, many: bool) -> str:
    ids = value.split()
    if not ids or (len(ids) > 1 and not many) or not all(_MSGID.match(i) for i in ids):
        raise ValueError(
            f"{what} is not a valid Message-ID list"
            if many
            else f"{what} is not a valid Message-ID"
        )
    return " ".join(ids)


def build_message(
    *,
    rendered: Rendered,
    from_name: str,
    from_email: str,
    to: Sequence[Person],
    message_id: str,
    in_reply_to: str | None = None,
    references: str | None = None,
    date: datetime | None = None,
) -> bytes:
    """The draft as RFC 5322 bytes (CRLF line ends), ready for Gmail's `raw` field.

    `date` must be timezone-aware; without it no Date header is written (Gmail
    adds one when the draft is sent). Raises ValueError when a recipient has no
    usable address or when a header would not be a single clean line.
    """
    if not to:
        raise ValueError("a message needs at least one recipient")
    sender, utf8 = _address(from_name, from_email, "the sender")
    recipients: list[Address] = []
    for index, person in enumerate(to, 1):
        address, needs_utf8 = _address(person.name, person.email, f"recipient {index}")
        recipients.append(address)
        utf8 = utf8 or needs_utf8
    # cte_type 7bit: bodies go out as 7bit, quoted-printable or base64, never raw 8bit.
    chosen = (policy.SMTPUTF8 if utf8 else policy.SMTP).clone(cte_type="7bit")

    msg = EmailMessage(policy=chosen)
    msg["From"] = _AddressHeader("From", [sender], chosen)
    msg["To"] = _AddressHeader("To", recipients, chosen)
    msg["Subject"] = header_text(rendered.subject, _SUBJECT_LIMIT)
    msg["Message-ID"] = _check_ids(message_id, "message_id", many=False)
    if date is not None:
        if date.tzinfo is None or date.utcoffset() is None:
            raise ValueError("date must be timezone-aware")
        msg["Date"] = date
    if in_reply_to:
        msg["In-Reply-To"] = _check_ids(in_reply_to, "in_reply_to", many=False)
    if references:
        msg["References"] = _check_ids(references, "references", many=True)
    msg.set_content(normalize_text(rendered.text), subtype="plain", charset="utf-8")
    if rendered.html is not None:
        msg.add_alternative(rendered.html, subtype="html", charset="utf-8")
    raw = msg.as_bytes(policy=chosen)
    _verify_header_block(raw)
    return raw


def _verify_header_block(raw: bytes) -> None:
    """Refuse bytes whose top-level header block is not clean CRLF-separated
    header lines with each address/subject/id header exactly once."""
    head, sep, _ = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError("the message has no header/body separator")
    counts: dict[str, int] = {}
    for line in head.split(b"\r\n"):
        if b"\r" in line or b"\n" in line or b"\x00" in line:
            raise ValueError("a header holds a bare CR, LF or NUL")
        if len(line) > 998:
            raise ValueError("a header line is longer than 998 octets")
        if line[:1] in (b" ", b"\t"):
            if not counts:
                raise ValueError("the header block starts with a continuation line")
            continue
        if not _HEADER_LINE.match(line):
            raise ValueError("a header line is not of the form Name: value")
        name = line.split(b":", 1)[0].decode("ascii").lower()
        counts[name] = counts.get(name, 0) + 1
    for name in _SINGLE_HEADERS:
        if counts.get(name, 0) > 1:
            raise ValueError(f"the {name} header appears more than once")
    for name in ("from", "to", "subject", "message-id"):
        if counts.get(name, 0) != 1:
            raise ValueError(f"the {name} header is missing")
    if "bcc" in counts or "cc" in counts:
        raise ValueError("the message would carry a Cc or Bcc header")


@dataclass(frozen=True)
class ParsedMessage:
    """A message read back: decoded headers (first value of each name, keys as
    written), every header in order, and the plain-text and HTML bodies with
    "\\n" line ends."""

    headers: dict[str, str]
    header_list: tuple[tuple[str, str], ...]
    text: str | None
    html: str | None


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse RFC 5322 bytes with the email package's default policy."""
    head = raw.partition(b"\r\n\r\n")[0]
    if head.isascii():
        msg = BytesParser(policy=policy.default).parsebytes(raw)
    else:  # SMTPUTF8: raw UTF-8 in headers
        msg = Parser(policy=policy.default).parsestr(raw.decode("utf-8", "surrogateescape"))
    header_list = tuple((name, str(value)) for name, value in msg.items())
    headers: dict[str, str] = {}
    for name, value in header_list:
        headers.setdefault(name, value)
    return ParsedMessage(
        headers=headers,
        header_list=header_list,
        text=_body(msg, "plain"),
        html=_body(msg, "html"),
    )


def _body(msg: object, subtype: str) -> str | None:
    assert isinstance(msg, EmailMessage)
    part = msg.get_body(preferencelist=(subtype,))
    if part is None or part.get_content_subtype() != subtype:
        return None
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")
