"""The keyword index in two layers: an update that changes only the newest rows writes a delta, not every posting.

A whole keyword index (``keyword_writer.py``) stores each posting's BM25 weight, which holds the number of rows and
their mean length, so every weight changes with every add; and its postings are term-major, so new rows' postings go
into every term's list. An update that only appends rows (an ``add``; every previous row keeps its number) instead
shares the previous generation's base files by hard link (``generations.share_file``: postings, counts, weights and
every row's term ids, which no generation writes again once published) and writes a delta, the rows added since the
base (the previous delta's, then the new ones), written whole each time: their postings as a term-major CSC over the
whole vocabulary (``delta_indptr.npy``, rows, counts), their term ids and offsets. A question weighs its few terms'
postings then (``LayeredPostings``), with the writer's formula (bm25s "lucene") and the current number of rows, mean
length and document frequency: the same weights as a whole build's, bit for bit. The vocabulary, its lookups and
``params.index.json`` stay whole files, written each time (they grow with the vocabulary, not with the postings).
An update that removes or replaces rows of the delta only (recent articles, removed or edited) writes the delta the
same way, from its kept and new rows' terms; a term only the removed rows held stays in the vocabulary, held by none.

An update that removes or changes an article of the base leaves its rows there, dead (``row_layout.py``): a question
gets none of their postings, and the number of rows, their mean length and the document frequencies count only the
live rows (``LayeredPostings``), as a whole build's weights do.

The base stays as a whole build wrote it (``data.csc.index.npy`` included, so the base alone is bm25s's files) until
the delta (with the dead rows) would pass ``DELTA_SHARE`` of its rows; then, or for an update that moves rows of the
base, or below ``LAYER_MIN_ROWS`` rows (the vectors' threshold), the writer writes one whole index, byte for byte a
whole build's.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.search.keywords import DOCUMENT_OFFSETS, DOCUMENT_TERMS, FOLDER, K1, TERMS, B
from index.storage.generations import share_file
from index.storage.row_files import NpyBlocks, NpyWriter, changes_only_delta

COUNTS = "term_counts.npy"  # how often each posting's term occurs in its row, aligned with data.csc.index.npy
DATA, INDICES, INDPTR = "data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy"
DELTA_INDPTR, DELTA_INDICES, DELTA_COUNTS = "delta_indptr.npy", "delta_indices.npy", "delta_term_counts.npy"
DELTA_TERMS, DELTA_OFFSETS = "delta_document_terms.npy", "delta_document_offsets.npy"
BASE_FILES = (DATA, INDICES, INDPTR, COUNTS, DOCUMENT_TERMS, DOCUMENT_OFFSETS)  # shared by hard link
DELTA_FILES = (DELTA_INDPTR, DELTA_INDICES, DELTA_COUNTS, DELTA_TERMS, DELTA_OFFSETS)

# The delta is written whole by every add: at s·N rows it costs about s·N/2 rows an add on average, and a merge
# (every posting written again) every s·N/k adds of k rows, k/s rows an add: smallest at s = √(2k/N), about 1/22
# for adds of 1,000 rows (100 articles) at 1M rows, 1/7 at 100k. A sixteenth keeps both terms small at 100k-1M
# (as the sentence tables'), and the postings a question weighs at question time rather than reads stay few.
DELTA_SHARE = 1 / 16
# Below, an update writes one whole keyword index (at 50,000 rows about 60 MB, well under a second): the vectors'
# threshold (``layered_vectors.LAYER_MIN_ROWS``, a module above this layer), so both layer from the same size on.
LAYER_MIN_ROWS = 50_000
TERMS_BLOCK = 1 << 20  # term ids read at a time when checking a file (4 MB)


@dataclass(frozen=True)
class PostingLayer:
    """One layer's postings, term-major: ``indptr`` (each term's first posting, and the end) over the file pair
    ``indices`` (rows, ascending within a term) and ``counts`` in ``folder``."""

    folder: Path
    indptr: np.ndarray
    indices: str
    counts: str

    @property
    def terms(self) -> int:
        return len(self.indptr) - 1


class PreviousTerms:
    """What a build reuses of the previous generation's keyword index: every row's term ids (read from their files
    a block at a time; a layered index's base rows, then its delta's), the vocabulary and, when stored (generations
    written since ``COUNTS``), the postings with their counts, one ``PostingLayer`` a layer."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.names: list[str] = json.loads((folder / TERMS).read_text(encoding="utf-8"))
        base_offsets = np.load(folder / DOCUMENT_OFFSETS, allow_pickle=False)
        self.base_rows = len(base_offsets) - 1
        self.layers = [PostingLayer(folder, np.load(folder / INDPTR, allow_pickle=False), INDICES, COUNTS)]
        self.term_files = [DOCUMENT_TERMS]
        self.offsets = base_offsets  # every row's, over the layers' term ids one after another
        if (folder / DELTA_INDPTR).is_file():
            delta_offsets = np.load(folder / DELTA_OFFSETS, allow_pickle=False)
            self.offsets = np.concatenate((base_offsets, delta_offsets[1:] + base_offsets[-1]))
            delta_indptr = np.load(folder / DELTA_INDPTR, allow_pickle=False)
            self.layers.append(PostingLayer(folder, delta_indptr, DELTA_INDICES, DELTA_COUNTS))
            self.term_files.append(DELTA_TERMS)
        self.rows = len(self.offsets) - 1
        self.used = max(layer.terms for layer in self.layers)  # the terms some row holds: before bm25s's ""
        ends = [int(self.offsets[self.base_rows]), int(self.offsets[-1])]
        for name, start, end in zip(self.term_files, [0, ends[0]], ends):
            with NpyBlocks(folder / name) as ids:
                largest = max((int(block.max()) for block in blocks_of(ids) if len(block)), default=-1)
                if ids.dtype != np.int32 or end - start != ids.length or largest >= self.used:
                    raise ValueError(f"{FOLDER}/{name} does not match {FOLDER}/{TERMS}")
        if self.used > len(self.names) or any(layer.terms > self.used for layer in self.layers):
            raise ValueError(f"{FOLDER}/{DOCUMENT_TERMS} does not match {FOLDER}/{TERMS}")
        self.postings = all(_stored_postings(layer) for layer in self.layers)  # counts stored, aligned with indptr

    @property
    def layered(self) -> bool:
        return len(self.layers) > 1

    def frequency(self) -> np.ndarray:
        """How many rows hold each term (of the ``used`` terms), over every layer."""
        frequency = np.zeros(self.used, dtype=np.int64)
        for layer in self.layers:
            frequency[: layer.terms] += np.diff(layer.indptr)
        return frequency

    def pieces(self, start: int, stop: int) -> list[tuple[int, int, int]]:
        """Term ids ``start`` to ``stop`` - 1, numbered over the layers one after another, as (which of
        ``term_files``, first, end) in that file: the base's part, then the delta's (none for an empty range at
        their border)."""
        base_end = int(self.offsets[self.base_rows])
        parts = []
        if start < base_end:
            parts.append((0, start, min(stop, base_end)))
        if stop > base_end:
            parts.append((1, max(start, base_end) - base_end, stop - base_end))
        return parts

    @contextlib.contextmanager
    def copier(self) -> Iterator[Callable[[NpyWriter, int, int], None]]:
        """What copies term ids ``start`` to ``stop`` - 1 (over the layers one after another) to a writer, file to
        file (``NpyWriter.copy``)."""
        with contextlib.ExitStack() as stack:
            sources = [stack.enter_context(NpyBlocks(self.folder / name)) for name in self.term_files]

            def copy(out: NpyWriter, start: int, stop: int) -> None:
                for source, first, end in self.pieces(start, stop):
                    out.copy(sources[source], first, end)

            yield copy


