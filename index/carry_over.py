"""What a build carries over from the previous generation, so that an update costs what it changes (issue 16):
the kept chunks' vector rows and vectors, the article store (the previous one shared with a delta of the appended
articles, or a copy of it, edited), the stories of the previous articles. ``builder.py`` writes the rest of the
generation around them."""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

import index.layered_vectors as layered_vectors
from index.records import Article, Chunk
from index.row_layout import RowLayout
from index.storage import generations, store_layers
from index.storage.article_spool import ArticleRef, Shelf
from index.storage.article_store import ArticleStore, StoredArticles
from index.storage.faiss_vectors import single_thread
from index.storage.row_files import RowFile, StackedRows, write_taken_rows
from index.text.near_duplicates import BANDS, PERMUTATIONS, ROWS, DuplicateFinder, band_keys, signature

STORED_SIGNATURE = np.dtype("<u8")  # the store keeps a signature's values as little-endian uint64


class KeptChunks:
    """The previous generation's articles as a build plans with them, read in bulk (``StoredArticles``: one pass
    over the stored articles, one over the chunks' rows): their light fields, stories, signatures and chunks'
    vector rows; their texts when a build needs them (one query an article: only for what it writes again)."""

    def __init__(self, old_store: ArticleStore | None) -> None:
        self._store = old_store
        self.articles = old_store.stored_articles() if old_store else StoredArticles.empty()
        self._shelf = Shelf(self.article)

    def article(self, article_id: str) -> Article:
        """A previous article, whole (its text read from the store)."""
        article = self._store.article(article_id) if self._store else None
        assert article is not None, article_id
        return article

    def references(self, positions: Iterable[int]) -> list[Article]:
        """The previous articles at ``positions`` (in stored order) as ``ArticleRef``s: their texts are read
        from the store when asked for."""
        ids, titles, sources, published = (
            self.articles.ids,
            self.articles.titles,
            self.articles.sources,
            self.articles.published,
        )
        return list[Article](
            ArticleRef.many(self._shelf, ((ids[p], titles[p], sources[p], published[p]) for p in positions))
        )

    def content_hashes(self, article_ids: Iterable[str]) -> dict[str, str]:
        """The content hashes of those of ``article_ids`` that the previous generation holds."""
        return self._store.content_hashes(article_ids) if self._store else {}

    def rows(self, old_positions: np.ndarray, fresh_sizes: Sequence[int]) -> tuple[list[int], np.ndarray]:
        """(each article's number of chunks, each row's row in the previous generation or -1 for a new one) of
        the articles at ``old_positions`` among the previous ones (-1: a new article, with ``fresh_sizes[i]``
        chunks for the i-th of them), in that order."""
        stored = self.articles
        kept = old_positions >= 0
        at = np.where(kept, old_positions, 0) if len(stored) else np.zeros(len(old_positions), dtype=np.int64)
        sizes = np.zeros(len(old_positions), dtype=np.int64)
        sizes[kept] = stored.chunk_counts[at[kept]]
        sizes[~kept] = fresh_sizes
        starts = np.cumsum(sizes) - sizes  # each article's first row in the new generation
        kept_rows = np.repeat(kept, sizes)
        shift = np.repeat(np.where(kept, stored.chunk_starts[at] - starts if len(stored) else 0, 0), sizes)
        where = (shift + np.arange(len(kept_rows)))[kept_rows]  # a kept row's place in the previous layout
        old_row_of = np.full(len(kept_rows), -1, dtype=np.int64)
        old_row_of[kept_rows] = where if stored.chunk_rows is None else stored.chunk_rows[where]
        return sizes.tolist(), old_row_of

    def take_signatures(self) -> np.ndarray:
        """The previous articles' signatures, given away (``group_stories`` copies those it keeps): the build holds
        no second table after grouping (at 1M chunks, 141 MB)."""
        table, self.articles.signatures = self.articles.signatures, np.zeros((0, PERMUTATIONS), dtype=np.uint32)
        return table

    def chunks(self, article_id: str) -> list[Chunk]:
        assert self._store is not None  # a kept article comes from the previous generation
        return [chunk for _, chunk in self._store.chunks_of(article_id)]


def carried_vectors(
    old_vectors: np.ndarray | StackedRows | None,
    old_row_of: np.ndarray,
    fresh_vectors: np.ndarray,
    dimension: int,
    path: Path,
) -> RowFile:
    """Write every row's vector to ``path`` (an ``.npy`` file), a kept row's from the previous generation, a new
    row's as embedded, in row order, ``BLOCK_ROWS`` rows at a time; returns the file, read back a block at a time
    by those who need the vectors (the build holds no second copy of them beside ``fresh_vectors``). The previous
    generation's vectors are read from their file when they are mapped (no page of it stays in memory)."""
    old = (
        None
        if old_vectors is None
        else RowFile.of(old_vectors)
        if isinstance(old_vectors, np.ndarray)
        else old_vectors.files()
    )
    write_taken_rows(path, old, old_row_of, fresh_vectors, dimension)
    if isinstance(old, (RowFile, StackedRows)):
        old.close()
    return RowFile.npy(path)


