"""Read-only views of the current index generation: what it holds, and its newest articles.

They open the generation's store directly, so they work without an Engine and never load
the encoder. A build may publish a new generation (and prune an old one) at any moment; a
read that loses that race is retried once on the new current generation. A damaged store raises
IndexCorruptError, except where a build asks what is indexed: there it counts as empty, so that a
rebuild can replace it (any other change refuses it: ``generations.previous_for_build``).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from index.errors import IndexCorruptError
from index.records import Article
from index.storage import generations
from index.storage.article_store import ArticleStore


@contextmanager
def _current_store(index_dir: Path) -> Iterator[ArticleStore | None]:
    """The current generation's store, or None when there is no index."""
    for attempt in (1, 2):
        generation = generations.current_generation(Path(index_dir))
        if generation is None:
            yield None
            return
        try:
            store = ArticleStore(generation / generations.STORE)
        except IndexCorruptError:
            if attempt == 1 and generations.current_generation(Path(index_dir)) != generation:
                continue  # pruned by a build between reading CURRENT and opening it
            raise
        try:
            yield store
        finally:
            store.close()
        return


def indexed_hashes(index_dir: Path) -> dict[str, str]:
    """Article id -> content hash of every article in the index; empty when there is none or it is damaged."""
    try:
        with _current_store(index_dir) as store:
            return store.content_hashes() if store is not None else {}
    except IndexCorruptError:
        return {}


def indexed_counts(index_dir: Path) -> tuple[int, int]:
    """(articles, chunks) in the index; (0, 0) when there is none."""
    with _current_store(index_dir) as store:
        return store.counts() if store is not None else (0, 0)


def indexed_articles(index_dir: Path, wanted: Callable[[Article], bool]) -> list[Article]:
    """The stored articles for which ``wanted`` is true, in index order; none when the index is damaged."""
    try:
        with _current_store(index_dir) as store:
            return [article for article in store.articles() if wanted(article)] if store is not None else []
    except IndexCorruptError:
        return []


def newest_articles(index_dir: Path, limit: int = 10) -> list[Article]:
    """The ``limit`` most recently published articles, newest first; undated ones after every dated
    one, the most recently indexed first."""
    with _current_store(index_dir) as store:
        if store is None:
            return []
        ranked = heapq.nlargest(
            limit, enumerate(store.articles()), key=lambda pair: (_when(pair[1].published), pair[0])
        )
    return [article for _, article in ranked]


def _when(published: str) -> float:
    """Seconds since the epoch of an ISO 8601 date or datetime (naive means UTC); -inf when none."""
    if not published:
        return float("-inf")
    try:
        moment = datetime.fromisoformat(published.strip())
    except ValueError:
        return float("-inf")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
