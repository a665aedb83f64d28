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
from index.storage.row_files import BLOCK_ROWS, NpyWriter, RowFile
from index.text.near_duplicates import BANDS, PERMUTATIONS, DuplicateFinder, band_keys, signature

STORED_SIGNATURE = np.dtype("<u8")  # the store keeps a signature's values as little-endian uint64


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
    old_vectors: np.ndarray | None, old_row_of: np.ndarray, fresh_vectors: np.ndarray, dimension: int, path: Path
) -> RowFile:
    """Write every row's vector to ``path`` (an ``.npy`` file), a kept row's from the previous generation, a new
    row's as embedded, in row order, ``BLOCK_ROWS`` rows at a time; returns the file, read back a block at a time
    by those who need the vectors (the build holds no second copy of them beside ``fresh_vectors``). The previous
    generation's vectors are read from their file when they are mapped (no page of it stays in memory)."""
    old = RowFile.of(old_vectors) if old_vectors is not None else None
    fresh_done = 0  # new rows written so far
    buffer = np.empty((min(BLOCK_ROWS, len(old_row_of)), dimension), dtype=np.float32)
    with NpyWriter(path, np.float32, (dimension,), len(old_row_of)) as out:
        for start in range(0, len(old_row_of), BLOCK_ROWS):
            old_rows = old_row_of[start : start + BLOCK_ROWS]
            block = buffer[: len(old_rows)]
            kept = old_rows >= 0
            if kept.any():
                assert old is not None
                block[kept] = old[old_rows[kept]]
            fresh = len(old_rows) - int(kept.sum())
            block[~kept] = fresh_vectors[fresh_done : fresh_done + fresh]
            fresh_done += fresh
            out.write(block)
    if isinstance(old, RowFile):
        old.close()
    return RowFile.npy(path)


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
    signatures: np.ndarray,
) -> None:
    """The generation's article store with every article of ``final`` in order, each chunk at its vector row.

    It starts as a copy of the previous generation's store (a copy: the previous generation stays whole if the
    build stops) when that one records stories: the articles that keep their place and order stay (their chunks
    moved to their new rows when rows before them went), the others are deleted, and the articles after them
    are inserted in order; a staying article whose story changed gets its new one. ``signatures``: one row for each
    article of ``final`` (``group_stories``), stored as uint64 values."""
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
    for position in range(staying, len(final)):
        article = final[position]
        chunks = fresh_chunks[article.id] if article.id in fresh_chunks else kept.chunks(article.id)
        rows_of_chunks = [(row + i, chunk) for i, chunk in enumerate(chunks)]
        stored_signature = signatures[position].astype(STORED_SIGNATURE).tobytes()
        store.add_article(article, rows_of_chunks, stories[article.id], stored_signature)
        row += sizes[position]
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
) -> tuple[dict[str, str], np.ndarray]:
    """Group republished copies of one story: (story id by article id, the signatures of ``final``: one uint32 row
    an article, in order).

    When ``final`` begins with every previous article in its order (an add), those keep their stored stories (the
    finder gave them the same over the same articles) and only the articles after them are grouped, against
    the previous articles sharing a band with one of them (``ResumedFinder``): the stories grouping them all
    again gives, without going through every previous article (5 s at 27,000 articles)."""
    old_ids: list[str] = []
    kept = np.zeros((0, PERMUTATIONS), dtype=np.uint32)
    if old_store is not None and old_store.has_signatures():
        old_ids, kept = old_store.signature_rows()
    row_of = {article_id: row for row, article_id in enumerate(old_ids)}
    signatures = np.empty((len(final), PERMUTATIONS), dtype=np.uint32)
    for position, article in enumerate(final):
        row = -1 if article.id in fresh else row_of.get(article.id, -1)
        signatures[position] = kept[row] if row >= 0 else signature(article.text)
    del row_of, kept
    added = len(final) >= len(old_ids) and all(
        article.id == old_id and old_id not in fresh for article, old_id in zip(final, old_ids)
    )
    if not (old_ids and added):
        ids = [article.id for article in final]
        return dict(zip(ids, DuplicateFinder().stories_of(ids, signatures))), signatures
    assert old_store is not None
    stories = old_store.stories()
    new = final[len(old_ids) :]
    resumed = ResumedFinder()
    resumed.remember_near(
        signatures[: len(old_ids)], [stories[article_id] for article_id in old_ids], signatures[len(old_ids) :]
    )
    stories.update(resumed.add_all((a.id, signatures[len(old_ids) + i]) for i, a in enumerate(new)))
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
            # equal bands, equal keys; an unequal band sharing a key only remembers an article more
            near |= np.isin(band_keys(earlier, band), band_keys(later, band))
        near_positions = np.flatnonzero(near)
        self.remember(earlier[near_positions], [stories[position] for position in near_positions.tolist()])
