"""proofread: each finding, what counts as correct, and short actionable messages."""

from __future__ import annotations

import time

import pytest

from followupd.core.proofread import MAX_SPELLING_FINDINGS, count_words, proofread
from followupd.core.templates import Rendered

GOOD = "Hi Anna,\n\nThank you for your time today.\n\nBest regards,\nAda\n"


def check(
    text: str,
    *,
    subject: str = "Thank you",
    notes: tuple[str, ...] = ("x",),
    known: tuple[str, ...] = (),
    names: tuple[str, ...] = (),
    max_words: int = 200,
    followup_id: str = "ID",
) -> list[tuple[str, str]]:
    findings = proofread(
        Rendered(subject, text),
        known_words=known,
        max_words=max_words,
        notes=notes,
        context_names=names,
        followup_id=followup_id,
    )
    assert not any(f.blocking for f in findings)
    return [(f.code, f.message) for f in findings]


def codes(text: str, **kwargs: object) -> list[str]:
    return [code for code, _ in check(text, **kwargs)]  # type: ignore[arg-type]


class TestThanksAndDetail:
    """Gratitude and a specific detail are required."""

    def test_clean(self) -> None:
        assert check(GOOD) == []

    @pytest.mark.parametrize("word", ["Thanks", "grateful", "appreciate", "APPRECIATED", "thank"])
    def test_any_form_of_thanks(self, word: str) -> None:
        assert codes(f"Hi,\n\nI {word} it.\n") == []

    def test_no_thanks(self) -> None:
        findings = check("Hi Anna,\n\nGood talk.\n")
        assert [c for c, _ in findings] == ["no_thanks"]
        assert "thank" in findings[0][1].lower()

    def test_no_detail_message(self) -> None:
        findings = check(GOOD, notes=(" ",), followup_id="fu-42")
        assert findings == [
            (
                "no_detail",
                "No notes about the conversation: add one with `followupd note fu-42 TEXT` "
                "so the note refers to something specific",
            )
        ]


class TestLength:
    """Concise: the text part is counted up to a "-- " signature separator."""

    def test_too_long(self) -> None:
        text = "Thank you. " + "word " * 250
        findings = check(text)
        assert [c for c, _ in findings] == ["too_long", "repeated_word"]
        assert "252 words" in findings[0][1] and "200" in findings[0][1]

    def test_signature_block_not_counted(self) -> None:
        body = "Thank you so much. It was great.\n-- \n" + "sig line\n" * 100
        assert count_words(body) == 7
        assert codes(body, max_words=20) == []

    def test_punctuation_is_not_a_word(self) -> None:
        assert count_words("a – b — c & d\n") == 4


class TestSpelling:
    """Misspellings are found; names, acronyms, links and the user's words are not."""

    def test_misspelling_with_suggestion(self) -> None:
        findings = check("Thank you, I look forward to recieving news.\n")
        assert findings == [
            (
                "spelling",
                "Check the spelling of “recieving” (did you mean “receiving”?); "
                "if it is right, add it to drafts.words",
            )
        ]

    def test_subject_is_checked(self) -> None:
        assert codes(GOOD, subject="Thnak you") == ["spelling"]

    @pytest.mark.parametrize(
        "text",
        [
            "See https://exampel.com/pathh and www.exampel.org.",
            "Mail me at adaa@exampel.com.",
            "Our Q3 roadmapp2 had 10x growth.",
            "The NASA and GDPR and SRE work.",
            "I liked the colour, the organisation, the centre and the catalogue.",
            "I'm sure we'd agree it's the team's decision, isn't it?",
            "The on-call rota for the follow-up.",
            "Café is fine: “quoted” words, (brackets) and dashes – too.",
        ],
    )
    def test_not_flagged(self, text: str) -> None:
        assert codes(f"Thank you.\n{text}\n") == []

    def test_names_and_word_list_count_as_correct(self) -> None:
        text = "Thank you, Siobhán, for the talk about Kubernetes at Zalando's office.\n"
        assert len(codes(text)) == 3
        assert codes(text, names=("Siobhán O'Brien", "Zalando SE"), known=("kubernetes",)) == []

    def test_case_of_known_words_does_not_matter(self) -> None:
        assert (
            codes("Thank you.\nWe discussed JÜRGENS plan and jürgen's idea.\n", names=("Jürgen",))
            == []
        )

    def test_each_word_once_and_capped(self) -> None:
        text = "Thank you. " + " ".join(f"zzq{chr(97 + i)}xy" for i in range(12)) + " zzqaxy\n"
        findings = check(text)
        assert len(findings) == MAX_SPELLING_FINDINGS + 1
        assert findings[-1][1].startswith("7 more words")
        assert all(c == "spelling" for c, _ in findings)

    def test_message_quotes_only_the_word(self) -> None:
        secret = "the private note about salary negotiations with Mr Smithh"
        (finding,) = check(f"Thank you. {secret}.\n")
        assert finding[1].count("“Smithh”") == 1 and "salary" not in finding[1]

    def test_huge_text_is_quick(self) -> None:
        text = "Thank you. " + "qwxz " * 100_000 + " ".join(["alpha beta gamma"] * 60_000)
        started = time.perf_counter()
        findings = check(text, max_words=10**9)
        assert time.perf_counter() - started < 5
        assert [c for c, _ in findings] == ["spelling", "repeated_word"]


class TestRepeatedWords:
    """A word twice in a row is flagged once; "had had", "that that" and names are fine."""

    def test_repeated(self) -> None:
        findings = check("Thank you for the\nthe talk and and the time.\n")
        assert findings == [
            ("repeated_word", "“the” appears twice in a row: delete one"),
            ("repeated_word", "“and” appears twice in a row: delete one"),
        ]

    def test_case_blind(self) -> None:
        assert codes("Thank you. The the end.\n") == ["repeated_word"]

    @pytest.mark.parametrize(
        "text", ["He had had enough. I said that that was fine.", "Bora Bora", "the then", "a, a"]
    )
    def test_fine(self, text: str) -> None:
        assert codes(f"Thank you. {text}\n", names=("Bora",)) == []
