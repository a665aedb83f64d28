"""Split article text into sentences and pack them into token-bounded chunks with exact spans.

Every span is a pair of character offsets into the article text, so a chunk (and any
quote taken from it) can always be found again with ``text[start:end]``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from index.errors import ArticleError
from index.records import Article, Chunk

Span = tuple[int, int]

_LINE = re.compile(r"[^\n\r\u2028\u2029]+")
# End marks, then closing quotes or brackets, then whitespace or the end of the line.
_END = re.compile(r"([.!?؟…]+)[\"'»”’)\]}›]*(?=\s|\Z)")
_CLAUSE = re.compile(r"[،؛;]|,(?=\s)")
_WORD = re.compile(r"\S+")
_OPENERS = "\"'«“‘([{‹"
# Words that end with a period without ending the sentence. Titles and months are
# matched as written; the rest in any case.
_ABBREVIATIONS = frozenset(
    [
        "Mr",
        "Mrs",
        "Ms",
        "Dr",
        "Prof",
        "St",
        "Jr",
        "Sr",
        "Gen",
        "Col",
        "Lt",
        "Sgt",
        "Capt",
        "Maj",
        "Adm",
        "Brig",
        "Gov",
        "Sen",
        "Rep",
        "Rev",
        "Pres",
        "Mt",
        "Ft",
        "Co",
        "Corp",
        "Inc",
        "Ltd",
        "Jan",
        "Feb",
        "Mar",
        "Apr",
        "Jun",
        "Jul",
        "Aug",
        "Sep",
        "Sept",
        "Oct",
        "Nov",
        "Dec",
        "Fig",
        "Vol",
        "Dept",
    ]
)
_ABBREVIATIONS_ANY_CASE = frozenset(["e.g", "i.e", "etc", "vs", "approx", "cf", "al", "ca", "esp", "incl"])
_LETTERS_WITH_DOTS = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")  # U.S, e.g, a.m (the final dot is the mark)


def split_sentences(text: str) -> list[Span]:
    """Sentence spans of ``text`` in order, without surrounding whitespace.

    A sentence ends at ``. ! ? ؟ …`` (with any closing quote or bracket after the mark)
    and at every line break; decimals, URLs, initials and common abbreviations do not
    end a sentence.
    """
    spans: list[Span] = []
    for line in _LINE.finditer(text):
        start = line.start()
        for mark in _END.finditer(text, line.start(), line.end()):
            if _ends_sentence(text, mark, line.start(), line.end()):
                _append_trimmed(spans, text, start, mark.end())
                start = mark.end()
        _append_trimmed(spans, text, start, line.end())
    return spans


def _ends_sentence(text: str, mark: re.Match[str], line_start: int, line_end: int) -> bool:
    if set(mark.group(1)) & set("!?؟"):
        return True
    following = mark.end()
    while following < line_end and text[following].isspace():
        following += 1
    if following < line_end and text[following].islower():  # "approx. three", "and then... he left"
        return False
    if mark.group(1) != "." or mark.end(1) != mark.end():
        return True  # an ellipsis, or a period followed by a closing quote
    word_start = mark.start()
    while word_start > line_start and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start : mark.start()].lstrip(_OPENERS)
    if len(word) == 1 and word.isalpha():
        return False  # an initial: "J. Smith", "د. محمد"
    if word.isdigit() and not text[line_start:word_start].strip():
        return False  # a numbered list item: "1. First"
    return not (word in _ABBREVIATIONS or word.lower() in _ABBREVIATIONS_ANY_CASE or _LETTERS_WITH_DOTS.fullmatch(word))


def _append_trimmed(spans: list[Span], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append((start, end))


def _clause_spans(text: str, start: int, end: int) -> list[Span]:
    """``text[start:end]`` cut after each clause mark ``، ؛ , ;``."""
    spans: list[Span] = []
    cut = start
    for match in _CLAUSE.finditer(text, start, end):
        _append_trimmed(spans, text, cut, match.end())
        cut = match.end()
    _append_trimmed(spans, text, cut, end)
    return spans


def _word_spans(text: str, start: int, end: int) -> list[Span]:
    """The whitespace-separated words of ``text[start:end]``."""
    return [word.span() for word in _WORD.finditer(text, start, end)]


def _fitting_units(
    text: str, span: Span, tokens: int, count_tokens: Callable[[str], int], max_tokens: int, level: int = 0
) -> list[tuple[int, int, int]]:
    """``span`` as (start, end, tokens) units of at most ``max_tokens`` each.

    A span over the budget is cut at clause marks, then at whitespace, then (a single
    run without spaces) at character boundaries.
    """
    if tokens <= max_tokens:
        return [(span[0], span[1], tokens)]
    for depth, splitter in enumerate((_clause_spans, _word_spans)):
        if depth < level:
            continue
        parts = splitter(text, span[0], span[1])
        if len(parts) > 1:
            units = []
            for part in parts:
                part_tokens = count_tokens(text[part[0] : part[1]])
                units += _fitting_units(text, part, part_tokens, count_tokens, max_tokens, depth + 1)
            return units
    return _character_units(text, span, count_tokens, max_tokens)


def _character_units(
    text: str, span: Span, count_tokens: Callable[[str], int], max_tokens: int
) -> list[tuple[int, int, int]]:
    """The longest prefixes that fit, one after another; never cuts before a combining mark."""
    units = []
    start, end = span
    while start < end:
        fitting = _longest_fitting_prefix(text, start, end, count_tokens, max_tokens)
        if fitting is None:
            raise ArticleError(
                f"The character {text[start]!r} takes more than {max_tokens} tokens; raise the chunk size."
            )
        cut, tokens = fitting
        while start + 1 < cut < end and unicodedata.combining(text[cut]):
            cut -= 1
        if cut != fitting[0]:
            tokens = count_tokens(text[start:cut])
        units.append((start, cut, tokens))
        start = cut
    return units


def _longest_fitting_prefix(
    text: str, start: int, end: int, count_tokens: Callable[[str], int], max_tokens: int
) -> tuple[int, int] | None:
    """(cut, tokens) for the longest ``text[start:cut]`` within budget: doubling, then binary search."""
    best = None
    low, high, size = start + 1, end, max_tokens
    while True:  # double the length until it no longer fits, so a long run is never counted whole
        middle = min(end, start + size)
        tokens = count_tokens(text[start:middle])
        if tokens > max_tokens:
            high = middle - 1
            break
        best, low = (middle, tokens), middle + 1
        if middle == end:
            return best
        size *= 2
    while low <= high:
        middle = (low + high) // 2
        tokens = count_tokens(text[start:middle])
        if tokens <= max_tokens:
            best, low = (middle, tokens), middle + 1
        else:
            high = middle - 1
    return best


def chunk_article(
    article: Article, count_tokens: Callable[[str], int], max_tokens: int, overlap_tokens: int
) -> list[Chunk]:
    """Chunks of whole sentences, each at most ``max_tokens`` by ``count_tokens`` on its exact text.

    Consecutive chunks share the whole trailing sentences of the previous chunk that come
    nearest to ``overlap_tokens`` tokens (never more than half that chunk). A chunk that is
    at least half full ends at a paragraph break when the next paragraph would not fit
    whole. Sentences longer than the budget are cut into smaller units first.
    """
    if max_tokens < 1 or overlap_tokens < 0:
        raise ValueError(f"max_tokens must be >= 1 and overlap_tokens >= 0, not {max_tokens} and {overlap_tokens}")
    text = article.text
    units: list[tuple[int, int, int]] = []
    for span in split_sentences(text):
        units += _fitting_units(text, span, count_tokens(text[span[0] : span[1]]), count_tokens, max_tokens)
    paragraph = _paragraph_numbers(text, units)
    paragraph_tokens: dict[int, int] = {}
    for unit, number in zip(units, paragraph):
        paragraph_tokens[number] = paragraph_tokens.get(number, 0) + unit[2]

    chunks: list[Chunk] = []
    first = 0  # first unit of the chunk being built (overlap included)
    next_new = 0  # first unit not yet in any chunk
    while next_new < len(units):
        total = sum(unit[2] for unit in units[first : next_new + 1])
        while first < next_new and total > max_tokens:  # the overlap must leave room for new text
            total -= units[first][2]
            first += 1
        end = next_new + 1
        while end < len(units) and total + units[end][2] <= max_tokens:
            starts_paragraph = paragraph[end] != paragraph[end - 1]
            if starts_paragraph and 2 * total >= max_tokens and total + paragraph_tokens[paragraph[end]] > max_tokens:
                break
            total += units[end][2]
            end += 1
        first, end, total = _verified(text, units, first, next_new, end, count_tokens, max_tokens)
        start_char, end_char = units[first][0], units[end - 1][1]
        chunks.append(Chunk(article.id, len(chunks), start_char, end_char, text[start_char:end_char]))
        next_new = end
        first = _overlap_start(units, first, end, total, overlap_tokens)
    return chunks


def _paragraph_numbers(text: str, units: list[tuple[int, int, int]]) -> list[int]:
    """For each unit, the number of the paragraph (line) it belongs to."""
    numbers, number = [], 0
    for index, unit in enumerate(units):
        if index and "\n" in text[units[index - 1][1] : unit[0]]:
            number += 1
        numbers.append(number)
    return numbers


def _verified(
    text: str,
    units: list[tuple[int, int, int]],
    first: int,
    next_new: int,
    end: int,
    count_tokens: Callable[[str], int],
    max_tokens: int,
) -> tuple[int, int, int]:
    """Shrink ``units[first:end]`` until its exact text fits; returns (first, end, tokens)."""
    while True:
        tokens = count_tokens(text[units[first][0] : units[end - 1][1]])
        if tokens <= max_tokens:
            return first, end, tokens
        if end - 1 > next_new:
            end -= 1  # drop the last sentence, it goes to the next chunk
        elif first < next_new:
            first += 1  # drop overlap rather than new text
        else:
            raise ValueError(  # each unit was counted alone and fits, so count_tokens changed its mind
                f"count_tokens gave {tokens} tokens for a text it counted as {units[first][2]}; "
                "it must be deterministic"
            )


def _overlap_start(units: list[tuple[int, int, int]], first: int, end: int, tokens: int, overlap_tokens: int) -> int:
    """Where the next chunk starts: the trailing units of this one whose tokens come nearest
    to ``overlap_tokens`` without passing half of this chunk or covering all of it."""
    best, best_total = end, 0
    start, total = end, 0
    while total < overlap_tokens and start - 1 > first and 2 * (total + units[start - 1][2]) <= tokens:
        start -= 1
        total += units[start][2]
        if abs(total - overlap_tokens) < abs(best_total - overlap_tokens):
            best, best_total = start, total
    return best
