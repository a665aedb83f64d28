"""Every article of a store as a build plans with it, read in bulk (``ArticleStore.stored_articles``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass
class StoredArticles:
    """Every article of a store, in stored order, as a build plans with them (``ArticleStore.stored_articles``):
    the fields an ``ArticleRef`` holds, the story, the MinHash signature, and where the chunks' vector rows are:
    article ``i``'s rows are ``chunk_rows[chunk_starts[i] : chunk_starts[i] + chunk_counts[i]]`` in chunk order,
    or, with ``chunk_rows`` None (each article's chunks at consecutive rows, as every build writes them), the
    rows from ``chunk_starts[i]`` on."""

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
