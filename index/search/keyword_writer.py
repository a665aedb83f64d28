"""Writing a generation's keyword index (``keywords.py`` reads it): the BM25 weights computed with numpy from
every row's term ids, reusing what the previous generation stored, so an update reads only its new chunks.

The files are the ones bm25s 0.3 (``method="lucene"``, the numpy backend) writes and ``keywords.build_keyword_index``
still writes through it, byte for byte (``tests/test_incremental_builds.py`` compares them): the weights as a
term-by-row CSC matrix (``data``, ``indices``, ``indptr``), its ``vocab.index.json`` with bm25s's extra term ""
and ``params.index.json``; beside them every row's term ids (``document_terms.npy``, ``document_offsets.npy``,
``terms.json``) and the lookups (``lookups.py``). bm25s reads every chunk's terms again in Python (12 s at 100,000
chunks, for an add as for a rebuild). Here:

- a kept row's term ids are copied from the previous generation's ``document_terms.npy`` (they were read from the
  same title and chunk), only a new row's text is read;
- the vocabulary keeps bm25s's order (terms as first met, row after row, then ""): when the kept rows are the
  previous generation's rows in their order and the new ones come after (an ``add``), the previous vocabulary is
  that order's beginning and the new terms follow; a removal or a changed article carries the kept postings over
  (``keyword_carry.py``: no posting sorted again); another order finds each term's first row again over every row;
- how often each term occurs in each row (``term_counts.npy``, aligned with ``data``) is stored, so an ``add``
  merges the previous matrix's postings with the new rows' (no sort of every posting) and recomputes the weights,
  which change everywhere (the number of rows and their mean length are in every weight) but cost a few numpy
  operations over the postings;
- the lookups keep the previous entries of the terms both vocabularies hold and group only the new terms;
- an add to an index of ``keyword_layers.LAYER_MIN_ROWS`` rows or more writes no weight: it shares the previous
  base's files by hard link and writes the rows added since as a delta (``keyword_layers.py``), weighed at question
  time; past a share of the base, the layers' postings are merged into one whole index again.

Its memory does not grow with the rows, beyond 24 bytes a row (offsets, lengths, length norms) and the vocabulary:
the term ids go to ``document_terms.npy`` a block at a time as the rows are read (kept rows' copied by the kernel,
``NpyWriter.copy``), and the new rows' come back from it once, a block at a time with plain reads (a memory map's
touched pages would count as the process's): each block's postings are sorted, counted and spilled as a run to a
temporary file (``posting_runs.py``: 10 bytes a posting). Then each range of terms holding about ``PASS_POSTINGS``
postings takes its postings from every run (in row order after a stable sort by term), after the previous
generation's of the same terms (an add: the new postings put at the end of their terms' lists), and is weighed and
written after the previous range's: every term id is read once and every posting spilled and read back once; an add
sorts only its new rows' postings and reads, weighs and writes every previous one once.
"""

from __future__ import annotations

import contextlib
import json
import math
from array import array
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from index.search.keyword_layers import (
    COUNTS,
    DATA,
    DELTA,
    DELTA_OFFSETS,
    DELTA_TERMS,
    INDICES,
    INDPTR,
    WHOLE,
    Output,
    PostingLayer,
    PreviousTerms,
    blocks_of,
    dead_frequency,
    layered_base,
    open_previous_terms,
    share_base,
)
from index.search.keywords import DOCUMENT_OFFSETS, DOCUMENT_TERMS, FORMAT, K1, TERMS, B
from index.search.lookups import update_lookups, write_lookups
from index.search.posting_runs import PostingRuns
from index.storage.row_files import NpyBlocks, NpyWriter
from index.text.normalise import keyword_terms

VOCABULARY, PARAMETERS = "vocab.index.json", "params.index.json"
EMPTY = ""  # the term bm25s adds to every vocabulary, held by no row
__all__ = ["COUNTS", "DATA", "INDICES", "INDPTR", "PreviousTerms", "open_previous_terms", "write_keyword_index"]


