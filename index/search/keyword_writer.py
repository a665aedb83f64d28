"""Writing a generation's keyword index (``keywords.py`` reads it): the BM25 weights computed with numpy from
every row's term ids, reusing what the previous generation stored, so an update reads only its new chunks.

The files are the ones bm25s 0.3 (``method="lucene"``, the numpy backend) writes and ``keywords.build_keyword_index``
still writes through it, byte for byte (``tests/test_incremental_builds.py`` compares them): the weights as a
term-by-row CSC matrix (``data``, ``indices``, ``indptr``), its ``vocab.index.json`` with bm25s's extra term ""
and ``params.index.json``; beside them every row's term ids (``document_terms.npy``, ``document_offsets.npy``,
``terms.json``) and the lookups a question uses (``lookups.py``). bm25s reads every document's terms again in
Python, term by term, and a build gave it every chunk's terms: 12 s at 100,000 chunks, for an add of 100 articles
as for a rebuild. Here:

- a kept row's term ids are copied from the previous generation's ``document_terms.npy`` (they were read from the
  same title and chunk), only a new row's text is read;
- the vocabulary keeps bm25s's order (terms as first met, row after row, then ""): when the kept rows are the
  previous generation's rows in their order and the new ones come after (an ``add``), the previous vocabulary is
  that order's beginning and the new terms follow; otherwise (a removal, a changed article, another order) each
  term's first row is found again over every row;
- how often each term occurs in each row (``term_counts.npy``, aligned with ``data``) is stored, so an ``add``
  merges the previous matrix's postings with the new rows' (no sort of every posting) and recomputes the weights,
  which change everywhere (the number of rows and their mean length are in every weight) but cost a few numpy
  operations over the postings;
- the lookups keep the previous entries of the terms both vocabularies hold and group only the new terms.
"""

from __future__ import annotations

import json
import math
from array import array
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from index.search.keywords import DOCUMENT_OFFSETS, DOCUMENT_TERMS, FOLDER, FORMAT, K1, TERMS, B
from index.search.lookups import update_lookups, write_lookups
from index.text.normalise import keyword_terms

COUNTS = "term_counts.npy"  # how often each posting's term occurs in its row, aligned with data.csc.index.npy
DATA, INDICES, INDPTR = "data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy"
VOCABULARY, PARAMETERS = "vocab.index.json", "params.index.json"
EMPTY = ""  # the term bm25s adds to every vocabulary, held by no row


class PreviousTerms:
    """What a build reuses of the previous generation's keyword index: every row's term ids and the vocabulary,
    and, when stored (generations written since ``COUNTS``), the postings with their counts."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.names: list[str] = json.loads((folder / TERMS).read_text(encoding="utf-8"))
        self.ids = np.load(folder / DOCUMENT_TERMS, mmap_mode="r", allow_pickle=False)
        self.offsets = np.load(folder / DOCUMENT_OFFSETS, allow_pickle=False)
        indptr = np.load(folder / INDPTR, allow_pickle=False)
        self.rows = len(self.offsets) - 1
        self.used = len(indptr) - 1  # the terms some row holds: the vocabulary before bm25s's ""
        if (
            self.ids.dtype != np.int32
            or self.offsets[-1] != len(self.ids)
            or self.used > len(self.names)
            or (len(self.ids) and int(self.ids.max()) >= self.used)
        ):
            raise ValueError(f"{FOLDER}/{DOCUMENT_TERMS} does not match {FOLDER}/{TERMS}")
        self.postings: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        if (folder / COUNTS).is_file():
            indices = np.load(folder / INDICES, allow_pickle=False)
            counts = np.load(folder / COUNTS, allow_pickle=False)
            if len(indices) == len(counts) == indptr[-1]:
                self.postings = (indptr, indices, counts)


def open_previous_terms(generation: Path) -> PreviousTerms | None:
    """The reusable part of a generation's keyword index; None when it has none or it cannot be read (a build
    then reads every row's text again)."""
    folder = generation / FOLDER
    try:
        return PreviousTerms(folder) if (folder / DOCUMENT_TERMS).is_file() else None
    except (OSError, ValueError, KeyError, IndexError, EOFError):
        return None


