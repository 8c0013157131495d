"""Company, role and kind, read from the title (and the attendees' domains).

- Company: from the title (an "at X" clause, then a separate title part, then "for X",
  then text before the interview word, then "with X" unless X looks like a person);
  a "with X" guess loses to the attendees' domain unless they agree. Otherwise the
  most common external attendee domain, personal mail providers skipped. A title
  holding template syntax is not used for company or role.
- Kind: onsite words > "panel" > phone-screen words > at least 3 recipients (panel)
  > "interview".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from followupd.core.detect.people import (
    company_from_domain,
    domain_of,
    first_name_of,
    personal_domain,
)
from followupd.core.detect.rules import alnum, fold, fold_map, original_span, rule_pattern
from followupd.core.detect.vocabulary import (
    BAD_TEXT,
    CLAUSES,
    COMPANY_SUFFIX,
    KIND,
    LEADING_ARTICLE,
    NOISE,
    ONSITE,
    ORG_TRAILERS,
    PANEL,
    PARENS,
    PHONE,
    ROLE_ABBREVIATIONS,
    ROLE_STEMS,
    ROLE_TRAILERS,
    SEPARATORS,
    TEMPLATE_SYNTAX,
    TIMELIKE,
    TITLE_PREFIX,
    TITLE_SCAN,
)
from followupd.core.text import clean_line, has_letter


def _strip_piece(text: str) -> str:
    return text.strip(" .,;:!?-–—|/~*_()[]'\"")


def _acceptable(text: str) -> bool:
    if len(text) < 2 or len(text) > 60 or len(text.split()) > 6 or not has_letter(text):
        return False
    return BAD_TEXT.search(text) is None and NOISE.fullmatch(fold(text)) is None


def _role_like(text: str) -> bool:
    tokens = [alnum(t) for t in text.split()]
    if not tokens or len(tokens) > 8:
        return False
    return any(
        t in ROLE_ABBREVIATIONS or any(t.endswith(stem) for stem in ROLE_STEMS) for t in tokens
    )


def _tidy_role(text: str) -> str:
    text = ROLE_TRAILERS.sub("", _strip_piece(text))
    return _strip_piece(LEADING_ARTICLE.sub("", text))


def _known_person(text: str, people: set[str]) -> bool:
    """`text` names someone on the invite (full name, or starts with a first name)."""
    tokens = text.split()
    if " ".join(alnum(t) for t in tokens) in people:
        return True
    return 1 <= len(tokens) <= 3 and alnum(tokens[0]) in people


def _person_like(text: str, people: set[str]) -> bool:
    """Known, or shaped like a personal name ("Jane Doe"): for "with X" clauses."""
    if _known_person(text, people):
        return True
    tokens = text.split()
    if 2 <= len(tokens) <= 3 and all(t[:1].isupper() and t.isalpha() for t in tokens):
        return not any(COMPANY_SUFFIX.fullmatch(t) for t in tokens)
    return False


class TitleInfo:
    AT, SEGMENT, FOR, PRE, WITH = range(5)

    def __init__(self) -> None:
        self.companies: list[tuple[int, int, str]] = []
        self.roles: list[tuple[int, int, str]] = []

    def company(self, rank: int, text: str) -> None:
        stripped = _strip_piece(text)
        last = stripped.rsplit(" ", 1)[-1]
        if text.rstrip().endswith(".") and COMPANY_SUFFIX.fullmatch(last + "."):
            stripped += "."  # "Globex, Inc."
        text = re.sub(r"['’]s$", "", stripped)
        if _acceptable(text) and not _role_like(text):
            self.companies.append((rank, len(self.companies), text))

    def role(self, rank: int, text: str) -> None:
        text = _tidy_role(text)
        if _acceptable(text):
            self.roles.append((rank, len(self.roles), text))


def _pieces(title: str) -> list[str]:
    """Title parts between separators; "(Staff Engineer)" is a part of its own."""
    out: list[str] = []
    inner = [m.group(0)[1:-1] for m in PARENS.finditer(title)]
    for segment in [*SEPARATORS.split(PARENS.sub(" | ", title)), *inner]:
        parts = [p.strip() for p in segment.split(",")]
        merged: list[str] = []
        for part in parts:
            if merged and COMPANY_SUFFIX.fullmatch(part):
                merged[-1] = f"{merged[-1]}, {part}"
            elif part:
                merged.append(part)
        out.extend(merged)
    return out


def _kind_span(piece: str, include: Sequence[str]) -> tuple[int, int] | None:
    folded, index = fold_map(piece)
    best: tuple[int, int] | None = None
    patterns: list[re.Pattern[str]] = [KIND]
    patterns.extend(p for w in include if isinstance(w, str) and (p := rule_pattern(w)))
    for pattern in patterns:
        match = pattern.search(folded)
        if match and match.end() > match.start():
            span = original_span(index, match.start(), match.end(), len(piece))
            if best is None or span[0] < best[0] or (span[0] == best[0] and span[1] > best[1]):
                best = span
    return best


def _clauses(info: TitleInfo, text: str, people: set[str]) -> None:
    parts = CLAUSES.split(text)
    for k in range(1, len(parts) - 1, 2):
        prep, value = parts[k].lower(), _strip_piece(parts[k + 1])
        if not value or TIMELIKE.match(value):
            continue
        if prep in ("for", "für", "fur", "pour", "para", "por"):
            if _role_like(value):
                info.role(TitleInfo.FOR, value)
            elif not _known_person(value, people):
                info.company(TitleInfo.FOR, value)
        elif prep in ("at", "@", "bei", "chez"):
            if not _known_person(value, people):
                info.company(TitleInfo.AT, value)
        else:
            value = ORG_TRAILERS.sub("", LEADING_ARTICLE.sub("", value))
            if value and not _person_like(value, people):
                info.company(TitleInfo.WITH, value)


def title_info(summary: str, include: Sequence[str], people: set[str]) -> TitleInfo:
    info = TitleInfo()
    title = TITLE_PREFIX.sub("", clean_line(summary[: TITLE_SCAN * 2])[:TITLE_SCAN])
    if TEMPLATE_SYNTAX.search(title):
        return info  # a title carrying template syntax is not trusted for names
    for raw in _pieces(title):
        piece = raw.strip(" ,;:!?-–—|/~*_()[]'\"")
        if not piece:
            continue
        span = _kind_span(piece, include)
        if span is not None:
            pre, post = piece[: span[0]].strip(), piece[span[1] :].strip()
            if pre:
                if _role_like(pre):
                    info.role(TitleInfo.PRE, pre)
                elif not _known_person(pre, people):
                    info.company(TitleInfo.PRE, pre)
            if post:
                _clauses(info, post, people)
            continue
        clause = CLAUSES.search(piece)
        if clause is not None:
            _clauses(info, piece[clause.start() :], people)
            piece = piece[: clause.start()].strip()
            if not piece:
                continue
        if _role_like(piece):
            info.role(TitleInfo.SEGMENT, piece)
        elif not _known_person(piece, people):
            info.company(TitleInfo.SEGMENT, piece)
    return info


def pick_company(info: TitleInfo, domain_company: str) -> str:
    ranked = sorted(info.companies)
    for rank, _, text in ranked:
        if rank != TitleInfo.WITH:
            return text
        if not domain_company:
            return text
        a, b = alnum(text), alnum(domain_company)
        if a and b and (a in b or b in a):
            return text
    return domain_company


def kind_from_title(summary: str, recipients: int) -> str:
    title = fold(clean_line(summary[: TITLE_SCAN * 2]))
    if ONSITE.search(title):
        return "onsite"
    if PANEL.search(title):
        return "panel"
    if PHONE.search(title):
        return "phone_screen"
    if recipients >= 3:
        return "panel"
    return "interview"


def company_and_role(
    summary: str,
    include: Sequence[str],
    names: Iterable[str],
    external_emails: Iterable[str],
) -> tuple[str, str]:
    """The company and role: from the title, the company else from the most common
    external domain. `names` (everyone named on the invite) keep people's names out of
    the company."""
    people: set[str] = set()
    for name in names:
        if name:
            people.add(" ".join(alnum(t) for t in name.split()))
            people.add(alnum(first_name_of(name)))
    people.discard("")
    domains = Counter(
        domain_of(email) for email in external_emails if not personal_domain(domain_of(email))
    )
    domain_company = ""
    for domain, _ in domains.most_common():
        domain_company = company_from_domain(domain)
        if domain_company:
            break
    info = title_info(summary, include, people)
    company = pick_company(info, domain_company)
    role = min(info.roles)[2] if info.roles else ""
    return company, role
