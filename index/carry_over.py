"""What a build carries over from the previous generation, so that an update costs what it changes (issue 16):
the kept chunks' vector rows and vectors, the article store (a copy of the previous one, edited), the stories of
the previous articles. ``builder.py`` writes the rest of the generation around them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from index.records import Article, Chunk
from index.storage import generations
from index.storage.article_store import ArticleStore
from index.storage.faiss_vectors import single_thread
from index.text.near_duplicates import BANDS, PERMUTATIONS, ROWS, DuplicateFinder, signature


class KeptChunks:
    """The chunks of the previous generation's articles: their vector rows (all read at once), and their texts
    when a build needs them (one query an article: only for what a previous generation did not store)."""

    def __init__(self, old_store: ArticleStore | None) -> None:
        self._store = old_store
        self._rows: dict[str, list[int]] | None = None

    def rows(self, article_id: str) -> list[int]:
        if self._rows is None:
            self._rows = self._store.chunk_rows() if self._store else {}
        return self._rows.get(article_id, [])

    def chunks(self, article_id: str) -> list[Chunk]:
        assert self._store is not None  # a kept article comes from the previous generation
        return [chunk for _, chunk in self._store.chunks_of(article_id)]


def carried_vectors(
    old_vectors: np.ndarray | None, old_row_of: np.ndarray, fresh_vectors: np.ndarray, dimension: int
) -> np.ndarray:
    """Every row's vector: a kept row's from the previous generation, a new row's as embedded (in row order)."""
    vectors = np.zeros((len(old_row_of), dimension), dtype=np.float32)
    kept = np.flatnonzero(old_row_of >= 0)
    if len(kept):
        assert old_vectors is not None
        if np.array_equal(old_row_of[: len(kept)], kept):  # the previous rows in order, first: one copy
            vectors[: len(kept)] = old_vectors[: len(kept)]
        else:
            vectors[kept] = old_vectors[old_row_of[kept]]
    vectors[old_row_of < 0] = fresh_vectors
    return vectors


def write_store(
    path: Path,
    previous: Path | None,
    old_store: ArticleStore | None,
    final: list[Article],
    sizes: list[int],
    old_row_of: np.ndarray,
    fresh_chunks: Mapping[str, list[Chunk]],
    kept: KeptChunks,
    stories: dict[str, str],
    signatures: dict[str, bytes],
) -> None:
    """The generation's article store with every article of ``final`` in order, each chunk at its vector row.

    It starts as a copy of the previous generation's store (a copy: the previous generation stays whole if the
    build stops) when that one records stories: the articles that keep their place and order stay (their chunks
    moved to their new rows when rows before them went), the others are deleted, and the articles after them
    are inserted in order; a staying article whose story changed gets its new one."""
    if previous is None or old_store is None or not old_store.has_signatures():
        staying = 0
        store = ArticleStore.create(path)
    else:
        order = {article_id: position for position, article_id in enumerate(old_store.ids())}
        staying, last = 0, -1
        for article in final:  # the articles that keep their order, from the first
            position = order.get(article.id, -1)
            if article.id in fresh_chunks or position <= last:
                break
            staying, last = staying + 1, position
        shutil.copyfile(previous / generations.STORE, path)
        store = ArticleStore(path, readonly=False)
        kept_ids = {article.id for article in final[:staying]}
        store.remove_articles(article_id for article_id in order if article_id not in kept_ids)
        rows = sum(sizes[:staying])
        moved = np.flatnonzero(old_row_of[:rows] != np.arange(rows))
        if len(moved):
            store.move_chunks(old_row_of[moved].tolist(), moved.tolist())
        old_stories = old_store.stories()
        store.set_stories({a.id: stories[a.id] for a in final[:staying] if stories[a.id] != old_stories[a.id]})
    row = sum(sizes[:staying])
    for article, size in zip(final[staying:], sizes[staying:]):
        chunks = fresh_chunks[article.id] if article.id in fresh_chunks else kept.chunks(article.id)
        rows_of_chunks = [(row + i, chunk) for i, chunk in enumerate(chunks)]
        store.add_article(article, rows_of_chunks, stories[article.id], signatures[article.id])
        row += size
    store.commit()
    store.close()