def write_keyword_index(
    folder: Path,
    old_rows: np.ndarray,
    fresh: Iterable[str | list[str]],
    previous: PreviousTerms | None = None,
) -> tuple[dict, dict[str, int]]:
    """Write the keyword index of a generation into ``folder``. ``old_rows`` gives each row's row in
    ``previous`` (the rows it keeps), -1 for a new row; ``fresh`` the new rows' texts (or terms), in row order,
    read once (a generator: a build holds no text of them, only their term ids, 4 bytes a term).
    Returns the manifest's record and each term's document frequency (how many rows hold it)."""
    old_rows = np.asarray(old_rows, dtype=np.int64)
    rows = len(old_rows)
    kept, new = np.flatnonzero(old_rows >= 0), np.flatnonzero(old_rows < 0)
    if len(kept) and previous is None:
        raise ValueError("every kept row needs the previous terms, every new row its text")
    # term ids: the previous vocabulary's, then each new term as first met in the new rows
    names = list(previous.names[: previous.used]) if previous else []
    known = {name: term_id for term_id, name in enumerate(names)}
    fresh_terms, fresh_lengths = array("i"), array("q")  # the new rows' term ids one row after another, lengths
    for text in fresh:
        ids = [known.setdefault(term, len(known)) for term in (text if isinstance(text, list) else keyword_terms(text))]
        fresh_terms.extend(ids)
        fresh_lengths.append(len(ids))
    if len(fresh_lengths) != len(new):
        raise ValueError("every kept row needs the previous terms, every new row its text")
    names = list(known)
    del known
    lengths = np.zeros(rows, dtype=np.int64)
    lengths[new] = np.frombuffer(fresh_lengths, dtype=np.int64) if len(fresh_lengths) else 0
    # an add: the kept rows are every previous row, in order, first (a first build keeps none of none)
    appended = len(kept) == (previous.rows if previous else 0) and bool(np.all(old_rows[: len(kept)] == kept))
    if len(kept):
        assert previous is not None
        lengths[kept] = np.diff(previous.offsets)[old_rows[kept]]
    offsets = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    fresh_flat = np.frombuffer(fresh_terms, dtype=np.int32) if len(fresh_terms) else np.zeros(0, dtype=np.int32)
    if appended and not len(kept):  # every row new, in order: the new rows' ids are every row's (no copy)
        flat = fresh_flat
    elif appended:  # the previous rows, in order, then the new ones: their terms are first met in this order
        flat = np.empty(int(offsets[-1]), dtype=np.int32)
        split = int(offsets[len(kept)])
        if previous is not None:
            flat[:split] = previous.ids[:split]
        flat[split:] = fresh_flat
    else:
        flat = np.empty(int(offsets[-1]), dtype=np.int32)
        if len(kept):
            assert previous is not None
            flat[_runs(offsets[kept], lengths[kept])] = previous.ids[
                _runs(previous.offsets[old_rows[kept]], lengths[kept])
            ]
        flat[_runs(offsets[new], lengths[new])] = fresh_flat
        flat, names = _in_first_use_order(flat, names)
    terms = len(names)
    if appended and previous is not None and previous.postings is not None:
        start = int(offsets[len(kept)])
        new_postings = _postings(flat[start:], lengths[len(kept) :], terms, first_row=len(kept))
        indptr, indices, counts = _merged(previous.postings, new_postings, terms)
    else:
        indptr, indices, counts = _postings(flat, lengths, terms)
    frequency = np.diff(indptr)
    data = _weights(indptr, indices, counts, lengths)
    vocabulary = {name: term_id for term_id, name in enumerate(names)}
    vocabulary.setdefault(EMPTY, len(vocabulary))
    _save(folder, data, indices, indptr, vocabulary, flat, offsets, counts)
    _write_lookups(folder, previous, list(vocabulary))
    record = {"format": FORMAT, "library": "bm25s", "k1": K1, "b": B, "documents": rows, "terms": len(vocabulary)}
    return record, dict(zip(names, frequency.tolist()))


