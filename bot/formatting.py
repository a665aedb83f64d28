"""How an Answer reads in Telegram: HTML with the same structure as the plain text of ``index.answer_as_text``
(which the terminal chat prints).

The answer comes first, the span answering a typed question in bold, with ``[n]`` markers; then each cited
article once (``[1][2]`` when two citations point to it): its title linking to it, the outlet and the date, and
under it the context around the quoted sentences (in italics) in an expandable quote — not a second copy of the
answer. When the articles do not answer the question, it says so plainly and offers the closest passages in the
same layout. Links are made only of http(s) addresses without spaces or control characters; everything from the
articles is escaped.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable

from index import (
    NOT_FOUND,
    Answer,
    Article,
    CitedArticle,
    answer_as_text,
    answer_notes,
    answer_sentences,
    cited_articles,
    is_web_url,
    markers,
    source_details,
)

from .splitting import TELEGRAM_MAX_LENGTH, split_message, telegram_length, utf16_length

__all__ = [
    "NOT_FOUND",
    "TELEGRAM_MAX_LENGTH",
    "answer_as_text",
    "answer_html",
    "article_line_html",
    "isolate",
    "link_html",
    "passages_html",
    "shortened_trace",
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


def _pieces_html(pieces: Iterable[tuple[str, bool]], tag: str) -> str:
    """Text pieces as HTML, the stressed ones in ``<tag>``, all in one bidi isolate when the text is right-to-left."""
    pieces = list(pieces)
    body = "".join(
        f"<{tag}>{html.escape(text, quote=False)}</{tag}>" if stressed else html.escape(text, quote=False)
        for text, stressed in pieces
    )
    return f"{RLI}{body}{PDI}" if _first_strong_is_rtl("".join(text for text, _ in pieces)) else body


def link_html(title: str, url: str) -> str:
    """``title`` (escaped, isolated) linking to ``url``; the title alone when the URL cannot be a link."""
    text = _html(title)
    return f'<a href="{html.escape(url, quote=True)}">{text}</a>' if is_web_url(url) else text


def _date(published: str) -> str:
    return published[:10] if len(published) >= 10 and published[4:5] == "-" else published


def _heading(answer: Answer) -> str:
    return "Sources" if answer.found else "Closest passages"


def _article_heading_html(article: CitedArticle) -> str:
    citation = article.citation
    title = link_html(citation.title or citation.article_id, article.link)
    details = ", ".join(_html(part) for part in source_details(citation))
    return f"{markers(article.numbers)} {title}" + (f" — {details}" if details else "")


def _article_html(article: CitedArticle) -> str:
    """The article's heading, then the context of its quotes (quoted sentences in italics) in an expandable quote."""
    heading = _article_heading_html(article)
    if not article.excerpts:
        return heading
    excerpts = "\n\n".join(_pieces_html(excerpt, "i") for excerpt in article.excerpts)
    return f"{heading}\n<blockquote expandable>{excerpts}</blockquote>"


def article_line_html(article: Article) -> str:
    """One article on one line, as sources are shown: the title linking to it, the outlet and the date."""
    title = link_html(article.title or article.id, article.url)
    details = ", ".join(_html(part) for part in (article.source, _date(article.published) or "no date") if part)
    return f"{title} — {details}"


def _lead_html(answer: Answer) -> str:
    """The answer's sentences with their typed spans in bold and their markers, or "not found"; then the notes."""
    if answer.found:
        lead = " ".join(f"{_pieces_html(pieces, 'b')} [{number}]" for pieces, number in answer_sentences(answer))
    else:
        lead = NOT_FOUND
    notes = answer_notes(answer)
    if notes:
        lead += "\n<i>" + html.escape(" ".join(notes), quote=False) + "</i>"
    return lead


def answer_html(answer: Answer) -> str:
    """The answer as Telegram HTML: the answer, then each cited article once with the context of its quotes."""
    lead = _lead_html(answer)
    if not answer.citations:
        return lead
    articles = "\n\n".join(_article_html(article) for article in cited_articles(answer))
    return f"{lead}\n\n<b>{_heading(answer)}</b>\n{articles}"


def passages_html(answer: Answer) -> str:
    """The whole retrieved passages behind an answer, each cited article once, for /sources."""
    if not answer.citations:
        return f"There are no passages behind the answer to: {_html(answer.question)}"
    passages = "\n\n".join(_article_html(article) for article in cited_articles(answer, context_chars=None))
    return f"<b>Passages for:</b> {_html(answer.question)}\n\n{passages}"


def shortened_trace(trace: str, limit: int = 3500) -> str:
    """A traceback for the operator's chat: whole when it fits ``limit`` characters, else its first lines and its
    end (the exception and the frames that raised it) with the middle frames cut."""
    if len(trace) <= limit:
        return trace
    head = trace[: limit // 5]
    head = head[: head.rfind("\n") + 1]
    tail = trace[len(trace) - (limit - len(head) - 2) :]
    tail = tail[tail.find("\n") + 1 :]
    return f"{head}…\n{tail}"
