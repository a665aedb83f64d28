"""The FAISS side: build an inner-product index from vectors, save it, load it, search it; and
``FaissStore``, the default implementation of the vector-store seam (``vector_base.py``)."""

from __future__ import annotations

import errno
import math
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from index.errors import BuildError, IndexCorruptError, IndexMismatchError
from index.storage.dead_rows import read_dead_rows
from index.storage.generations import VECTORS, share_file
from index.storage.ivf_carry import PreviousVectors, carried_ivf, training_points_needed
from index.storage.row_files import RowFile, Rows
from index.storage.vector_base import RowPayload, RowPayloads, VectorFilter, VectorStore, no_results, published_day
from index.tuning import RANKING

HNSW_EF_SEARCH = RANKING.hnsw_ef_search
UNKNOWN_DAY = np.iinfo(np.int32).min  # the published day of a row without a date: outside every range
SMALL_BATCH = 20  # fewer queries than this are searched on one thread (``one_thread``)
ADD_ROWS = 1 << 16  # rows added at a time: what an IVF index adds at a time anyway (the same lists, in the same order)
DEAD_MARGIN = 32  # rows more than asked a search of a base with dead rows fetches (``_search_past_dead``)
VECTORS_DELTA = "vectors-delta.faiss"  # a layered generation's rows added since its base, searched exactly


def default_factory(rows: int, dimension: int) -> str:
    """The index a build gets when FAISS_FACTORY is not set: exact search while it is cheap, an IVF index of about
    ``RANKING.ivf_lists_per_root`` sqrt(rows) lists above ``RANKING.approximate_above_rows`` rows of 384 dimensions
    (an exact search costs rows x dimension)."""
    if rows * dimension <= RANKING.approximate_above_rows * 384:
        return "Flat"
    return f"IVF{2 ** round(math.log2(RANKING.ivf_lists_per_root * math.sqrt(rows)))},Flat"


def build_faiss_index(vectors: Rows, factory: str):
    """An inner-product index over ``vectors`` (rows are L2-normalised, so scores are cosines). A ``RowFile`` is
    read a block at a time into the indexes that add row by row (Flat, IVF: the index one add makes; FAISS then
    holds the only whole copy), whole to train an index or to fill one of another kind (HNSW)."""
    import faiss

    dimension = vectors.shape[1]
    try:
        index = faiss.index_factory(dimension, factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as exc:
        raise BuildError(
            f"FAISS_FACTORY {factory!r} is not a valid FAISS index factory string; try 'Flat' or 'HNSW32'."
        ) from exc
    if not index.is_trained:
        if len(vectors) < training_points_needed(index):
            index = faiss.IndexFlatIP(dimension)  # too few vectors to train an approximate index
        else:
            index.train(np.asarray(vectors, dtype=np.float32))  # every row: FAISS samples its training points
    if isinstance(faiss.downcast_index(index), faiss.IndexFlat):
        _fill_flat(index, vectors)
    elif isinstance(faiss.downcast_index(index), faiss.IndexIVF):
        for start in range(0, len(vectors), ADD_ROWS):
            index.add(np.ascontiguousarray(vectors[start : start + ADD_ROWS], dtype=np.float32))
    elif len(vectors):
        index.add(np.asarray(vectors, dtype=np.float32))
    return index


def _fill_flat(index, vectors: Rows) -> None:
    """Put ``vectors`` into an empty flat index as its ``add`` would (its codes are the rows' float32 bytes), its
    storage grown once to the full size and filled ``ADD_ROWS`` rows at a time: adding blocks would grow it by
    doubling, with the old and the new storage held at once."""
    import faiss

    rows, dimension = vectors.shape
    if not rows:
        return
    index.codes.resize(rows * index.code_size)
    stored = faiss.rev_swig_ptr(index.codes.data(), rows * index.code_size).view(np.float32).reshape(rows, dimension)
    for start in range(0, rows, ADD_ROWS):
        block = slice(start, min(start + ADD_ROWS, rows))
        if isinstance(vectors, RowFile):
            vectors.read(block.start, block.stop - block.start, into=stored[block])
        else:
            stored[block] = vectors[block]
    index.ntotal = rows


def save_faiss_index(index, path: Path) -> None:
    """Write the index; a failed write (a full disk) is an OSError, as other files' writes are."""
    import faiss

    try:
        faiss.write_index(index, str(path))
    except RuntimeError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else "write failed"
        raise OSError(errno.EIO, f"FAISS could not write the file ({reason})", str(path)) from exc


def load_faiss_index(path: Path, mapped: bool = False):
    """The index in ``path``; ``mapped``: its vectors (and an HNSW graph, IVF lists) memory-mapped, not copied,
    so that processes opening one generation share the pages (checked with faiss 1.15 for Flat, HNSW32 and
    IVF,Flat; IO_FLAG_MMAP with it fails for IVF). A mapped index is read-only: nothing may be added to it."""
    import faiss

    try:
        return faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC if mapped else 0)
    except RuntimeError as exc:
        raise IndexCorruptError.damaged(path.parent.parent, f"{path.parent.name}/{path.name} cannot be read") from exc