@dataclass(frozen=True)
class Output:
    """The files a layer's postings go to, and the term ids file they are read from (``data``: the weights,
    written for a whole index only)."""

    terms: str
    indptr: str
    indices: str
    counts: str
    data: str | None


WHOLE = Output(DOCUMENT_TERMS, INDPTR, INDICES, COUNTS, DATA)
DELTA = Output(DELTA_TERMS, DELTA_INDPTR, DELTA_INDICES, DELTA_COUNTS, None)


def open_previous_terms(generation: Path) -> PreviousTerms | None:
    """The reusable part of a generation's keyword index; None when it has none or it cannot be read (a build
    then reads every row's text again)."""
    folder = generation / FOLDER
    try:
        return PreviousTerms(folder) if (folder / DOCUMENT_TERMS).is_file() else None
    except (OSError, ValueError, KeyError, IndexError, EOFError):
        return None


def _stored_postings(layer: PostingLayer) -> bool:
    if not (layer.folder / layer.counts).is_file():
        return False
    with NpyBlocks(layer.folder / layer.indices) as indices, NpyBlocks(layer.folder / layer.counts) as counts:
        return bool(indices.length == counts.length == layer.indptr[-1])


def blocks_of(values: NpyBlocks) -> Iterator[np.ndarray]:
    for start in range(0, values.length, TERMS_BLOCK):
        yield values.read(start, min(start + TERMS_BLOCK, values.length))