def write_store(
    path: Path,
    previous: Path | None,
    old_store: ArticleStore | None,
    final: list[Article],
    layout: RowLayout,
    fresh_chunks: Mapping[str, list[Chunk]],
    kept: KeptChunks,
    stories: dict[str, str],
    signatures: np.ndarray,
) -> None:
    """The generation's article store with every article of ``final`` in order, each chunk at its vector row
    (``layout``: from its first, ``starts``).

    When the previous generation's store records stories, an update that keeps every article of its base (in order,
    their chunks at their rows, their stories unchanged) shares that base by hard link and writes a delta layer
    (``store_layers.py``): when it only appends articles, the previous delta's rows copied, then the new articles';
    when it also removes or changes articles of the previous delta, each article after the base written again, at
    its new rows with its story (recent articles are the ones a refresh finds edited); once the delta
    would pass ``store_layers.DELTA_SHARE`` of the base's chunks, or for a base under ``LAYER_MIN_ROWS`` chunks
    (``layered_vectors.py``), it writes one whole store. That one starts as a copy of the previous base with the
    previous delta's rows inserted (a copy: the previous generation stays whole if the build stops): the articles
    that keep their place and order stay (their chunks moved to their new rows when rows before them went), the
    others are deleted, and the articles after them are inserted in order; a staying article whose story changed
    gets its new one. ``signatures``: one row for each article of ``final`` (``group_stories``), stored as uint64
    values. With dead rows (``row_layout.py``: removed articles kept in the base), the base is shared and the delta
    lists the removed articles of the base (``store_layers.py``); one whole store leaves them out."""
    rowid = None  # where the articles written after the staying ones begin: after the last, unless a delta's
    written = 0  # the first article written here: those before it stay where they are (a shared base, or a copy)
    if previous is None or old_store is None or not old_store.has_signatures():
        store = ArticleStore.create(path)
    else:
        order = {article_id: position for position, article_id in enumerate(kept.articles.ids)}
        staying, last = 0, -1
        for article in final:  # the articles that keep their order, from the first
            position = order.get(article.id, -1)
            if article.id in fresh_chunks or position <= last:
                break
            staying, last = staying + 1, position
        old_stories = dict(zip(kept.articles.ids, kept.articles.stories))
        new_stories = {a.id: stories[a.id] for a in final[:staying] if stories[a.id] != old_stories[a.id]}
        layers = old_store.layer_counts()
        old_store_path, old_delta = previous / generations.STORE, store_layers.delta_path(previous / generations.STORE)
        old_row_of, removed = layout.old_row_of, old_store.removed_rowids()
        rows = layout.first_row(staying)  # the rows of the staying articles: those before it
        base = _layered_base(layers, staying, layout, new_stories, final)
        if base is not None:  # the base shared, the delta written: the previous delta's articles, then the new ones
            generations.share_file(old_store_path, path)
            store = ArticleStore.create(store_layers.delta_path(path))
            if len(layout.dead):  # the base's articles that are not among its first kept ones are removed
                kept_ids = {article.id for article in final[:base]}
                base_ids = kept.articles.ids[: layers[0][0] - len(removed)]
                gone = old_store.base_rowids(article_id for article_id in base_ids if article_id not in kept_ids)
                store.record_removed([*removed, *gone.values()])
            appends = staying == len(kept.articles) and not new_stories
            appends = appends and bool(np.array_equal(old_row_of[:rows], np.arange(rows)))
            if appends and len(layers) > 1:  # every previous article stays as it was: its rows copied as they are
                store.copy_layer(old_delta)
            written = staying if appends else base  # else each of the delta's articles written again
            rowid = old_store.next_rowid(base_only=not appends)
        else:
            shutil.copyfile(old_store_path, path)
            store = ArticleStore(path, readonly=False)
            store.drop_base_ghosts(removed)  # removed articles kept in the base go now
            if len(layers) > 1:
                store.copy_layer(old_delta)
            kept_ids = {article.id for article in final[:staying]}
            store.remove_articles(article_id for article_id in order if article_id not in kept_ids)
            moved = np.flatnonzero(old_row_of[:rows] != np.arange(rows))
            if len(moved):
                store.move_chunks(old_row_of[moved].tolist(), moved.tolist())
            store.set_stories(new_stories)
            written = staying
    for position in range(written, len(final)):
        article = final[position]
        chunks = fresh_chunks[article.id] if article.id in fresh_chunks else kept.chunks(article.id)
        row = int(layout.starts[position])
        rows_of_chunks = [(row + i, chunk) for i, chunk in enumerate(chunks)]
        stored_signature = signatures[position].astype(STORED_SIGNATURE).tobytes()
        at = None if rowid is None else rowid + position - written
        store.add_article(article, rows_of_chunks, stories[article.id], stored_signature, rowid=at)
    store.commit()
    store.close()


