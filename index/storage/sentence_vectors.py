"""The sentence vectors of a generation, computed at build time so a question embeds only itself.

Answering compares the question with every sentence of its best passages, each embedded with the
passage prompt (a sentence in the question's script) or the query prompt (one in another script).
Embedding those sentences when a question first meets them cost a new question about 1 s on a small
host; a build therefore embeds every sentence of every chunk with both prompts, once, and stores
them here, keyed by a 64-bit hash of the sentence's text (overlapping chunks repeat sentences: each
is stored once). Incremental builds copy the vectors of the sentences they keep.

    gen-…/sentences/keys.npy       sorted uint64 keys, one per distinct sentence        (the base layer)
    gen-…/sentences/passages.npy   float32 vectors with the passage prompt, in the keys' order
    gen-…/sentences/queries.npy    float32 vectors with the query prompt, in the keys' order
    gen-…/sentences/delta-keys.npy, delta-passages.npy, delta-queries.npy   (the delta layer, when there is one)

An incremental build does not write the base again: it hard-links the previous generation's base files (a
published file is never written again, so generations share it; copied where the file system refuses the link)
and writes a delta, the previous delta's rows and the new sentences in their keys' order (no key in both layers),
so it costs what it adds plus the delta, not the table. Once the delta would hold more than ``DELTA_SHARE`` of the
base's rows, and on a full build, one base is written with everything: the files a full build of the same
sentences writes. The manifest's record counts every row ("sentences"), and each layer's ("base", "delta") when
there is a delta. All files are memory-mapped when opened: processes share their pages.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from index.storage.generations import MANIFEST, share_file
from index.storage.row_files import NpyWriter, RowFile, StackedRows

FOLDER = "sentences"
KEYS = "keys.npy"
KINDS = ("passages", "queries")
DELTA = "delta-"  # the delta layer's files are the base's names after this prefix
# The delta is written again by every incremental build, the base once per merge. With a delta of at most s·N rows
# (N the base's), adds of k new rows each write about s·N/2 delta rows on average and merge (N rows) every s·N/k adds:
# about s·N/2 + k/s rows an add, least at s = √(2k/N). An add of 100 articles brings about 1,070 new sentences
# (measured at 100k chunks: N = 296,000; N ≈ 2.9M at 1M chunks). At 1M the least is near s = 1/37 for such adds and
# 1/12 for adds ten times larger; s = 1/16 writes 1.4 and 1.05 times those least costs (≈ 108,000 rows an add of 100
# articles instead of 2.9M), and merges (a whole table in one add) once in about 170 adds of 100 articles.
DELTA_SHARE = 1 / 16


def layer_files(prefix: str = "") -> list[str]:
    """The names of a layer's files: its keys, then each kind's vectors (``prefix`` "" for the base, ``DELTA``)."""
    return [f"{prefix}{KEYS}", *(f"{prefix}{kind}.npy" for kind in KINDS)]


def sentence_key(text: str) -> int:
    """A 64-bit key of the sentence's exact text."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def sentence_keys(texts: Sequence[str]) -> np.ndarray:
    return np.fromiter((sentence_key(text) for text in texts), dtype=np.uint64, count=len(texts))


