"""Plain-text rendering of answers, for the terminal, and the wording both front ends share.

The bot renders the same Answer as Telegram HTML from these same pieces.
"""

from __future__ import annotations

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


def answer_as_text(answer: Answer) -> str:
    """The answer with numbered markers, then its numbered sources with their quotes."""
    lines = [answer.text if answer.found else NOT_FOUND, *answer_notes(answer)]
    heading = "Sources:" if answer.found else ("Closest passages:" if answer.citations else "")
    if heading:
        lines += ["", heading]
    for citation in answer.citations:
        lines.append(f"[{citation.number}] {citation_heading(citation)}")
        if citation.url:
            lines.append(f"    {citation.url}")
        lines.append(f"    “{' '.join(citation.quote.split())}”")
    return "\n".join(lines)
