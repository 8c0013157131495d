"""People on an invite: addresses, names, role mailboxes, who is an external human.

- External human: has a usable address; not the user (self flag or the account's
  address); not a room or group (an attendee the calendar marks so, or a display name
  such as "Conference Room 4"); not in `ignore_domains` (subdomains too); not a
  no-reply or scheduling-tool address (see `TOOL_DOMAINS`; note that real employees
  of those vendors are excluded too); not matching `ignore_senders` (a glob such as
  "*@talent.acme.com", an exact address, "@domain" or "domain.tld" for a domain and
  its subdomains, or a bare word for an exact local part). Optional attendees count;
  declined ones never do.
- A usable address is `local@domain.tld` with letters, digits and `._%+'-` in the
  local part (no quotes, brackets, braces, spaces or control characters): whatever
  reaches a To: header cannot smuggle a header or a second address.
- Names (`clean_name`, `name_from_address`): displayName first, else the address
  ("jane.doe" -> "Jane Doe"; one token such as "jdoe", an initial, digits only or a
  role mailbox such as "recruiting.team" give ""), else an interviewer list in the
  description (see `listing`). Emoji and other symbols are dropped from names, as are
  control and bidi characters and the zero-width joiner; a display name holding
  template syntax or an "@" is not trusted and the address rule is used instead;
  "Doe, Jane" becomes "Jane Doe"; parenthesised parts ("(she/her)") and suffixes
  ("| Acme", ", PhD") are dropped; apostrophes stay (O'Brien); at most 64
  characters. `first_name_of` is the first token holding a letter that is not an
  honorific ("Dr. Jane Doe" -> "Jane"); for names written family name first
  (田中 太郎) it is the family name: nothing here can tell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from followupd.core.detect.rules import fold
from followupd.core.detect.vocabulary import (
    EMAIL,
    HONORIFICS,
    NAME_DROP,
    NAME_MAX,
    NAME_SUFFIXES,
    PARENS,
    PERSONAL_DOMAINS,
    PERSONAL_FAMILIES,
    ROLE_MAILBOX_WORDS,
    ROOM_NAME,
    SECOND_LEVEL,
    SPACES,
    TEMPLATE_SYNTAX,
    TOOL_DOMAINS,
    TOOL_LOCAL_TOKENS,
)
from followupd.core.model import Attendee, AttendeeKind, Event
from followupd.core.text import clean_line, has_letter

# --------------------------------------------------------------------------- addresses


def domain_of(email: str) -> str:
    return email.rpartition("@")[2]


def local_part(email: str) -> str:
    return email.rpartition("@")[0].split("+", 1)[0]


def in_domains(domain: str, domains: Iterable[str]) -> bool:
    for entry in domains:
        d = entry.strip().lower().lstrip("*").lstrip(".").lstrip("@")
        if d and (domain == d or domain.endswith("." + d)):
            return True
    return False


def usable_address(email: str) -> bool:
    return len(email) <= 254 and EMAIL.fullmatch(email) is not None


def is_room_or_group(att: Attendee) -> bool:
    """Not a person: the calendar says so, or the display name is a room's."""
    if att.kind is not AttendeeKind.PERSON:
        return True
    return bool(att.name) and ROOM_NAME.search(fold(att.name[:200])) is not None


def is_tool(email: str, extra: Sequence[str]) -> bool:
    local, domain = local_part(email), domain_of(email)
    tokens = [t for t in re.split(r"[-_.]+", local) if t]
    if any(t in TOOL_LOCAL_TOKENS for t in tokens):
        return True
    joined = "".join(tokens)
    if "noreply" in joined or "donotreply" in joined or "mailerdaemon" in joined:
        return True
    if joined in ("calendarnotification", "calendarnotifications"):
        return True
    if in_domains(domain, TOOL_DOMAINS):
        return True
    if any(label.startswith("myworkday") for label in domain.split(".")):
        return True
    return any(_sender_matches(email, p) for p in extra if isinstance(p, str))


def _sender_matches(email: str, pattern: str) -> bool:
    p = pattern.strip().lower()
    if not p:
        return False
    if any(c in p for c in "*?["):
        return fnmatchcase(email, p)
    if p.startswith("@"):
        return in_domains(domain_of(email), [p[1:]])
    if "@" in p:
        return email == p
    if "." in p:
        return in_domains(domain_of(email), [p])
    return local_part(email) == p


def _core_label(domain: str) -> str:
    """The organisation's label: 'mail.acme.co.uk' -> 'acme' (no public-suffix list:
    a two-letter TLD after a generic second level such as 'co' is skipped)."""
    labels = [label for label in domain.split(".") if label]
    if len(labels) < 2:
        return ""
    if len(labels) >= 3 and labels[-2] in SECOND_LEVEL and len(labels[-1]) == 2:
        return labels[-3]
    return labels[-2]


def personal_domain(domain: str) -> bool:
    return domain in PERSONAL_DOMAINS or _core_label(domain) in PERSONAL_FAMILIES


def company_from_domain(domain: str) -> str:
    """'acme-corp.com' -> 'Acme Corp'; 'mail.acme.co.uk' -> 'Acme'; personal mail -> ''."""
    domain = domain.strip().lower().rstrip(".")
    core = _core_label(domain)
    if not core or personal_domain(domain):
        return ""
    words = [w for w in re.split(r"[-_]+", core) if w]
    if not words or not has_letter(core):
        return ""
    return " ".join(w[:1].upper() + w[1:] for w in words)


# --------------------------------------------------------------------------- names


