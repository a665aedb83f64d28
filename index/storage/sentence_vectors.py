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
from collections.abc import Callable, Sequence
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


def write_sentences(
    folder: Path,
    texts: Sequence[str],
    dimension: int,
    embed: dict[str, Callable[[list[str]], np.ndarray]],
    previous: StoredSentences | None = None,
    keep_previous: bool = False,
) -> dict:
    """Store the vectors of the distinct ``texts`` under ``folder``/sentences: copied from ``previous``
    where it holds them, else embedded with ``embed[kind]`` (called once per kind with the texts to embed).
    With ``keep_previous`` every sentence of ``previous`` is kept too (an incremental build then reads only
    its new chunks' sentences; a removed article's sentences stay until a rebuild, harmless: lookups are by
    exact text). Returns the manifest's record."""
    by_key: dict[int, str] = {}
    for text in texts:
        by_key.setdefault(sentence_key(text), text)
    new_keys = np.array(sorted(by_key), dtype=np.uint64)
    keys = np.union1d(previous.keys, new_keys) if keep_previous and previous is not None else new_keys
    target = folder / FOLDER
    target.mkdir()
    np.save(target / KEYS, keys, allow_pickle=False)
    old_rows = previous.find(keys) if previous is not None else np.full(len(keys), -1, dtype=np.int64)
    kept = old_rows >= 0
    fresh_texts = [by_key[int(key)] for key in keys[~kept]]
    for kind in KINDS:
        array = np.lib.format.open_memmap(
            target / f"{kind}.npy", mode="w+", dtype=np.float32, shape=(len(keys), dimension)
        )
        if kept.any():
            assert previous is not None
            _copy_runs(array, previous, kind, np.flatnonzero(kept), old_rows[kept])
        if fresh_texts:
            array[~kept] = embed[kind](fresh_texts)
        array.flush()
        del array
    return {"sentences": len(keys), "reused": int(kept.sum()), "embedded": len(fresh_texts)}


def _copy_runs(array: np.ndarray, previous: StoredSentences, kind: str, rows: np.ndarray, old_rows: np.ndarray) -> None:
    """``array[rows] = previous``'s vectors at ``old_rows``, a slice at a time where both run on together (an
    incremental build keeps the previous table whole, in order, with the new keys between its rows)."""
    breaks = np.flatnonzero((np.diff(rows) != 1) | (np.diff(old_rows) != 1)) + 1
    for start, end in zip(np.concatenate(([0], breaks)).tolist(), np.concatenate((breaks, [len(rows)])).tolist()):
        array[rows[start] : rows[start] + end - start] = previous.span(kind, int(old_rows[start]), end - start)
