"""Hubness: how crowded each chunk's neighbourhood is, taken off its search score.

In a dense search some chunks sit close to a great many others (generic news paragraphs,
boilerplate) and so come up near the top for questions they do not answer: the "hubs" of
nearest-neighbour search in high dimensions, worst across languages, where every cosine
is squeezed into a narrow band. Each chunk's *density* is the mean cosine of its
``RANKING.hubness_neighbours`` nearest chunks of other documents, computed once per build over the whole
index (the document side of CSLS, Conneau et al. 2018); the search takes ``RANKING.hubness_weight`` times
its excess over the index's mean density off the chunk's cosine, so scores keep their
scale and the "not in my articles" threshold its meaning.

"Other documents" leaves out chunks of articles with the same title (the other chunks of
one article, which overlap it, or the other paragraphs of one source document) and of the
same story (republished copies): they say how long a document is or how often it was
copied, not how generic the chunk is. Counting them penalises long articles, which is what
a measured gain on XQuAD with whole-article distractors turned out to be (see
bench/results/README-eval.md, "Fourth round").
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from index.tuning import RANKING

FILE = "hubness.npy"
BATCH = 4096  # chunks searched at a time, to bound memory
RECORD = {
    "neighbours": RANKING.hubness_neighbours,
    "excludes": "same title or story",
}  # the manifest's record of how densities were made


class NeighbourSearch(Protocol):
    """What the densities search: a vector store (``storage/vector_base.py``), or a FAISS index."""

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...


def neighbourhood_density(
    vector_store: NeighbourSearch,
    vectors: np.ndarray,
    document_of_row: Sequence[tuple[Hashable, ...]],
    neighbours: int = RANKING.hubness_neighbours,
) -> np.ndarray:
    """Each row's mean cosine to its ``neighbours`` nearest rows of other documents, searched in
    ``vector_store`` (which holds ``vectors``, in row order). ``document_of_row`` gives each row's keys (title,
    story): rows sharing any key are one document. Rows with no other document near get the mean
    density, hence no penalty."""
    count = len(vectors)
    if count == 0:
        return np.zeros(0, dtype=np.float32)
    keys = np.array([_codes(column) for column in zip(*document_of_row)])  # one row of codes per key
    largest_document = max(int(np.bincount(codes).max()) for codes in keys)
    density = np.full(count, np.nan, dtype=np.float32)
    depth = min(count, neighbours + min(largest_document, RANKING.hubness_extra_depth))
    for start in range(0, count, BATCH):
        batch = np.asarray(vectors[start : start + BATCH], dtype=np.float32)
        scores, rows = vector_store.search(batch, depth)
        own = keys[:, start : start + len(batch), None]
        other = (rows >= 0) & np.all(keys[:, np.maximum(rows, 0)] != own, axis=0)
        keep = other & (np.cumsum(other, axis=1) <= neighbours)  # results come best first
        found = keep.sum(axis=1)
        total = np.where(keep, scores, 0.0).sum(axis=1)
        density[start : start + len(batch)] = np.where(found > 0, total / np.maximum(found, 1), np.nan)
    known = ~np.isnan(density)
    return np.where(known, density, density[known].mean() if known.any() else 0.0).astype(np.float32)


def _codes(values: Sequence[Hashable]) -> np.ndarray:
    """Each value as a number, equal values alike."""
    numbers: dict[Hashable, int] = {}
    return np.array([numbers.setdefault(value, len(numbers)) for value in values], dtype=np.int64)


def save_density(density: np.ndarray, folder: Path) -> dict:
    """Write the densities into a generation; returns the manifest's record."""
    np.save(folder / FILE, density.astype(np.float32), allow_pickle=False)
    return dict(RECORD)


def load_penalty(generation: Path) -> np.ndarray | None:
    """What to take off each chunk's cosine (row order), or None for a generation without densities."""
    path = generation / FILE
    if not path.exists():
        return None
    density = np.load(path, allow_pickle=False).astype(np.float32)
    return RANKING.hubness_weight * (density - density.mean()) if len(density) else density


def hubness_record_is_current(manifest: dict) -> bool:
    return manifest.get("hubness") == RECORD
