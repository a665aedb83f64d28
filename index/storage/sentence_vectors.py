"""The sentence vectors of a generation, computed at build time so a question embeds only itself.

Answering compares the question with every sentence of its best passages, each embedded with the
passage prompt (a sentence in the question's script) or the query prompt (one in another script).
Embedding those sentences when a question first meets them cost a new question about 1 s on a small
host; a build therefore embeds every sentence of every chunk with both prompts, once, and stores
them here, keyed by a 64-bit hash of the sentence's text (overlapping chunks repeat sentences: each
is stored once). Incremental builds copy the vectors of the sentences they keep.

    gen-…/sentences/keys.npy       sorted uint64 keys, one per distinct sentence
    gen-…/sentences/passages.npy   float32 vectors with the passage prompt, in the keys' order
    gen-…/sentences/queries.npy    float32 vectors with the query prompt, in the keys' order

All three are memory-mapped when opened: processes share their pages.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

FOLDER = "sentences"
KEYS = "keys.npy"
KINDS = ("passages", "queries")


def sentence_key(text: str) -> int:
    """A 64-bit key of the sentence's exact text."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def sentence_keys(texts: Sequence[str]) -> np.ndarray:
    return np.fromiter((sentence_key(text) for text in texts), dtype=np.uint64, count=len(texts))