def _runs(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions ``starts[i]`` to ``starts[i] + lengths[i] - 1`` of every run, one run after another."""
    before = np.cumsum(lengths) - lengths
    return np.repeat(np.asarray(starts, dtype=np.int64) - before, lengths) + np.arange(int(lengths.sum()))


def _in_first_use_order(flat: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """The term ids renumbered in the order the terms are first met (row after row), terms no row holds left out."""
    first = np.full(len(names), len(flat), dtype=np.int64)
    np.minimum.at(first, flat, np.arange(len(flat), dtype=np.int64))
    used = np.flatnonzero(first < len(flat))
    used = used[np.argsort(first[used])]
    renumber = np.full(len(names), -1, dtype=np.int64)
    renumber[used] = np.arange(len(used))
    return renumber[flat].astype(np.int32), [names[term_id] for term_id in used.tolist()]


POSTINGS_BLOCK = 1 << 20  # terms of consecutive rows whose postings are found at a time


def _postings(
    flat: np.ndarray, lengths: np.ndarray, terms: int, first_row: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(indptr, rows, counts) of the rows' terms, term by term, rows ascending within a term.

    A block of rows at a time (``POSTINGS_BLOCK`` terms), twice: once to count each term's postings (``indptr``),
    once to put each block's postings after the earlier blocks' of their term. Besides the result, a build holds
    one block's sort keys, not a key and a row of every term of every row (16 bytes a term: 1.5 GB at 1M chunks)."""
    width = max(first_row + len(lengths), 1)
    ends = np.cumsum(lengths)
    blocks = _row_blocks(ends, POSTINGS_BLOCK)

    def block_postings(first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        """(unique term-and-row keys, sorted; how often each occurs) of rows ``first`` to ``last`` - 1."""
        start = int(ends[first - 1]) if first else 0
        keys = flat[start : int(ends[last - 1]) if last else 0].astype(np.int64)
        keys *= width
        keys += np.repeat(np.arange(first_row + first, first_row + last, dtype=np.int64), lengths[first:last])
        keys.sort()
        starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1]))) if len(keys) else keys[:0]
        return keys[starts], np.diff(np.append(starts, len(keys)))

    frequency = np.zeros(terms, dtype=np.int64)
    largest = 0
    for first, last in blocks:
        unique, counts = block_postings(first, last)
        frequency += np.bincount(unique // width, minlength=terms)
        largest = max(largest, int(counts.max()) if len(counts) else 0)
    indptr = np.zeros(terms + 1, dtype=np.int64)
    np.cumsum(frequency, out=indptr[1:])
    rows = np.empty(int(indptr[-1]), dtype=np.int32)
    counts_out = np.empty(int(indptr[-1]), dtype=np.uint16 if largest <= np.iinfo(np.uint16).max else np.uint32)
    filled = indptr[:-1].copy()  # where each term's next posting goes
    for first, last in blocks:
        unique, counts = block_postings(first, last)
        term = unique // width
        new_term = np.concatenate(([True], term[1:] != term[:-1])) if len(term) else np.zeros(0, dtype=bool)
        term_start = np.flatnonzero(new_term)
        rank = np.arange(len(term)) - np.repeat(term_start, np.diff(np.append(term_start, len(term))))
        at = filled[term] + rank
        rows[at] = unique % width
        counts_out[at] = counts
        filled += np.bincount(term, minlength=terms)
    return indptr, rows, counts_out


def _row_blocks(ends: np.ndarray, size: int) -> list[tuple[int, int]]:
    """(first, last + 1) rows of consecutive blocks holding about ``size`` terms each (one row at least); one
    empty block when there is no row."""
    if not len(ends):
        return [(0, 0)]
    cuts = np.unique(np.searchsorted(ends, np.arange(size, int(ends[-1]), size), side="left") + 1)
    cuts = cuts[(cuts > 0) & (cuts < len(ends))]
    edges = [0, *cuts.tolist(), len(ends)]
    return list(zip(edges[:-1], edges[1:]))


def _merged(
    old: tuple[np.ndarray, np.ndarray, np.ndarray], new: tuple[np.ndarray, np.ndarray, np.ndarray], terms: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The postings of the previous rows followed, term by term, by those of the rows after them."""
    old_indptr, old_rows, old_counts = old
    new_indptr, new_rows, new_counts = new
    new_width = np.diff(new_indptr)
    old_width = np.zeros(terms, dtype=np.int64)
    old_width[: len(old_indptr) - 1] = np.diff(old_indptr)
    indptr = np.zeros(terms + 1, dtype=np.int64)
    np.cumsum(old_width + new_width, out=indptr[1:])
    new_terms = np.repeat(np.arange(terms, dtype=np.int64), new_width)
    at = old_indptr[np.minimum(new_terms + 1, len(old_indptr) - 1)]  # the end of each new posting's term
    counts = np.insert(old_counts.astype(np.result_type(old_counts, new_counts)), at, new_counts)
    return indptr, np.insert(old_rows, at, new_rows), _small(counts)


def _small(counts: np.ndarray) -> np.ndarray:
    return counts.astype(np.uint16 if not len(counts) or int(counts.max()) <= np.iinfo(np.uint16).max else np.uint32)


BLOCK = 1 << 20  # postings weighed at a time: small temporaries, reused, instead of several of every posting


def _weights(indptr: np.ndarray, rows: np.ndarray, counts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Every posting's BM25 weight, computed as bm25s computes it ("lucene": idf and term frequency part, in
    float64, stored as float32), a block of terms at a time."""
    documents = len(lengths)
    weights = np.empty(len(rows), dtype=np.float32)
    if not len(rows):
        return weights
    frequency = np.diff(indptr)
    values, inverse = np.unique(frequency, return_inverse=True)  # math.log per distinct frequency, as bm25s does
    idf = np.array([math.log(1 + (documents - df + 0.5) / (df + 0.5)) for df in values.tolist()], dtype=np.float32)
    term_idf = idf[inverse].astype(np.float64)
    norm = K1 * ((1 - B) + B * lengths.astype(np.float64) / lengths.mean())
    edges = np.unique(np.searchsorted(indptr, np.arange(0, len(rows), BLOCK), side="right") - 1)
    for first, last in zip(edges.tolist(), [*edges[1:].tolist(), len(frequency)]):
        start, end = int(indptr[first]), int(indptr[last])
        tf = counts[start:end].astype(np.float64)
        part = norm[rows[start:end]]
        part += tf
        np.divide(tf, part, out=part)
        part *= np.repeat(term_idf[first:last], frequency[first:last])
        weights[start:end] = part
    return weights


def _save(
    folder: Path,
    data: np.ndarray,
    indices: np.ndarray,
    indptr: np.ndarray,
    vocabulary: dict[str, int],
    flat: np.ndarray,
    offsets: np.ndarray,
    counts: np.ndarray,
) -> None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        library = version("bm25s")
    except PackageNotFoundError:
        library = "0.3.16"
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / DATA, data, allow_pickle=False)
    np.save(folder / INDICES, indices, allow_pickle=False)
    np.save(folder / INDPTR, indptr, allow_pickle=False)
    (folder / VOCABULARY).write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
    parameters = {
        "k1": K1,
        "b": B,
        "delta": 0.5,
        "method": "lucene",
        "idf_method": "lucene",
        "dtype": "float32",
        "int_dtype": "int32",
        "num_docs": len(offsets) - 1,
        "version": library,
        "backend": "numpy",
    }
    (folder / PARAMETERS).write_text(json.dumps(parameters, indent=4), encoding="utf-8")
    np.save(folder / DOCUMENT_TERMS, flat, allow_pickle=False)
    np.save(folder / DOCUMENT_OFFSETS, offsets, allow_pickle=False)
    (folder / TERMS).write_text(json.dumps(list(vocabulary), ensure_ascii=False), encoding="utf-8")
    np.save(folder / COUNTS, counts, allow_pickle=False)


def _write_lookups(folder: Path, previous: PreviousTerms | None, terms: list[str]) -> None:
    """The lookups, from the previous generation's where it has them (only new terms grouped)."""
    if previous is not None:
        try:
            update_lookups(previous.folder, previous.names, terms, folder)
            return
        except (OSError, ValueError, KeyError, EOFError):
            pass  # none stored, another format, or damaged: grouped again
    write_lookups({name: term_id for term_id, name in enumerate(terms)}, folder)