def layered_base(previous: PreviousTerms | None, old_rows: np.ndarray, with_dead: bool = False) -> int | None:
    """The rows of the base an update layers on (``old_rows``: each row's row in ``previous``, -1 for a new one),
    None when it writes one whole index. It may when it keeps the base's rows in place and changes only what
    follows (appends rows, removes or replaces rows of the previous delta: ``row_files.changes_only_delta``), but
    not for a base under ``LAYER_MIN_ROWS`` rows, a delta past ``DELTA_SHARE`` of it, a previous index without
    stored postings. ``with_dead``: the update marks rows of the base dead (``dead_rows.py``)."""
    if previous is None or not previous.postings:
        return None
    base = previous.base_rows
    if base < LAYER_MIN_ROWS or len(old_rows) - base > DELTA_SHARE * base:
        return None
    return base if changes_only_delta(old_rows, base, previous.rows, with_dead) else None


def share_base(previous: PreviousTerms, folder: Path) -> None:
    """Link the previous generation's base files into ``folder`` (never opened for writing again)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in BASE_FILES:
        share_file(previous.folder / name, folder / name)


def dead_frequency(folder: Path, dead: np.ndarray, terms: int) -> tuple[np.ndarray, int]:
    """(how many of the base's ``dead`` rows hold each of ``terms`` term ids, their number of terms in all): what
    a layered index's document frequencies and total length count beyond its live rows (``dead_rows.py``)."""
    frequency = np.zeros(terms, dtype=np.int64)
    if not len(dead):
        return frequency, 0
    offsets = np.load(folder / DOCUMENT_OFFSETS, mmap_mode="r", allow_pickle=False)
    starts, ends = np.asarray(offsets[dead], dtype=np.int64), np.asarray(offsets[dead + 1], dtype=np.int64)
    lengths = ends - starts
    positions = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(int(lengths.sum()))
    ids = np.asarray(np.load(folder / DOCUMENT_TERMS, mmap_mode="r", allow_pickle=False)[positions], dtype=np.int64)
    pairs = np.unique(np.repeat(np.arange(len(dead), dtype=np.int64), lengths) * terms + ids)  # a term once a row
    frequency += np.bincount(pairs % terms, minlength=terms)[:terms]
    return frequency, int(lengths.sum())


class LayeredPostings:
    """A layered keyword index's postings, read-only and memory-mapped, weighed at question time: each term's
    postings are the base's, then the delta's, with the BM25 weight ``keyword_writer._weigher`` stores. The base's
    ``dead`` rows (``dead_rows.py``: removed articles') hold no posting a question gets, nor count in the number of
    rows, their mean length and the document frequencies: the weights of a whole build of the live rows."""

    def __init__(self, folder: Path, documents: int, dead: np.ndarray | None = None) -> None:
        def mapped(name: str) -> np.ndarray:
            return np.asarray(np.load(folder / name, mmap_mode="r", allow_pickle=False))

        self._starts = [mapped(INDPTR), mapped(DELTA_INDPTR)]
        self._rows = [mapped(INDICES), mapped(DELTA_INDICES)]
        self._counts = [mapped(COUNTS), mapped(DELTA_COUNTS)]
        self._offsets = [mapped(DOCUMENT_OFFSETS), mapped(DELTA_OFFSETS)]
        self.base_rows = len(self._offsets[0]) - 1
        self.documents = documents
        for starts, rows, counts in zip(self._starts, self._rows, self._counts):
            if not (len(starts) and starts[-1] == len(rows) == len(counts)) or rows.dtype != np.int32:
                raise ValueError(f"{FOLDER}: a layer's postings do not match their {INDPTR}")
        delta_rows = self._rows[1]
        wrong_rows = len(delta_rows) and (int(delta_rows.min()) < self.base_rows or int(delta_rows.max()) >= documents)
        if self.base_rows + len(self._offsets[1]) - 1 != documents or wrong_rows:
            raise ValueError(f"{FOLDER}: its layers hold other rows than the {documents} of params.index.json")
        if len(self._starts[1]) < len(self._starts[0]):
            raise ValueError(f"{FOLDER}/{DELTA_INDPTR} does not hold every term of {FOLDER}/{INDPTR}")
        self.frequency = np.diff(self._starts[1]).astype(np.int64)
        self.frequency[: len(self._starts[0]) - 1] += np.diff(self._starts[0])
        self._alive: np.ndarray | None = None  # one bool a row, when some are dead
        dead_length = 0
        if dead is not None and len(dead):
            if int(dead[-1]) >= self.base_rows:
                raise ValueError(f"{FOLDER}: a dead row is not a row of its base")
            held_by_dead, dead_length = dead_frequency(folder, dead, len(self.frequency))
            self.frequency -= held_by_dead
            self._alive = np.ones(documents, dtype=bool)
            self._alive[dead] = False
        self.live = documents - (0 if dead is None else len(dead))  # the rows the weights count
        total = int(self._offsets[0][-1]) + int(self._offsets[1][-1]) - dead_length  # an exact integer sum, as numpy's
        self._mean = total / self.live if self.live else 0.0
        self._norm: np.ndarray | None = None

    def postings(self, forms: Sequence[tuple[int, float]]) -> list[tuple[np.ndarray, np.ndarray]]:
        """For each (term id, weight) of ``forms``: (rows holding the term, their BM25 weight times ``weight``).
        Weighed together, with the writer's float64 arithmetic and its idf (float32, ``math.log`` per document
        frequency), stored as float32: the weights of a whole build, bit for bit."""
        if not forms:
            return []
        rows_of, counts_of, sizes, idf = [], [], [], []
        for term_id, _ in forms:
            size = 0
            for layer, (starts, rows, counts) in enumerate(zip(self._starts, self._rows, self._counts)):
                if term_id + 1 < len(starts):  # the layer holds the term (bm25s's "" is in none)
                    start, end = int(starts[term_id]), int(starts[term_id + 1])
                    held, times = rows[start:end], counts[start:end]
                    if self._alive is not None and layer == 0:  # the base: its dead rows left out
                        live = self._alive[held]
                        held, times = held[live], times[live]
                    rows_of.append(held)
                    counts_of.append(times)
                    size += len(held)
            sizes.append(size)
            df = int(self.frequency[term_id]) if size else 0
            idf.append(math.log(1 + (self.live - df + 0.5) / (df + 0.5)))
        rows = np.concatenate(rows_of) if rows_of else np.empty(0, dtype=np.int32)
        tf = np.concatenate(counts_of).astype(np.float64) if counts_of else np.empty(0)
        part = np.take(self._norms(), rows)  # the writer's length norm of each posting's row
        part += tf
        np.divide(tf, part, out=tf)
        tf *= np.repeat(np.array(idf, dtype=np.float32).astype(np.float64), sizes)
        values = tf.astype(np.float32)
        values *= np.repeat(np.array([weight for _, weight in forms], dtype=np.float32), sizes)
        edges = np.cumsum(sizes)[:-1]
        return list(zip(np.split(rows, edges), np.split(values, edges)))

    def _norms(self) -> np.ndarray:
        """Each row's BM25 length norm, ``K1 * (1 - B + B * length / mean length)`` in float64 as the writer computes
        it: made on the first question (8 bytes a row, this process's own) and gathered per posting after that, which
        halved a layered index's scoring time at 1M rows (two gathers and a division per posting before)."""
        if self._norm is None:
            lengths = np.concatenate([np.diff(offsets) for offsets in self._offsets]).astype(np.float64)
            self._norm = K1 * ((1 - B) + B * lengths / self._mean)
        return self._norm


def open_layers(folder: Path, documents: int, dead: np.ndarray | None = None) -> LayeredPostings | None:
    """The postings of a layered keyword index (``dead``: its base's dead rows), None for a whole one."""
    return LayeredPostings(folder, documents, dead) if (folder / DELTA_INDPTR).is_file() else None
