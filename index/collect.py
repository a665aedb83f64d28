"""Gather the articles of a list of sources, and bring an index up to date with them.

A source is a local file or folder of articles, an article URL, an RSS/Atom feed URL, or a
sources file (named with ``--sources FILE``, or any path ending in ``.sources``) listing
sources one a line. Sources files are read at every collection, so an edit counts at the
next refresh::

    sources ──▶ local paths ──load_into (a spool file, not memory)───▶ articles
           └──▶ URLs ──Fetcher (conditional requests, against what the index holds)──▶ articles

Only what is new or changed relative to the index is handed to the builder (through
``Engine.update``, the one write path of every front end), so a refresh
embeds nothing else. A full build (the index afterwards holds the listed sources only)
carries over, from the index, the articles of listed sources that did not change, and every
article a listed URL ever gave: a feed lists only its latest entries, and the older ones stay.
Articles of sources no longer listed are dropped.

The fetch state (validators and content hashes of each URL) is kept in ``INDEX_DIR/fetch-state.json``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from index.records import Article, BuildReport, Changes, LoadProblem, UniqueIds
from index.sources.fetch_settings import FetchSettings
from index.sources.loaders import LoadLimits
from index.sources.sources_file import classify, file_url_refusal, read_sources_file
from index.storage import catalog
from index.storage.article_spool import ArticleSpool

if TYPE_CHECKING:
    import httpx

    from index.sources.fetching import Fetcher

Progress = Callable[[str, int, int], None]
SOURCES_SUFFIX = ".sources"
FETCH_STATE = "fetch-state.json"
T = TypeVar("T")
HASHES_READ_AT_ONCE = 4096  # the index's content hashes asked for in one query
ADDED_SOURCES = "added.sources"  # the URLs added one by one (the bot's /add), a sources file


def is_sources_file(source: str) -> bool:
    """Whether a source names a sources file: a local path ending in ``.sources``."""
    return classify(source) == "path" and source.lower().endswith(SOURCES_SUFFIX)


@dataclass(frozen=True)
class SourceList:
    """Sources sorted into local paths and URLs, with sources files read."""

    paths: tuple[str, ...]
    urls: tuple[str, ...]
    problems: tuple[LoadProblem, ...] = ()


def expand_sources(sources: Sequence[str], sources_files: Sequence[str | Path] = ()) -> SourceList:
    """Sort ``sources`` and the lines of ``sources_files`` into local paths and URLs, in order, once each.

    Raises SettingsError when a sources file cannot be read: building without its sources
    would drop their articles from the index."""
    paths: list[str] = []
    urls: list[str] = []
    problems: list[LoadProblem] = []

    def take(source: str, listed_in: str = "") -> None:
        if not source:
            return
        if classify(source) == "url":
            urls.append(source)
        elif refusal := file_url_refusal(source):
            problems.append(LoadProblem(source, refusal))
        elif not is_sources_file(source):
            paths.append(source)
        elif listed_in:
            reason = f"is a sources file listed in the sources file {listed_in}; list its lines there instead"
            problems.append(LoadProblem(source, reason))
        else:
            for line in read_sources_file(source):
                take(line, listed_in=source)

    for path in sources_files:
        for line in read_sources_file(path):
            take(line, listed_in=str(path))
    for source in sources:
        take(str(source).strip())
    return SourceList(tuple(dict.fromkeys(paths)), tuple(dict.fromkeys(urls)), tuple(problems))


@dataclass
class Collected:
    """What the sources hold, relative to the index."""

    articles: list[Article] | ArticleSpool  # new or changed since the index got them (a spool when files were read)
    unchanged_ids: list[str]  # articles of the sources that the index already holds unchanged
    problems: list[LoadProblem]  # one per source, feed entry or file that failed
    urls: tuple[str, ...] = ()  # the URL sources listed
    requests: int = 0  # HTTP requests made


@dataclass
class Added:
    """What adding one URL did."""

    new: Sequence[Article] = field(default_factory=list)  # added, or replacing an older copy
    unchanged: list[Article] = field(default_factory=list)  # already in the index as they are
    problems: list[LoadProblem] = field(default_factory=list)
    report: BuildReport | None = None


class Collector:
    """Collects articles for the index in ``index_dir``, fetching URLs with the state kept beside it.

    It only gathers: the Engine applies what it gathers (``Engine.update``, ``Engine.add_url``).

    Not thread-safe beyond the Fetcher's own lock: run one update at a time per index."""

    def __init__(
        self,
        index_dir: Path,
        fetch_settings: FetchSettings,
        transport: httpx.BaseTransport | None = None,
        load_limits: LoadLimits | None = None,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.load_limits = load_limits or LoadLimits()  # how large a local article file, line, .jsonl.gz may be
        self.fetch_settings = fetch_settings
        self._transport = transport
        self._fetcher: Fetcher | None = None  # made at the first fetch: httpx, lxml and the rest load only then
        self._fetcher_lock = threading.Lock()
        self._added_lock = threading.Lock()

    @property
    def fetcher(self) -> Fetcher:
        """The one Fetcher of this index (its lock keeps fetches sharing the state file one at a time)."""
        with self._fetcher_lock:
            if self._fetcher is None:
                from index.sources.fetching import Fetcher

                self._fetcher = Fetcher(self.fetch_settings, self.index_dir / FETCH_STATE, self._transport)
            return self._fetcher

    @property
    def added_file(self) -> Path:
        """The sources file of URLs added one by one with ``add_url``."""
        return self.index_dir / ADDED_SOURCES

    def collect(
        self, sources: Sequence[str], sources_files: Sequence[str | Path] = (), progress: Progress | None = None
    ) -> Collected:
        """Load the local sources and fetch the URLs; report only what the index does not hold as it is."""
        listed = expand_sources(sources, sources_files)
        with catalog.IndexedHashes(self.index_dir) as known:  # read for the articles loaded, not all of them
            return self._collect(listed, known, progress)

    def _collect(self, listed: SourceList, known: catalog.IndexedHashes, progress: Progress | None) -> Collected:
        problems = list(listed.problems)
        articles: list[Article] | ArticleSpool = []
        unchanged: list[str] = []
        ids = UniqueIds()
        if listed.paths:  # loaded into a spool (a file beside the index): a build holds no text of its own
            from index.sources.loaders import load_into

            spool = ArticleSpool(self.index_dir if self.index_dir.is_dir() else None)
            problems += load_into(listed.paths, spool.append, self.load_limits)
            changed: list[int] = []
            for block in _blocks(enumerate(spool), HASHES_READ_AT_ONCE):  # the index's hashes read a block at a time
                known.read(article.id for _, article in block)
                for position, article in block:
                    ids.claim(article)
                    if known.get(article.id) == article.content_hash:
                        unchanged.append(article.id)
                    else:
                        changed.append(position)
            articles = spool if len(changed) == len(spool) else spool.subset(changed)
        requests = 0
        if listed.urls:
            fetched = self.fetcher.fetch(listed.urls, known, progress)
            requests = fetched.requests
            problems += fetched.problems
            for article in fetched.articles:
                if duplicate := ids.claim(article):
                    problems.append(duplicate)
                else:
                    articles.append(article)
            unchanged += [article_id for article_id in fetched.unchanged_ids if article_id not in ids]
        return Collected(articles, list(dict.fromkeys(unchanged)), problems, listed.urls, requests)

    def changes(self, collected: Collected, replace_all: bool) -> Changes:
        """The change to the index: incremental (the rest of the index stays), or a full rebuild."""
        if not replace_all:
            return Changes(collected.articles, collected.problems)
        incoming = {article.id for article in collected.articles}
        unchanged = set(collected.unchanged_ids)
        urls = set(collected.urls)
        carried = catalog.indexed_articles(
            self.index_dir,
            lambda article: article.id not in incoming and (article.id in unchanged or article.origin in urls),
        )
        if isinstance(collected.articles, ArticleSpool):
            articles = collected.articles[:]  # the same file: the carried articles are spooled after them
            articles.extend(carried)
            return Changes(articles, collected.problems, replace_all=True)
        return Changes([*collected.articles, *carried], collected.problems, replace_all=True)

    def remember_url(self, url: str) -> None:
        """Add ``url`` to ``added_file`` (once), so rebuilds and refreshes that name that file keep it."""
        with self._added_lock:
            path = self.added_file
            if path.exists() and url in read_sources_file(path):
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
            with path.open("a", encoding="utf-8") as handle:
                if handle.tell() == 0:
                    handle.write("# Article and feed URLs added one by one (the bot's /add); one a line.\n")
                handle.write(f"{url}  # added {stamp}\n")


def _blocks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last one shorter), read as they come."""
    block: list[T] = []
    for item in items:
        block.append(item)
        if len(block) == size:
            yield block
            block = []
    if block:
        yield block
