"""The article in an HTML page: its main text, title, date, site name, author and canonical URL.

readability-lxml picks the main text (a port of Mozilla's Readability: the block of the page with
the most prose, and its siblings that belong to it), after the parts of a page that are never the
article are dropped: navigation, headers and footers, asides, forms, captions and comment threads.
The metadata come from what pages declare for search engines and link previews: ``og:`` and
``article:`` meta tags, JSON-LD (schema.org ``NewsArticle`` and kin), ``<time datetime>`` and
``<link rel=canonical>``, with the page's ``<title>`` and ``<h1>`` as fallbacks. A date is read
as ``YYYY-MM-DD``; one before 1995 or in the future is no date.

Both local ``.html`` files (``formats.py``) and fetched pages (``fetching.py``) are read here.
"""

from __future__ import annotations

import copy
import json
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import lxml.etree
import lxml.html
from readability import Document
from readability.encoding import get_encoding

from index.sources.dates import iso_date
from index.sources.feeds import html_to_text

__all__ = ["UnreadablePage", "WebPage", "extract_page"]

_SAMPLE_CHARS = 100_000  # characters looked at to tell text from binary data
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")  # control characters, and what failed to decode
EARLIEST_DATE = date(1995, 1, 1)  # older dates on news pages are page furniture ("founded 1976"), not the article's


class UnreadablePage(Exception):
    """The page could not be read; the message says why, as a phrase about it ("is empty")."""


@dataclass(frozen=True)
class WebPage:
    """What an HTML page says about the article it holds; "" for what it does not say."""

    text: str  # the main text, one paragraph a line, without the title
    title: str
    site_name: str  # the name the site gives itself, else the host name of the page's URL
    published: str  # YYYY-MM-DD
    author: str
    url: str  # the canonical URL the page declares, resolved and percent-encoded (the caller checks it)


def extract_page(html: str | bytes, url: str = "") -> WebPage:
    """The article in ``html`` (bytes are decoded as the page declares, else guessed); ``url`` is
    where it came from, which resolves relative canonical links. Raises UnreadablePage, and only that:
    odd markup is a page that cannot be read, never a crash of the build or the fetch that reads it."""
    try:
        tree = _parse(html)
        metadata = _Metadata(tree, url)
        title = metadata.title()
        canonical = metadata.canonical()
        return WebPage(
            text=_without_title(_main_text(tree, url), [title, *metadata.headings]),
            title=title,
            site_name=metadata.site_name() or _host(canonical) or _host(url),
            published=metadata.published(),
            author=metadata.author(),
            url=canonical,
        )
    except UnreadablePage:
        raise
    except Exception as exc:  # lxml and readability fail on some markup (and deep nesting: RecursionError)
        raise UnreadablePage(f"could not be read as HTML ({type(exc).__name__}: {exc})") from None


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:  # "http://[::1" and the like
        return ""


def _parse(html: str | bytes) -> lxml.html.HtmlElement:
    if isinstance(html, bytes):
        html = html.decode(get_encoding(html) or "utf-8", errors="replace")
    if not html.strip():
        raise UnreadablePage("is empty")
    sample = html[:_SAMPLE_CHARS]
    if len(_NOT_TEXT.findall(sample)) > len(sample) // 100:
        raise UnreadablePage("is not text: it holds binary data or text in an undeclared encoding")
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        tree = lxml.html.document_fromstring(html.replace("\x00", "").encode("utf-8", "replace"), parser=parser)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise UnreadablePage(f"could not be parsed as HTML ({exc})") from None
    if tree is None:
        raise UnreadablePage("could not be parsed as HTML")
    return tree


# The main text --------------------------------------------------------------------------