def _layered_base(
    layers: list[tuple[int, int]], staying: int, layout: RowLayout, new_stories: dict, final: list[Article]
) -> int | None:
    """How many articles of the previous store's base an update keeps as a base shared with it (``layers``: its
    (articles, chunks) per layer, as stored), None when it writes one whole store. It may when it keeps every
    article of the base in order (``staying``: the first articles that keep their order), their chunks at their
    rows and their stories, and changes only what follows (appends articles, removes or changes articles of the
    previous delta), and its delta stays within its share; and it does when it keeps the base with dead rows
    (``layout.dead``: then the base's articles it keeps are ``layout.kept_articles``)."""
    base_articles, base_rows = layers[0]
    if len(layout.dead):
        base_articles = layout.kept_articles
    if staying < base_articles or any(article.id in new_stories for article in final[:base_articles]):
        return None
    delta = layout.rows - base_rows
    too_large = base_rows < layered_vectors.LAYER_MIN_ROWS or delta > store_layers.DELTA_SHARE * base_rows
    if not len(layout.dead) and (delta < 1 or too_large):
        return None  # (with no row after the base and none dead, one whole store: no store has an empty delta)
    return base_articles if np.array_equal(layout.old_row_of[:base_rows], np.arange(base_rows)) else None


@contextmanager
def one_faiss_thread() -> Iterator[None]:
    """FAISS on one OpenMP thread in this thread: an update searches the densities of a few thousand rows, and on
    this project's busy 2-core machine that took 1.3 s on one thread and 3.1 to 3.7 s on two (100,000 rows; the
    bot's questions share the cores). A whole build's densities (every row) keep every thread."""
    with single_thread():
        yield


def group_stories(
    final: list[Article], old_positions: np.ndarray, kept: KeptChunks, kept_articles: int = 0
) -> tuple[dict[str, str], np.ndarray]:
    """Group republished copies of one story: (story id by article id, the signatures of ``final``: one uint32 row
    an article, in order). ``old_positions``: each article's position among the previous ones (``kept``), -1 for
    a new one.

    The articles with which ``final`` begins as the previous articles began (all of them for an add; those before the
    first removed, changed or moved one otherwise) keep their stored stories (the finder gave them the same over
    the same articles) and only the articles after them are grouped, against the earlier ones sharing a band with
    one of them (``ResumedFinder``): the stories grouping them all again gives, without going through every
    previous article (5 s at 27,000 articles; a removal at a million chunks grouped 275,000 articles again, 7.4 s).
    ``kept_articles``: an update that keeps the previous base with dead rows (``row_layout.py``) keeps the stored
    stories of its first articles, those after a removed one's too, and groups no article with a removed one."""
    stored, table = kept.articles, kept.take_signatures()
    signed = len(table) == len(stored) > 0  # an older store without signatures: every text signed
    reused = old_positions >= 0 if signed else np.zeros(len(final), dtype=bool)
    signatures = np.empty((len(final), PERMUTATIONS), dtype=np.uint32)
    if reused.any():
        signatures[reused] = table[old_positions[reused]]
    del table
    for position in np.flatnonzero(~reused).tolist():
        signatures[position] = signature(final[position].text)
    count = max(kept_prefix(old_positions), kept_articles) if signed else 0
    if count == 0:
        ids = [article.id for article in final]
        return dict(zip(ids, DuplicateFinder().stories_of(ids, signatures))), signatures
    stored_stories = [stored.stories[position] for position in old_positions[:count].tolist()]
    stories = dict(zip((article.id for article in final[:count]), stored_stories))
    resumed = ResumedFinder()
    resumed.remember_near(signatures[:count], stored_stories, signatures[count:])
    stories.update(resumed.add_all((a.id, signatures[count + i]) for i, a in enumerate(final[count:])))
    return stories, signatures


def kept_prefix(old_positions: np.ndarray) -> int:
    """How many articles begin the new order as the previous articles began theirs (``old_positions[i] == i``)."""
    differs = np.flatnonzero(old_positions != np.arange(len(old_positions)))
    return int(differs[0]) if len(differs) else len(old_positions)


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
            # equal bands, equal first values and equal keys (an unequal band sharing a key only remembers an
            # article more): the keys of the articles whose first value is one of the coming ones' are compared
            first = band * ROWS
            maybe = np.flatnonzero(_among(earlier[:, first], later[:, first]))
            near[maybe] |= _among(band_keys(earlier[maybe], band), band_keys(later, band))
        near_positions = np.flatnonzero(near)
        self.remember(earlier[near_positions], [stories[position] for position in near_positions.tolist()])


def _among(values: np.ndarray, few: np.ndarray) -> np.ndarray:
    """Which of ``values`` are among the ``few`` (``np.isin``, which sorts every value with them: 50 ms a band
    at 275,000 articles), compared only where their last 16 bits are some of the few's."""
    last_bits = np.zeros(1 << 16, dtype=bool)
    last_bits[few & 0xFFFF] = True
    found = np.zeros(len(values), dtype=bool)
    maybe = np.flatnonzero(last_bits[values & 0xFFFF])
    found[maybe] = np.isin(values[maybe], few)
    return found