@contextmanager
def one_faiss_thread() -> Iterator[None]:
    """FAISS on one OpenMP thread in this thread: an update searches the densities of a few thousand rows, and on
    this project's busy 2-core machine that took 1.3 s on one thread and 3.1 to 3.7 s on two (100,000 rows; the
    bot's questions share the cores). A whole build's densities (every row) keep every thread."""
    with single_thread():
        yield


def group_stories(
    final: list[Article], fresh: Mapping[str, list[Chunk]], old_store: ArticleStore | None
) -> tuple[dict[str, str], dict[str, bytes]]:
    """Group republished copies of one story: (story id by article id, signature by article id).

    When ``final`` begins with every previous article in its order (an add), those keep their stored stories (the
    finder gave them the same over the same articles) and only the articles after them are grouped, against
    the previous articles sharing a band with one of them (``ResumedFinder``): the stories grouping them all
    again gives, without going through every previous article (5 s at 27,000 articles)."""
    kept = old_store.signatures() if old_store and old_store.has_signatures() else {}
    signatures = {
        article.id: kept[article.id]
        if article.id in kept and article.id not in fresh
        else signature(article.text).tobytes()
        for article in final
    }
    old_ids = old_store.ids() if old_store and kept else []
    added = len(final) >= len(old_ids) and all(
        article.id == old_id and old_id not in fresh for article, old_id in zip(final, old_ids)
    )
    if not (old_ids and added):
        finder = DuplicateFinder()
        return finder.add_all((a.id, np.frombuffer(signatures[a.id], dtype=np.uint64)) for a in final), signatures
    assert old_store is not None
    stories = old_store.stories()
    new = final[len(old_ids) :]
    resumed = ResumedFinder()
    resumed.remember_near(
        np.frombuffer(b"".join(signatures[article_id] for article_id in old_ids), dtype=np.uint64),
        [stories[article_id] for article_id in old_ids],
        np.frombuffer(b"".join(signatures[article.id] for article in new), dtype=np.uint64),
    )
    stories.update(resumed.add_all((a.id, np.frombuffer(signatures[a.id], dtype=np.uint64)) for a in new))
    return stories, signatures


class ResumedFinder(DuplicateFinder):
    """A story finder that resumes after articles already grouped: it remembers those with their known stories,
    in their order, as ``add`` would have remembered them, without comparing them again."""

    def remember_near(self, signatures: np.ndarray, stories: list[str], coming: np.ndarray) -> None:
        """Remember the articles (``signatures`` one after another, ``stories``, in order) that share a band with
        one of the ``coming`` ones. A bucket's members depend only on the articles that reached it, in order, so
        the coming articles meet the candidates they would have met after every article."""
        earlier, later = signatures.reshape(-1, PERMUTATIONS), coming.reshape(-1, PERMUTATIONS)
        near = np.zeros(len(earlier), dtype=bool)
        for band in range(BANDS):
            near |= np.isin(_band_key(earlier, band), _band_key(later, band))
        for position in np.flatnonzero(near).tolist():
            sig = earlier[position]
            self._remember(sig, stories[position], [sig[b * ROWS : (b + 1) * ROWS].tobytes() for b in range(BANDS)])


def _band_key(signatures: np.ndarray, band: int) -> np.ndarray:
    """One number for each signature's band (equal bands, equal numbers; a rare equal number for unequal bands
    only remembers an article more)."""
    key = np.zeros(len(signatures), dtype=np.uint64)
    for value in signatures[:, band * ROWS : (band + 1) * ROWS].T:
        key = key * np.uint64(0x9E3779B97F4A7C15) + value  # wraps around: a hash
    return key
