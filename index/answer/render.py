"""Answers as plain text (the terminal chat, ``ask``) and as JSON (``ask --json``), and the wording both front ends
share. The bot renders the same pieces (``excerpts.py``) as Telegram HTML.

Plain text: the answer first, its marked span as ``**…**``, with ``[n]`` markers; then each cited article once
(title, outlet, date, URL) with the context around its quoted sentences, the quoted sentences as ``_…_``.
"""

from __future__ import annotations

from collections.abc import Iterable

from index.answer.excerpts import ELLIPSIS, CitedArticle, Piece, answer_sentences, cited_articles, first_mark
from index.answer.stories import readable_date
from index.records import Answer, Citation

NOT_FOUND = "I could not find this in my articles."


def source_details(citation: Citation) -> list[str]:
    """The outlet, the date and where else the story appeared, as separate phrases."""
    details = [part for part in (citation.source, citation.published[:10]) if part]
    if citation.also_in:
        details.append("also in: " + ", ".join(citation.also_in))
    return details


def citation_heading(citation: Citation) -> str:
    """ "Title — Outlet, 14 Nov 2019" with whatever of these the article has."""
    details = ", ".join(source_details(citation))
    title = citation.title or citation.article_id
    return f"{title} — {details}" if details else title


def markers(numbers: Iterable[int]) -> str:
    """ "[1][3]": the citation numbers that point to one article."""
    return "".join(f"[{number}]" for number in numbers)


def answer_notes(answer: Answer) -> list[str]:
    """Sentences about time that go under the answer: the time frame asked about, and "as of"."""
    notes = []
    if answer.timeframe:
        start, _, end = answer.timeframe.partition(" – ")
        span = readable_date(start) if start == end else f"{readable_date(start)} – {readable_date(end)}"
        notes.append(
            f"From articles of {span}."
            if answer.timeframe_matched
            else f"No article from {span} matched; these are from any date."
        )
    if answer.as_of:
        notes.append(f"As of {readable_date(answer.as_of)}, the newest of these sources.")
    return notes


def _plain(pieces: Iterable[Piece], stress: str) -> str:
    return "".join(f"{stress}{text}{stress}" if stressed else text for text, stressed in pieces)


def _article_as_text(article: CitedArticle) -> list[str]:
    lines = [f"{markers(article.numbers)} {citation_heading(article.citation)}"]
    if article.link:
        lines.append(f"    {article.link}")
    lines += [f"    “{_plain(excerpt, '_')}”" for excerpt in article.excerpts]
    return lines


def answer_as_text(answer: Answer) -> str:
    """The answer with its marked span in ``**`` and numbered markers, then each cited article once with the
    context of its quotes (or, when the articles do not answer, the closest passages)."""
    if answer.found:
        lead = " ".join(f"{_plain(pieces, '**')} [{number}]" for pieces, number in answer_sentences(answer))
    else:
        lead = NOT_FOUND
    lines = [lead, *answer_notes(answer)]
    if answer.citations:
        lines += ["", "Sources:" if answer.found else "Closest passages:"]
    for number, article in enumerate(cited_articles(answer)):
        lines += ([""] if number else []) + _article_as_text(article)
    return "\n".join(lines)


def _mark_json(answer: Answer, index: int) -> dict | None:
    mark = first_mark(answer, index)
    if mark is None:
        return None
    start, end = mark
    return {"start": start, "end": end, "text": answer.sentences[index][0][start:end]}


def answer_as_json(answer: Answer, seconds: float | None = None) -> dict:
    """The answer as a JSON object: ``question``, ``found``, ``sentences`` (text, citation number, the typed span
    as ``mark`` {start, end, text} or null, the sentence's score), ``citations`` and ``seconds`` to answer."""
    score_of = {citation.number: citation.score for citation in answer.citations}
    sentences = [
        {
            "text": text,
            "citation": number,
            "mark": _mark_json(answer, index),
            "score": round(float(score_of[number]), 6) if number in score_of else None,
        }
        for index, (text, number) in enumerate(answer.sentences)
    ]
    citations = [
        {
            "n": c.number,
            "article_id": c.article_id,
            "title": c.title,
            "source": c.source,
            "published": c.published,
            "url": c.url,
            "quote": c.quote,
            "start": c.start,
            "end": c.end,
            "also_in": list(c.also_in),
        }
        for c in answer.citations
    ]
    return {
        "question": answer.question,
        "found": answer.found,
        "sentences": sentences,
        "citations": citations,
        "seconds": None if seconds is None else round(seconds, 3),
    }


__all__ = [
    "ELLIPSIS",
    "NOT_FOUND",
    "CitedArticle",
    "answer_as_json",
    "answer_as_text",
    "answer_notes",
    "answer_sentences",
    "cited_articles",
    "citation_heading",
    "markers",
    "source_details",
]
