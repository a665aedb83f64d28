"""The FAISS side: build an inner-product index from vectors, save it, load it, search it."""

from __future__ import annotations

import errno
from pathlib import Path

import numpy as np

from index.errors import BuildError, IndexCorruptError

HNSW_EF_SEARCH = 128


def build_faiss_index(vectors: np.ndarray, factory: str):
    """An inner-product index over ``vectors`` (rows are L2-normalised, so scores are cosines)."""
    import faiss

    dimension = vectors.shape[1]
    try:
        index = faiss.index_factory(dimension, factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as exc:
        raise BuildError(
            f"FAISS_FACTORY {factory!r} is not a valid FAISS index factory string; try 'Flat' or 'HNSW32'."
        ) from exc
    if not index.is_trained:
        if len(vectors) < _training_points_needed(index):
            index = faiss.IndexFlatIP(dimension)  # too few vectors to train an approximate index
        else:
            index.train(vectors)
    if len(vectors):
        index.add(vectors)
    return index


def _training_points_needed(index) -> int:
    import faiss

    ivf = faiss.try_extract_index_ivf(index)
    return max(ivf.nlist * 4, 256) if ivf is not None else 256


def save_faiss_index(index, path: Path) -> None:
    """Write the index; a failed write (a full disk) is an OSError, as other files' writes are."""
    import faiss

    try:
        faiss.write_index(index, str(path))
    except RuntimeError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "write failed"
        raise OSError(errno.EIO, f"FAISS could not write the file ({reason})", str(path)) from exc


def load_faiss_index(path: Path):
    import faiss

    try:
        return faiss.read_index(str(path))
    except RuntimeError as exc:
        raise IndexCorruptError.damaged(path.parent.parent, f"{path.parent.name}/{path.name} cannot be read") from exc


def search(index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, rows) of the k nearest rows for each query; rows are -1 where fewer exist."""
    k = max(1, min(k, index.ntotal))
    if index.ntotal == 0:
        return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
    scores, rows = index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
    return scores, rows


def tune_for_recall(index) -> None:
    """Search-time knobs of approximate indexes, set for recall close to exact search."""
    import faiss

    hnsw = getattr(faiss.downcast_index(index), "hnsw", None)
    if hnsw is not None:
        hnsw.efSearch = max(hnsw.efSearch, HNSW_EF_SEARCH)
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.nprobe = max(ivf.nprobe, min(ivf.nlist, 16))
