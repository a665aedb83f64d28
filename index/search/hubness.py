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

from index.storage import generations
from index.storage.dead_rows import live_rows, read_dead_rows
from index.storage.faiss_vectors import batches_as_products
from index.storage.row_files import Rows
from index.storage.vector_base import first_seen_codes
from index.tuning import RANKING

FILE = "hubness.npy"
FLOORS_FILE = "hubness-floors.npy"  # each row's floor: the score of the last neighbour its density counts
BATCH = 4096  # chunks searched at a time, to bound memory
INCREMENTAL_SHARE = 0.1  # an update adding more than this share of the rows computes every density again
EXACT_ROWS = 250_000  # above, a whole build's densities search a coarse approximate index (see _coarse_search)
COARSE_PROBES = 32  # lists of that index searched per row
COARSE_CODES = "SQ8"  # how that index keeps a row: 8-bit codes (FAISS's scalar quantiser), a quarter of float32
RECORD = {
    "neighbours": RANKING.hubness_neighbours,
    "excludes": "same title or story",
}  # the manifest's record of how densities were made


class NeighbourSearch(Protocol):
    """What the densities search: a vector store (``storage/vector_base.py``), or a FAISS index."""

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...


def neighbourhood_density(
    vector_store: NeighbourSearch,
    vectors: Rows,
    document_of_row: Sequence[tuple[Hashable, ...]] | np.ndarray,
    neighbours: int = RANKING.hubness_neighbours,
    previous: np.ndarray | None = None,
    changed: np.ndarray | None = None,
    floors: np.ndarray | None = None,
) -> np.ndarray:
    """Each row's mean cosine to its ``neighbours`` nearest rows of other documents, searched in
    ``vector_store`` (which holds ``vectors``, in row order). ``document_of_row`` gives each row's keys (title,
    story), or those keys as codes (``document_keys``): rows sharing any key are one document. Rows with no other
    document near get the mean density, hence no penalty. ``vectors`` may be a ``RowFile``: rows are read ``BATCH``
    at a time.

    An incremental build passes ``previous`` (each row's density from the last build, NaN for new rows)
    and ``changed`` (the new rows): only those and the rows they now neighbour are searched again, so
    an update costs what it adds, not a search of the whole index (the other rows keep their density:
    a row far from every new one has the same neighbours as before, or nearly).

    ``floors`` (one float32 a row, filled in place when given): each searched row's floor, the score of the last
    neighbour its density counts (-inf when it found fewer). An update passes the kept rows' previous floors (NaN
    where unknown): a row a new row reaches no higher than its floor keeps its neighbours, so its density, and is
    not searched again (exact, ties aside; at 1M rows most of an add's searches were such rows)."""
    count = len(vectors)
    if count == 0:
        return np.zeros(0, dtype=np.float32)
    keys = document_of_row if isinstance(document_of_row, np.ndarray) else document_keys(document_of_row)
    largest_document = max(int(np.bincount(codes).max()) for codes in keys)
    depth = min(count, neighbours + min(largest_document, RANKING.hubness_extra_depth))
    if previous is None or changed is None:
        search = vector_store if count <= EXACT_ROWS else _coarse_search(vectors)
        density = _densities(search, vectors, keys, np.arange(count), depth, neighbours, floors, reach=False)[0]
    else:
        density = np.array(previous, dtype=np.float32)
        density[changed], near, reach = _densities(vector_store, vectors, keys, changed, depth, neighbours, floors)
        kept = ~np.isin(near, changed)
        again, reach = near[kept], reach[kept]
        if floors is not None:
            again = again[~(reach < floors[again])]  # outranks the last counted neighbour, or the floor is unknown
        density[again] = _densities(vector_store, vectors, keys, again, depth, neighbours, floors, reach=False)[0]
    known = ~np.isnan(density)
    return np.where(known, density, density[known].mean() if known.any() else 0.0).astype(np.float32)


def _densities(
    vector_store: NeighbourSearch,
    vectors: Rows,
    keys: np.ndarray,
    rows: np.ndarray,
    depth: int,
    neighbours: int,
    floors: np.ndarray | None = None,
    reach: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the density of each of ``rows``, NaN where no other document is near; with ``reach``, every row counted as
    a neighbour and its best score from one of ``rows``). ``floors``: each of ``rows``' floor is written there."""
    density = np.full(len(rows), np.nan, dtype=np.float32)
    near: list[np.ndarray] = []
    reached: list[np.ndarray] = []
    for start in range(0, len(rows), BATCH):
        chosen = rows[start : start + BATCH]
        with batches_as_products():
            scores, found_rows = vector_store.search(np.asarray(vectors[chosen], dtype=np.float32), depth)
        own = keys[:, chosen, None]
        other = (found_rows >= 0) & np.all(keys[:, np.maximum(found_rows, 0)] != own, axis=0)
        keep = other & (np.cumsum(other, axis=1) <= neighbours)  # results come best first
        found = keep.sum(axis=1)
        total = np.where(keep, scores, 0.0).sum(axis=1)
        density[start : start + len(chosen)] = np.where(found > 0, total / np.maximum(found, 1), np.nan)
        if floors is not None:  # results come best first: the last counted is the lowest
            lowest = np.where(keep, scores, np.inf).min(axis=1) if keep.shape[1] else np.full(len(chosen), np.inf)
            floors[chosen] = np.where(found >= neighbours, lowest, -np.inf)
        if reach:
            near.append(found_rows[keep])
            reached.append(scores[keep])
    if not near:
        return density, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    rows_reached, inverse = np.unique(np.concatenate(near), return_inverse=True)
    best = np.full(len(rows_reached), -np.inf, dtype=np.float32)
    np.maximum.at(best, inverse, np.concatenate(reached))
    return density, rows_reached, best


