"""A removal's keyword index (``keyword_writer.py``): the kept rows' postings carried over, not sorted again.

An update whose kept rows are previous rows in their order, some removed, and whose new rows (if any) come after them
(a ``remove``; a changed article, its old rows removed and its new ones appended) writes one whole index, byte for
byte a whole build's, without reading every row's term ids back into postings:

- each term's postings in the previous generation (its base, then its delta, ``PreviousTerms.layers``) are in row
  order: the removed rows' are dropped and the kept ones numbered again through a lookup (old row -> new row, -1 for
  a removed one), which keeps their order; the new rows' postings (few) are sorted as a build sorts them and put
  after them, as an add does;
- the vocabulary stays in first-use order (bm25s's: terms as first met, row after row, then ""): a kept term's first
  row is its first kept posting, which is its previous first row mapped, unless that row was removed (then its
  postings are scanned for the first kept one); terms first met in the same row keep their previous order, except
  in a row where a term whose first row was removed is met now, where their places in that row order them. The new
  order is a sort of the kept terms by (first row, that order); the terms no kept row holds are dropped; the terms
  first met in new rows follow, as met. Every term's columns are then copied in that order, a range of terms at a
  time (``keyword_writer.PASS_POSTINGS`` postings), and weighed again (``keyword_writer._weigher``);
- ``document_terms.npy`` is written with the kept rows' ids numbered again (one gather a block at a time), then the
  new rows' ids.

How many postings each term loses is counted from the removed rows' term ids, so that every term's number of
postings, hence every weight, is known before the postings are read once. Not carried (``carried_rows`` says None):
another order of rows, a previous index without stored counts, or counts stored wide (a count past 65,535).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

import index.search.keyword_writer as writer  # its block sizes, read when used (tests make them small)
from index.search.keyword_layers import COUNTS, DATA, INDICES, INDPTR, PostingLayer, PreviousTerms
from index.search.keyword_writer import (
    _block_postings,
    _inserted,
    _row_blocks,
    _weigher,
    _write_terms,
)
from index.search.keywords import DOCUMENT_OFFSETS, DOCUMENT_TERMS, FOLDER
from index.search.posting_runs import PostingRuns
from index.storage.row_files import NpyBlocks, NpyWriter

REMOVED_ROWS_BLOCK = 1 << 13  # removed rows whose term ids are read at a time
SCAN = 1 << 12  # postings of a term read at a time when looking for its first kept one
VALUES_BLOCK = 1 << 20  # postings read at a time when picking each term's first one


def carried_rows(old_rows: np.ndarray, previous: PreviousTerms | None) -> int | None:
    """How many rows an update keeps, when it can carry their postings over (they come first, previous rows in
    their order, and the previous index stores narrow counts); None otherwise."""
    if previous is None or not previous.postings or not len(old_rows):
        return None
    kept = int(np.count_nonzero(old_rows >= 0))
    prefix = old_rows[:kept]
    if not kept or np.any(prefix < 0) or np.any(np.diff(prefix) <= 0) or int(prefix[-1]) >= previous.rows:
        return None
    for layer in previous.layers:
        with NpyBlocks(layer.folder / layer.counts) as counts:
            if counts.dtype.itemsize > 2:
                return None
    return kept


def write_carried(
    folder: Path, old_rows: np.ndarray, fresh: Iterable[str | list[str]], previous: PreviousTerms, kept: int
) -> tuple[dict, dict[str, int]]:
    """Write the keyword index of the rows ``old_rows`` (its first ``kept`` rows previous rows, ascending, the others
    new, their texts ``fresh``) into ``folder``: the same files as ``keyword_writer.write_keyword_index``."""
    kept_old = old_rows[:kept]
    new_of_old = np.full(previous.rows, -1, dtype=np.int32)  # row numbers are int32 in every file
    new_of_old[kept_old] = np.arange(kept, dtype=np.int32)
    with contextlib.ExitStack() as files:
        sources = [files.enter_context(NpyBlocks(previous.folder / name)) for name in previous.term_files]
        ids = _TermIds(previous, sources)
        held_count = previous.frequency() - ids.postings_of(np.flatnonzero(new_of_old < 0), previous.used)
        if np.any(held_count < 0):
            raise ValueError(f"{FOLDER}/{DOCUMENT_TERMS} does not match its postings")
        held_old = _first_use_order(previous, ids, kept_old, new_of_old, np.flatnonzero(held_count > 0))
        renumber = np.full(previous.used, -1, dtype=np.int32)
        renumber[held_old] = np.arange(len(held_old), dtype=np.int32)
        known = dict(zip([previous.names[term] for term in held_old.tolist()], range(len(held_old))))
        spill = folder / f"{DOCUMENT_TERMS}.new-rows"
        try:  # the new rows' terms numbered after the kept ones, as first met
            new_lengths = _write_terms(spill, old_rows[kept:], fresh, None, known)
            with NpyWriter(folder / DOCUMENT_TERMS, np.int32) as out, NpyBlocks(spill) as new_ids:
                ids.write_renumbered(out, kept_old, renumber, writer.TERMS_BLOCK)
                out.copy(new_ids, 0, new_ids.length)
        finally:
            spill.unlink(missing_ok=True)
    names = list(known)
    lengths = np.concatenate([np.diff(previous.offsets)[kept_old], new_lengths])
    offsets = np.zeros(len(old_rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    held_sizes = np.zeros(len(names), dtype=np.int64)
    held_sizes[: len(held_old)] = held_count[held_old]
    frequency = _write_postings(folder, offsets, kept, previous.layers, held_old, held_sizes, new_of_old)
    return writer.finish_index(folder, previous, names, frequency, len(old_rows), (DOCUMENT_OFFSETS, offsets))


class _TermIds:
    """The previous generation's term ids, read over its layers' files (the base's rows, then the delta's)."""

    def __init__(self, previous: PreviousTerms, sources: Sequence[NpyBlocks]) -> None:
        self.previous, self.offsets, self.sources = previous, previous.offsets, sources

    def read(self, start: int, stop: int) -> np.ndarray:
        """Term ids ``start`` to ``stop`` - 1."""
        parts = [self.sources[source].read(first, end) for source, first, end in self.previous.pieces(start, stop)]
        if not parts:  # an empty range where the delta's ids begin (a row without terms, last of the base)
            return np.empty(0, dtype=np.int32)
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def row(self, row: int) -> np.ndarray:
        return self.read(int(self.offsets[row]), int(self.offsets[row + 1]))

    def postings_of(self, rows: np.ndarray, terms: int) -> np.ndarray:
        """How many of ``rows`` hold each term (a row's term counted once)."""
        held = np.zeros(terms, dtype=np.int64)
        for first in range(0, len(rows), REMOVED_ROWS_BLOCK):
            block = rows[first : first + REMOVED_ROWS_BLOCK]
            values = [self.row(row) for row in block.tolist()]
            sizes = [len(value) for value in values]
            if not sum(sizes):
                continue
            keys = np.repeat(np.arange(len(block), dtype=np.int64), sizes) * terms + np.concatenate(values)
            held += np.bincount(np.unique(keys) % terms, minlength=terms)
        return held

    def write_renumbered(self, out: NpyWriter, rows: np.ndarray, renumber: np.ndarray, block: int) -> None:
        """Append the ids of ``rows`` (ascending), numbered again, a run of consecutive rows a block at a time."""
        if not len(rows):
            return
        cuts = np.flatnonzero(np.diff(rows) != 1) + 1
        for first, last in zip([0, *cuts.tolist()], [*cuts.tolist(), len(rows)]):
            start, stop = int(self.offsets[rows[first]]), int(self.offsets[rows[last - 1] + 1])
            for at in range(start, stop, block):
                out.write(renumber[self.read(at, min(at + block, stop))])


def _first_use_order(
    previous: PreviousTerms, ids: _TermIds, kept_old: np.ndarray, new_of_old: np.ndarray, held: np.ndarray
) -> np.ndarray:
    """The kept terms ``held`` (ascending previous ids) in the order the kept rows first meet them."""
    first_old = np.full(len(held), -1, dtype=np.int64)  # each term's previous first row: its first layer's first
    for layer in reversed(previous.layers):
        inside = held < layer.terms
        has = np.zeros(len(held), dtype=bool)
        has[inside] = np.diff(layer.indptr)[held[inside]] > 0
        first_old[has] = _values_at(layer, layer.indptr[held[has]])
    first_row = new_of_old[first_old]
    moved = np.flatnonzero(first_row < 0)  # first met in a removed row: their first kept posting
    first_row[moved] = [_first_kept(previous.layers, int(term), new_of_old) for term in held[moved].tolist()]
    order_in_row = held.copy()  # the previous order, but where a moved term is first met: the places in that row
    for row in np.unique(first_row[moved]).tolist():
        terms, places = np.unique(ids.row(int(kept_old[row])), return_index=True)
        at = np.minimum(np.searchsorted(held, terms), len(held) - 1)
        if np.any(held[at] != terms):  # a kept row's term that no kept posting holds
            raise ValueError(f"{FOLDER}/{DOCUMENT_TERMS} does not match its postings")
        first_here = first_row[at] == row
        order_in_row[at[first_here]] = places[first_here]
    return held[np.lexsort((order_in_row, first_row))]


def _values_at(layer: PostingLayer, positions: np.ndarray) -> np.ndarray:
    """The rows at ``positions`` (ascending) of a layer's postings, read a block at a time (only blocks holding
    some)."""
    values = np.empty(len(positions), dtype=np.int64)
    with NpyBlocks(layer.folder / layer.indices) as rows:
        for start in range(0, rows.length, VALUES_BLOCK):
            low, high = np.searchsorted(positions, [start, start + VALUES_BLOCK])
            if low < high:
                block = rows.read(start, min(start + VALUES_BLOCK, rows.length))
                values[low:high] = block[positions[low:high] - start]
    return values


def _first_kept(layers: Sequence[PostingLayer], term: int, new_of_old: np.ndarray) -> int:
    """The new row of ``term``'s first kept posting (its postings read a few at a time)."""
    for layer in layers:
        if term >= layer.terms:
            continue
        with NpyBlocks(layer.folder / layer.indices) as rows:
            start, end = int(layer.indptr[term]), int(layer.indptr[term + 1])
            for at in range(start, end, SCAN):
                mapped = new_of_old[rows.read(at, min(at + SCAN, end))]
                found = np.flatnonzero(mapped >= 0)
                if len(found):
                    return int(mapped[found[0]])
    raise ValueError(f"{FOLDER}/{INDICES} does not match {FOLDER}/{DOCUMENT_TERMS}")


def _write_postings(
    folder: Path,
    offsets: np.ndarray,
    kept: int,
    layers: Sequence[PostingLayer],
    held_old: np.ndarray,
    held_sizes: np.ndarray,
    new_of_old: np.ndarray,
) -> np.ndarray:
    """Write the postings (``indices``, ``term_counts``, the weights ``data``, ``indptr``) of the terms in their new
    order: term ``j`` < ``len(held_old)`` is the previous term ``held_old[j]``, its ``held_sizes[j]`` kept postings
    carried over from the ``layers``; then the new rows' (from row ``kept`` on), sorted into runs as a build's
    (``posting_runs.py``) and put after them. Returns each term's number of postings."""
    lengths = np.diff(offsets)
    with contextlib.ExitStack() as files:
        ids = files.enter_context(NpyBlocks(folder / DOCUMENT_TERMS))
        runs = files.enter_context(PostingRuns(folder))
        frequency, largest = held_sizes.copy(), 0
        for first, last in _row_blocks(np.cumsum(lengths[kept:]), writer.POSTINGS_BLOCK):
            term, rows, counts = _block_postings(ids, offsets, first + kept, last + kept, len(frequency))
            starts = np.flatnonzero(np.concatenate(([True], term[1:] != term[:-1]))) if len(term) else term[:0]
            frequency[term[starts]] += np.diff(np.append(starts, len(term)))
            largest = max(largest, int(counts.max()) if len(counts) else 0)
            runs.add(term, rows, counts)
        indptr = np.zeros(len(frequency) + 1, dtype=np.int64)
        np.cumsum(frequency, out=indptr[1:])
        count_type = np.uint16 if largest <= np.iinfo(np.uint16).max else np.uint32  # the kept counts are narrow
        weigh = _weigher(frequency, lengths)
        data = files.enter_context(NpyWriter(folder / DATA, np.float32, rows=int(indptr[-1])))
        indices = files.enter_context(NpyWriter(folder / INDICES, np.int32, rows=int(indptr[-1])))
        counts_out = files.enter_context(NpyWriter(folder / COUNTS, count_type, rows=int(indptr[-1])))
        stored = [
            (
                layer,
                files.enter_context(NpyBlocks(layer.folder / layer.indices)),
                files.enter_context(NpyBlocks(layer.folder / layer.counts)),
            )
            for layer in layers
        ]
        ranges = _row_blocks(np.cumsum(frequency), writer.PASS_POSTINGS)
        runs.cut(np.array([low for low, _ in ranges] + [ranges[-1][1]], dtype=np.int64))
        for number, (low, high) in enumerate(ranges):
            rows, counts = _carried(stored, held_old[low:high], new_of_old)
            sizes = held_sizes[low:high]
            if len(rows) != int(sizes.sum()):
                raise ValueError(f"{FOLDER}/{INDPTR} does not match {FOLDER}/{DOCUMENT_TERMS}")
            counts = counts.astype(count_type, copy=False)
            new_terms, new_rows, new_counts = runs.postings(number)
            if len(new_terms):
                order = np.argsort(new_terms, kind="stable")  # by term; rows ascending: the runs are in row order
                at = np.cumsum(sizes)[new_terms[order] - low] + np.arange(len(order))  # after their term's kept ones
                rows = _inserted(rows, at, new_rows[order])
                counts = _inserted(counts, at, new_counts[order].astype(count_type, copy=False))
            data.write(weigh(low, high, rows, counts))
            indices.write(rows)
            counts_out.write(counts)
    np.save(folder / INDPTR, indptr, allow_pickle=False)
    return frequency


def _carried(
    stored: Sequence[tuple[PostingLayer, NpyBlocks, NpyBlocks]], terms: np.ndarray, new_of_old: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The kept postings (new rows, counts) of the previous ``terms``, term after term in that order: each term's
    postings of every layer one after another, the removed rows' dropped. Consecutive terms read as one slice."""
    if not len(terms):  # a range of terms first met in new rows
        return np.empty(0, dtype=np.int32), np.empty(0, dtype=np.uint16)
    cuts = (np.flatnonzero(np.diff(terms) != 1) + 1).tolist()
    merged: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    for layer, rows_file, counts_file in stored:
        sizes = np.zeros(len(terms), dtype=np.int64)
        inside = terms < layer.terms
        sizes[inside] = layer.indptr[terms[inside] + 1] - layer.indptr[terms[inside]]
        pieces = []
        for first, last in zip([0, *cuts], [*cuts, len(terms)]):
            low, top = int(terms[first]), min(int(terms[last - 1]) + 1, layer.terms)
            if low < top:
                start, stop = int(layer.indptr[low]), int(layer.indptr[top])
                pieces.append((rows_file.read(start, stop), counts_file.read(start, stop)))
        rows = np.concatenate([piece[0] for piece in pieces]) if pieces else np.empty(0, dtype=np.int32)
        counts = np.concatenate([piece[1] for piece in pieces]) if pieces else np.empty(0, dtype=np.uint16)
        if merged is None:
            merged = (rows, counts, sizes)
            continue
        at = np.repeat(np.cumsum(merged[2]), sizes) + np.arange(len(rows))  # after the term's earlier layers'
        merged = (_inserted(merged[0], at, rows), _inserted(merged[1], at, counts), merged[2] + sizes)
    assert merged is not None
    mapped = new_of_old[merged[0]]
    kept = mapped >= 0
    if kept.all():  # most ranges at a small removal: no copy
        return mapped, merged[1]
    return mapped[kept], merged[1][kept]
