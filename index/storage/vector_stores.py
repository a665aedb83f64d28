"""Which vector store holds a generation's vectors: a build writes to the one the settings name
(``VECTOR_STORE``), a reader opens the one the generation's manifest names (its ``vectors`` record), so
an index keeps answering from the store it was built with until the next build writes the other."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import numpy as np

from index.errors import IndexMismatchError
from index.storage.dead_rows import rows_of
from index.storage.faiss_vectors import FaissStore
from index.storage.ivf_carry import PreviousVectors
from index.storage.qdrant_vectors import QdrantStore, discard_collection
from index.storage.row_files import Rows
from index.storage.vector_base import RowPayload, VectorStore, VectorStoreSettings


def write_vectors(
    folder: Path,
    vectors: Rows,
    payloads: Sequence[RowPayload],
    settings: VectorStoreSettings,
    faiss_factory: str,
    previous: Path | None = None,
    old_row_of: np.ndarray | None = None,
) -> VectorStore:
    """Write a new generation's vectors (row order, one payload a row) for the generation in ``folder``;
    returns the store opened for search. Its ``record`` goes into the manifest. ``vectors`` may be a
    ``RowFile`` (``row_files.py``): FAISS reads it a block at a time, Qdrant whole. An update names the
    generation it starts from (``previous``) and each row's row in it (``old_row_of``, -1 for a new row): FAISS
    then fills that generation's trained IVF index again where it can instead of training one."""
    if settings.store == "qdrant":
        return QdrantStore.write(folder, np.asarray(vectors, dtype=np.float32), payloads, settings)
    carry = PreviousVectors(previous, old_row_of) if previous is not None and old_row_of is not None else None
    return FaissStore.write(folder, vectors, payloads, faiss_factory, carry)


def open_vectors(generation: Path, manifest: dict, settings: VectorStoreSettings) -> VectorStore:
    """The vector store of a generation, as its manifest records it (FAISS for one written before the record)."""
    record = manifest.get("vectors") or {}
    rows = rows_of(manifest)  # dead rows included (dead_rows.py)
    store = record.get("store", "faiss")
    if store == "qdrant":
        return QdrantStore.open(generation, record, rows, settings)
    if store == "faiss":
        return FaissStore.open(generation, record, rows)
    raise IndexMismatchError(
        f"The index in {generation.parent} keeps its vectors in {store!r}, which this version cannot read; "
        "rebuild it with `python -m index build ARTICLES...`."
    )


def folder_discarder(settings: VectorStoreSettings) -> Callable[[Path], None]:
    """What to do with a generation or staging folder's vectors before the folder is removed: drop the server
    collection it names (the other stores keep theirs in the folder)."""
    return partial(discard_collection, settings=settings)
