"""Title rules and tags: folding, `include` / `exclude` matching, `#followup`.

- Title words (`include` / `exclude`) are matched on the title only, never on the
  description (scheduler descriptions say "interview" in every meeting invite).
  Matching folds case and accents (NFKD, combining marks removed, casefold), treats
  runs of spaces, hyphens and underscores in a phrase as one flexible separator
  ("phone screen" matches "Phone-Screen" and "phonescreen"), and requires word
  boundaries. Scripts written without spaces (CJK, Hangul, Thai, Lao, Khmer,
  Myanmar) have no word boundaries: a rule edge in such a script needs no boundary
  (so "面接" matches inside "一次面接のご案内"), and a CJK neighbour never breaks the
  boundary of a Latin word ("Interviewのご案内" matches "interview"). Exclude wins
  over include. An empty `include` list means only `#followup` can make an interview.
- `#nofollowup` in the description beats `#followup` when both appear. The tags are
  case-insensitive, may be written `#follow-up` / `#no-followup`, and must stand
  alone (`#followups` is not the tag). They are looked for in the whole description.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from followupd.core.detect.vocabulary import FOLLOWUP_TAG, NO_SPACE_CHAR, SPACED_WORD
from followupd.core.text import clean_line


def fold(text: str) -> str:
    """Case- and accent-insensitive form: NFKD, casefold, combining marks removed."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold_map(text: str) -> tuple[str, list[int]]:
    """`fold(text)` plus, for each folded character, the index it came from."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        piece = fold(ch)
        out.append(piece)
        index.extend([i] * len(piece))
    return "".join(out), index


def original_span(index: list[int], start: int, end: int, length: int) -> tuple[int, int]:
    """A folded span -> the original span."""
    if start >= end:
        pos = index[start] if start < len(index) else length
        return pos, pos
    return index[start], index[end - 1] + 1


@lru_cache(maxsize=512)
def rule_pattern(word: str) -> re.Pattern[str] | None:
    pieces = [p for p in re.split(r"[\s\-_]+", fold(word).strip()) if p]
    if not pieces:
        return None
    body = r"[\s\-_]*".join(re.escape(p) for p in pieces)
    left = "" if NO_SPACE_CHAR.match(pieces[0][0]) else f"(?<!{SPACED_WORD})"
    right = "" if NO_SPACE_CHAR.match(pieces[-1][-1]) else f"(?!{SPACED_WORD})"
    return re.compile(left + body + right)


def match_rule(words: Iterable[str], text: str) -> str | None:
    """The first of `words` found in `text` (folded, on word boundaries), or None."""
    folded = fold(text)
    for word in words:
        pattern = rule_pattern(word) if isinstance(word, str) else None
        if pattern is not None and pattern.search(folded):
            return word
    return None


def quote_rule(word: str) -> str:
    """A rule word for the reason line (the user's own config, still kept tidy)."""
    return "'" + clean_line(word)[:40].replace("'", "") + "'"


def alnum(text: str) -> str:
    """Only the letters of `fold(text)`: what names and addresses are compared on."""
    return "".join(ch for ch in fold(text) if ch.isalpha())


def forcing_tag(description: str) -> bool | None:
    """True for `#followup`, False for `#nofollowup` (it wins when both appear), None
    when the description holds neither."""
    tags = {m.group(1) is not None for m in FOLLOWUP_TAG.finditer(description)}
    if True in tags:
        return False
    return True if False in tags else None
