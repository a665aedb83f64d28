"""How an Answer reads: Telegram HTML for the bot, plain text for the terminal chat.

Both renderings have the same shape: the answer with numbered markers, then the numbered
sources (title, outlet, date, link, quoted passage). When the articles do not answer the
question, they say so plainly and offer the closest passages as such.
"""

from __future__ import annotations

import html
import unicodedata

from index.answers import Answer, Citation

from .splitting import TELEGRAM_MAX_LENGTH, split_message, telegram_length, utf16_length

__all__ = [
    "NOT_FOUND",
    "TELEGRAM_MAX_LENGTH",
    "answer_html",
    "answer_text",
    "isolate",
    "passages_html",
    "split_message",
    "telegram_length",
    "utf16_length",
]

NOT_FOUND = "I could not find this in my articles."
CLOSEST_NOTE = "These are the closest passages; they may not answer your question."
RLI, PDI = "\u2067", "\u2069"


def _first_strong_is_rtl(text: str) -> bool:
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in ("R", "AL"):
            return True
        if direction == "L":
            return False
    return False


def isolate(text: str) -> str:
    """Wrap right-to-left text (Arabic, Hebrew…) in a bidi isolate so it cannot reorder its neighbours."""
    return f"{RLI}{text}{PDI}" if _first_strong_is_rtl(text) else text


def _html(text: str) -> str:
    return html.escape(isolate(text.strip()), quote=False)


def _date(published: str) -> str:
    return published[:10] if len(published) >= 10 and published[4:5] == "-" else published


def _is_link(url: str) -> bool:
    return url.startswith(("https://", "http://"))


def _heading(answer: Answer) -> str:
    return "Sources" if answer.found else "Closest passages"


def _source_line_html(citation: Citation) -> str:
    title = _html(citation.title or citation.article_id)
    if _is_link(citation.url):
        title = f'<a href="{html.escape(citation.url, quote=True)}">{title}</a>'
    details = ", ".join(_html(part) for part in (citation.source, _date(citation.published)) if part)
    return f"[{citation.number}] {title}" + (f" — {details}" if details else "")


def _sentences_html(answer: Answer) -> str:
    return " ".join(f"{_html(sentence)} [{number}]" for sentence, number in answer.sentences)


def answer_html(answer: Answer) -> str:
    """The answer as Telegram HTML: the answer, then the numbered sources with their quotes."""
    lead = _sentences_html(answer) if answer.found else NOT_FOUND
    if not answer.citations:
        return lead
    if not answer.found:
        lead = f"{lead} {CLOSEST_NOTE}"
    sources = "\n\n".join(
        f"{_source_line_html(citation)}\n<blockquote>{_html(citation.quote)}</blockquote>" for citation in answer.citations
    )
    return f"{lead}\n\n<b>{_heading(answer)}</b>\n{sources}"


def passages_html(answer: Answer) -> str:
    """The whole retrieved passage behind each citation of an answer, for /sources."""
    if not answer.citations:
        return f"There are no passages behind the answer to: {_html(answer.question)}"
    passages = "\n\n".join(
        f"{_source_line_html(citation)}\n<blockquote expandable>{_html(citation.passage or citation.quote)}</blockquote>"
        for citation in answer.citations
    )
    return f"<b>Passages for:</b> {_html(answer.question)}\n\n{passages}"


def _source_lines_text(citation: Citation) -> list[str]:
    details = ", ".join(part for part in (citation.source, _date(citation.published)) if part)
    lines = [f"[{citation.number}] {citation.title or citation.article_id}" + (f" — {details}" if details else "")]
    if citation.url:
        lines.append(f"    {citation.url}")
    quote = citation.quote.strip().replace("\n", "\n    ")
    lines.append(f"    “{quote}”")
    return lines


def answer_text(answer: Answer) -> str:
    """The same answer as plain text, for the terminal chat."""
    lead = answer.text if answer.found else NOT_FOUND
    if not answer.citations:
        return lead
    if not answer.found:
        lead = f"{lead} {CLOSEST_NOTE}"
    lines = [lead, "", f"{_heading(answer)}:"]
    for citation in answer.citations:
        lines.extend(_source_lines_text(citation))
    return "\n".join(lines)