# Never the article: dropped before readability scores what is left.
_NEVER_ANY = frozenset({"script", "style", "noscript", "template", "iframe", "svg", "button", "select", "textarea"})
_NEVER_TEXT = (
    "//form|//nav|//aside|//footer|//figcaption|//dialog|//*[@hidden]|//*[@aria-hidden='true']"
    "|//*[@role='navigation' or @role='complementary' or @role='contentinfo' or @role='banner' or @role='dialog']"
    "|//header[not(ancestor::article) and not(ancestor::main)]"  # the page's masthead, not the article's header
)
# Comment threads, share bars, bylines, captions, related links and the like, by a word of a class or id
# ("comment-list", "related_posts", "article-byline", "media__caption") ...
_BOILERPLATE_WORDS = {
    *("comment", "comments", "commentlist", "disqus", "respond", "replies", "share", "sharing", "sharebar"),
    *("social", "newsletter", "subscribe", "subscription", "signup", "breadcrumb", "breadcrumbs", "related"),
    *("byline", "bylines", "dateline", "caption", "captions", "figcaption", "credit", "credits", "advert"),
    *("advertisement", "adslot", "adunit", "sponsored", "promo", "promotion", "outbrain", "taboola", "tags"),
    *("taglist", "ticker", "cookie", "cookies", "consent", "popup", "modal", "toolbar", "author", "bio"),
}
# ... unless another word says it holds the article ("comment-content" inside a thread is dropped with the thread)
# or the word only describes the element ("has-comments", "no-sidebar").
_CONTENT_WORDS = {
    *("article", "body", "content", "main", "story", "post", "entry", "text", "page", "wrapper", "container"),
}
_QUALIFIER_WORDS = {"has", "with", "no", "is", "show", "hide", "enable", "enabled", "disable", "disabled", "can"}
_WHOLE_NAMES = {"sidebar", "aside", "menu", "navbar", "navigation", "footer", "masthead", "most-read", "mostread"}
_GENERATED = re.compile(r"(?=\w*\d)[A-Za-z0-9]{4,8}")  # a build's hash suffix: "1FZLe", "2p5pI"
_KEEP = ".//h1|.//main|.//*[@itemprop='articleBody']"  # what a dropped element may never hold


def _is_boilerplate_name(name: str) -> bool:
    if name.lower() in _WHOLE_NAMES:
        return True
    # BEM ("article-hero__caption--wide", "story__byline__3kXz"): what the element is, not the block it is in
    parts = [p.split("--")[0] for p in name.split("__") if not _GENERATED.fullmatch(p)]
    name = parts[-1] if parts else name
    words = [w for w in re.split(r"[-_]+", re.sub(r"([a-z])([A-Z])", r"\1-\2", name).lower()) if w]
    if not words or words[0] in _QUALIFIER_WORDS or _CONTENT_WORDS.intersection(words):
        return False
    return bool(_BOILERPLATE_WORDS.intersection(words))


def _drop_boilerplate(tree: lxml.html.HtmlElement) -> None:
    """Drop what is never the article, top down (a dropped element's descendants are not looked at), keeping
    any element that holds the <h1>, <main> or the marked article body (a page wrapped in one <form>)."""
    never = set(tree.xpath(_NEVER_TEXT))  # lxml keeps one proxy per element while it is referenced
    doomed = []
    stack = [tree]
    while stack:
        element = stack.pop()
        for child in element:
            if not isinstance(child.tag, str):
                continue
            if child.tag in _NEVER_ANY:
                doomed.append(child)
                continue
            names = (child.get("class") or "").split() + (child.get("id") or "").split()
            if (child in never or any(_is_boilerplate_name(n) for n in names)) and not child.xpath(_KEEP):
                doomed.append(child)
            else:
                stack.append(child)
    for element in doomed:
        element.drop_tree()


def _main_text(tree: lxml.html.HtmlElement, url: str) -> str:
    body = copy.deepcopy(tree)  # both this and readability change the tree
    _drop_boilerplate(body)
    if not _text_of(body):
        return ""
    return html_to_text(Document(body, url=url or None).summary(html_partial=True))


