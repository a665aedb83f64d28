"""Postings spilled to disk in sorted runs and read back a range of terms at a time (``keyword_writer.py``).

A build finds its postings a block of rows at a time: each block's (term, row, count) triples, sorted by term
then row, are one run, appended to an unnamed temporary file beside the index (it goes with the process, even
killed). Once every term's number of postings is known and the terms are cut into ranges, ``cut`` finds where
each run crosses each range (reading the runs' terms once), and ``postings`` reads one range's postings from
every run, in run order: every term id is read once and every posting twice, however many ranges there are
(instead of every term id read again for each range). What it holds in memory: a few numbers a run and range.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from index.storage.row_files import pread_into

TERM, ROW = np.dtype(np.int32), np.dtype(np.int32)


class PostingRuns:
    """Sorted runs of postings in a temporary file (a context manager: ``with`` closes and so deletes it)."""

    def __init__(self, folder: Path) -> None:
        self._file = tempfile.TemporaryFile(dir=folder)  # noqa: SIM115 (closed by close or __exit__)
        self._runs: list[tuple[int, int, np.dtype]] = []  # where each run starts, its length, its counts' type
        self._cuts: list[np.ndarray] = []  # per run: where each range starts in it, and its end
        self._size = 0

    def add(self, terms: np.ndarray, rows: np.ndarray, counts: np.ndarray) -> None:
        """Append a run: postings sorted by term, then row."""
        wide = len(counts) and int(counts.max()) > np.iinfo(np.uint16).max
        count_type = np.dtype(np.uint32 if wide else np.uint16)
        self._runs.append((self._size, len(terms), count_type))
        for values, dtype in ((terms, TERM), (rows, ROW), (counts, count_type)):
            view = np.ascontiguousarray(values, dtype=dtype).data.cast("B")
            while len(view):
                written = os.pwrite(self._file.fileno(), view, self._size)
                view, self._size = view[written:], self._size + written

    def cut(self, edges: np.ndarray) -> None:
        """Find where each run's terms reach each of ``edges`` (the ranges' first terms, then the last's end)."""
        self._cuts = [
            np.searchsorted(self._read(start, np.empty(length, TERM)), edges) for start, length, _ in self._runs
        ]

    def postings(self, number: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(terms, rows, counts) of the range ``number`` (of the ``edges`` given to ``cut``): each run's in turn."""
        pieces = [(run, int(cuts[number]), int(cuts[number + 1])) for run, cuts in zip(self._runs, self._cuts)]
        pieces = [(run, first, last) for run, first, last in pieces if first < last]
        size = sum(last - first for _, first, last in pieces)
        wide = any(count_type.itemsize > 2 for (_, _, count_type), _, _ in pieces)
        terms, rows = np.empty(size, dtype=TERM), np.empty(size, dtype=ROW)
        counts = np.empty(size, dtype=np.uint32 if wide else np.uint16)
        at = 0
        for (start, length, count_type), first, last in pieces:
            rows_at = start + length * TERM.itemsize
            counts_at = rows_at + length * ROW.itemsize
            self._read(start + first * TERM.itemsize, terms[at : at + last - first])
            self._read(rows_at + first * ROW.itemsize, rows[at : at + last - first])
            if count_type == counts.dtype:
                self._read(counts_at + first * count_type.itemsize, counts[at : at + last - first])
            else:
                counts[at : at + last - first] = self._read(
                    counts_at + first * count_type.itemsize, np.empty(last - first, count_type)
                )
            at += last - first
        return terms, rows, counts

    def _read(self, position: int, values: np.ndarray) -> np.ndarray:
        """Fill ``values`` (contiguous) from ``position`` on."""
        if not pread_into(self._file.fileno(), values.data.cast("B"), position):
            raise EOFError("the postings' temporary file ends early")
        return values

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> PostingRuns:
        return self

    def __exit__(self, *exception: object) -> None:
        self.close()
