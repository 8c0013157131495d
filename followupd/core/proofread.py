"""Proofreading a rendered follow-up before it becomes a draft. Pure (no I/O).

Findings (core.model.Finding, none blocking; a template that cannot render
raises templates.TemplateProblem instead):

- `no_thanks`: the note never thanks them (thank, thanks, grateful, appreciate...).
- `no_detail`: no notes about the conversation, so nothing in it is specific.
- `too_long`: the text part is over `max_words`. Words are counted up to a
  signature separator line "-- " (RFC 3676) when there is one: a multi-line
  signature block should not push a short note over the limit. The sign-off of
  the built-in templates is counted (they use no separator).
- `spelling`: a word pyspellchecker's English dictionary does not know (British
  spellings such as "colour" or "organise" are accepted). Taken as correct: the
  user's word list (drafts.words), every word of the event's names, company,
  role, title and location and of the profile (`context_names`), URLs, email
  addresses, anything with a digit, ALL-CAPS acronyms, one-letter words and
  words over 30 letters (not words). At most five are listed, then a count.
- `repeated_word`: the same word twice in a row ("the the"; "had had",
  "that that" and known names such as "Bora Bora" are fine).

A finding's message says what to do and quotes at most the offending word.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from followupd.core.model import Finding

if TYPE_CHECKING:
    from spellchecker import SpellChecker

    from followupd.core.templates import Rendered

__all__ = ["MAX_SPELLING_FINDINGS", "count_words", "proofread"]

MAX_SPELLING_FINDINGS = 5
_MAX_WORD = 30
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_THANKS = re.compile(
    r"\b(?:thank|thanks|thanked|thankful|grateful|gratitude|appreciate[ds]?|appreciation)\b",
    re.IGNORECASE,
)
_REPEATED = re.compile(r"(?<![\w'])([^\W\d_]+)\s+\1(?![\w'])", re.IGNORECASE)
_FINE_TWICE = frozenset({"had", "that"})
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
# (British ending, American ending): accept a word whose American form is known.
_BRITISH = (
    ("isation", "ization"),
    ("isations", "izations"),
    ("ise", "ize"),
    ("ised", "ized"),
    ("ises", "izes"),
    ("ising", "izing"),
    ("yse", "yze"),
    ("ysed", "yzed"),
    ("ysing", "yzing"),
    ("our", "or"),
    ("ours", "ors"),
    ("oured", "ored"),
    ("ouring", "oring"),
    ("ourite", "orite"),
    ("ourites", "orites"),
    ("tre", "ter"),
    ("tres", "ters"),
    ("ogue", "og"),
    ("ogues", "ogs"),
    ("ence", "ense"),
    ("lled", "led"),
    ("lling", "ling"),
    ("ller", "ler"),
    ("llers", "lers"),
)


@functools.cache
def _checker() -> SpellChecker:
    """Built on first use (loading the dictionary takes ~0.1 s)."""
    from spellchecker import SpellChecker

    return SpellChecker(language="en", distance=1)


def release_dictionary() -> None:
    """Drop the dictionary (about 37 MiB): a long-running daemon proofreads a few
    drafts a day and should not carry it in between."""
    _checker.cache_clear()


def _chunks(text: str) -> Iterable[str]:
    """Whitespace-separated pieces worth spell-checking."""
    for chunk in text.split():
        lowered = chunk.lower()
        if "@" in chunk or "://" in chunk or lowered.startswith("www."):
            continue
        if any(ch.isdigit() for ch in chunk):
            continue
        yield chunk


def _words(text: str) -> Iterable[str]:
    text = unicodedata.normalize("NFC", text).translate(_APOSTROPHES)
    for chunk in _chunks(text):
        yield from _WORD.findall(chunk)


def _strip_possessive(word: str) -> str:
    if word.endswith("'s"):
        return word[:-2]
    return word.rstrip("'")


def _vocabulary(values: Iterable[str]) -> set[str]:
    known: set[str] = set()
    for value in values:
        for word in _WORD.findall(unicodedata.normalize("NFC", value).translate(_APOSTROPHES)):
            key = word.lower()
            known.add(key)
            known.add(_strip_possessive(key))
    return known


def _in_dictionary(key: str, checker: SpellChecker) -> bool:
    if key in checker:
        return True
    bare = _strip_possessive(key)
    if bare != key and bare in checker:
        return True
    for british, american in _BRITISH:
        stem = bare[: -len(british)]
        if bare.endswith(british) and len(stem) > 1 and stem + american in checker:
            return True
    return False


def _suggestion(key: str, checker: SpellChecker) -> str | None:
    if len(key) > 15:
        return None
    guess = checker.correction(key)
    return guess if isinstance(guess, str) and guess != key else None


def _spelling(text: str, known: set[str]) -> list[Finding]:
    checker = _checker()
    seen: set[str] = set()
    unknown: list[str] = []
    for word in _words(text):
        if len(word) < 2 or len(word) > _MAX_WORD or word.isupper():
            continue
        key = word.lower()
        if key in seen:
            continue
        seen.add(key)
        if key in known or _strip_possessive(key) in known or _in_dictionary(key, checker):
            continue
        unknown.append(word)
    findings = []
    for word in unknown[:MAX_SPELLING_FINDINGS]:
        guess = _suggestion(word.lower(), checker)
        hint = f" (did you mean “{guess}”?)" if guess else ""
        findings.append(
            Finding(
                code="spelling",
                message=f"Check the spelling of “{word}”{hint}; "
                "if it is right, add it to drafts.words",
            )
        )
    rest = len(unknown) - MAX_SPELLING_FINDINGS
    if rest > 0:
        findings.append(
            Finding(
                code="spelling",
                message=f"{rest} more words look misspelt: check the draft's spelling in Gmail",
            )
        )
    return findings


def _repeated(text: str, known: set[str]) -> list[Finding]:
    findings = []
    seen: set[str] = set()
    for match in _REPEATED.finditer(text):
        word = match.group(1)
        key = word.lower()
        if key in _FINE_TWICE or key in seen or key in known or len(word) > _MAX_WORD:
            continue
        seen.add(key)
        findings.append(
            Finding(
                code="repeated_word",
                message=f"“{word}” appears twice in a row: delete one",
            )
        )
    return findings


def count_words(text: str) -> int:
    """Words of a text body up to a "-- " signature separator line."""
    lines = text.split("\n")
    if "-- " in lines:
        lines = lines[: lines.index("-- ")]
    return sum(1 for token in "\n".join(lines).split() if any(ch.isalnum() for ch in token))


def proofread(
    rendered: Rendered,
    *,
    known_words: Iterable[str],
    max_words: int,
    notes: Sequence[str],
    context_names: Iterable[str] = (),
    followup_id: str = "ID",
) -> list[Finding]:
    """Findings for a rendered note, most important first (see the module doc).

    `known_words`: the user's word list (drafts.words). `context_names`: strings
    from the event and the profile (context.context_words gives them).
    `followup_id` makes the no_detail advice a command that can be pasted.
    """
    findings: list[Finding] = []
    if not _THANKS.search(rendered.text):
        findings.append(
            Finding(
                code="no_thanks",
                message="The note never says thank you: open it with thanks "
                "for their time and the conversation",
            )
        )
    if not any(note.strip() for note in notes):
        findings.append(
            Finding(
                code="no_detail",
                message="No notes about the conversation: add one with "
                f"`followupd note {followup_id} TEXT` so the note refers to something specific",
            )
        )
    words = count_words(rendered.text)
    if words > max_words:
        findings.append(
            Finding(
                code="too_long",
                message=f"The note has {words} words, over the limit of {max_words} "
                "(drafts.max_words): shorten it so it reads at a glance",
            )
        )
    known = _vocabulary([*known_words, *context_names])
    findings += _spelling(f"{rendered.subject}\n{rendered.text}", known)
    repeated = _repeated(rendered.subject, known) + _repeated(rendered.text, known)
    findings += list({finding.message: finding for finding in repeated}.values())
    return findings