class StoredSentences:
    """The sentence vectors of one generation, memory-mapped and read-only: a base layer and a delta layer (maybe
    empty), each of sorted distinct keys, no key in both. A row number counts the base's rows, then the delta's."""

    def __init__(
        self,
        keys: np.ndarray,
        vectors: dict[str, np.ndarray],
        delta_keys: np.ndarray | None = None,
        delta_vectors: dict[str, np.ndarray] | None = None,
        folder: Path | None = None,
    ) -> None:
        self.base_keys = keys
        self.delta_keys = np.zeros(0, dtype=np.uint64) if delta_keys is None else delta_keys
        if delta_vectors is None:
            delta_vectors = {kind: np.zeros((0, *vectors[kind].shape[1:]), dtype=np.float32) for kind in KINDS}
        self._layers = (vectors, delta_vectors)
        self.folder = folder  # where the files are (an incremental build links the base's), None when not files

    def __len__(self) -> int:
        return len(self.base_keys) + len(self.delta_keys)

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Each key's row over both layers, or -1 where the key is not stored."""
        rows = _rows_of(self.base_keys, keys)
        if len(self.delta_keys):
            missing = np.flatnonzero(rows < 0)
            in_delta = _rows_of(self.delta_keys, keys[missing])
            rows[missing] = np.where(in_delta >= 0, in_delta + len(self.base_keys), -1)
        return rows

    def vectors(self, kind: str, rows: np.ndarray) -> np.ndarray:
        """The ``kind`` ("passages" or "queries") vectors at ``rows`` (all found), as float32."""
        return np.asarray(StackedRows([layer[kind] for layer in self._layers]).rows(rows), dtype=np.float32)

    def readers(self, kind: str) -> StackedRows:
        """The ``kind`` vectors of both layers as one array of rows, read with file reads where they are files."""
        return StackedRows([_reader(layer[kind]) for layer in self._layers])

    def lookup(self, kind: str, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(found mask, the found texts' vectors in order) for ``texts``."""
        rows = self.find(sentence_keys(texts))
        found = rows >= 0
        return found, self.vectors(kind, rows[found])


def _reader(array: np.ndarray) -> RowFile | np.ndarray:
    """The file behind a mapped layer (read with file reads), else the array."""
    reader = RowFile.of(array)
    return reader if isinstance(reader, RowFile) else array


def _rows_of(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Each key's place in ``sorted_keys``, or -1."""
    keys = np.asarray(keys, dtype=np.uint64)
    if not len(sorted_keys) or not len(keys):
        return np.full(len(keys), -1, dtype=np.int64)
    at = np.searchsorted(sorted_keys, keys)
    inside = at < len(sorted_keys)
    found = np.zeros(len(keys), dtype=bool)
    found[inside] = sorted_keys[at[inside]] == keys[inside]
    return np.where(found, at, -1).astype(np.int64)


def open_sentences(generation: Path, dimension: int) -> StoredSentences | None:
    """The generation's stored sentence vectors (both layers), or None when it was built without them.
    Raises OSError or ValueError when the files are damaged or disagree."""
    folder = generation / FOLDER
    if not (folder / KEYS).is_file():
        return None
    keys, vectors = _open_layer(folder, "", dimension)
    recorded = _recorded_rows(generation)
    if not any((folder / name).exists() for name in layer_files(DELTA)):
        stored = StoredSentences(keys, vectors, folder=folder)
    else:
        delta_keys, delta_vectors = _open_layer(folder, DELTA, dimension)
        if _contains(keys, delta_keys).any():
            raise ValueError(f"{FOLDER}/{DELTA}{KEYS} holds keys of {FOLDER}/{KEYS}")
        stored = StoredSentences(keys, vectors, delta_keys, delta_vectors, folder)
    found = {"sentences": len(stored), "delta": len(stored.delta_keys)}
    if any(recorded.get(layer, found[layer]) != found[layer] for layer in found):
        raise ValueError(f"{FOLDER} holds {found} rows, its manifest says {recorded}")
    return stored


def _recorded_rows(generation: Path) -> dict:
    """The rows the generation's manifest records (every row, the delta's), where it has a manifest (a build's
    generation); a delta layer gone whole is found so."""
    try:
        record = json.loads((generation / MANIFEST).read_text(encoding="utf-8")).get("sentences", {})
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, AttributeError) as exc:
        raise ValueError(f"the manifest cannot be read ({exc})") from exc
    return {"delta": 0, **record} if isinstance(record, dict) else {}


def _open_layer(folder: Path, prefix: str, dimension: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One layer's keys and vectors (``prefix``: "" for the base, ``DELTA``), checked."""
    keys_name, *vector_names = layer_files(prefix)
    keys = _load(folder / keys_name)
    vectors = {kind: _load(folder / name) for kind, name in zip(KINDS, vector_names)}
    for name, array in zip(vector_names, vectors.values()):
        if array.shape != (len(keys), dimension):
            raise ValueError(f"{FOLDER}/{name} holds {array.shape} vectors, not {(len(keys), dimension)}")
    if keys.dtype != np.uint64 or keys.ndim != 1 or (len(keys) > 1 and not bool(np.all(keys[1:] > keys[:-1]))):
        raise ValueError(f"{FOLDER}/{keys_name} is not a sorted list of distinct keys")
    return keys, vectors


def _load(path: Path) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"{FOLDER}/{path.name} cannot be read ({exc})") from exc


BATCH = 4096  # distinct new sentences embedded at a time (a multiple of the encoder's step), held with their texts


def write_sentences(
    folder: Path,
    texts: Iterable[str],
    dimension: int,
    embed: dict[str, Callable[[list[str]], np.ndarray]],
    previous: StoredSentences | None = None,
    keep_previous: bool = False,
    batch: int | None = None,
) -> dict:
    """Store the vectors of the distinct ``texts`` under ``folder``/sentences: copied from ``previous``
    where it holds them, else embedded with ``embed[kind]`` (called with the texts to embed, ``batch`` at a
    time, ``BATCH`` unless given, in the order they are first met). With ``keep_previous`` every sentence of
    ``previous`` is kept too (an incremental build then reads only its new chunks' sentences; a removed
    article's sentences stay until a rebuild, harmless: lookups are by exact text): ``previous``'s base is linked
    and a delta written while it stays within ``DELTA_SHARE`` of the base (``previous`` opened from files), else one
    base is written. Returns the manifest's record.

    ``texts`` is read once, as it comes (a build gives a generator): only ``batch`` texts are held at a time and
    the keys met so far as a sorted array; each batch's new vectors go to a file in their keys' order (a sorted
    run), and the runs are merged into the keys' order at the end, ``COPY_ROWS`` keys at a time, read with file
    reads (``_write_in_key_order``). The files are the same whatever ``batch`` and ``COPY_ROWS`` are."""
    batch = batch or BATCH
    target = folder / FOLDER
    target.mkdir()
    met = _MetKeys(previous)
    runs: list[np.ndarray] = []  # the keys of each batch embedded, sorted: its rows in the spilled files
    with ExitStack() as files:
        spill = {kind: files.enter_context(open(target / f"{kind}.new", "wb")) for kind in KINDS}
        waiting: list[str] = []  # new sentences not embedded yet
        waiting_keys = np.zeros(0, dtype=np.uint64)

        def embed_waiting(count: int) -> None:
            nonlocal waiting_keys
            group, keys = waiting[:count], waiting_keys[:count]
            order = np.argsort(keys)
            for kind in KINDS:
                vectors = np.ascontiguousarray(embed[kind](group), dtype=np.float32)
                if vectors.shape != (len(group), dimension):
                    raise ValueError(f"{len(group)} sentences gave {vectors.shape} vectors")
                spill[kind].write(vectors[order].data)
            runs.append(keys[order])
            del waiting[:count]
            waiting_keys = waiting_keys[count:]

        def take(incoming: list[str]) -> None:
            nonlocal waiting_keys
            new_texts, new_keys = met.new(incoming)
            waiting.extend(new_texts)
            waiting_keys = np.concatenate([waiting_keys, new_keys])

        incoming: list[str] = []
        for text in texts:
            incoming.append(text)
            if len(incoming) >= INTAKE * batch:
                take(incoming)
                incoming = []
                while len(waiting) >= batch:
                    embed_waiting(batch)
        take(incoming)
        while waiting:
            embed_waiting(batch)
    embedded = sum(len(run) for run in runs)
    keys = met.keys
    if keep_previous and previous is not None:
        delta = np.union1d(previous.delta_keys, np.concatenate([*runs, keys[:0]]))  # disjoint: new keys are not stored
        base = len(previous.base_keys)
        if previous.folder is not None and len(delta) <= DELTA_SHARE * base:
            for name in layer_files():
                share_file(previous.folder / name, target / name)
            _write_layer(target, DELTA, delta, runs, dimension, previous)
            layers = {"base": base, "delta": len(delta)} if len(delta) else {}
            return {"sentences": base + len(delta), **layers, "reused": len(previous), "embedded": embedded}
        keys = np.unique(np.concatenate([previous.base_keys, previous.delta_keys, keys]))
    reused = _write_layer(target, "", keys, runs, dimension, previous)
    return {"sentences": len(keys), "reused": reused, "embedded": embedded}


def _write_layer(
    target: Path,
    prefix: str,
    keys: np.ndarray,
    runs: list[np.ndarray],
    dimension: int,
    previous: StoredSentences | None,
) -> int:
    """Write the layer of ``keys`` (``prefix``: "" for the base, ``DELTA``; no files for a delta of no keys) and
    remove the spilled runs; returns the number of keys copied from ``previous``."""
    if prefix and not len(keys):
        for kind in KINDS:
            (target / f"{kind}.new").unlink()
        return 0
    np.save(target / f"{prefix}{KEYS}", keys, allow_pickle=False)
    return _write_in_key_order(target, prefix, keys, runs, dimension, previous)


INTAKE = 8  # texts read between two merges of the met keys: this many batches (each merge copies the keys)
COPY_ROWS = 1 << 14  # rows of the stored files written at a time (4 MB a kind of 64 floats)


def _write_in_key_order(
    target: Path,
    prefix: str,
    keys: np.ndarray,
    runs: list[np.ndarray],
    dimension: int,
    previous: StoredSentences | None,
) -> int:
    """Write each kind's vectors of ``keys`` (sorted) to ``target`` (as ``{prefix}{kind}.npy``), ``COPY_ROWS`` keys
    at a time: those of the previous table read from its files (either layer), the new ones from the sorted ``runs``
    spilled in ``{kind}.new`` (for each block of keys, the rows of each run within the block's keys: one read a run).
    Read with file reads, so no page of the files stays in memory; returns the number of keys copied from
    ``previous``."""
    starts = np.cumsum([0] + [len(run) for run in runs])  # each run's first row in the spilled files
    firsts = keys[COPY_ROWS::COPY_ROWS]  # the first key of every block but the first
    cuts = np.zeros((len(runs), len(firsts) + 2), dtype=np.int64)  # the rows of each run in each block of keys
    for number, run in enumerate(runs):
        cuts[number, 1:-1] = np.searchsorted(run, firsts)
        cuts[number, -1] = len(run)
    fresh = {kind: RowFile(target / f"{kind}.new", (int(starts[-1]), dimension)) for kind in KINDS}
    old = {kind: previous.readers(kind) for kind in KINDS} if previous is not None else {}
    reused = 0
    with ExitStack() as files:
        out = {
            kind: files.enter_context(NpyWriter(target / f"{prefix}{kind}.npy", np.float32, (dimension,), len(keys)))
            for kind in KINDS
        }
        for number, start in enumerate(range(0, len(keys), COPY_ROWS)):
            block_keys = keys[start : start + COPY_ROWS]
            old_rows = previous.find(block_keys) if previous is not None else np.full(len(block_keys), -1)
            kept = old_rows >= 0
            reused += int(kept.sum())
            pieces = np.flatnonzero(cuts[:, number + 1] > cuts[:, number])  # the runs with rows in this block
            first_rows, counts = starts[pieces] + cuts[pieces, number], cuts[pieces, number + 1] - cuts[pieces, number]
            at = np.concatenate(([0], np.cumsum(counts)))  # where each piece goes among the block's new rows
            piece_keys = np.concatenate(
                [runs[run][cuts[run, number] : cuts[run, number + 1]] for run in pieces] or [keys[:0]]
            )
            order = np.argsort(piece_keys)  # the pieces' rows in the keys' order
            if not np.array_equal(piece_keys[order], block_keys[~kept]):
                raise ValueError("the spilled sentence vectors do not match their keys")
            places = np.empty(len(order), dtype=np.int64)
            places[order] = np.flatnonzero(~kept)  # each of the pieces' rows' place in the block
            for kind in KINDS:
                block = np.empty((len(block_keys), dimension), dtype=np.float32)
                if kept.any():
                    block[kept] = old[kind].rows(old_rows[kept])
                new = np.empty((len(order), dimension), dtype=np.float32)
                for row, count, first in zip(first_rows.tolist(), counts.tolist(), at.tolist()):
                    fresh[kind].read(row, count, into=new[first : first + count])
                block[places] = new
                out[kind].write(block)
    for kind in KINDS:
        fresh[kind].close()
        (target / f"{kind}.new").unlink()
        if kind in old:
            old[kind].close()
    return reused


class _MetKeys:
    """The keys of the sentences met so far (a sorted array); which of a group of texts to embed (not met before,
    not in the previous table)."""

    def __init__(self, previous: StoredSentences | None) -> None:
        self.previous = previous
        self.keys = np.zeros(0, dtype=np.uint64)

    def new(self, texts: list[str]) -> tuple[list[str], np.ndarray]:
        """The texts among ``texts`` to embed, and their keys: the first of each key not met before and not in the
        previous table."""
        if not texts:
            return [], np.zeros(0, dtype=np.uint64)
        keys = sentence_keys(texts)
        _, first = np.unique(keys, return_index=True)
        first.sort()  # each key's first text, in the order met
        first = first[~_contains(self.keys, keys[first])]
        added = np.sort(keys[first])
        self.keys = np.insert(self.keys, np.searchsorted(self.keys, added), added)  # one copy, no sort of all
        if self.previous is not None:
            first = first[self.previous.find(keys[first]) < 0]
        return [texts[position] for position in first.tolist()], keys[first]


def _contains(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    if not len(sorted_keys):
        return np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[at] == keys
