"""An IVF index for an update's whole vector layer without training it again.

An update that removes or moves rows (a ``remove``, a changed article, a refresh that drops or edits items) or
merges a vector delta into its base writes every vector as one whole layer. For an IVF index that meant k-means
training again (583 s of a 1M build). When the previous generation's base is an IVF index of the factory this
build would use, the new index is made from it instead: its trained, empty index (quantizer and codec), every
kept row's list and code copied from the previous lists (no distance computed), the rows those lists do not
hold (new rows, and the previous generation's delta rows when it was layered) assigned and encoded by the
index's own quantizer and codec. Each list holds its entries in row order, so the result is, byte for byte,
the index ``empty.add(every row in row order)`` makes from the same trained empty index.

Anything that does not match (another factory, dimension or metric, a previous generation without an IVF base,
a codec whose lists are not plain codes, a damaged previous index) returns None: the build trains as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.errors import IndexCorruptError
from index.storage import generations
from index.storage.row_files import Rows

ENCODE_ROWS = 1 << 16  # new rows assigned to their lists at a time
# IVF indexes whose inverted lists hold one plain code per entry (a fast-scan index packs codes in blocks, an
# IVFPQR keeps refinement codes outside its lists: neither can be copied entry by entry)
CARRIED_KINDS = ("IndexIVFFlat", "IndexIVFScalarQuantizer", "IndexIVFPQ")


@dataclass(frozen=True)
class PreviousVectors:
    """The generation an update starts from and each new row's row in it (-1: a new row)."""

    folder: Path
    old_row_of: np.ndarray


class _Unusable(Exception):
    """The previous index's lists cannot be carried over (damaged): train instead."""


def training_points_needed(index) -> int:
    """The rows an index needs to be trained; with fewer, a build writes an exact index instead."""
    import faiss

    ivf = faiss.try_extract_index_ivf(index)
    return max(ivf.nlist * 4, 256) if ivf is not None else 256


def carried_ivf(previous: PreviousVectors, vectors: Rows, factory: str):
    """The IVF index of ``vectors`` (the new generation's rows) made from ``previous``'s trained index, or None
    when this build must train its own (``factory``: the one it would use)."""
    import faiss

    try:
        record = generations.read_manifest(previous.folder).get("vectors") or {}
    except (IndexCorruptError, OSError, ValueError):
        return None  # a previous generation that cannot be read is checked elsewhere; here only a lost shortcut
    if record.get("store", "faiss") != "faiss" or record.get("factory") != factory:
        return None  # Qdrant, or another index than this build's (FAISS_FACTORY changed, or the size chose another)
    path = previous.folder / record.get("file", generations.VECTORS)
    try:
        # faiss 1.15's IO_FLAG_SKIP_IVF_DATA cannot read array lists: the lists are mapped instead, not read
        old = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
        empty = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
    except RuntimeError:
        return None  # damaged: the check of the previous generation reports it; here the build trains
    if (  # read_index returns the index as its own class (and owns it: a downcast_index would not)
        type(old).__name__ not in CARRIED_KINDS
        or old.d != vectors.shape[1]
        or old.metric_type != faiss.METRIC_INNER_PRODUCT
        or not old.is_trained
        or len(vectors) < training_points_needed(old)  # a whole build would write an exact index
    ):
        return None
    try:
        lists, total = _carried_lists(old, previous.old_row_of, vectors)
    except _Unusable:
        return None
    lists.this.disown()  # the index owns (and frees) its lists
    faiss.extract_index_ivf(empty).replace_invlists(lists, True)  # frees the mapped lists it was read with
    empty.ntotal = total
    return empty  # the Python object that owns the index


def _carried_lists(ivf, old_row_of: np.ndarray, vectors: Rows):
    """New inverted lists (and their number of entries): each list's kept entries from ``ivf``'s lists, the rows
    they do not hold encoded, every list in row order. One list of the previous index is read at a time."""
    import faiss

    base_rows = int(ivf.ntotal)
    old_row_of = np.asarray(old_row_of, dtype=np.int64)
    carried = (old_row_of >= 0) & (old_row_of < base_rows)
    new_row_of_old = np.full(base_rows, -1, dtype=np.int64)  # each previous row's row now, -1: removed
    new_row_of_old[old_row_of[carried]] = np.flatnonzero(carried)
    fresh = np.flatnonzero(~carried)  # new rows, and the previous generation's delta rows
    fresh_lists = _assign(ivf, vectors, fresh)
    order = np.argsort(fresh_lists, kind="stable")  # the fresh rows by list, in row order within a list
    bounds = np.searchsorted(fresh_lists[order], np.arange(ivf.nlist + 1))
    code_size = ivf.code_size
    lists = faiss.ArrayInvertedLists(ivf.nlist, code_size)
    old_lists, found = ivf.invlists, 0
    for number in range(ivf.nlist):
        size = old_lists.list_size(number)
        ids = _view(old_lists.get_ids(number), size, np.int64)
        if size and (ids.min() < 0 or ids.max() >= base_rows):
            raise _Unusable(f"list {number} names rows outside the index")
        rows = new_row_of_old[ids]
        keep = rows >= 0
        codes = _view(old_lists.get_codes(number), size * code_size, np.uint8).reshape(size, code_size)
        new_rows = fresh[order[bounds[number] : bounds[number + 1]]]
        new_codes = _encode(ivf, vectors, new_rows, number)
        rows = np.concatenate([rows[keep], new_rows])
        codes = np.concatenate([codes[keep], new_codes])
        in_order = np.argsort(rows, kind="stable")
        rows, codes = np.ascontiguousarray(rows[in_order]), np.ascontiguousarray(codes[in_order])
        found += int(keep.sum())
        if len(rows):
            lists.add_entries(number, len(rows), faiss.swig_ptr(rows), faiss.swig_ptr(codes))
    if found != int(carried.sum()):
        raise _Unusable(f"the lists hold {found} of the {int(carried.sum())} kept rows")
    return lists, len(old_row_of)


def _assign(ivf, vectors: Rows, rows: np.ndarray) -> np.ndarray:
    """The list of each of ``rows`` (new row numbers), as ``add`` assigns it (the index's quantizer)."""
    lists = np.empty(len(rows), dtype=np.int64)
    for start in range(0, len(rows), ENCODE_ROWS):
        block = np.ascontiguousarray(vectors[rows[start : start + ENCODE_ROWS]], dtype=np.float32)
        lists[start : start + len(block)] = ivf.quantizer.assign(block, 1).ravel()
    return lists


def _encode(ivf, vectors: Rows, rows: np.ndarray, number: int) -> np.ndarray:
    """The codes of ``rows`` in list ``number``, as ``add`` encodes them (residuals for codecs that use them)."""
    import faiss

    codes = np.empty((len(rows), ivf.code_size), dtype=np.uint8)
    if len(rows):
        block = np.ascontiguousarray(vectors[rows], dtype=np.float32)
        list_numbers = np.full(len(rows), number, dtype=np.int64)
        ivf.encode_vectors(len(rows), faiss.swig_ptr(block), faiss.swig_ptr(list_numbers), faiss.swig_ptr(codes))
    return codes


def _view(pointer, count: int, dtype) -> np.ndarray:
    """``count`` items of ``dtype`` at a FAISS pointer (ids or codes), not copied; empty for an empty list."""
    import faiss

    return faiss.rev_swig_ptr(pointer, count) if count else np.empty(0, dtype=dtype)
