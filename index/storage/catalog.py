"""Read-only views of the current index generation: what it holds, and its newest articles.

They open the generation's store directly, so they work without an Engine and never load
the encoder. A build may publish a new generation (and prune an old one) at any moment; a
read that loses that race is retried once on the new current generation. A damaged store raises
IndexCorruptError, except where a build asks what is indexed: there it counts as empty, so that a
rebuild can replace it (any other change refuses it: ``generations.previous_for_build``).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
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


class IndexedHashes(Mapping[str, str]):
    """Article id -> content hash of the articles in the index, read as they are asked for (``read`` asks for many
    in one query): a collector asks about the articles it loaded, not about every article of a large index (1.4 s
    and a dict of every id at a million chunks). Empty when there is no index or it is damaged, as a
    rebuild must be able to replace it. Holds the current generation's store open until closed (a ``with`` block)."""

    def __init__(self, index_dir: Path) -> None:
        self._index_dir = Path(index_dir)
        self._open = ExitStack()
        self._store: ArticleStore | None = None
        self._opened = False
        self._read: dict[str, str | None] = {}  # None: not in the index

    def read(self, article_ids: Iterable[str]) -> None:
        """Read the hashes of ``article_ids`` not read yet, in one query."""
        wanted = [article_id for article_id in dict.fromkeys(article_ids) if article_id not in self._read]
        if not wanted:
            return
        found = self._hashes(wanted)
        self._read.update((article_id, found.get(article_id)) for article_id in wanted)

    def _hashes(self, article_ids: list[str] | None) -> dict[str, str]:
        """``ArticleStore.content_hashes`` of the current store, opened at the first read; {} without one."""
        try:
            if not self._opened:
                self._opened = True
                self._store = self._open.enter_context(_current_store(self._index_dir))
            return self._store.content_hashes(article_ids) if self._store is not None else {}
        except IndexCorruptError:
            self._store = None
            return {}

    def __getitem__(self, article_id: str) -> str:
        self.read([article_id])
        content_hash = self._read[article_id]
        if content_hash is None:
            raise KeyError(article_id)
        return content_hash

    def __iter__(self) -> Iterator[str]:
        """Every id in the index (reads them all)."""
        hashes = self._hashes(None)
        self._read.update(hashes)
        return iter(hashes)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def close(self) -> None:
        self._open.close()

    def __enter__(self) -> IndexedHashes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