def _text_of(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _without_title(text: str, titles: list[str]) -> str:
    """``text`` without leading lines that repeat the title or a heading of the page."""
    lines = text.split("\n")
    titles = [" ".join(title.split()) for title in titles]
    while lines and lines[0].strip() in titles:
        lines.pop(0)
    return "\n".join(lines).strip()


# The metadata ---------------------------------------------------------------------------

_TITLE_METAS = ("og:title", "twitter:title", "title", "headline", "dc.title", "parsely-title", "sailthru.title")
_SITE_METAS = ("og:site_name", "application-name", "apple-mobile-web-app-title", "publisher", "dc.publisher")
_AUTHOR_METAS = ("author", "article:author", "dc.creator", "parsely-author", "sailthru.author", "citation_author")
_DATE_METAS = (
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "article.published",
    "datepublished",
    "date",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "published_time",
    "published-date",
    "dc.date.issued",
    "dc.date",
    "dcterms.date",
    "dcterms.issued",
    "dcterms.created",
    "parsely-pub-date",
    "sailthru.date",
    "citation_publication_date",
    "citation_date",
    "original-publish-date",
    "cxenseparse:recs:publishtime",
    "release_date",
    "article:published",
    "publisheddate",
    "article_date_original",
    "ga-publishdate",
)
_MODIFIED_METAS = ("article:modified_time", "og:updated_time", "datemodified", "last-modified", "lastmod")
_ARTICLE_TYPES = re.compile(r"article|posting|report|blog|review|creativework|webpage", re.IGNORECASE)
_TITLE_SEPARATOR = re.compile(r"\s+[|–—•·:»«-]\s+")
_URL_DATE = re.compile(r"/((?:19|20)\d{2})[/-](0?[1-9]|1[0-2])[/-](0?[1-9]|[12]\d|3[01])(?:/|[-_]|\.html?|$)")
_JSON_LD_CAP = 2_000_000  # characters of JSON-LD read from one page
_JSON_LD_ITEMS = 1_000  # items of one JSON-LD list looked at
_DATE_CANDIDATES = 100  # dates a page gives that are tried, in order, before it is taken to have none


class _Metadata:
    """The metadata a page declares: meta tags (by name, property or itemprop) and JSON-LD objects."""

    def __init__(self, tree: lxml.html.HtmlElement, url: str) -> None:
        self.tree = tree
        self.url = url
        self.metas: dict[str, list[str]] = {}
        for meta in tree.iter("meta"):
            key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()
            value = " ".join((meta.get("content") or "").split())
            if key and value:
                self.metas.setdefault(key, []).append(value)
        self.headings = [text for text in (_text_of(h1) for h1 in tree.iter("h1")) if text]
        self.objects = list(_json_ld_objects(tree))
        self.articles = [o for o in self.objects if _ARTICLE_TYPES.search(" ".join(_types(o)))]

    def meta(self, *names: str) -> str:
        for name in names:
            for value in self.metas.get(name, []):
                return value
        return ""

    def title(self) -> str:
        """The declared headline; else the page's one <h1> (not the site's name in a logo), else the
        longest part of its <title> ("Headline | Site")."""
        title = self.meta(*_TITLE_METAS) or _json_text(self.articles, "headline") or _json_text(self.articles, "name")
        if title:
            return title
        element = self.tree.find(".//title")
        parts = _TITLE_SEPARATOR.split(_text_of(element)) if element is not None else []
        longest = max(parts, key=len) if parts else ""
        headings = [h for h in self.headings if h != self.meta(*_SITE_METAS)]
        if len(headings) == 1 and not (headings[0] in parts and headings[0] != longest):
            return headings[0]
        return longest or (headings[0] if headings else "")

    def site_name(self) -> str:
        name = self.meta(*_SITE_METAS)
        if not name:
            for article in self.articles:
                publisher = article.get("publisher")
                name = _name_of(publisher)
                if name:
                    break
        if not name:
            name = next((_name_of(o) for o in self.objects if "Organization" in " ".join(_types(o))), "")
        return "" if _looks_like_url(name) else name.lstrip("@")

    def author(self) -> str:
        names = [_name_of(author) for article in self.articles for author in _as_list(article.get("author"))]
        names = [n for n in dict.fromkeys(names) if n and not _looks_like_url(n)]
        if names:
            return ", ".join(names)
        value = self.meta(*_AUTHOR_METAS)
        return "" if _looks_like_url(value) else value

    def canonical(self) -> str:
        for link in self.tree.iter("link"):
            if "canonical" in (link.get("rel") or "").lower().split() and (link.get("href") or "").strip():
                return _absolute(link.get("href", "").strip(), self.url)
        value = self.meta("og:url")
        return _absolute(value, self.url) if value else ""

    def published(self) -> str:
        """The first date the page gives for publication, else the earliest modification date, else the URL's."""
        for value in islice(self._published_values(), _DATE_CANDIDATES):
            found = _date_of(value)
            if found:
                return found
        modified = [
            _date_of(v)
            for v in [*_json_values(self.articles, "dateModified"), *(self.meta(name) for name in _MODIFIED_METAS)]
        ]
        modified = [d for d in modified if d]
        if modified:
            return min(modified)
        for address in (self.canonical(), self.url):
            match = _URL_DATE.search(urlsplit(address).path) if address else None
            if match:
                found = _date_of("-".join(f"{int(part):02d}" for part in match.groups()))
                if found:
                    return found
        return ""

    def _published_values(self) -> Iterator[str]:
        yield from _json_values(self.articles, "datePublished")
        yield from _json_values(self.articles, "dateCreated")
        for name in _DATE_METAS:
            yield from self.metas.get(name, [])
        times = sorted(  # <time pubdate> and <time class="published"> first
            self.tree.iter("time"),
            key=lambda t: t.get("pubdate") is None and "publish" not in (t.get("class") or "").lower(),
        )
        for element in times:
            value = (element.get("datetime") or "").strip()
            if value:
                yield value
        for element in self.tree.xpath("//*[@itemprop='datePublished']"):
            yield (element.get("datetime") or element.get("content") or _text_of(element)).strip()


def _date_of(value: str) -> str:
    """``value`` as YYYY-MM-DD if it is a date from 1995 up to tomorrow (time zones), else ""."""
    value = value.strip()
    if not value or len(value) > 100 or not any(ch.isdigit() for ch in value):
        return ""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*[+-]\d{4}", value):
        value = value[:-2] + ":" + value[-2:]  # 2024-03-05T08:30:00+0000, as some CMSs write it
    parsed = iso_date(value)
    if not parsed:
        return ""
    day = date.fromisoformat(parsed[:10])
    if not EARLIEST_DATE <= day <= datetime.now(UTC).date() + timedelta(days=1):
        return ""
    return day.isoformat()


def _json_ld_objects(tree: lxml.html.HtmlElement) -> Iterator[dict]:
    """Every JSON object in the page's JSON-LD scripts, @graph members included; broken scripts are skipped."""
    budget = _JSON_LD_CAP
    for script in tree.xpath("//script[contains(translate(@type, 'LDJSON', 'ldjson'), 'ld+json')]"):
        text = script.text or ""
        budget -= len(text)
        if budget < 0:
            return
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            continue
        queue = deque([data])
        while queue:
            item = queue.popleft()
            if isinstance(item, list):
                queue.extend(item[:_JSON_LD_ITEMS])
            elif isinstance(item, dict):
                yield item
                graph = item.get("@graph")
                if isinstance(graph, list):
                    queue.extend(graph[:_JSON_LD_ITEMS])


def _types(item: dict) -> list[str]:
    return [t for t in _as_list(item.get("@type")) if isinstance(t, str)]


def _as_list(value: object) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]


def _name_of(value: object) -> str:
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, dict):
        name = value.get("name")
        return " ".join(name.split()) if isinstance(name, str) else ""
    if isinstance(value, list) and value:
        return _name_of(value[0])
    return ""


def _json_values(objects: list[dict], key: str) -> list[str]:
    return [value for o in objects for value in _as_list(o.get(key)) if isinstance(value, str) and value.strip()]


def _json_text(objects: list[dict], key: str) -> str:
    return next((" ".join(value.split()) for value in _json_values(objects, key)), "")


def _looks_like_url(value: str) -> bool:
    return bool(re.match(r"(?:https?:)?//|www\.", value.strip(), re.IGNORECASE))


def _absolute(href: str, base: str) -> str:
    """``href`` resolved against ``base``, its path and query percent-encoded ("/news/ليبيا" as
    "/news/%D9%84..."), without a fragment; "" when it is no URL at all."""
    try:
        parts = urlsplit(href if not base or urlsplit(href).scheme else urljoin(base, href))
    except ValueError:  # "http://[::1" and the like
        return ""
    path = quote(parts.path, safe="/%:@!$&'()*+,;=~")
    query = quote(parts.query, safe="/%:@!$&'()*+,;=~?").replace("%20", "+")
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))
