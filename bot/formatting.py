"""How an Answer reads in Telegram: HTML with the same shape as the plain text of
``index.render.answer_as_text`` (which the terminal chat prints): the answer with numbered
markers, then the numbered sources (title as a link, outlet, date, quoted passage). When
the articles do not answer the question, it says so plainly and offers the closest
passages as such.
"""

from __future__ import annotations

import html
import unicodedata

from index import NOT_FOUND, Answer, Article, Citation, answer_as_text, answer_notes, source_details

from .splitting import TELEGRAM_MAX_LENGTH, split_message, telegram_length, utf16_length

__all__ = [
    "NOT_FOUND",
    "TELEGRAM_MAX_LENGTH",
    "answer_as_text",
    "answer_html",
    "article_line_html",
    "isolate",
    "passages_html",
    "split_message",
    "telegram_length",
    "utf16_length",
]

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


def _quote_html(text: str) -> str:
    """A quote on one line, as the plain-text rendering shows it."""
    return _html(" ".join(text.split()))


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
    details = ", ".join(_html(part) for part in source_details(citation))
    return f"[{citation.number}] {title}" + (f" — {details}" if details else "")


def article_line_html(article: Article) -> str:
    """One article on one line, as sources are shown: the title linking to it, the outlet and the date."""
    title = _html(article.title or article.id)
    if _is_link(article.url):
        title = f'<a href="{html.escape(article.url, quote=True)}">{title}</a>'
    details = ", ".join(_html(part) for part in (article.source, _date(article.published) or "no date") if part)
    return f"{title} — {details}"


def _sentences_html(answer: Answer) -> str:
    return " ".join(f"{_html(sentence)} [{number}]" for sentence, number in answer.sentences)


def answer_html(answer: Answer) -> str:
    """The answer as Telegram HTML: the answer, then the numbered sources with their quotes."""
    lead = _sentences_html(answer) if answer.found else NOT_FOUND
    notes = answer_notes(answer)
    if notes:
        lead += "\n<i>" + html.escape(" ".join(notes), quote=False) + "</i>"
    if not answer.citations:
        return lead
    sources = "\n\n".join(
        f"{_source_line_html(citation)}\n<blockquote>{_quote_html(citation.quote)}</blockquote>"
        for citation in answer.citations
    )
    return f"{lead}\n\n<b>{_heading(answer)}</b>\n{sources}"


def passages_html(answer: Answer) -> str:
    """The whole retrieved passage behind each citation of an answer, for /sources."""
    if not answer.citations:
        return f"There are no passages behind the answer to: {_html(answer.question)}"
    passages = "\n\n".join(
        f"{_source_line_html(c)}\n<blockquote expandable>{_html(c.passage or c.quote)}</blockquote>"
        for c in answer.citations
    )
    return f"<b>Passages for:</b> {_html(answer.question)}\n\n{passages}"
