"""Gather the articles of a list of sources, and bring an index up to date with them.

A source is a local file or folder of articles, an article URL, an RSS/Atom feed URL, or a
sources file (named with ``--sources FILE``, or any path ending in ``.sources``) listing
sources one a line. Sources files are read at every collection, so an edit counts at the
next refresh::

    sources ──▶ local paths ──load_articles──────────────────────────▶ articles
           └──▶ URLs ──Fetcher (conditional requests, against what the index holds)──▶ articles

Only what is new or changed relative to the index is handed to the builder, so a refresh
embeds nothing else. A full build (the index afterwards holds the listed sources only)
carries over, from the index, the articles of listed sources that did not change, and every
article a listed URL ever gave: a feed lists only its latest entries, and the older ones stay.
Articles of sources no longer listed are dropped.

The fetch state (validators and content hashes of each URL) is kept in ``INDEX_DIR/fetch-state.json``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from index.builder import Changes
from index.records import Article, BuildReport, LoadProblem
from index.sources.fetching import Fetcher, FetchSettings
from index.sources.sources_file import classify, read_sources_file
from index.storage import catalog

if TYPE_CHECKING:
    from index.engine import Engine

Progress = Callable[[str, int, int], None]
SOURCES_SUFFIX = ".sources"
FETCH_STATE = "fetch-state.json"
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

    articles: list[Article]  # new or changed since the index got them
    unchanged_ids: list[str]  # articles of the sources that the index already holds unchanged
    problems: list[LoadProblem]  # one per source, feed entry or file that failed
    urls: tuple[str, ...] = ()  # the URL sources listed
    requests: int = 0  # HTTP requests made


@dataclass
class Added:
    """What adding one URL did."""

    new: list[Article] = field(default_factory=list)  # added, or replacing an older copy
    unchanged: list[Article] = field(default_factory=list)  # already in the index as they are
    problems: list[LoadProblem] = field(default_factory=list)
    report: BuildReport | None = None


class Collector:
    """Collects articles for the index in ``index_dir``, fetching URLs with the state kept beside it.

    Not thread-safe beyond the Fetcher's own lock: run one update at a time per index."""

    def __init__(
        self, index_dir: Path, fetch_settings: FetchSettings, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.index_dir = Path(index_dir)
        self.fetcher = Fetcher(fetch_settings, self.index_dir / FETCH_STATE, transport)
        self._added_lock = threading.Lock()

    @property
    def added_file(self) -> Path:
        """The sources file of URLs added one by one with ``add_url``."""
        return self.index_dir / ADDED_SOURCES

    def collect(
        self, sources: Sequence[str], sources_files: Sequence[str | Path] = (), progress: Progress | None = None
    ) -> Collected:
        """Load the local sources and fetch the URLs; report only what the index does not hold as it is."""
        listed = expand_sources(sources, sources_files)
        known = catalog.indexed_hashes(self.index_dir)
        problems = list(listed.problems)
        articles: list[Article] = []
        unchanged: list[str] = []
        seen: dict[str, str] = {}
        if listed.paths:
            from index.sources.loaders import load_articles

            loaded = load_articles(listed.paths)
            problems += loaded.problems
            for article in loaded.articles:
                seen[article.id] = article.origin
                if known.get(article.id) == article.content_hash:
                    unchanged.append(article.id)
                else:
                    articles.append(article)
        requests = 0
        if listed.urls:
            fetched = self.fetcher.fetch(listed.urls, known, progress)
            requests = fetched.requests
            problems += fetched.problems
            for article in fetched.articles:
                if article.id in seen:
                    reason = (
                        f"duplicate id {article.id!r}, first seen in {seen[article.id]}; give each article its own id"
                    )
                    problems.append(LoadProblem(article.origin, reason))
                else:
                    articles.append(article)
            unchanged += [article_id for article_id in fetched.unchanged_ids if article_id not in seen]
        return Collected(articles, list(dict.fromkeys(unchanged)), problems, listed.urls, requests)

    def changes(self, collected: Collected, full: bool) -> Changes:
        """The change to the index: incremental (the rest of the index stays), or a full rebuild."""
        if not full:
            return Changes(collected.articles, collected.problems)
        incoming = {article.id for article in collected.articles}
        unchanged = set(collected.unchanged_ids)
        urls = set(collected.urls)
        carried = catalog.indexed_articles(
            self.index_dir,
            lambda article: article.id not in incoming and (article.id in unchanged or article.origin in urls),
        )
        return Changes([*collected.articles, *carried], collected.problems, keep_others=False)

    def update(
        self,
        engine: Engine,
        sources: Sequence[str],
        *,
        full: bool,
        sources_files: Sequence[str | Path] = (),
        progress: Progress | None = None,
    ) -> BuildReport:
        """Collect ``sources`` and apply them to the engine's index: a full rebuild, or an incremental
        refresh that writes no new index when nothing is new."""
        started = time.monotonic()
        collected = self.collect(sources, sources_files, progress)
        report = self.apply(engine, collected, full=full, progress=progress)
        report.seconds = time.monotonic() - started
        return report

    def apply(
        self, engine: Engine, collected: Collected, *, full: bool, progress: Progress | None = None
    ) -> BuildReport:
        """Apply what was collected; the report counts fetched-and-unchanged articles as unchanged."""
        if not full and not collected.articles and engine.has_index():
            report = BuildReport(unchanged=len(collected.unchanged_ids), problems=list(collected.problems))
            report.articles, report.chunks = catalog.indexed_counts(self.index_dir)
            return report
        report = engine.apply(self.changes(collected, full), progress)
        if not full:  # a full build handed them to the builder, which counted them
            report.unchanged += len(collected.unchanged_ids)
        return report

    def add_url(self, engine: Engine, url: str, progress: Progress | None = None) -> Added:
        """Fetch one article (or feed) URL into the index, and remember it in ``added_file`` so that
        rebuilds and refreshes that name that file keep it. Local paths are refused."""
        url = url.strip()
        if classify(url) != "url":
            return Added(
                problems=[LoadProblem(url, "it is not a web address (it does not start with http:// or https://).")]
            )
        collected = self.collect([url], progress=progress)
        added = Added(new=collected.articles, problems=collected.problems)
        if collected.articles:
            added.report = self.apply(engine, collected, full=False, progress=progress)
        if collected.unchanged_ids:
            wanted = set(collected.unchanged_ids)
            added.unchanged = catalog.indexed_articles(self.index_dir, lambda article: article.id in wanted)
        if added.new or added.unchanged:
            self._remember(url)
        return added

    def _remember(self, url: str) -> None:
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
