"""Interviewer lists in descriptions, and their matching to attendees.

- Lists: "Interviewers:", "Panel:", "You'll meet with:", one-per-line lists, HTML.
  "Schedule:"/"Agenda:" lists and the Zoom "X is inviting you" line only name
  attendees, they add no interviewers. Only the first 20k characters of a
  description are read for names.
- A listed person is matched to an attendee by name or address shape ("Michael Chen"
  ~ "mchen@", "Sabine Schäfer" ~ "s.schaefer@"); a match on a first or last name
  alone is used only when it is unambiguous.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass

from followupd.core.detect.people import clean_name, first_name_of, local_part
from followupd.core.detect.rules import alnum, fold
from followupd.core.detect.vocabulary import (
    BULLET,
    DESC_SCAN,
    EMAIL,
    HEADING,
    HTML_BREAK,
    HTML_TAG,
    INLINE_SPLIT,
    ITEM_CUT,
    LABEL,
    MAX_LIST_ITEMS,
    NAME_PARTICLES,
    NAME_STOPWORDS,
    PARENS,
    TIME_PREFIX,
    WEAK_LABEL,
    ZOOM_HOST,
)
from followupd.core.model import Attendee, Person
from followupd.core.text import clean_line


@dataclass
class ListedPerson:
    name: str
    email: str
    strong: bool  # from an "Interviewers:" style list (not a schedule/agenda)


def _description_lines(description: str) -> list[str]:
    text = description[:DESC_SCAN]
    if "&" in text:
        text = html.unescape(text)
    if "<" in text and HTML_TAG.search(text):
        text = HTML_BREAK.sub("\n", text)
        text = HTML_TAG.sub(" ", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [line[:500] for line in text.split("\n")]


def _parse_item(item: str) -> tuple[str, str] | None:
    """One list entry -> (name, email or '') when it looks like a person."""
    item = clean_line(item)
    item = BULLET.sub("", item, count=1) if BULLET.match(item) else item
    if item[:1].isdigit():
        match = TIME_PREFIX.match(item)
        if match:
            item = item[match.end() :]
    email = ""
    found = EMAIL.search(item)
    if found:
        email = found.group(0).lower()
        item = (item[: found.start()] + " " + item[found.end() :]).replace("<>", " ")
        item = item.replace("mailto:", " ")
    item = PARENS.sub(" ", item)
    cut = ITEM_CUT.search(item)
    if cut:
        item = item[: cut.start()]
    name = clean_name(item)
    if not name or not _looks_like_name(name):
        return None
    return name, email


def _looks_like_name(name: str) -> bool:
    tokens = name.split()
    if not 1 <= len(tokens) <= 5 or tokens[0][:1].islower():
        return False
    for token in tokens:
        if any(ch.isdigit() for ch in token) or fold(token) in NAME_STOPWORDS:
            return False
        if token[:1].islower() and token not in NAME_PARTICLES:
            return False  # "Powered by Greenhouse" is prose, "Ludwig van Beethoven" a name
        if not all(ch.isalpha() or ch in ".'’-\u200c" for ch in token):
            return False
    return True


def listed_people(description: str) -> list[ListedPerson]:
    if not description:
        return []
    lines = _description_lines(description)
    found: list[ListedPerson] = []
    host = ZOOM_HOST.match(lines[0]) if lines else None
    if host is not None:  # Zoom's own invitation text names the host: match only
        parsed = _parse_item(host.group("name"))
        if parsed is not None:
            found.append(ListedPerson(parsed[0], parsed[1], strong=False))
    i = 0
    while i < len(lines) and len(found) < MAX_LIST_ITEMS:
        match = LABEL.match(lines[i].strip())
        i += 1
        if match is None:
            continue
        strong = WEAK_LABEL.match(match.group("label")) is None
        rest = PARENS.sub(" ", match.group("rest")).strip()
        if rest:
            items = [p for p in INLINE_SPLIT.split(rest) if p.strip()]
            for item in items[:MAX_LIST_ITEMS]:
                parsed = _parse_item(item)
                if parsed is not None:
                    found.append(ListedPerson(parsed[0], parsed[1], strong))
            continue
        # One entry per line, until a blank run, another heading, or (for an
        # interviewer list) a line that is not a person. A schedule mixes people
        # with "Lunch" and "Break": it skips those lines instead.
        blanks = scanned = got = 0
        while i < len(lines) and scanned < 2 * MAX_LIST_ITEMS and blanks < 3:
            line = lines[i].strip()
            if not line:
                blanks += 1
                i += 1
                continue
            if LABEL.match(line) or HEADING.fullmatch(line) or len(line) > 160:
                break
            blanks = 0
            scanned += 1
            parsed = _parse_item(line)
            if parsed is None:
                if strong and (got or scanned > 2):
                    break
            else:
                got += 1
                found.append(ListedPerson(parsed[0], parsed[1], strong))
            i += 1
    return found[:MAX_LIST_ITEMS]


_TRANSLIT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "ae", "Ö": "oe", "Ü": "ue", "ß": "ss", "ø": "oe",
     "Ø": "oe", "å": "aa", "Å": "aa", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "þ": "th",
     "đ": "d", "ł": "l", "Ł": "l"}
)  # fmt: skip


def _token_variants(name: str) -> list[list[str]]:
    """A name's folded tokens, plus the German/Nordic spelling used in addresses
    ("Schäfer" -> "schafer" and "schaefer")."""
    out: list[list[str]] = []
    for text in (name, name.translate(_TRANSLIT)):
        tokens = [t for t in (alnum(t) for t in text.split()) if t]
        if tokens and tokens not in out:
            out.append(tokens)
    return out


@dataclass(frozen=True)
class MatchKeys:
    """What an attendee is matched on: folded name tokens and address local part."""

    email: str
    name: tuple[str, ...]
    local: str


def match_keys(att: Attendee, att_name: str) -> MatchKeys:
    tokens = tuple(t for t in (alnum(t) for t in att_name.split()) if t)
    return MatchKeys(att.email, tokens, alnum(local_part(att.email)))


def _score(tokens: list[str], keys: MatchKeys) -> int:
    theirs = keys.name
    if theirs:
        if list(theirs) == tokens or sorted(theirs) == sorted(tokens):
            return 4
        same_ends = (theirs[0], theirs[-1]) == (tokens[0], tokens[-1])
        if len(tokens) >= 2 and len(theirs) >= 2 and same_ends:
            return 3
    local = keys.local
    if not local:
        return 0
    first, last = tokens[0], tokens[-1]
    if len(tokens) >= 2:
        if local in ("".join(tokens), first + last, last + first):
            return 3
        initials = first[0] + "".join(t[0] for t in tokens[1:-1]) + last
        if local in (first[0] + last, first + last[0], last + first[0], initials):
            return 2
        if local in (first, last):
            return 1
        return 0
    return 1 if len(first) >= 3 and local.startswith(first) else 0


def assign_listed(listed: list[ListedPerson], atts: list[MatchKeys]) -> dict[int, int]:
    """Listed index -> attendee index, best matches first; a weak match (score 1)
    only when it is the only candidate on both sides."""
    pairs: list[tuple[int, int, int]] = []
    for li, person in enumerate(listed):
        variants = _token_variants(person.name)
        for ai, keys in enumerate(atts):
            if person.email and person.email == keys.email:
                score = 5
            else:
                score = max((_score(v, keys) for v in variants), default=0)
            if score:
                pairs.append((score, li, ai))
    per_listed = Counter(li for _, li, _ in pairs)
    per_att = Counter(ai for _, _, ai in pairs)
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    result: dict[int, int] = {}
    used: set[int] = set()
    for score, li, ai in pairs:
        if li in result or ai in used:
            continue
        if score == 1 and (per_listed[li] != 1 or per_att[ai] != 1):
            continue
        result[li] = ai
        used.add(ai)
    return result


def recipients_and_interviewers(
    present: list[tuple[Attendee, str]],
    named: list[tuple[Attendee, str]],
    description: str,
) -> tuple[list[Person], list[Person]]:
    """Recipients (the external humans present, named from the attendee list, else
    from an interviewer list) and interviewers (the recipients, then the people an
    interviewer list names who match no attendee)."""
    listed = listed_people(description)
    assignment = assign_listed(listed, [match_keys(a, n) for a, n in named]) if listed else {}
    from_list: dict[str, str] = {}
    for li, ai in assignment.items():
        att = named[ai][0]
        if att.email not in from_list:
            from_list[att.email] = listed[li].name

    recipients: list[Person] = []
    for att, name in present:
        name = name or from_list.get(att.email, "")
        recipients.append(Person(att.email, name, first_name_of(name)))
    interviewers = list(recipients)
    seen_names = {alnum(p.name) for p in recipients if p.name}
    for li, person in enumerate(listed):
        key = alnum(person.name)
        if li in assignment or not person.strong or not key or key in seen_names:
            continue
        seen_names.add(key)
        interviewers.append(Person("", person.name, first_name_of(person.name)))
    return recipients, interviewers