class StoredSentences:
    """The sentence vectors of one generation, memory-mapped and read-only."""

    def __init__(self, keys: np.ndarray, vectors: dict[str, np.ndarray]) -> None:
        self.keys = keys
        self._vectors = vectors

    def __len__(self) -> int:
        return len(self.keys)

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Each key's row, or -1 where the key is not stored."""
        if not len(self.keys) or not len(keys):
            return np.full(len(keys), -1, dtype=np.int64)
        at = np.searchsorted(self.keys, keys)
        inside = at < len(self.keys)
        found = np.zeros(len(keys), dtype=bool)
        found[inside] = self.keys[at[inside]] == keys[inside]
        return np.where(found, at, -1).astype(np.int64)

    def vectors(self, kind: str, rows: np.ndarray) -> np.ndarray:
        """The ``kind`` ("passages" or "queries") vectors at ``rows`` (all found), as float32."""
        return np.asarray(self._vectors[kind][np.asarray(rows, dtype=np.int64)], dtype=np.float32)

    def span(self, kind: str, start: int, count: int) -> np.ndarray:
        """The ``kind`` vectors of ``count`` rows from ``start``."""
        return np.asarray(self._vectors[kind][start : start + count], dtype=np.float32)

    def lookup(self, kind: str, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(found mask, the found texts' vectors in order) for ``texts``."""
        rows = self.find(sentence_keys(texts))
        found = rows >= 0
        return found, self.vectors(kind, rows[found])


def open_sentences(generation: Path, dimension: int) -> StoredSentences | None:
    """The generation's stored sentence vectors, or None when it was built without them.
    Raises OSError or ValueError when the files are damaged or disagree."""
    folder = generation / FOLDER
    if not (folder / KEYS).is_file():
        return None
    keys = _load(folder / KEYS)
    vectors = {kind: _load(folder / f"{kind}.npy") for kind in KINDS}
    for kind, array in vectors.items():
        if array.shape != (len(keys), dimension):
            raise ValueError(f"{FOLDER}/{kind}.npy holds {array.shape} vectors, not {(len(keys), dimension)}")
    if keys.dtype != np.uint64 or (len(keys) > 1 and not bool(np.all(keys[1:] > keys[:-1]))):
        raise ValueError(f"{FOLDER}/{KEYS} is not a sorted list of distinct keys")
    return StoredSentences(keys, vectors)


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
    article's sentences stay until a rebuild, harmless: lookups are by exact text). Returns the manifest's record.

    ``texts`` is read once, as it comes (a build gives a generator): only ``batch`` texts are held at a time, the
    keys met so far as a sorted array, and the new vectors go to a file in embedding order, put in the keys'
    order at the end; the files are the same whatever ``batch`` is."""
    batch = batch or BATCH
    target = folder / FOLDER
    target.mkdir()
    met = _MetKeys(previous)
    spill = {kind: open(target / f"{kind}.new", "wb") for kind in KINDS}  # noqa: SIM115 (closed below)
    try:
        waiting: list[str] = []  # new sentences not embedded yet

        def embed_waiting(count: int) -> None:
            group = waiting[:count]
            for kind in KINDS:
                vectors = np.ascontiguousarray(embed[kind](group), dtype=np.float32)
                if vectors.shape != (len(group), dimension):
                    raise ValueError(f"{len(group)} sentences gave {vectors.shape} vectors")
                spill[kind].write(vectors.tobytes())
            del waiting[:count]

        incoming: list[str] = []
        for text in texts:
            incoming.append(text)
            if len(incoming) >= INTAKE * batch:
                waiting += met.new(incoming)
                incoming = []
                while len(waiting) >= batch:
                    embed_waiting(batch)
        waiting += met.new(incoming)
        while waiting:
            embed_waiting(batch)
    finally:
        for file in spill.values():
            file.close()
    fresh_keys = met.fresh_keys()
    met_keys = met.keys
    keys = np.union1d(previous.keys, met_keys) if keep_previous and previous is not None else met_keys
    np.save(target / KEYS, keys, allow_pickle=False)
    old_rows = previous.find(keys) if previous is not None else np.full(len(keys), -1, dtype=np.int64)
    kept = old_rows >= 0
    spill_row = np.full(len(keys), -1, dtype=np.int64)  # where each new key's vectors are in the spilled files
    spill_row[np.flatnonzero(~kept)] = np.argsort(fresh_keys, kind="stable")
    for kind in KINDS:
        spill_path = target / f"{kind}.new"
        spilled = (
            np.memmap(spill_path, dtype=np.float32, mode="r", shape=(len(fresh_keys), dimension))
            if len(fresh_keys)
            else None
        )
        with open(target / f"{kind}.npy", "wb") as out:  # written in order: no page of it held mapped
            header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)), "fortran_order": False}
            np.lib.format.write_array_header_1_0(out, {**header, "shape": (len(keys), dimension)})
            for start in range(0, len(keys), COPY_ROWS):
                block = np.empty((min(COPY_ROWS, len(keys) - start), dimension), dtype=np.float32)
                rows = slice(start, start + len(block))
                old_block, spill_block = old_rows[rows], spill_row[rows]
                if previous is not None and (old_block >= 0).any():
                    block[old_block >= 0] = previous.vectors(kind, old_block[old_block >= 0])
                if spilled is not None and (spill_block >= 0).any():
                    block[spill_block >= 0] = spilled[spill_block[spill_block >= 0]]
                out.write(block.tobytes())
        del spilled
        spill_path.unlink()
    return {"sentences": len(keys), "reused": int(kept.sum()), "embedded": len(fresh_keys)}


INTAKE = 8  # texts read between two merges of the met keys: this many batches (each merge copies the keys)
COPY_ROWS = 1 << 16  # new vectors put in the keys' order at a time


class _MetKeys:
    """The keys of the sentences met so far (a sorted array) and, in the order first met, those to embed (not in
    the previous table)."""

    def __init__(self, previous: StoredSentences | None) -> None:
        self.previous = previous
        self.keys = np.zeros(0, dtype=np.uint64)
        self._fresh: list[np.ndarray] = []

    def new(self, texts: list[str]) -> list[str]:
        """The texts among ``texts`` to embed: the first of each key not met before and not in the previous table."""
        if not texts:
            return []
        keys = sentence_keys(texts)
        _, first = np.unique(keys, return_index=True)
        first.sort()  # each key's first text, in the order met
        first = first[~_contains(self.keys, keys[first])]
        added = np.sort(keys[first])
        self.keys = np.insert(self.keys, np.searchsorted(self.keys, added), added)  # one copy, no sort of all
        if self.previous is not None:
            first = first[self.previous.find(keys[first]) < 0]
        self._fresh.append(keys[first])
        return [texts[position] for position in first.tolist()]

    def fresh_keys(self) -> np.ndarray:
        return np.concatenate(self._fresh) if self._fresh else np.zeros(0, dtype=np.uint64)


def _contains(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    if not len(sorted_keys):
        return np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[at] == keys
