"""Turn article URLs and RSS/Atom feed URLs into Article records, remembering what was seen.

The state file remembers, per URL, the validators (ETag, Last-Modified) of the last download,
the id and content hash of the article it gave and, for a feed, the ids of its entries. It is
a cache of what the index holds: given ``known`` (article id -> content hash, from the index),
a record is trusted only while the index still holds that article with that hash, so a state
file that ran ahead of the index (a build that failed after the fetch, an index rebuilt
without those sources) never hides an article: it is downloaded again.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from index.records import Article, LoadProblem
from index.sources.article_checks import is_web_url
from index.sources.feeds import Feed, FeedEntry, FeedParseError, looks_like_feed, parse_date, parse_feed
from index.sources.fetch_settings import FetchSettings
from index.sources.fetch_state import FetchState, conditional_headers, download_validators
from index.sources.netguard import AddressGuard, Download, Downloader, DownloadError, PinnedTransport
from index.sources.web_pages import UnreadablePage, extract_page

__all__ = ["FetchSettings", "FetchReport", "Fetcher", "parse_date"]

logger = logging.getLogger(__name__)
FetchProgress = Callable[[str, int, int], None]  # ("fetching", done, total); total grows as feeds list entries

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
SNIFFED_TYPES = frozenset({"", "text/plain", "application/octet-stream"})
_UNASKED_304 = "the server answered 304 Not Modified to a request that was not conditional"
_HTML_START = re.compile(rb"<(!doctype\s+html|html|head|body)[\s>]", re.IGNORECASE)


@dataclass
class FetchReport:
    """What one fetch produced."""

    articles: list[Article]  # new or changed articles
    unchanged_ids: list[str]  # ids of articles not downloaded again (304, known feed entry) or with the same hash
    problems: list[LoadProblem]  # one per failed source or feed entry
    requests: int  # HTTP requests made, redirect hops and retries included

    @property
    def unchanged(self) -> int:
        """How many articles were unchanged."""
        return len(self.unchanged_ids)


@dataclass
class _Outcome:
    articles: list[Article] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # article ids
    problems: list[LoadProblem] = field(default_factory=list)
    feed: Feed | None = None
    record: dict[str, Any] | None = None  # a feed's validators, saved once its entries are done
    retry_later: bool = False  # a feed entry failed in a way the next refresh may fix


def _is_page_or_feed(content_type: str) -> bool:
    return content_type in HTML_TYPES or content_type in SNIFFED_TYPES or looks_like_feed(content_type, b"")


def _is_page(content_type: str) -> bool:
    return content_type in HTML_TYPES or content_type in SNIFFED_TYPES


def _canonical(candidate: str | None, final_url: str) -> str:
    """The page's canonical URL, unless it is missing, not a web address that can be linked to
    (http(s), no spaces or control characters), or just the site's home page."""
    if not candidate or not is_web_url(candidate):
        return final_url
    parts = urlsplit(candidate)
    if parts.path.strip("/") == "" and urlsplit(final_url).path.strip("/") != "":
        return final_url
    return candidate


def extract_article(download: Download, origin: str, min_text_chars: int) -> Article | None:
    """Main text and metadata of a downloaded HTML page, or None when it has no article text."""
    html: str | bytes = download.body
    if download.charset:
        try:
            html = download.body.decode(download.charset, errors="replace")
        except LookupError:
            pass
    try:
        page = extract_page(html, download.url)
    except UnreadablePage as exc:  # the page is then reported as textless
        logger.warning("no text extracted from %s: it %s", download.url, exc)
        return None
    if len(" ".join(page.text.split())) < min_text_chars:
        return None
    url = _canonical(page.url, download.url)
    return Article(
        id=url,
        title=page.title,
        text=page.text,
        source=page.site_name or (urlsplit(url).hostname or ""),
        url=url,
        published=page.published,
        author=page.author,
        origin=origin,
    )


