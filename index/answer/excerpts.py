"""What the front ends show of an answer, independent of the format: the answer's sentences with the span
that answers a typed question stressed, and each cited article once with excerpts of its passages (the
quoted sentences stressed, in a window of context around them).

Plain text (``render.py``) and Telegram HTML (``bot/formatting.py``) render these same pieces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from index.records import Answer, Citation
from index.sources.article_checks import is_web_url
from index.text.chunking import split_sentences

CONTEXT_CHARS = 500  # characters of context shown around the quoted sentences of a passage, both sides together
ELLIPSIS = "…"

_SPACES = re.compile(r"\s+")
_BLANKS = re.compile(r"[^\S\n]+")
_LINE_SPACES = re.compile(r"\s*\n\s*")


class Piece(NamedTuple):
    """A run of text; ``stressed`` is the span answering a typed question in an answer sentence (bold in
    Telegram), or a quoted sentence inside its passage (italics)."""

    text: str
    stressed: bool = False


@dataclass(frozen=True)
class CitedArticle:
    """One article an answer cites, however many of its citations point to it."""

    numbers: tuple[int, ...]  # the citation numbers that refer to it, e.g. (1, 3)
    citation: Citation  # its first citation: title, outlet, date, URL
    excerpts: tuple[tuple[Piece, ...], ...]  # windows of its passages, each with context, not the quote alone

    @property
    def link(self) -> str:
        """The article's URL when it can be linked to (http or https, no spaces or control characters), else ""."""
        return self.citation.url if is_web_url(self.citation.url) else ""


def answer_sentences(answer: Answer) -> list[tuple[tuple[Piece, ...], int]]:
    """Each sentence of a found answer on one line, as pieces with its marked span stressed, and its citation number."""
    marks: dict[int, list[tuple[int, int]]] = {}
    for index, start, end in answer.marks:
        marks.setdefault(index, []).append((start, end))
    return [
        (_tidy(_split(text, marks.get(index, [])), keep_lines=False), number)
        for index, (text, number) in enumerate(answer.sentences)
    ]


def first_mark(answer: Answer, index: int) -> tuple[int, int] | None:
    """The first valid marked span of sentence ``index`` (offsets into its text), or None."""
    text = answer.sentences[index][0]
    spans = [(start, end) for i, start, end in answer.marks if i == index and 0 <= start < end <= len(text)]
    return min(spans) if spans else None


def cited_articles(answer: Answer, context_chars: int | None = CONTEXT_CHARS) -> list[CitedArticle]:
    """The cited articles in the order they are first cited, each once, with excerpts of its passages: the quoted
    sentences of a found answer stressed with ``context_chars`` of context around them, or (not found) the start
    of each closest passage; ``context_chars=None`` shows whole passages."""
    by_article: dict[str, list[Citation]] = {}
    for citation in sorted(answer.citations, key=lambda c: c.number):
        by_article.setdefault(citation.article_id, []).append(citation)
    return [
        CitedArticle(
            tuple(c.number for c in citations),
            citations[0],
            _excerpts(citations, answer.found, context_chars),
        )
        for citations in by_article.values()
    ]


def _excerpts(citations: list[Citation], found: bool, context_chars: int | None) -> tuple[tuple[Piece, ...], ...]:
    """One excerpt per distinct passage (in citation order), or per cluster of quotes far apart in a passage."""
    quotes_in: dict[str, list[tuple[int, int]]] = {}
    for citation in citations:
        passage = citation.passage or citation.quote
        spans = quotes_in.setdefault(passage, [])
        if found:
            at = passage.find(citation.quote.strip()) if citation.quote.strip() else -1
            if at >= 0:
                spans.append((at, at + len(citation.quote.strip())))
    excerpts = []
    for passage, spans in quotes_in.items():
        for window, stressed in _windows(passage, sorted(set(spans)), context_chars):
            pieces = _tidy(_excerpt_pieces(passage, window, stressed), keep_lines=context_chars is None)
            if context_chars is None or any(not p.stressed and p.text.strip(" " + ELLIPSIS) for p in pieces):
                excerpts.append(pieces)  # a window of the quote alone would only repeat the answer
    return tuple(excerpts)


