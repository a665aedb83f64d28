"""Rows of removed articles that stay in a shared base (tombstones).

A layered generation shares its base files with the generation they were written for (``layered_vectors.py``,
``keyword_layers.py``, ``store_layers.py``); no generation writes them again. Removing or changing an article of the
base would renumber every row after it and so write every base file again (3.5 GB at a million chunks). Instead
its rows stay where they are, dead: ``dead-rows.npy`` lists them (ascending), the vector search and the keyword
scores leave them out (the keyword weights count only the live rows, as a whole build's do), and the store's
delta lists the removed articles (``store_layers.py``). The next whole layer (a merge) drops them.

A generation without the file has no dead rows. Its manifest then counts ``rows`` (vector rows, dead ones
included) beside the live ``chunks``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.errors import IndexCorruptError

FILE = "dead-rows.npy"


def rows_of(manifest: dict) -> int | None:
    """How many vector rows a generation holds (its chunks and its dead rows), None when its manifest does not say."""
    counts = manifest.get("counts", {})
    return counts.get("rows", counts.get("chunks"))


def read_dead_rows(generation: Path, rows: int | None = None) -> np.ndarray:
    """The dead rows of a generation, ascending (int64; empty without); IndexCorruptError when the file cannot be
    read or names rows out of order or past ``rows``."""
    path = Path(generation) / FILE
    if not path.exists():
        return np.zeros(0, dtype=np.int64)
    try:
        dead = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise IndexCorruptError.damaged(path.parent.parent, f"{path.parent.name}/{FILE} cannot be read") from exc
    dead = dead.astype(np.int64) if dead.ndim == 1 and dead.dtype.kind in "iu" else None
    beyond = dead is not None and len(dead) and (dead[0] < 0 or (rows is not None and dead[-1] >= rows))
    if dead is None or beyond or np.any(np.diff(dead) <= 0):
        raise IndexCorruptError.damaged(path.parent.parent, f"{path.parent.name}/{FILE} names no ascending rows")
    return dead


def write_dead_rows(generation: Path, dead: np.ndarray) -> None:
    """Record ``dead`` (ascending rows) in a generation being written; none writes no file."""
    if len(dead):
        np.save(Path(generation) / FILE, np.asarray(dead, dtype=np.int64), allow_pickle=False)


def live_rows(dead: np.ndarray, rows: int) -> np.ndarray:
    """One bool a row: False at the dead ones."""
    alive = np.ones(rows, dtype=bool)
    alive[dead] = False
    return alive
