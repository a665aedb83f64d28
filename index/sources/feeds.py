"""RSS and Atom feeds: recognising them, parsing downloaded bytes, and their dates and HTML."""

from __future__ import annotations

import email.utils
import hashlib
import io
import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from typing import Any

import feedparser

from index.records import LoadProblem
from index.sources.article_checks import is_web_url

logger = logging.getLogger(__name__)

FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/xml",
        "text/xml",
        "application/x-rss+xml",
    }
)
_FEED_ROOT = re.compile(rb"<(rss|feed|rdf:rdf)[\s>]", re.IGNORECASE)
_HTML_ROOT = re.compile(rb"<(!doctype\s+html|html)[\s>]", re.IGNORECASE)


class FeedParseError(Exception):
    """The bytes are not an RSS or Atom feed; ``str()`` says why in one sentence."""


@dataclass(frozen=True)
class FeedEntry:
    """One entry of a feed, with the text the feed itself carries."""

    position: int  # 1-based, in feed order
    link: str
    title: str
    published: str  # ISO 8601 or ""
    author: str
    text: str  # the entry's content or summary, HTML stripped
    fingerprint: str  # changes when the feed's copy of the entry changes


@dataclass(frozen=True)
class Feed:
    """A parsed feed: its title, usable entries, and one problem per broken entry."""

    title: str
    entries: tuple[FeedEntry, ...]
    broken: tuple[LoadProblem, ...]


def looks_like_feed(content_type: str, body: bytes) -> bool:
    """True when a response is an RSS/Atom feed, by content type or by its first element."""
    if content_type in FEED_TYPES:
        return True
    head = body[:2048]
    feed = _FEED_ROOT.search(head)
    html = _HTML_ROOT.search(head)
    return feed is not None and (html is None or feed.start() < html.start())


def parse_feed(body: bytes, url: str, content_type: str = "") -> Feed:
    """Parse downloaded feed bytes; raise FeedParseError when they are not a feed."""
    # A stream, never bytes or str: feedparser would fetch a URL or open a local file named by them.
    parsed = feedparser.parse(
        io.BytesIO(body), response_headers={"content-location": url, "content-type": content_type}
    )
    if not parsed.get("version") and not parsed.entries:
        cause = parsed.get("bozo_exception")
        detail = f" ({cause})" if cause else ""
        raise FeedParseError(f"it could not be parsed as an RSS or Atom feed{detail}")
    if parsed.get("bozo"):
        logger.warning("feed %s is not well-formed; using what could be read: %s", url, parsed.bozo_exception)
    entries: list[FeedEntry] = []
    broken: list[LoadProblem] = []
    for position, raw in enumerate(parsed.entries, start=1):
        entry = _entry(position, raw)
        if entry.link:
            entries.append(entry)
        else:
            name = f"entry {entry.title!r}" if entry.title else f"entry {position}"
            broken.append(LoadProblem(f"{url} (entry {position})", f"the feed's {name} has no web link."))
    return Feed(title=_clean(parsed.feed.get("title", "")), entries=tuple(entries), broken=tuple(broken))


def _entry(position: int, raw: Any) -> FeedEntry:
    link = str(raw.get("link", "")).strip()
    if not is_web_url(link):  # not http(s), or with spaces or control characters that break a link
        link = ""
    contents = [c.get("value", "") for c in raw.get("content", [])]
    html = max(contents, key=len) if contents else raw.get("summary", "")
    # dict.get: feedparser's own get() maps a missing "updated" to "published" with a warning.
    updated, updated_parsed = dict.get(raw, "updated", ""), dict.get(raw, "updated_parsed")
    published = (
        parse_date(raw.get("published"))
        or parse_date(updated)
        or parse_date(raw.get("published_parsed") or updated_parsed)
    )
    digest = hashlib.sha256()
    for part in (raw.get("id", ""), link, raw.get("title", ""), raw.get("published", ""), updated, html):
        digest.update(str(part).encode("utf-8") + b"\x00")
    return FeedEntry(
        position=position,
        link=link,
        title=_clean(raw.get("title", "")),
        published=published,
        author=_clean(raw.get("author", "")),
        text=html_to_text(html),
        fingerprint=digest.hexdigest()[:32],
    )


def parse_date(value: object) -> str:
    """An RFC 822 or ISO 8601 string, a ``time.struct_time`` (UTC) or a datetime, as ISO 8601; "" if none."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, time.struct_time):
        return datetime(*value[:6], tzinfo=UTC).isoformat()
    if not isinstance(value, str) or not value.strip():
        return ""
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text).isoformat()
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(text).isoformat()
    except (TypeError, ValueError, IndexError):
        return ""


def _clean(text: str) -> str:
    return " ".join(html_to_text(str(text)).split())


class _TextCollector(HTMLParser):
    _BLOCKS = frozenset(
        [
            "p",
            "div",
            "br",
            "li",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "blockquote",
            "tr",
            "section",
            "article",
            "header",
            "footer",
            "pre",
            "figure",
        ]
    )
    _SKIP = frozenset({"script", "style", "template", "noscript"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(re.sub(r"\s+", " ", data))  # newlines in markup are spaces


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: one paragraph a line, spaces collapsed, scripts dropped."""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    lines = (" ".join(line.split()) for line in "".join(collector.parts).splitlines())
    return "\n".join(line for line in lines if line)
