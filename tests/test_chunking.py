"""Sentence splitting and token-bounded chunking with exact character spans."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from index.encoders.base import HashingEmbedder
from index.records import Article, Chunk
from index.text.chunking import chunk_article, split_sentences

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "articles" / "aljazeera-haftar-2019-11.txt"

words = HashingEmbedder().count_tokens


def chars(text: str) -> int:
    """A strict counter: every character is a token."""
    return len(text)


def chars_by_four(text: str) -> int:
    """Not additive: the count of a joined text can exceed the sum of its parts."""
    return math.ceil(len(text) / 4)


def newline_heavy(text: str) -> int:
    """Words, plus five tokens per newline: text between sentences costs extra."""
    return words(text) + 5 * text.count("\n")


COUNTERS = [words, chars, chars_by_four, newline_heavy]


def example_text() -> str:
    lines = EXAMPLE.read_text(encoding="utf-8").split("\n")
    return "\n".join(lines[1:-1]).strip()  # the body, without title and source line


def article(text: str) -> Article:
    return Article(id="a1", title="T", text=text)


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


def check_chunks(text: str, chunks: list[Chunk], count: Callable[[str], int], max_tokens: int) -> None:
    """The invariants every chunking must keep."""
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert all(c.article_id == "a1" for c in chunks)
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip() and chunk.text
        assert count(chunk.text) <= max_tokens
    for before, after in zip(chunks, chunks[1:]):
        assert before.start < after.start and before.end < after.end
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())


# Sentences ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four… Five", ["One.", "Two!", "Three?", "Four…", "Five"]),
        ("هل انتهى؟ نعم. ثم ماذا!", ["هل انتهى؟", "نعم.", "ثم ماذا!"]),
        ("قال: «هل انتهى؟» ثم صمت.", ["قال: «هل انتهى؟»", "ثم صمت."]),
        ("وصفها بأنها «خطوة مهمة». وأضاف أن الوفد غادر.", ["وصفها بأنها «خطوة مهمة».", "وأضاف أن الوفد غادر."]),
        ('قال "هل نعود؟" ثم غادر.', ['قال "هل نعود؟"', "ثم غادر."]),
        ("He said “Stop.” Then he left.", ["He said “Stop.”", "Then he left."]),
        ("(As reported.) Next one.", ["(As reported.)", "Next one."]),
        ("اجتمع الوفد، وناقش الأزمة؛ ثم غادر.", ["اجتمع الوفد، وناقش الأزمة؛ ثم غادر."]),
        ("They met, talked; then left. Done.", ["They met, talked; then left.", "Done."]),
        ("Mr. Smith met Dr. Jones at St. Paul's.", ["Mr. Smith met Dr. Jones at St. Paul's."]),
        ("The U.S. envoy arrived. He spoke.", ["The U.S. envoy arrived.", "He spoke."]),
        ("Fruit, e.g. apples, etc. are sold. Next.", ["Fruit, e.g. apples, etc. are sold.", "Next."]),
        ("It rose 3.5 percent in Jan. 2020. It fell.", ["It rose 3.5 percent in Jan. 2020.", "It fell."]),
        ("J. Smith and J. R. R. Tolkien wrote.", ["J. Smith and J. R. R. Tolkien wrote."]),
        ("التقى د. محمد بالوفد. ثم غادر.", ["التقى د. محمد بالوفد.", "ثم غادر."]),
        (
            "Read https://example.com/a.b?c=1&d=2.5 now. Then stop.",
            ["Read https://example.com/a.b?c=1&d=2.5 now.", "Then stop."],
        ),
        ("Wait... what happened? Nothing.", ["Wait... what happened?", "Nothing."]),
        ("It grew approx. three times.", ["It grew approx. three times."]),
        ("ارتفع بنسبة 3.5% أمس. وانخفض اليوم.", ["ارتفع بنسبة 3.5% أمس.", "وانخفض اليوم."]),
        ("Title\nFirst line. Second\n\n\nThird", ["Title", "First line.", "Second", "Third"]),
        ("1. First item\n2. Second item", ["1. First item", "2. Second item"]),
        ("  padded.  \r\n\t next  ", ["padded.", "next"]),
        ("   \n\t \xa0 \n", []),
        ("", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_sentence_spans_of_the_example_article() -> None:
    text = example_text()
    spans = split_sentences(text)
    assert len(spans) > 20
    for (_, end), (next_start, _) in zip(spans, spans[1:]):
        assert end <= next_start
    for start, end in spans:
        assert text[start:end] == text[start:end].strip() != ""
    assert any(text[s:e] == "محمد المنشاوي–واشنطن" for s, e in spans)
    assert any(text[s:e].endswith('للدوائر الأميركية".') for s, e in spans)


# Chunks -------------------------------------------------------------------------------


@pytest.mark.parametrize("count", COUNTERS, ids=lambda c: c.__name__)
@pytest.mark.parametrize(("max_tokens", "overlap"), [(200, 30), (60, 15), (20, 5), (8, 0)])
def test_example_article_chunks_keep_offsets_and_budget(
    count: Callable[[str], int], max_tokens: int, overlap: int
) -> None:
    if count is chars:
        max_tokens *= 6  # characters, not words
    text = example_text()
    chunks = chunk_article(article(text), count, max_tokens, overlap)
    assert len(chunks) > 1
    check_chunks(text, chunks, count, max_tokens)


def test_chunks_are_whole_sentences_when_sentences_fit() -> None:
    text = example_text()
    spans = split_sentences(text)
    starts, ends = {s for s, _ in spans}, {e for _, e in spans}
    longest = max(words(text[s:e]) for s, e in spans)
    for chunk in chunk_article(article(text), words, longest + 10, 10):
        assert chunk.start in starts and chunk.end in ends


def test_overlap_is_whole_trailing_sentences_at_most_half_the_chunk() -> None:
    text = " ".join(f"Sentence number {n} is here." for n in range(40))  # 5 words each
    chunks = chunk_article(article(text), words, 30, 10)
    check_chunks(text, chunks, words, 30)
    starts = {s for s, _ in split_sentences(text)}
    for before, after in zip(chunks, chunks[1:]):
        assert after.start < before.end  # overlap present
        assert after.start in starts
        shared = text[after.start : before.end]
        assert words(shared) == 10
        assert 2 * words(shared) <= words(before.text)


def test_overlap_is_nearest_whole_sentence_count() -> None:
    text = " ".join(f"Sentence {n} has exactly six words." for n in range(30))
    chunks = chunk_article(article(text), words, 40, 8)  # nearest to 8 is one sentence of 6
    for before, after in zip(chunks, chunks[1:]):
        assert words(text[after.start : before.end]) == 6


def test_no_overlap_when_zero() -> None:
    text = " ".join(f"Sentence number {n} is here." for n in range(40))
    chunks = chunk_article(article(text), words, 30, 0)
    check_chunks(text, chunks, words, 30)
    for before, after in zip(chunks, chunks[1:]):
        assert before.end < after.start


def test_chunks_end_at_paragraph_breaks_when_the_next_paragraph_fits_whole() -> None:
    paragraphs = [" ".join(f"P{p} sentence {n} here." for n in range(4)) for p in range(6)]  # 16 words each
    text = "\n\n".join(paragraphs)
    chunks = chunk_article(article(text), words, 40, 0)
    check_chunks(text, chunks, words, 40)
    for chunk in chunks:
        assert chunk.text in {"\n\n".join(paragraphs[i : i + 2]) for i in range(6)}


def test_giant_sentence_without_punctuation_is_cut_at_whitespace() -> None:
    text = " ".join(f"word{n}" for n in range(500))
    chunks = chunk_article(article(text), words, 50, 10)
    check_chunks(text, chunks, words, 50)
    assert len(chunks) >= 10
    assert all(c.text.split()[0].startswith("word") for c in chunks)  # cuts fall between words


def test_long_arabic_sentence_is_cut_at_clause_marks() -> None:
    clauses = [f"وقال المسؤول رقم {n} إن الوفد التقى حفتر" for n in range(12)]
    text = "، ".join(clauses) + "."
    chunks = chunk_article(article(text), words, 20, 0)
    check_chunks(text, chunks, words, 20)
    assert all(c.text.endswith("،") for c in chunks[:-1])
    assert chunks[-1].text.endswith(".")


def test_giant_token_run_is_cut_at_character_boundaries() -> None:
    text = "x" * 1000 + " tail."
    chunks = chunk_article(article(text), chars, 64, 0)
    check_chunks(text, chunks, chars, 64)
    assert "".join(c.text for c in chunks[:-1]) + chunks[-1].text.replace(" tail.", "") == "x" * 1000


def test_character_cuts_keep_arabic_marks_with_their_letter() -> None:
    text = "بِسْمِ" * 50  # letters with combining harakat, no spaces
    chunks = chunk_article(article(text), chars, 7, 0)
    check_chunks(text, chunks, chars, 7)
    assert all(not unicodedata.combining(c.text[0]) for c in chunks)


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t\xa0\n"])
def test_empty_or_whitespace_text_has_no_chunks(text: str) -> None:
    assert chunk_article(article(text), words, 50, 10) == []


def test_short_text_is_one_chunk() -> None:
    text = "  Delegates met.  "
    assert chunk_article(article(text), words, 50, 10) == [Chunk("a1", 0, 2, 16, "Delegates met.")]


def test_counts_each_sentence_once_and_each_chunk_once() -> None:
    calls: list[str] = []

    def counting(text: str) -> int:
        calls.append(text)
        return words(text)

    text = example_text()
    chunks = chunk_article(article(text), counting, 200, 30)
    assert len(calls) == len(split_sentences(text)) + len(chunks)


def test_overlong_chunk_from_a_non_additive_counter_drops_its_last_sentence() -> None:
    text = "\n".join(f"Line {n} has five words." for n in range(20))
    chunks = chunk_article(article(text), newline_heavy, 30, 0)
    check_chunks(text, chunks, newline_heavy, 30)
    assert all(newline_heavy(c.text) <= 30 for c in chunks)


@pytest.mark.parametrize(("max_tokens", "overlap"), [(0, 0), (10, -1)])
def test_bad_budget_is_a_programming_error(max_tokens: int, overlap: int) -> None:
    with pytest.raises(ValueError):
        chunk_article(article("Text."), words, max_tokens, overlap)


def test_giant_token_run_is_never_counted_whole() -> None:
    counted: list[int] = []

    def counting(text: str) -> int:
        counted.append(len(text))
        return chars(text)

    text = "x" * 20_000
    chunks = chunk_article(article(text), counting, 64, 0)
    check_chunks(text, chunks, chars, 64)
    assert max(counted[1:]) <= 128  # after the one count of the whole sentence
    assert len(counted) < 20 * len(chunks)