@contextmanager
def batches_as_products() -> Iterator[None]:
    """While it runs, FAISS's exact search computes a batch of ``SMALL_BATCH`` queries or more as one matrix
    product (BLAS) instead of query by query. faiss 1.15 does so only for much larger batches by default
    (``distance_compute_blas_threshold`` is 128,000): the 1,340 density queries of an add (46 results each, over
    1M rows of 64 dimensions, one thread) took 13-15 s one by one and 3.2 s as a product, 327 queries 3.6 s and
    0.7 s; the same rows found. A process-wide FAISS setting, restored after; a question (one query) is searched
    as before."""
    import faiss

    before = faiss.cvar.distance_compute_blas_threshold
    faiss.cvar.distance_compute_blas_threshold = min(before, SMALL_BATCH)
    try:
        yield
    finally:
        faiss.cvar.distance_compute_blas_threshold = before


@contextmanager
def one_thread(queries: int) -> Iterator[None]:
    """FAISS on one OpenMP thread, in this thread, while it searches fewer than ``SMALL_BATCH`` queries.

    A question is one query, and splitting its scan across threads costs more than it saves: on this
    project's busy 2-core machine a Flat search of 100,000 rows of 64 dimensions took 16-24 ms on two
    threads and 1-1.5 ms on one (scale_bench.py). One thread also gives a question the same scores whatever
    the machine's core count (the multi-threaded scan rounds its sums differently, by one unit in the last
    place, so rows whose scores tie that closely could swap).
    OpenMP's thread count is per thread, so a build searching in another thread keeps its threads."""
    if queries >= SMALL_BATCH:
        yield
        return
    with single_thread():
        yield


