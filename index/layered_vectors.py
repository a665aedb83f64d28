"""Updates that change only the newest rows write their vectors as a delta on the previous generation's.

Rows are numbered by position, so an update that removes or moves an article renumbers the rows after it. One that
keeps every row of the previous generation's base in its place need not write them again: an ``add`` or a feed's
refresh that found new items (rows appended), and also one that removes or changes articles of the delta only
(recent articles, the ones a refresh finds edited; the delta's later rows move up). The new generation shares the
previous one's base files by hard link (``embeddings.npy`` and the FAISS index, which no generation writes again
once published) and writes a delta, the rows after the base, to ``embeddings-delta.npy`` and an exact FAISS index
of its own (``faiss_vectors.VECTORS_DELTA``); a search asks both and keeps the best. An add then costs what it adds
plus the delta instead of copying every vector and, for an IVF index (chosen above 250,000 rows of 384
dimensions), training it again.

The delta is written whole each time (the previous delta's kept rows, then the new ones). An update that removes or
changes an article of the base leaves its rows there, dead (``row_layout.py``): a search leaves them out. Once the
delta (with the dead rows) would pass ``DELTA_SHARE`` of the base's rows, when a row of the base moves, when the
vectors go to Qdrant, when FAISS_FACTORY names another index, or for an index under ``LAYER_MIN_ROWS`` rows (whose
whole vectors are written in well under a second), the build writes one whole layer as before: byte for byte what
a whole build of the same articles writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.settings import IndexSettings
from index.storage import generations
from index.storage.faiss_vectors import FaissStore
from index.storage.generations import EMBEDDINGS, EMBEDDINGS_DELTA, share_file
from index.storage.row_files import RowFile, StackedRows, changes_only_delta, write_taken_rows
from index.storage.vector_base import RowPayload

# The delta is written again by every append, so it is kept to a share of the base: an add then writes at most
# an eighth of the vectors, and the base is written again (a merge) once the index has grown by an eighth.
DELTA_SHARE = 0.125
LAYER_MIN_ROWS = 50_000  # below, an update writes every vector again (at 64-384 dimensions: 13-77 MB, < 1 s)


@dataclass(frozen=True)
class AppendedLayer:
    """An update that appends rows to ``previous``'s vectors: its base is shared, its delta written."""

    previous: Path
    record: dict  # the previous generation's vectors record (manifest)
    base_rows: int
    old_delta: np.ndarray | RowFile | None  # the previous generation's delta rows (mapped), None without

    @property
    def old_delta_rows(self) -> int:
        return 0 if self.old_delta is None else len(self.old_delta)

    def write_embeddings(self, staging: Path, fresh_vectors: np.ndarray, old_row_of: np.ndarray) -> StackedRows:
        """Share the base's vectors file, write the delta's (each row after the base's: a kept row of the previous
        delta, ``old_row_of``, or the next of ``fresh_vectors``); returns every row, read with file reads."""
        share_file(self.previous / EMBEDDINGS, staging / EMBEDDINGS)
        dimension = fresh_vectors.shape[1]
        old_delta = self.old_delta
        if isinstance(old_delta, np.ndarray):
            old_delta = RowFile.of(old_delta)  # read with file reads: no page of it stays in memory
        delta_rows = old_row_of[self.base_rows :]  # a row of the previous delta, or -1: new
        delta_rows = np.where(delta_rows >= 0, delta_rows - self.base_rows, -1)
        write_taken_rows(staging / EMBEDDINGS_DELTA, old_delta, delta_rows, fresh_vectors, dimension)
        if isinstance(old_delta, RowFile):
            old_delta.close()
        return StackedRows([RowFile.npy(staging / EMBEDDINGS), RowFile.npy(staging / EMBEDDINGS_DELTA)])

    def write_vectors(self, staging: Path, payloads: Sequence[RowPayload], dead: np.ndarray) -> FaissStore:
        """The FAISS store of the layered generation (after ``write_embeddings``): the base index shared, the
        delta's exact index written from the delta's vectors file; its ``dead`` rows are searched no more."""
        delta = RowFile.npy(staging / EMBEDDINGS_DELTA)
        try:
            return FaissStore.write_layered(staging, self.previous, self.record, delta, payloads, dead)
        finally:
            delta.close()


def appended_layer(
    previous: Path | None,
    old_vectors: np.ndarray | StackedRows | None,
    old_row_of: np.ndarray,
    settings: IndexSettings,
    with_dead: bool = False,
) -> AppendedLayer | None:
    """The layer an update writes when it only appends rows to ``previous`` (``old_row_of``: each row's row in
    the previous generation, -1 for a new one) and may write them as a delta; None when it writes every vector.
    ``with_dead``: the update marks rows of the base dead (``dead_rows.py``)."""
    if previous is None or old_vectors is None or settings.vectors.store != "faiss":
        return None
    record = generations.read_manifest(previous).get("vectors") or {}
    if record.get("store") != "faiss" or settings.faiss_factory not in ("", record.get("factory")):
        return None
    old_delta = old_vectors.layers[1] if isinstance(old_vectors, StackedRows) else None
    base = len(old_vectors) - (len(old_delta) if old_delta is not None else 0)
    delta = len(old_row_of) - base
    if (
        not changes_only_delta(old_row_of, base, len(old_vectors), with_dead)
        or base < LAYER_MIN_ROWS
        or delta > DELTA_SHARE * base
    ):
        return None
    return AppendedLayer(previous, record, base, old_delta)