class Fetcher:
    """Fetches article pages and feeds concurrently; never raises for a bad source."""

    def __init__(
        self,
        settings: FetchSettings,
        state_path: Path | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._settings = settings
        self._state_path = Path(state_path) if state_path is not None else None
        self._transport = transport
        self._lock = threading.Lock()  # one fetch at a time: they share the state file

    @property
    def settings(self) -> FetchSettings:
        return self._settings

    def fetch(
        self,
        urls: Sequence[str],
        known: Mapping[str, str] | None = None,
        progress: FetchProgress | None = None,
    ) -> FetchReport:
        """Fetch each URL (an article page or a feed) and report new or changed articles.

        ``known`` maps the ids of the articles the index holds to their content hashes: an
        article is unchanged only if the index holds it with the same hash (without it, the
        state file alone decides). ``progress`` is called as sources and feed entries finish;
        if it raises, the fetch stops (the state file is left as it was) and the error propagates.
        """
        with self._lock:
            return self._fetch(urls, known, progress)

    def _fetch(
        self, urls: Sequence[str], known: Mapping[str, str] | None, progress: FetchProgress | None
    ) -> FetchReport:
        settings = self._settings
        state = FetchState(self._state_path)
        workers = max(1, settings.concurrency)
        guard = AddressGuard(settings.allow_private)
        limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
        client = httpx.Client(
            transport=self._transport or PinnedTransport(guard, limits),
            headers={"User-Agent": settings.user_agent},
            timeout=settings.timeout_seconds,
        )
        try:
            run = _Run(
                settings,
                state,
                known,
                Downloader(
                    client,
                    guard=guard,
                    max_bytes=settings.max_bytes,
                    timeout_seconds=settings.timeout_seconds,
                    retries=settings.retries,
                    retry_delay_seconds=settings.retry_delay_seconds,
                ),
            )
            sources = list(dict.fromkeys(u.strip() for u in urls if u.strip()))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fetch") as pool:
                counter = _Counter(progress, len(sources))
                outcomes = counter.run(pool, run.source, [(url,) for url in sources])
                jobs = _entry_jobs(sources, outcomes)
                counter.total += len(jobs)
                entry_outcomes = counter.run(pool, run.entry, jobs)
        finally:
            if self._transport is None:
                client.close()
        self._settle_feeds(state, sources, outcomes, jobs, entry_outcomes)
        report = _report(outcomes + entry_outcomes, run.downloader.requests)
        try:
            state.save()
        except OSError as exc:
            logger.error("could not save the fetch state %s: %s", self._state_path, exc)
            reason = f"the fetch state could not be saved ({exc}), so all will be downloaded again next time."
            report.problems.append(LoadProblem(str(self._state_path), reason))
        return report

    @staticmethod
    def _settle_feeds(
        state: FetchState,
        sources: list[str],
        outcomes: list[_Outcome],
        jobs: list[tuple[str, Feed, FeedEntry]],
        entry_outcomes: list[_Outcome],
    ) -> None:
        """Remember a feed's validators and entry ids, the validators only when no entry asks to be retried."""
        for url, outcome in zip(sources, outcomes):
            if outcome.feed is None or outcome.record is None:
                continue
            mine = [out for (feed_url, _, _), out in zip(jobs, entry_outcomes) if feed_url == url]
            ids = [article.id for o in mine for article in o.articles] + [i for o in mine for i in o.unchanged]
            record = dict(outcome.record, ids=list(dict.fromkeys(ids)))
            if any(o.retry_later for o in mine):
                record.pop("etag", None)
                record.pop("last_modified", None)
            state.put(url, record)


class _Counter:
    """Runs jobs on the pool, reporting progress from this thread as each one finishes."""

    def __init__(self, progress: FetchProgress | None, total: int) -> None:
        self.progress = progress
        self.total = total
        self.done = 0

    def run(self, pool: ThreadPoolExecutor, work: Callable[..., _Outcome], jobs: list[tuple]) -> list[_Outcome]:
        futures = [pool.submit(work, *job) for job in jobs]
        if self.progress is None:
            return [future.result() for future in futures]
        try:
            self.progress("fetching", self.done, self.total)
            for _ in as_completed(futures):
                self.done += 1
                self.progress("fetching", self.done, self.total)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        return [future.result() for future in futures]


def _entry_jobs(sources: list[str], outcomes: list[_Outcome]) -> list[tuple[str, Feed, FeedEntry]]:
    """Each feed entry once, skipping links that are listed as sources themselves."""
    seen = set(sources)
    jobs = []
    for url, outcome in zip(sources, outcomes):
        feed = outcome.feed
        if feed is None:
            continue
        for entry in feed.entries:
            if entry.link not in seen:
                seen.add(entry.link)
                jobs.append((url, feed, entry))
    return jobs


def _report(outcomes: list[_Outcome], requests: int) -> FetchReport:
    articles: dict[str, Article] = {}
    unchanged: dict[str, None] = {}
    problems: list[LoadProblem] = []
    for outcome in outcomes:
        unchanged.update(dict.fromkeys(outcome.unchanged))
        problems.extend(outcome.problems)
        for article in outcome.articles:
            articles.setdefault(article.id, article)
    unchanged_ids = [article_id for article_id in unchanged if article_id not in articles]
    return FetchReport(list(articles.values()), unchanged_ids, problems, requests)


class _Run:
    """One fetch: the shared downloader and state, and what to do with each source and entry."""

    def __init__(
        self, settings: FetchSettings, state: FetchState, known: Mapping[str, str] | None, downloader: Downloader
    ) -> None:
        self.settings = settings
        self.state = state
        self.known = known
        self.downloader = downloader

    def _trusted(self, record: dict[str, Any]) -> bool:
        """Whether a page's record may stand for its article: the index still holds it, unchanged."""
        if not record.get("hash") or not record.get("id"):
            return False
        return self.known is None or self.known.get(record["id"]) == record["hash"]

    def _trusted_feed(self, record: dict[str, Any]) -> bool:
        """Whether a feed's record may stand for its entries: the index still holds every one."""
        if "ids" not in record:
            return False
        return self.known is None or all(article_id in self.known for article_id in record["ids"])

    def source(self, url: str) -> _Outcome:
        """Fetch one listed URL, which may be a page or a feed."""
        record = self.state.get(url)
        trusted = self._trusted_feed(record) if "ids" in record else self._trusted(record)
        try:
            download = self.downloader.get(url, conditional_headers(record) if trusted else {}, _is_page_or_feed)
        except DownloadError as exc:
            return _Outcome(problems=[LoadProblem(url, f"{exc}.")])
        if download.status == 304:
            if not trusted:
                return _Outcome(problems=[LoadProblem(url, f"{_UNASKED_304}.")])
            return _Outcome(unchanged=list(record["ids"]) if "ids" in record else [record["id"]])
        if looks_like_feed(download.content_type, download.body):
            try:
                feed = parse_feed(download.body, download.url, download.content_type)
            except FeedParseError as exc:
                self.state.forget_validators(url)
                return _Outcome(problems=[LoadProblem(url, f"{exc}.")])
            logger.info("feed %s: %d entries, %d broken", url, len(feed.entries), len(feed.broken))
            return _Outcome(problems=list(feed.broken), feed=feed, record=download_validators(download))
        if download.content_type not in HTML_TYPES and not _HTML_START.search(download.body[:2048]):
            kind = download.content_type or "(none)"
            reason = f"its content type {kind} is neither HTML nor a feed."
            return _Outcome(problems=[LoadProblem(url, reason)])
        article = extract_article(download, url, self.settings.min_text_chars)
        if article is None:
            self.state.put(url, None)
            return _Outcome(problems=[LoadProblem(url, "no article text found.")])
        return self._keep(url, record, article, download_validators(download))

    def entry(self, feed_url: str, feed: Feed, entry: FeedEntry) -> _Outcome:
        """Fetch a feed entry's page, falling back to the text the feed carries."""
        record = self.state.get(entry.link)
        trusted = self._trusted(record)
        if trusted and record.get("entry") == entry.fingerprint:
            return _Outcome(unchanged=[record["id"]])
        article, validators, failure = None, {}, ""
        try:
            download = self.downloader.get(entry.link, conditional_headers(record) if trusted else {}, _is_page)
        except DownloadError as exc:
            failure = str(exc)
        else:
            if download.status == 304 and trusted:
                self.state.put(entry.link, dict(record, entry=entry.fingerprint))
                return _Outcome(unchanged=[record["id"]])
            validators = download_validators(download)
            article = (
                None if download.status == 304 else extract_article(download, feed_url, self.settings.min_text_chars)
            )
            failure = _UNASKED_304 if download.status == 304 else "" if article else "no article text found"
        if article is None and entry.text:
            article = Article(
                id=entry.link,
                title=entry.title or entry.link,
                text=entry.text,
                url=entry.link,
                source=feed.title or (urlsplit(entry.link).hostname or ""),
                published=entry.published,
                author=entry.author,
                origin=feed_url,
            )
            validators = {}
        elif article is not None:
            article = _fill_from_entry(article, entry)
        if article is None:
            name = repr(entry.title) if entry.title else f"{entry.position}"
            reason = f"the page of feed entry {name} failed ({failure}) and the feed has no text for it."
            return _Outcome(problems=[LoadProblem(entry.link, reason)], retry_later=True)
        return self._keep(entry.link, record, article, dict(validators, entry=entry.fingerprint))

    def _keep(self, url: str, old: dict[str, Any], article: Article, record: dict[str, Any]) -> _Outcome:
        self.state.put(url, dict(record, hash=article.content_hash, id=article.id))
        indexed = old.get("hash") if self.known is None else self.known.get(article.id)
        if indexed == article.content_hash:
            return _Outcome(unchanged=[article.id])
        return _Outcome(articles=[article])


def _fill_from_entry(article: Article, entry: FeedEntry) -> Article:
    """Take the feed's title, date and author where the page had none."""
    return replace(
        article,
        title=article.title or entry.title,
        published=article.published or entry.published,
        author=article.author or entry.author,
    )
