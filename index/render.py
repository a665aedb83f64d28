"""Plain-text rendering of answers, for the terminal (the bot renders the same Answer as HTML)."""

from __future__ import annotations

from .answers import Answer, Citation

NOT_FOUND = "I could not find this in my articles."


def citation_heading(citation: Citation) -> str:
    """"Title — Outlet, 2019-11-14" with whatever of these the article has."""
    details = ", ".join(part for part in (citation.source, citation.published[:10]) if part)
    title = citation.title or citation.article_id
    return f"{title} — {details}" if details else title


def answer_as_text(answer: Answer) -> str:
    """The answer with numbered markers, then its numbered sources with their quotes."""
    lines = []
    if answer.found:
        lines.append(answer.text)
        heading = "Sources:"
    else:
        lines.append(NOT_FOUND)
        heading = "Closest passages:" if answer.citations else ""
    if heading:
        lines += ["", heading]
    for citation in answer.citations:
        lines.append(f"[{citation.number}] {citation_heading(citation)}")
        if citation.url:
            lines.append(f"    {citation.url}")
        lines.append(f"    “{' '.join(citation.quote.split())}”")
    return "\n".join(lines)
