"""Hostile event titles never reach the terminal as escape sequences or markup."""

from __future__ import annotations

from followupd.core.text import terminal_safe


class TestTerminalSafe:
    """terminal_safe keeps text and line breaks, drops control and bidi characters."""

    def test_escape_sequences_are_removed(self) -> None:
        hostile = "Interview\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\ \x07\x9b2J"
        cleaned = terminal_safe(hostile)
        assert "\x1b" not in cleaned and "\x07" not in cleaned and "\x9b" not in cleaned
        assert cleaned.startswith("Interview")

    def test_bidi_overrides_are_removed_and_lines_kept(self) -> None:
        assert terminal_safe("a\u202eb\u2066c\nd\te") == "abc\nd\te"

    def test_plain_text_is_unchanged(self) -> None:
        text = "Entretien — Société Générale, 面接 🙂"
        assert terminal_safe(text) == text