def write_keyword_index(
    folder: Path,
    old_rows: np.ndarray,
    fresh: Iterable[str | list[str]],
    previous: PreviousTerms | None = None,
    dead: np.ndarray | None = None,
) -> tuple[dict, dict[str, int]]:
    """Write the keyword index of a generation into ``folder``. ``old_rows`` gives each row's row in
    ``previous`` (the rows it keeps), -1 for a new row; ``fresh`` the new rows' texts (or terms), in row order,
    read once (a generator: a build holds no text of them; their term ids go to ``document_terms.npy`` a block at
    a time). An update that only appends rows to a large enough index writes a delta on the previous base
    (``keyword_layers.py``); its ``dead`` rows (``dead_rows.py``) no frequency counts. Returns the manifest's
    record and each term's document frequency (how many rows hold it)."""
    old_rows = np.asarray(old_rows, dtype=np.int64)
    kept = np.flatnonzero(old_rows >= 0)
    if len(kept) and previous is None:
        raise ValueError("every kept row needs the previous terms, every new row its text")
    folder.mkdir(parents=True, exist_ok=True)
    # term ids: the previous vocabulary's, then each new term as first met in the new rows
    known = {name: term_id for term_id, name in enumerate(previous.names[: previous.used])} if previous else {}
    # an add: the kept rows are every previous row, in order, first (a first build keeps none of none); their
    # terms are then first met in this order, the others' are numbered again in the order first met
    appended = len(kept) == (previous.rows if previous else 0) and bool(np.all(old_rows[: len(kept)] == kept))
    base = layered_base(previous, old_rows, dead is not None and len(dead) > 0)
    if base is None and dead is not None and len(dead):
        raise ValueError("only a layered keyword index keeps dead rows")
    if base is not None and previous is not None:
        return _write_delta(folder, old_rows, fresh, previous, known, base, appended, dead)
    from index.search.keyword_carry import carried_rows, write_carried  # it builds on this module

    if not appended and (carried := carried_rows(old_rows, previous)) is not None and previous is not None:
        return write_carried(folder, old_rows, fresh, previous, carried)  # a removal: no posting sorted again
    lengths = _write_terms(folder / DOCUMENT_TERMS, old_rows, fresh, previous, known)
    names = list(known)
    del known
    if not appended:
        names = _renumber_in_first_use_order(folder / DOCUMENT_TERMS, names)
    offsets = np.zeros(len(old_rows) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    merged = previous is not None and appended and previous.postings
    layers = previous.layers if merged and previous is not None else []
    frequency = np.diff(_write_postings(folder, offsets, len(names), layers, WHOLE, len(kept) if merged else 0))
    return finish_index(folder, previous, names, frequency, len(old_rows), (DOCUMENT_OFFSETS, offsets))


def _write_delta(
    folder: Path,
    old_rows: np.ndarray,
    fresh: Iterable[str | list[str]],
    previous: PreviousTerms,
    known: dict,
    base: int,
    appended: bool,
    dead: np.ndarray | None,
) -> tuple[dict, dict[str, int]]:
    """An update written as a delta on the previous base (its first ``base`` rows, shared by hard link): the previous
    delta's kept rows, then the new ones. An append (``appended``) carries the previous delta's postings over; else
    they are made from the delta's rows' terms (terms only removed rows held stay in the vocabulary, held by none)."""
    share_base(previous, folder)
    lengths = _write_terms(folder / DELTA_TERMS, old_rows[base:], fresh, previous, known)
    names = list(known)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    carried, first_new = (previous.layers[1:], previous.rows - base) if appended else ([], 0)
    frequency = np.diff(_write_postings(folder, offsets, len(names), carried, DELTA, first_new, base))
    frequency[: previous.layers[0].terms] += np.diff(previous.layers[0].indptr)
    if dead is not None:
        frequency -= dead_frequency(folder, dead, len(frequency))[0]
    record, frequencies = finish_index(folder, previous, names, frequency, len(old_rows), (DELTA_OFFSETS, offsets))
    return record | {"delta": {"rows": len(lengths)}}, frequencies


TERMS_BLOCK = 1 << 20  # term ids written or numbered again at a time (4 MB)


def _write_terms(
    path: Path, old_rows: np.ndarray, fresh: Iterable[str | list[str]], previous: PreviousTerms | None, known: dict
) -> np.ndarray:
    """Write every row's term ids, row after row, into ``path`` a block at a time: a kept row's copied from the
    previous generation's file (a run of rows that follow each other there at once), a new row's read from its
    text, a new term numbered after the ``known`` ones as first met. Returns each row's number of terms."""
    lengths = np.zeros(len(old_rows), dtype=np.int64)
    kept = old_rows >= 0
    if len(old_rows):  # runs: rows that are all new, or kept rows that follow each other in the previous rows
        cuts = (kept[1:] != kept[:-1]) | (kept[1:] & (old_rows[1:] != old_rows[:-1] + 1))
        edges = [0, *(np.flatnonzero(cuts) + 1).tolist(), len(old_rows)]
    texts, pending = iter(fresh), array("i")
    with NpyWriter(path, np.int32) as out, previous.copier() if previous else contextlib.nullcontext() as copy:
        for first, last in zip(edges[:-1], edges[1:]) if len(old_rows) else ():
            if kept[first]:
                assert previous is not None and copy is not None
                rows = old_rows[first:last]
                lengths[first:last] = np.diff(previous.offsets[rows[0] : rows[-1] + 2])
                out.write(np.frombuffer(pending, dtype=np.int32))
                del pending[:]
                start, stop = int(previous.offsets[rows[0]]), int(previous.offsets[rows[-1] + 1])
                copy(out, start, stop)  # by the kernel, file to file
                continue
            for row in range(first, last):
                text = next(texts, None)
                if text is None:
                    raise ValueError("every kept row needs the previous terms, every new row its text")
                terms = text if isinstance(text, list) else keyword_terms(text)
                pending.extend([known.setdefault(term, len(known)) for term in terms])
                lengths[row] = len(terms)
                if len(pending) >= TERMS_BLOCK:
                    out.write(np.frombuffer(pending, dtype=np.int32))
                    del pending[:]
        out.write(np.frombuffer(pending, dtype=np.int32))
    if next(texts, None) is not None:
        raise ValueError("every kept row needs the previous terms, every new row its text")
    return lengths


def _renumber_in_first_use_order(path: Path, names: list[str]) -> list[str]:
    """Number the term ids of ``path`` again, in place, in the order the terms are first met (row after row);
    returns the terms in that order, those no row holds left out."""
    with NpyBlocks(path, "r+b") as ids:
        first = np.full(len(names), ids.length, dtype=np.int64)  # where each term is first met
        for start in range(0, ids.length, TERMS_BLOCK):
            unique, at = np.unique(ids.read(start, min(start + TERMS_BLOCK, ids.length)), return_index=True)
            unseen = first[unique] == ids.length
            first[unique[unseen]] = at[unseen] + start
        used = np.flatnonzero(first < ids.length)
        used = used[np.argsort(first[used])]
        renumber = np.full(len(names), -1, dtype=np.int32)
        renumber[used] = np.arange(len(used), dtype=np.int32)
        for start in range(0, ids.length, TERMS_BLOCK):
            ids.overwrite(start, renumber[ids.read(start, min(start + TERMS_BLOCK, ids.length))])
    return [names[term_id] for term_id in used.tolist()]


POSTINGS_BLOCK = 1 << 18  # term ids of consecutive rows read back and sorted into postings at a time
PASS_POSTINGS = 1 << 20  # postings placed, weighed and written at a time (a range of terms holding about as many)


def _write_postings(
    folder: Path,
    offsets: np.ndarray,
    terms: int,
    layers: Sequence[PostingLayer] = (),
    output: Output = WHOLE,
    first_row: int = 0,
    row_shift: int = 0,
) -> np.ndarray:
    """Write the postings (``indices``: each term's rows, ascending; ``term_counts``; the weights, ``data``) of
    the term ids in ``output.terms`` (``offsets``: where each of its rows starts; its rows are numbered from
    ``row_shift``), term by term: the stored ``layers``' postings of each term first, one layer after another (an
    add: their rows come first), then those of the rows from ``first_row`` on. Returns ``indptr``, also written.

    The new rows' term ids are read back once, a block of rows at a time (``POSTINGS_BLOCK`` terms), sorted into
    postings, counted and spilled as one sorted run a block (``posting_runs.py``); then each range of terms holding
    about ``PASS_POSTINGS`` postings gets its postings from every run (a stable sort by term puts them in place:
    the runs are in row order) and the layers', each read as one slice, is weighed and written after the
    previous range's. Besides ``indptr``, a build holds one block's sort keys and one range's postings."""
    lengths = np.diff(offsets)
    ends = np.cumsum(lengths[first_row:])
    blocks = [(first + first_row, last + first_row) for first, last in _row_blocks(ends, POSTINGS_BLOCK)]
    with contextlib.ExitStack() as files:
        ids = files.enter_context(NpyBlocks(folder / output.terms))
        runs = files.enter_context(PostingRuns(folder))
        frequency, largest = np.zeros(terms, dtype=np.int64), 0
        for first, last in blocks:
            term, rows, counts = _block_postings(ids, offsets, first, last, terms)
            rows += np.int32(row_shift)
            starts = np.flatnonzero(np.concatenate(([True], term[1:] != term[:-1]))) if len(term) else term[:0]
            frequency[term[starts]] += np.diff(np.append(starts, len(term)))  # each term once: no np.add.at
            largest = max(largest, int(counts.max()) if len(counts) else 0)
            runs.add(term, rows, counts)
        stored = []  # each layer's rows and counts files
        for layer in layers:
            old_rows = files.enter_context(NpyBlocks(layer.folder / layer.indices))
            old_counts = files.enter_context(NpyBlocks(layer.folder / layer.counts))
            if old_counts.dtype.itemsize > 2:  # written wide only when some count needed it
                largest = max([largest, *(int(block.max()) for block in blocks_of(old_counts) if len(block))])
            frequency[: layer.terms] += np.diff(layer.indptr)
            stored.append((layer, old_rows, old_counts))
        indptr = np.zeros(terms + 1, dtype=np.int64)
        np.cumsum(frequency, out=indptr[1:])
        postings = int(indptr[-1])
        count_type = np.uint16 if largest <= np.iinfo(np.uint16).max else np.uint32
        weigh = _weigher(frequency, lengths) if output.data else None
        data = files.enter_context(NpyWriter(folder / output.data, np.float32, rows=postings)) if output.data else None
        indices = files.enter_context(NpyWriter(folder / output.indices, np.int32, rows=postings))
        counts_out = files.enter_context(NpyWriter(folder / output.counts, count_type, rows=postings))
        ranges = _row_blocks(np.cumsum(frequency), PASS_POSTINGS)
        runs.cut(np.array([low for low, _ in ranges] + [ranges[-1][1]], dtype=np.int64))
        for number, (low, high) in enumerate(ranges):
            new_terms, rows, counts = runs.postings(number)
            order = np.argsort(new_terms, kind="stable")  # by term; rows ascending: the runs are in row order
            new_terms = new_terms[order]  # one array at a time, each replacing its unsorted values
            rows = rows[order]
            counts = counts[order].astype(count_type, copy=False)
            del order
            for place, (layer, old_rows, old_counts) in reversed(list(enumerate(stored))):
                if low >= layer.terms:  # the layer holds none of these terms
                    continue
                top = min(high, layer.terms)  # the layer's postings of these terms before the later ones
                old_start, old_end = int(layer.indptr[low]), int(layer.indptr[top])
                at = layer.indptr[np.minimum(new_terms.astype(np.int64) + 1, top)] - old_start  # their term's end
                at += np.arange(len(at))  # ... shifted by the later postings placed before
                if place:  # an earlier layer follows: the merged postings' terms
                    old_terms = np.repeat(np.arange(low, top, dtype=np.int32), np.diff(layer.indptr[low : top + 1]))
                    new_terms = _inserted(old_terms, at, new_terms)
                rows = _inserted(old_rows.read(old_start, old_end), at, rows)
                counts = _inserted(old_counts.read(old_start, old_end), at, counts)
            if data is not None and weigh is not None:
                data.write(weigh(low, high, rows, counts))
            indices.write(rows)
            counts_out.write(counts)
    np.save(folder / output.indptr, indptr, allow_pickle=False)
    return indptr


def _inserted(old: np.ndarray, at: np.ndarray, new: np.ndarray) -> np.ndarray:
    """``old`` with ``new`` put at ``at`` (ascending places in the result), as ``new``'s type: the runs of ``old``
    between two places copied as slices when they are long (an add's few new postings), else through a mask."""
    merged = np.empty(len(old) + len(new), dtype=new.dtype)
    merged[at] = new
    before = at - np.arange(len(at))  # the value of ``old`` each new one goes before
    edges = np.unique(np.concatenate(([0], before, [len(old)])))
    if len(edges) * 64 > len(old):
        kept = np.ones(len(merged), dtype=bool)
        kept[at] = False
        merged[kept] = old
        return merged
    shifts = np.searchsorted(before, edges[:-1], side="right")  # new values placed before each run
    for first, last, shift in zip(edges[:-1].tolist(), edges[1:].tolist(), shifts.tolist()):
        merged[first + shift : last + shift] = old[first:last]
    return merged


def _block_postings(
    ids: NpyBlocks, offsets: np.ndarray, first: int, last: int, terms: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The postings of rows ``first`` to ``last`` - 1 (of term ids below ``terms``), by term then row: their terms,
    rows and how often each term occurs in its row. Sorted as keys term * rows of the block + row in the block,
    32-bit ones when they fit (sorted in about half the time)."""
    block = ids.read(int(offsets[first]), int(offsets[last]))
    width = max(last - first, 1)
    key_type = np.dtype(np.uint32 if terms * width <= np.iinfo(np.uint32).max else np.int64)
    keys: np.ndarray = block.astype(key_type)
    keys *= width
    keys += np.repeat(np.arange(last - first, dtype=keys.dtype), np.diff(offsets[first : last + 1]))
    keys.sort()
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1]))) if len(keys) else keys[:0]
    unique = keys[starts]
    term = unique // width
    return (
        term.astype(np.int32),
        (unique - term * width + first).astype(np.int32),
        np.diff(np.append(starts, len(keys))),
    )


def _row_blocks(ends: np.ndarray, size: int) -> list[tuple[int, int]]:
    """(first, last + 1) rows of consecutive blocks holding about ``size`` terms each (one row at least); one
    empty block when there is no row."""
    if not len(ends):
        return [(0, 0)]
    cuts = np.unique(np.searchsorted(ends, np.arange(size, int(ends[-1]), size), side="left") + 1)
    cuts = cuts[(cuts > 0) & (cuts < len(ends))]
    edges = [0, *cuts.tolist(), len(ends)]
    return list(zip(edges[:-1], edges[1:]))


BLOCK = 1 << 16  # postings weighed at a time: small temporaries (in cache), reused, instead of several of every posting


def _weigher(frequency: np.ndarray, lengths: np.ndarray) -> Callable[[int, int, np.ndarray, np.ndarray], np.ndarray]:
    """What weighs the postings of the terms ``low`` to ``high`` - 1 (their rows and counts, term by term) as
    bm25s does ("lucene": idf and term frequency part, in float64, stored as float32), a block of terms at a time."""
    documents = len(lengths)
    values, inverse = np.unique(frequency, return_inverse=True)  # math.log per distinct frequency, as bm25s does
    idf = np.array([math.log(1 + (documents - df + 0.5) / (df + 0.5)) for df in values.tolist()], dtype=np.float32)
    term_idf = idf[inverse].astype(np.float64)
    if not frequency.any():  # no posting (no row, or rows without terms): nothing to weigh
        return lambda low, high, rows, counts: np.empty(len(rows), dtype=np.float32)
    norm = K1 * ((1 - B) + B * lengths.astype(np.float64) / lengths.mean())

    def weigh(low: int, high: int, rows: np.ndarray, counts: np.ndarray) -> np.ndarray:
        weights = np.empty(len(rows), dtype=np.float32)
        indptr = np.zeros(high - low + 1, dtype=np.int64)
        np.cumsum(frequency[low:high], out=indptr[1:])
        edges = np.unique(np.searchsorted(indptr, np.arange(0, len(rows), BLOCK), side="right") - 1)
        for first, last in zip(edges.tolist(), [*edges[1:].tolist(), high - low]):
            start, end = int(indptr[first]), int(indptr[last])
            tf = counts[start:end].astype(np.float64)
            part = np.take(norm, rows[start:end])  # faster than norm[rows]
            part += tf
            np.divide(tf, part, out=tf)
            tf *= np.repeat(term_idf[low + first : low + last], frequency[low + first : low + last])
            weights[start:end] = tf
        return weights

    return weigh


def finish_index(
    folder: Path,
    previous: PreviousTerms | None,
    names: list[str],
    frequency: np.ndarray,
    documents: int,
    offsets: tuple[str, np.ndarray],
) -> tuple[dict, dict[str, int]]:
    """Write what follows the postings: the vocabulary (bm25s's "" last) and its parameters as bm25s writes them, the
    rows' ``offsets`` (file name, values) and the lookups; returns the manifest's record and each term's frequency."""
    from importlib.metadata import PackageNotFoundError, version

    vocabulary = {name: term_id for term_id, name in enumerate(names)}
    vocabulary.setdefault(EMPTY, len(vocabulary))
    try:
        library = version("bm25s")
    except PackageNotFoundError:
        library = "0.3.16"
    (folder / VOCABULARY).write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
    parameters = {"k1": K1, "b": B, "delta": 0.5, "method": "lucene", "idf_method": "lucene", "dtype": "float32"}
    parameters |= {"int_dtype": "int32", "num_docs": documents, "version": library, "backend": "numpy"}  # in order
    (folder / PARAMETERS).write_text(json.dumps(parameters, indent=4), encoding="utf-8")
    (folder / TERMS).write_text(json.dumps(list(vocabulary), ensure_ascii=False), encoding="utf-8")
    np.save(folder / offsets[0], offsets[1], allow_pickle=False)
    _write_lookups(folder, previous, list(vocabulary))
    record = {"format": FORMAT, "library": "bm25s", "k1": K1, "b": B, "documents": documents, "terms": len(vocabulary)}
    return record, dict(zip(names, frequency.tolist()))


def _write_lookups(folder: Path, previous: PreviousTerms | None, terms: list[str]) -> None:
    """The lookups, from the previous generation's where it has them (only new terms grouped)."""
    if previous is not None:
        try:
            update_lookups(previous.folder, previous.names, terms, folder)
            return
        except (OSError, ValueError, KeyError, EOFError):
            pass  # none stored, another format, or damaged: grouped again
    write_lookups({name: term_id for term_id, name in enumerate(terms)}, folder)
