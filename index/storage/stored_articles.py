"""Every article of a store as a build plans with it, read in bulk (``ArticleStore.stored_articles``)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass
class StoredArticles:
    """Every article of a store, in stored order, as a build plans with them (``ArticleStore.stored_articles``):
    the fields an ``ArticleRef`` holds, the story, the MinHash signature, and where the chunks' vector rows are:
    article ``i``'s rows are ``chunk_rows[chunk_starts[i] : chunk_starts[i] + chunk_counts[i]]`` in chunk order,
    or, with ``chunk_rows`` None (the chunks at rows 0, 1, 2... article after article, as every build writes them),
    the rows from ``chunk_starts[i]`` on."""

    ids: list[str]
    titles: list[str]
    sources: list[str]
    published: list[str]
    stories: list[str]  # each article's story id; empty when the store records none
    signatures: np.ndarray  # uint32, a row an article (values below 2**31); no rows when the store records none
    chunk_starts: np.ndarray  # int64
    chunk_counts: np.ndarray  # int64
    chunk_rows: np.ndarray | None = None

    @classmethod
    def empty(cls) -> StoredArticles:
        none = np.zeros(0, dtype=np.int64)
        return cls([], [], [], [], [], np.zeros((0, 0), dtype=np.uint32), none, none)

    def __len__(self) -> int:
        return len(self.ids)


class SignatureTable:
    """The stored signatures (uint64 values below 2**31 as little-endian blobs, one an article) read into one uint32
    array a block of articles at a time; a blob of another length, or a value out of range, is damage."""

    def __init__(self, count: int, damaged: Callable[[str], Exception]) -> None:
        self._table = np.zeros((count, 0), dtype=np.uint32)
        self._filled = 0
        self._damaged = damaged

    def append(self, blobs: Sequence[bytes]) -> None:
        if self._filled == 0 and blobs:
            self._table = np.empty((len(self._table), len(blobs[0]) // 8 if type(blobs[0]) is bytes else 0), np.uint32)
        width = self._table.shape[1] * 8
        if self._filled + len(blobs) > len(self._table) or any(type(blob) is not bytes for blob in blobs):
            raise self._damaged("an article's MinHash signature is damaged")
        if set(map(len, blobs)) != {width}:
            raise self._damaged("an article's MinHash signature is damaged")
        values = np.frombuffer(b"".join(blobs), dtype="<u8").reshape(len(blobs), -1)
        if values.size and int(values.max()) >= 2**31:
            raise self._damaged("an article's MinHash signature is damaged")
        self._table[self._filled : self._filled + len(blobs)] = values
        self._filled += len(blobs)

    def done(self) -> np.ndarray:
        if self._filled != len(self._table):
            raise self._damaged("an article's MinHash signature is damaged")
        return self._table


def places_in(wanted: list[str], ids: list[str]) -> np.ndarray | None:
    """The positions in ``ids`` of ``wanted``, found in that order (None when they are not all there in order)."""
    places: list[int] = []
    at = 0
    for article_id in wanted:
        while at < len(ids) and ids[at] != article_id:
            at += 1
        if at == len(ids):
            return None
        places.append(at)
        at += 1
    return np.array(places, dtype=np.int64)


def chunk_layout(
    ids: list[str], owners: list[str], first_of_row: np.ndarray, rows: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
    """``StoredArticles``' (chunk_starts, chunk_counts, chunk_rows) when each article's chunks sit at consecutive rows
    in chunk order and the articles' one after another in the order of ``ids`` (the stored order), as every build
    writes them, with gaps between articles where the chunks of a delta's ghosts were; else None. Read from the
    chunks in row order: ``first_of_row``, each one's row less its ordinal (its article's first chunk's row),
    ``owners``, the article of each first chunk (ordinal 0), and ``rows``, their rows (None when 0, 1, 2...; then
    the chunk_rows are None too and a start is a row)."""
    total = len(first_of_row)
    at = np.arange(total) if rows is None else rows
    starts = np.flatnonzero(first_of_row == at)  # the places of first chunks among the chunks
    counts = np.diff(np.append(starts, total))
    first_rows = np.repeat(at[starts], counts)  # each chunk's article's first row, had it consecutive rows
    consecutive = len(starts) == len(owners) and np.array_equal(first_of_row, first_rows)
    if rows is not None and consecutive:  # no row skipped inside an article: its rows are its places' distances
        consecutive = np.array_equal(rows - first_rows, np.arange(total) - np.repeat(starts, counts))
    if not consecutive or (total and starts[0] != 0):
        return None
    if owners == ids:
        return starts, counts, rows
    places = places_in(owners, ids)  # some articles have no chunk (no text)
    if places is None:
        return None
    every_start, every_count = np.zeros(len(ids), dtype=np.int64), np.zeros(len(ids), dtype=np.int64)
    every_start[places], every_count[places] = starts, counts
    return every_start, every_count, rows


def layout_by_article(ids: list[str], rows: Mapping[str, list[int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``StoredArticles``' (chunk_starts, chunk_counts, chunk_rows) of chunks at any rows: ``rows``, each article's
    rows in chunk order (``ArticleStore.chunk_rows``), laid out in the order of ``ids``."""
    counts = np.array([len(rows.get(article_id, ())) for article_id in ids], dtype=np.int64)
    flat = np.fromiter(itertools.chain.from_iterable(rows.get(i, ()) for i in ids), np.int64, int(counts.sum()))
    return np.cumsum(counts) - counts, counts, flat
