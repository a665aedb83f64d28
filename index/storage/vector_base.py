"""The vector-store seam: what holds a generation's chunk vectors and searches them.

A store is written once per generation (``vector_stores.write_vectors``), from the chunk vectors in
row order (the rows of the SQLite article store) and one ``RowPayload`` per row, and is then opened
read-only (``vector_stores.open_vectors``) and searched by inner product, optionally within a
``VectorFilter`` (a published date range, a set of outlets). Two stores implement it: FAISS
(``faiss_vectors.FaissStore``, files in the generation's folder, the default) and Qdrant
(``qdrant_vectors.QdrantStore``, its local mode inside the generation's folder or a Qdrant server).
``tests/test_vector_stores.py`` runs one contract suite over both.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import NamedTuple, TypeVar, overload

import numpy as np

STORES = ("faiss", "qdrant")
T = TypeVar("T")
EPOCH = dt.date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class VectorStoreSettings:
    """Which store a build writes the vectors to, and how to reach a Qdrant server (read by ``index.settings``)."""

    store: str = "faiss"  # VECTOR_STORE: faiss or qdrant
    qdrant_url: str = ""  # QDRANT_URL: a Qdrant server; empty: Qdrant's local mode inside each generation's folder
    qdrant_api_key: str = field(default="", repr=False)  # QDRANT_API_KEY
    qdrant_prefix: str = "article-qa"  # QDRANT_COLLECTION_PREFIX: this index's collections on the server begin with it


@dataclass(frozen=True)
class VectorFilter:
    """The rows a search may return: published on a day within [since, until] (either end may be open; an
    article without a date is outside every date range) and from one of ``sources`` (None: any outlet)."""

    since: dt.date | None = None
    until: dt.date | None = None
    sources: frozenset[str] | None = None

    @property
    def dated(self) -> bool:
        return self.since is not None or self.until is not None

    def day_range(self) -> tuple[int, int]:
        """(first, last) day as ``published_day`` numbers, inclusive."""
        first = self.since.toordinal() - EPOCH if self.since else np.iinfo(np.int32).min + 1
        last = self.until.toordinal() - EPOCH if self.until else np.iinfo(np.int32).max
        return first, last


class RowPayload(NamedTuple):
    """What a store keeps beside each row's vector, for filters and for people looking at the store."""

    article_id: str
    published: str  # ISO 8601 date or datetime, "" when unknown
    source: str


class RowPayloads(Sequence[RowPayload]):
    """A ``RowPayload`` a vector row, kept one an article: article ``i``'s ``sizes[i]`` rows, in order, share
    ``articles[i]``. Reads as the list of a payload a row without holding one (a million rows, a few thousand
    articles' worth of objects); ``column`` gives a field's value a row as codes, computed once an article."""

    def __init__(self, articles: Sequence[RowPayload], sizes: Sequence[int]) -> None:
        self.articles = list(articles)
        self.sizes = np.asarray(sizes, dtype=np.int64)
        self._ends = np.cumsum(self.sizes)

    def __len__(self) -> int:
        return int(self._ends[-1]) if len(self._ends) else 0

    @overload
    def __getitem__(self, row: int) -> RowPayload: ...

    @overload
    def __getitem__(self, row: slice) -> list[RowPayload]: ...

    def __getitem__(self, row: int | slice) -> RowPayload | list[RowPayload]:
        if isinstance(row, slice):
            return [self[at] for at in range(*row.indices(len(self)))]
        if not -len(self) <= row < len(self):
            raise IndexError(row)
        return self.articles[int(np.searchsorted(self._ends, row % len(self), side="right"))]

    def __iter__(self) -> Iterator[RowPayload]:
        for payload, size in zip(self.articles, self.sizes.tolist()):
            yield from repeat(payload, size)

    def column(self, value: Callable[[RowPayload], T]) -> tuple[np.ndarray, list[T]]:
        """(each row's code, the values the codes stand for in first-seen order) of ``value(payload)``."""
        codes, values = first_seen_codes(value(payload) for payload in self.articles)
        return np.repeat(codes, self.sizes), values


def first_seen_codes(values: Iterable[T]) -> tuple[np.ndarray, list[T]]:
    """(each value as a number, equal values alike, numbered in the order first seen; the values in that order)."""
    numbers: dict[T, int] = {}
    codes = np.array([numbers.setdefault(value, len(numbers)) for value in values], dtype=np.int64)
    return codes, list(numbers)


def published_day(published: str) -> int | None:
    """Days since 1970-01-01 of an ISO 8601 date or datetime; None when unknown or unreadable."""
    try:
        return dt.date.fromisoformat(published.strip()[:10]).toordinal() - EPOCH
    except ValueError:
        return None


def no_results(queries: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, rows) of ``queries`` searches that found nothing: -inf and -1 in every one of ``width`` places."""
    return np.full((queries, width), -np.inf, np.float32), np.full((queries, width), -1, np.int64)


class VectorStore(ABC):
    """A generation's chunk vectors, opened for search; safe to search from several threads."""

    record: dict  # the manifest's record of which store holds the vectors, and where

    @property
    @abstractmethod
    def count(self) -> int:
        """How many rows it holds."""

    @abstractmethod
    def search(self, queries: np.ndarray, k: int, where: VectorFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, rows) of the k rows with the highest inner product with each query, best first, among the
        rows ``where`` allows: float32 and int64 arrays of shape (queries, min(k, count)), with score -inf and
        row -1 in the places past the last row found."""

    @abstractmethod
    def close(self) -> None:
        """Release what it holds open (files, locks, connections); searching afterwards is an error."""

    def __enter__(self) -> VectorStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