@contextmanager
def single_thread() -> Iterator[None]:
    """FAISS on one OpenMP thread in this thread, whatever it searches (the thread count is restored after)."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def tune_for_recall(index) -> None:
    """Search-time knobs of approximate indexes, set for recall close to exact search."""
    import faiss

    hnsw = getattr(faiss.downcast_index(index), "hnsw", None)
    if hnsw is not None:
        hnsw.efSearch = max(hnsw.efSearch, HNSW_EF_SEARCH)
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        ivf.nprobe = max(ivf.nprobe, min(ivf.nlist, RANKING.ivf_probes))


class FaissStore(VectorStore):
    """The vectors in a FAISS index file in the generation's folder, with each row's published day and outlet
    beside it (``ROWS``) for filtered searches, which search only the allowed rows (a FAISS ID selector).

    A layered generation (``index/layered_vectors.py``) adds a second, exact index of the rows appended since its
    base (``VECTORS_DELTA``, rows numbered after the base's): a search asks both and keeps the best. Its base may
    hold dead rows (``dead_rows.py``: removed articles' rows), which no search returns."""

    ROWS = "vector-rows.npz"

    def __init__(
        self,
        index,
        columns: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
        record: dict,
        delta=None,
        dead: np.ndarray | None = None,
    ) -> None:
        self.index = index
        self.delta = delta  # the exact index of the rows after the base's, or None
        self.dead = dead if dead is not None and len(dead) else None  # rows of the base no search returns
        self._columns = columns  # (published day of each row, outlet code of each row, outlet names); None: unknown
        self.record = record

    @classmethod
    def write(
        cls,
        folder: Path,
        vectors: Rows,
        payloads: Sequence[RowPayload],
        factory: str,
        previous: PreviousVectors | None = None,
    ) -> FaissStore:
        """Build and save the index of ``vectors`` (one ``payloads`` entry a row) in ``folder``; returns it opened.
        An empty ``factory`` (FAISS_FACTORY unset) is ``default_factory``'s choice for the number of rows.
        ``previous``: the generation an update starts from, whose trained IVF index of the same factory is
        filled again instead of training one (``ivf_carry.py``)."""
        factory = factory or default_factory(*vectors.shape)
        index = carried_ivf(previous, vectors, factory) if previous is not None else None
        if index is None:  # no previous IVF index of this factory to start from
            index = build_faiss_index(vectors, factory)
        save_faiss_index(index, folder / VECTORS)
        columns = cls._write_columns(folder, payloads)
        tune_for_recall(index)
        record = {"store": "faiss", "file": VECTORS, "rows": cls.ROWS, "factory": factory}
        return cls(index, columns, record)

    @classmethod
    def write_layered(
        cls,
        folder: Path,
        base_folder: Path,
        base_record: dict,
        delta_vectors: Rows,
        payloads: Sequence[RowPayload],
        dead: np.ndarray | None = None,
    ) -> FaissStore:
        """A layered generation's store in ``folder``: the base index shared with the generation in ``base_folder``
        (a hard link: neither writes it again) and the rows after the base's (``delta_vectors``) in an exact index
        of their own; ``payloads``: one for every row of both; ``dead``: the base's rows no search returns (the
        generation records them, ``dead_rows.py``). Returns it opened."""
        share_file(base_folder / VECTORS, folder / VECTORS)
        delta = build_faiss_index(delta_vectors, "Flat")
        save_faiss_index(delta, folder / VECTORS_DELTA)
        columns = cls._write_columns(folder, payloads)
        index = load_faiss_index(folder / VECTORS, mapped=True)
        tune_for_recall(index)
        record = {
            "store": "faiss",
            "file": VECTORS,
            "rows": cls.ROWS,
            "factory": base_record.get("factory", ""),
            "delta": {"file": VECTORS_DELTA, "rows": int(delta.ntotal)},
        }
        return cls(index, columns, record, delta, dead)

    @classmethod
    def _write_columns(cls, folder: Path, payloads: Sequence[RowPayload]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rows = payloads if isinstance(payloads, RowPayloads) else RowPayloads(payloads, [1] * len(payloads))
        source_codes, found = rows.column(lambda payload: payload.source)  # each value read once, not once a row
        names = sorted(found)
        number = {name: position for position, name in enumerate(names)}
        sources = np.array([number[name] for name in found], dtype=np.int32)[source_codes]
        day_codes, dates = rows.column(lambda payload: payload.published)
        days = np.array([_day_or_unknown(published) for published in dates], dtype=np.int32)[day_codes]
        np.savez(folder / cls.ROWS, days=days, sources=sources, names=np.array(names, dtype=str))
        return days, sources, np.array(names, dtype=str)

    @classmethod
    def open(cls, generation: Path, record: dict, rows: int | None) -> FaissStore:
        """The store of a generation; IndexCorruptError when a file is missing, unreadable or of another length.
        A generation written before the seam (no ``record``) has no row columns and cannot filter."""
        index = load_faiss_index(generation / VECTORS, mapped=True)
        tune_for_recall(index)
        delta = None
        if record.get("delta"):
            delta = load_faiss_index(generation / record["delta"]["file"], mapped=True)
            if delta.ntotal != record["delta"]["rows"]:
                raise _damaged(
                    generation, record["delta"]["file"], f"holds {delta.ntotal} vectors, not {record['delta']['rows']}"
                )
        total = index.ntotal + (delta.ntotal if delta is not None else 0)
        if rows is not None and total != rows:
            raise _damaged(generation, VECTORS, f"holds {total} vectors, not {rows}")
        columns = None
        if record.get("rows"):
            try:
                with np.load(generation / record["rows"], allow_pickle=False) as saved:
                    columns = (saved["days"], saved["sources"], saved["names"])
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
                raise _damaged(generation, record["rows"], f"cannot be read ({exc})") from exc
            if not len(columns[0]) == len(columns[1]) == total:
                raise _damaged(generation, record["rows"], f"holds {len(columns[0])} rows, not {total}")
        dead = read_dead_rows(generation, index.ntotal) if delta is not None else None
        return cls(index, columns, record or {"store": "faiss", "file": VECTORS}, delta, dead)

    @property
    def count(self) -> int:
        return int(self.index.ntotal) + (int(self.delta.ntotal) if self.delta is not None else 0)

    def search(self, queries: np.ndarray, k: int, where: VectorFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        width = max(0, min(k, self.count))
        if width == 0:
            return no_results(len(queries), 0)
        allowed = self._allowed(where) if where is not None else None
        if allowed is not None and self.dead is not None:
            allowed = allowed[~np.isin(allowed, self.dead)]
        if allowed is not None and len(allowed) == 0:
            return no_results(len(queries), width)
        if self.delta is None:
            scores, rows = _search_layer(self.index, queries, width, allowed)
        else:
            dead = self.dead if allowed is None else None  # else left out of the allowed rows
            scores, rows = _search_layers([self.index, self.delta], queries, width, allowed, dead)
        scores[rows < 0] = -np.inf
        return scores, rows

    def _allowed(self, where: VectorFilter) -> np.ndarray:
        if self._columns is None:
            raise IndexMismatchError(
                "This index was built before searches could be filtered by date or outlet; "
                "rebuild it with `python -m index build ARTICLES...` (unchanged articles keep their vectors)."
            )
        days, sources, names = self._columns
        allowed = np.ones(len(days), dtype=bool)
        if where.dated:
            first, last = where.day_range()
            allowed &= (days >= first) & (days <= last)
        if where.sources is not None:
            allowed &= np.isin(sources, [code for code, name in enumerate(names) if str(name) in where.sources])
        return np.flatnonzero(allowed).astype(np.int64)

    def close(self) -> None:
        pass  # nothing stays open but the index's file mapping, which goes with the index


def _day_or_unknown(published: str) -> int:
    day = published_day(published)
    return UNKNOWN_DAY if day is None else day


def _search_layer(
    index, queries: np.ndarray, k: int, allowed: np.ndarray | None, dead: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """One index's (scores, rows) of its ``k`` best among ``allowed`` (None: every row but the ``dead`` ones)."""
    with one_thread(len(queries)):
        if allowed is not None:
            return _search_within(index, queries, k, allowed)
        if dead is not None and len(dead):
            return _search_past_dead(index, queries, k, dead)
        return index.search(queries, k)


def _search_past_dead(index, queries: np.ndarray, k: int, dead: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best rows but the ``dead`` ones: ``DEAD_MARGIN`` more searched, the dead left out; a query that met
    more dead rows than that searched again with an ID selector. An ID selector alone makes FAISS scan a flat index
    vector by vector instead of one matrix product for many queries: a build's densities at a million rows took 33 s
    instead of 2.6."""
    width = min(int(index.ntotal), k + DEAD_MARGIN)
    scores, rows = index.search(queries, width)
    gone = np.isin(rows, dead)
    order = np.argsort(gone, axis=1, kind="stable")[:, :k]  # the live ones first, in their order
    rows, scores = np.take_along_axis(rows, order, axis=1), np.take_along_axis(scores, order, axis=1)
    rows[np.take_along_axis(gone, order, axis=1)] = -1
    short = np.flatnonzero(width - gone.sum(axis=1) < k) if width < index.ntotal else np.zeros(0, dtype=np.int64)
    if len(short):
        scores[short], rows[short] = _search_within(index, queries[short], k, dead, leave_out=True)
    return scores, rows


def _search_layers(
    indexes: list, queries: np.ndarray, k: int, allowed: np.ndarray | None, dead: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best of several indexes whose rows follow one another (the second's row 0 is the row after the
    first's last): each searched alone, the results merged by score (a tie keeps the earlier index's row first).
    ``dead``: rows of the first index left out."""
    found_scores, found_rows = [], []
    first = 0
    for index in indexes:
        width = min(k, int(index.ntotal))
        mine = None if allowed is None else allowed[(allowed >= first) & (allowed < first + index.ntotal)] - first
        if width == 0 or (mine is not None and len(mine) == 0):
            scores, rows = no_results(len(queries), width)
        else:
            scores, rows = _search_layer(index, queries, width, mine, dead if first == 0 else None)
        found_scores.append(scores)
        found_rows.append(np.where(rows >= 0, rows + first, -1))
        first += int(index.ntotal)
    scores, rows = np.concatenate(found_scores, axis=1), np.concatenate(found_rows, axis=1)
    scores[rows < 0] = -np.inf
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, axis=1), np.take_along_axis(rows, order, axis=1)


def _search_within(
    index, queries: np.ndarray, k: int, allowed: np.ndarray, leave_out: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Search only the ``allowed`` rows (with ``leave_out``, every row but those): an ID selector where the index
    takes one, else a search of every row (an IVF inside a transform; leaving rows out, of ``k`` more than
    those), keeping the allowed ones."""
    import faiss

    named = faiss.IDSelectorBatch(allowed)  # both referenced here until the search is done
    selector = faiss.IDSelectorNot(named) if leave_out else named
    top = faiss.downcast_index(index)
    if isinstance(top, faiss.IndexIVF):
        ivf_params = faiss.SearchParametersIVF()
        ivf_params.sel, ivf_params.nprobe = selector, top.nprobe
        return index.search(queries, k, params=ivf_params)
    if faiss.try_extract_index_ivf(index) is None:
        params = faiss.SearchParameters()
        params.sel = selector
        return index.search(queries, k, params=params)
    width = min(int(index.ntotal), k + len(allowed)) if leave_out else int(index.ntotal)
    scores, rows = index.search(queries, width)
    keep = np.isin(rows, allowed) != leave_out
    order = np.argsort(~keep, axis=1, kind="stable")[:, :k]  # the allowed ones first, in their order
    rows = np.where(np.take_along_axis(keep, order, axis=1), np.take_along_axis(rows, order, axis=1), -1)
    return np.take_along_axis(scores, order, axis=1), rows


def _damaged(generation: Path, name: str, problem: str) -> IndexCorruptError:
    return IndexCorruptError.damaged(generation.parent, f"{generation.name}/{name} {problem}")