def _not_a_name_char(ch: str, category: str) -> bool:
    """Emoji and other symbols, combining enclosures, variation selectors, quotes and
    brackets: never part of a name to greet."""
    return (
        category in ("So", "Sk", "Me")
        or ch in NAME_DROP
        or "\ufe00" <= ch <= "\ufe0f"
        or "\U000e0100" <= ch <= "\U000e01ef"
    )


def clean_name(raw: str) -> str:
    """A display name fit to show: no control, bidi, emoji, quotes or brackets."""
    if not raw or TEMPLATE_SYNTAX.search(raw[:500]):
        return ""
    text = SPACES.sub(" ", PARENS.sub(" ", clean_line(raw[:500], _not_a_name_char))).strip()
    text = re.sub(r"(?<!\w)\u200c|\u200c(?!\w)", "", text)  # ZWNJ only inside a word
    if "@" in text:
        return ""
    # "Jane Doe | Acme", "Jane Doe - Recruiter": the name comes first.
    text = re.split(r"\s+[-–—|·/]\s+", text)[0].replace("|", " ")
    parts = [p.strip() for p in text.split(",") if p.strip()]
    parts = [p for p in parts if fold(p).replace(".", "") not in NAME_SUFFIXES]
    if len(parts) == 2 and " " not in parts[0]:
        text = f"{parts[1]} {parts[0]}"  # "Doe, Jane"
    elif parts:
        text = parts[0]
    text = text.strip(" '’‘.,;:-–—*_~()[]")
    text = SPACES.sub(" ", text)
    if len(text) > NAME_MAX:
        cut = text[:NAME_MAX]
        text = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return text if has_letter(text) else ""


def name_from_address(email: str) -> str:
    """'jane.doe@x' -> 'Jane Doe'; 'mary_ann-smith2@x' -> 'Mary Ann Smith';
    'jdoe@x', 'j.doe@x', 'recruiting.team@x' -> '' (no name is invented)."""
    local = local_part(email)
    tokens = [re.sub(r"\d+", "", t) for t in re.split(r"[._\-]+", local)]
    tokens = [t for t in tokens if t]
    if not 2 <= len(tokens) <= 4 or len(tokens[0]) < 2 or len(tokens[-1]) < 2:
        return ""
    if any(not t.isalpha() or fold(t) in ROLE_MAILBOX_WORDS for t in tokens):
        return ""
    return " ".join(t[:1].upper() + t[1:] for t in tokens)


def first_name_of(name: str) -> str:
    """The first token that holds a letter and is not an honorific ("Dr. Jane" -> "Jane")."""
    tokens = [t for t in name.split() if has_letter(t)]
    for token in tokens:
        if fold(token).strip(".") not in HONORIFICS:
            return token
    return tokens[0] if tokens else ""


def display_name_of(att: Attendee) -> str:
    """The attendee's name from displayName, else from the address, else ''."""
    name = clean_name(att.name)
    if name and name != local_part(att.email):  # a bare "jane.doe" is the address, not a name
        return name
    return name_from_address(att.email)


# --------------------------------------------------------------------------- guests


@dataclass(frozen=True)
class Guests:
    """An event's attendees, the organizer included, and what their entries say.

    An address is the user's, a room or declined when any of its entries says so (a
    list may name one address twice); its name is that of its first entry.
    """

    attendees: tuple[Attendee, ...]
    self_emails: frozenset[str]
    room_or_group_emails: frozenset[str]
    declined_emails: frozenset[str]
    names: Mapping[str, str]  # address -> name from displayName or the address

    def is_user(self, att: Attendee) -> bool:
        return att.is_self or att.email in self.self_emails

    def externals(
        self, ignore_domains: Sequence[str], ignore_senders: Sequence[str]
    ) -> list[tuple[Attendee, str]]:
        """The external humans, one entry per address, with their names."""
        externals: list[tuple[Attendee, str]] = []
        seen: set[str] = set()
        for att in self.attendees:
            email = att.email
            if (
                not email
                or email in seen
                or self.is_user(att)
                or not usable_address(email)
                or email in self.room_or_group_emails
                or in_domains(domain_of(email), ignore_domains)
                or is_tool(email, ignore_senders)
            ):
                continue
            seen.add(email)
            externals.append((att, self.names[email]))
        return externals

    def named(self, ignore_senders: Sequence[str]) -> list[tuple[Attendee, str]]:
        """Every entry that may name an interviewer (no rooms, no tools), with names."""
        return [
            (a, self.names[a.email])
            for a in self.attendees
            if a.email
            and a.email not in self.room_or_group_emails
            and not is_tool(a.email, ignore_senders)
        ]


def guests_of(event: Event, user: str) -> Guests:
    """The attendees plus the organizer, who counts as an attendee with an implicit
    "accepted" when the attendee list does not name them (hidden guest lists,
    `attendeesOmitted`)."""
    attendees = list(event.attendees)
    known = {a.email for a in attendees if a.email}
    if event.organizer_email and event.organizer_email not in known:
        attendees.append(
            Attendee(
                email=event.organizer_email,
                name=event.organizer_name,
                response="accepted",
                is_self=event.organizer_self,
                is_organizer=True,
                kind=event.organizer_kind,
            )
        )
    self_emails = {a.email for a in attendees if a.is_self} | {user}
    self_emails.discard("")
    names: dict[str, str] = {}
    for att in attendees:
        if att.email and att.email not in names:
            names[att.email] = display_name_of(att)
    return Guests(
        attendees=tuple(attendees),
        self_emails=frozenset(self_emails),
        room_or_group_emails=frozenset(a.email for a in attendees if is_room_or_group(a)),
        declined_emails=frozenset(a.email for a in attendees if a.response == "declined"),
        names=names,
    )