def _windows(
    passage: str, spans: list[tuple[int, int]], context_chars: int | None
) -> list[tuple[tuple[int, int], list[tuple[int, int]]]]:
    """Windows of ``passage`` (start, end) each with the quoted spans inside it."""
    if context_chars is None:
        return [((0, len(passage)), spans)]
    clusters: list[list[tuple[int, int]]] = []
    for span in _merged(spans):
        if clusters and span[0] - clusters[-1][-1][1] <= context_chars:
            clusters[-1].append(span)
        else:
            clusters.append([span])
    if not clusters:
        return [(_window(passage, 0, 0, context_chars), [])]
    return [(_window(passage, cluster[0][0], cluster[-1][1], context_chars), cluster) for cluster in clusters]


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _window(passage: str, start: int, end: int, context_chars: int) -> tuple[int, int]:
    """``start:end`` widened by ``context_chars`` in all, half on each side (a side with less to show leaves the
    rest to the other), to the sentence boundaries inside that reach, else to a word boundary."""
    half = context_chars // 2
    room_before, room_after = start, len(passage) - end
    before, after = min(half, room_before), min(context_chars - half, room_after)
    before, after = min(room_before, context_chars - after), min(room_after, context_chars - before)
    earliest, latest = start - before, end + after
    sentences = split_sentences(passage)
    starts = [s for s, _ in sentences if earliest <= s < start]
    ends = [e for _, e in sentences if end < e <= latest]
    if earliest == 0:
        window_start = 0
    elif starts:
        window_start = min(starts)
    else:
        space = passage.find(" ", earliest, start)
        window_start = start if space < 0 else space + 1
    if latest == len(passage):
        window_end = latest
    elif ends:
        window_end = max(ends)
    else:
        space = passage.rfind(" ", end, latest)
        window_end = end if space < 0 else space
    return window_start, window_end


def _excerpt_pieces(passage: str, window: tuple[int, int], stressed: list[tuple[int, int]]) -> list[Piece]:
    start, end = window
    pieces = [Piece(ELLIPSIS)] if passage[:start].strip() else []
    pieces += _split(passage[start:end], [(a - start, b - start) for a, b in stressed])
    if passage[end:].strip():
        pieces.append(Piece(ELLIPSIS))
    return pieces


def _split(text: str, spans: list[tuple[int, int]]) -> list[Piece]:
    """``text`` as pieces, the valid non-overlapping ``spans`` stressed."""
    pieces, at = [], 0
    for start, end in sorted(spans):
        if not (at <= start < end <= len(text)):
            continue
        pieces += [Piece(text[at:start]), Piece(text[start:end], True)]
        at = end
    pieces.append(Piece(text[at:]))
    return pieces


def _tidy(pieces: list[Piece], keep_lines: bool) -> tuple[Piece, ...]:
    """Whitespace runs made one space (or one line break, with ``keep_lines``), none at either end, stressed
    pieces without spaces at their edges, empty pieces dropped."""
    tidy: list[Piece] = []
    for text, stressed in pieces:
        text = _LINE_SPACES.sub("\n", _BLANKS.sub(" ", text)) if keep_lines else _SPACES.sub(" ", text)
        if stressed:
            lead, core, trail = _edges(text)
            tidy += [Piece(lead), Piece(core, True), Piece(trail)]
        else:
            tidy.append(Piece(text))
    joined: list[Piece] = []
    for text, stressed in tidy:
        if joined and text[:1].isspace() and (joined[-1].text[-1:].isspace() or not any(p.text for p in joined)):
            text = text.lstrip()
        if text:
            joined.append(Piece(text, stressed))
    while joined and not joined[0].text.strip():
        joined.pop(0)
    while joined and not joined[-1].text.strip():
        joined.pop()
    if joined:
        joined[0] = Piece(joined[0].text.lstrip(), joined[0].stressed)
        joined[-1] = Piece(joined[-1].text.rstrip(), joined[-1].stressed)
    return tuple(joined)


def _edges(text: str) -> tuple[str, str, str]:
    core = text.strip()
    if not core:
        return text, "", ""
    lead = text[: len(text) - len(text.lstrip())]
    return lead, core, text[len(lead) + len(core) :]