def _coarse_search(vectors: Rows, probes: int = COARSE_PROBES) -> NeighbourSearch:
    """An approximate inner-product index over ``vectors`` for the densities of a large build: searching every
    row exactly costs N² (about a minute at 100,000 rows of 64 dimensions, hours at a million). ~4√N lists,
    ``probes`` of them searched per row, trained on a fixed sample (deterministic), each row kept as 8-bit codes
    of its offset from its list's centre (``COARSE_CODES``: a quarter of a float32 copy, beside the build's own
    index). A density is a mean over a row's nearest rows of other documents, so one found a little further away,
    or scored a little off, moves it little: forced at 99,568 rows against exact densities (their spread 0.025),
    the mean difference was 0.0030 (0.0029 with float32 rows), the 50 benchmark questions kept 0.968 of their top
    10 (0.970) and 47 their first chunk (47) (``bench/coarse_density_check.py``; README, Scale). ``vectors`` are
    read a block at a time."""
    import faiss

    count, dimension = vectors.shape
    lists = max(1, int(4 * np.sqrt(count)))
    index = faiss.index_factory(dimension, f"IVF{lists},{COARSE_CODES}", faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(0).choice(count, size=min(count, 64 * lists), replace=False)
    index.train(np.asarray(vectors[np.sort(sample)], dtype=np.float32))
    for start in range(0, count, BATCH * 16):
        index.add(np.asarray(vectors[start : start + BATCH * 16], dtype=np.float32))
    faiss.extract_index_ivf(index).nprobe = probes
    return index


def document_keys(documents: Sequence[tuple[Hashable, ...]], sizes: Sequence[int] | None = None) -> np.ndarray:
    """The keys of each row's document as codes, one row of codes a key (equal keys alike): of ``documents`` a row,
    or, with ``sizes``, of ``documents`` an article, article ``i``'s keys shared by its ``sizes[i]`` rows."""
    if not documents:
        return np.zeros((0, 0), dtype=np.int64)
    codes = np.array([first_seen_codes(column)[0] for column in zip(*documents)], dtype=np.int64)
    return codes if sizes is None else np.repeat(codes, np.asarray(sizes, dtype=np.int64), axis=1)


def save_density(density: np.ndarray, folder: Path, floors: np.ndarray | None = None) -> dict:
    """Write the densities (and the rows' floors, when known) into a generation; returns the manifest's record."""
    np.save(folder / FILE, density.astype(np.float32), allow_pickle=False)
    if floors is not None:
        np.save(folder / FLOORS_FILE, floors.astype(np.float32), allow_pickle=False)
    return dict(RECORD)


def reusable_densities(previous: Path | None, old_row_of: np.ndarray) -> dict:
    """What ``neighbourhood_density`` may reuse of the generation an update starts from (``old_row_of``: each row's
    row in it, -1 for a new one): the kept rows' densities and floors, when the new rows are a small share of the
    index (else, or when they cannot be read, none: every density is computed again)."""
    fresh = old_row_of < 0
    if previous is None or fresh.sum() > INCREMENTAL_SHARE * len(old_row_of):
        return {}
    if not hubness_record_is_current(generations.read_manifest(previous)):
        return {}
    try:
        old = np.load(previous / FILE, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return {}  # a damaged file is only a lost shortcut
    if old.ndim != 1 or (len(old_row_of) and int(old_row_of.max()) >= len(old)):
        return {}
    density = np.where(fresh, np.nan, old[np.maximum(old_row_of, 0)]).astype(np.float32)
    floors = np.full(len(old_row_of), np.nan, dtype=np.float32)  # unknown: a row near a new one is searched again
    try:
        old_floors = np.load(previous / FLOORS_FILE, allow_pickle=False)
        if old_floors.shape == old.shape:
            floors = np.where(fresh, np.nan, old_floors[np.maximum(old_row_of, 0)]).astype(np.float32)
    except (OSError, ValueError, EOFError):
        pass  # none (a generation written before floors) or damaged: every near row is searched again
    return {"previous": density, "changed": np.flatnonzero(fresh), "floors": floors}


def load_penalty(generation: Path) -> np.ndarray | None:
    """What to take off each chunk's cosine (row order), or None for a generation without densities. The mean
    is the live rows' (``dead_rows.py``: a removed article's rows stay in a shared base, unsearched)."""
    path = generation / FILE
    if not path.exists():
        return None
    density = np.load(path, allow_pickle=False).astype(np.float32)
    if not len(density):
        return density
    live = density[live_rows(read_dead_rows(generation, len(density)), len(density))]
    return RANKING.hubness_weight * (density - (live.mean() if len(live) else 0.0))


def hubness_record_is_current(manifest: dict) -> bool:
    return manifest.get("hubness") == RECORD
