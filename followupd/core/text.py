"""Text hygiene for hostile input: one place for what every room needs.

Event titles, attendee names and descriptions come from strangers. Whatever reaches a
mail header, a line of a note or the user's terminal goes through one of these:

- `single_line`: one line (every kind of break collapsed), no control characters,
  lone surrogates or bidi overrides, optionally shortened with "…";
- `header_text`: `single_line`, and no text an RFC 2047 decoder would expand;
- `normalize_text`: a body with "\\n" line ends and no control characters but tab;
- `clean_line`: like `single_line` for detection, which also drops format and
  unassigned characters (ZWNJ, part of Persian spelling, stays);
- `terminal_safe`: no escape sequences or bidi overrides for the terminal;
- `shorten`: at most `limit` characters, cut at a word where that reads better.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

__all__ = [
    "clean_line",
    "has_letter",
    "header_text",
    "normalize_text",
    "shorten",
    "single_line",
    "terminal_safe",
    "unsafe_char",
]

# Bidi embeddings, overrides and isolates: a display name must not reorder the
# text around it ("Trojan source"). LRM/RLM and ZWJ (emoji sequences) stay.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SPACES = re.compile(r"\s+")
_TERMINAL_CONTROL = dict.fromkeys(
    [*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0),
     0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)  # fmt: skip


def unsafe_char(ch: str) -> bool:
    """A control character, lone surrogate, bidi override or byte-order mark."""
    category = unicodedata.category(ch)
    return category in ("Cc", "Cs") or ch in _BIDI_CONTROLS or ch == "\ufeff"


def shorten(value: str, limit: int) -> str:
    """`value` cut to at most `limit` characters, ending in "…", at a space when one
    lies in the second half of the cut."""
    if len(value) <= limit:
        return value
    cut = value[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def single_line(value: str, limit: int | None = None) -> str:
    """`value` made safe for one header or one line of text.

    Every kind of line break and run of whitespace becomes one space, control
    characters, lone surrogates and bidi overrides are dropped, and the result is
    cut at `limit` characters (ending in "…") when a limit is given.
    """
    value = " ".join(value.split())  # str.split() knows CR, LF, VT, FF, NEL, U+2028/9, ...
    if any(unsafe_char(ch) for ch in value):
        value = " ".join("".join(ch for ch in value if not unsafe_char(ch)).split())
    return value if limit is None else shorten(value, limit)


def header_text(value: str, limit: int | None = None) -> str:
    """`single_line`, and a text that cannot be taken for an RFC 2047 encoded word.

    The email package decodes "=?charset?q?...?=" wherever it finds it, even in a
    quoted display name, and would write what it decoded (a CR, LF or NUL
    included) into the header. A zero-width space after "=" keeps such text
    literal; the reader sees the same characters.
    """
    return single_line(value, limit).replace("=?", "=\u200b?")


def normalize_text(value: str) -> str:
    """A text body with "\\n" line ends only, no control characters but tab, no
    trailing spaces (except in a "-- " signature separator), ending in one newline."""
    lines = []
    for line in value.splitlines():
        if any(unsafe_char(ch) and ch != "\t" for ch in line):
            line = "".join(ch for ch in line if ch == "\t" or not unsafe_char(ch))
        lines.append(line if line == "-- " else line.rstrip())
    return "\n".join(lines).strip("\n") + "\n"


def clean_line(text: str, drop: Callable[[str, str], bool] | None = None) -> str:
    """Control and line-break characters -> space; bidi/format/unassigned dropped
    (ZWNJ stays), and whatever `drop(char, category)` says; whitespace collapsed."""
    out: list[str] = []
    for ch in text:
        if ch.isspace():
            out.append(" ")
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Zl", "Zp"):
            out.append(" ")
        elif ch == "\u200c":  # ZWNJ is part of Persian spelling
            out.append(ch)
        elif cat in ("Cs", "Co", "Cn", "Cf") or (drop is not None and drop(ch, cat)):
            continue
        else:
            out.append(ch)
    return _SPACES.sub(" ", "".join(out)).strip()


def has_letter(text: str) -> bool:
    return any(unicodedata.category(ch).startswith("L") for ch in text)


def terminal_safe(text: str) -> str:
    """Event data is hostile: no escape sequences or bidi overrides reach the terminal."""
    return text.translate(_TERMINAL_CONTROL)
