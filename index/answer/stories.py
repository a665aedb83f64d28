"""Answers that know their sources: one citation per republished story, dates and time frames."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from index.records import Answer, Article, SearchHit
from index.text.timeframes import Timeframe

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def collapse_copies(hits: list[SearchHit], story_of: dict[str, str]) -> list[SearchHit]:
    """Keep the chunks of the best-ranked article of each story; its copies add nothing new."""
    representative: dict[str, str] = {}
    kept = []
    for hit in hits:
        story = story_of.get(hit.article_id, hit.article_id)
        if representative.setdefault(story, hit.article_id) == hit.article_id:
            kept.append(hit)
    return kept


def restrict_to(hits: list[SearchHit], timeframe: Timeframe) -> tuple[list[SearchHit], bool]:
    """The hits published within the time frame, or all of them (and False) when none is."""
    inside = [hit for hit in hits if timeframe.contains(hit.published)]
    return (inside, True) if inside else (hits, False)


def annotate(answer: Answer, copies: dict[str, list[Article]], timeframe: Timeframe | None, matched: bool) -> Answer:
    """Add where else each cited story appeared, the newest date among sources, and the time frame."""
    citations = [
        replace(citation, also_in=_other_outlets(citation.source, copies.get(citation.article_id, [])))
        for citation in answer.citations
    ]
    dates = sorted({citation.published[:10] for citation in citations if citation.published})
    return replace(
        answer,
        citations=citations,
        as_of=dates[-1] if answer.found and len(dates) > 1 else "",
        timeframe=f"{timeframe.start} – {timeframe.end}" if timeframe else "",
        timeframe_matched=matched,
    )


def _other_outlets(cited_outlet: str, copies: list[Article]) -> tuple[str, ...]:
    outlets = []
    for copy in copies:
        outlet = copy.source or copy.url or copy.id
        if outlet != cited_outlet and outlet not in outlets:
            outlets.append(outlet)
    return tuple(outlets)


def readable_date(iso: str) -> str:
    """ "2019-11-14" -> "14 Nov 2019"; anything unreadable is returned as it is."""
    try:
        day = dt.date.fromisoformat(iso[:10])
    except ValueError:
        return iso
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
