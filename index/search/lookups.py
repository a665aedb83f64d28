"""What a question looks up in the keyword vocabulary, computed at build time: the Arabic terms of
each light stem (روسيا, روسي, روسيه) and the terms under each consonant key of the name matcher
(``text/names.py``: حفتر under HFTR, for Haftar).

Grouping the whole vocabulary is slow (2.7 s for the 78,000 terms of 20,000 news chunks), and a
process used to do it on its first question. A build now writes the groups beside the keyword
index as two plain arrays: the hash of every (table, key) pair, sorted (``uint64``), and the term
id each entry stands for (``int32``), entries of one key in vocabulary order; a process maps them
(several processes share the pages) and finds a key with a binary search. A hash can collide, so
every term found is checked against the key it was looked up by: the answers are the groups'
answers, exactly. A generation written before these files has none, and its keyword index groups
its vocabulary on first use as before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from index.text.names import NameMatcher, name_entries
from index.text.normalise import light_stem
from index.text.scripts import is_arabic

FORMAT = 1
KEYS = "lookup_keys.npy"  # uint64: the hash of each entry's (table, key), sorted
TERMS = "lookup_terms.npy"  # int32: each entry's term id
RECORD = "lookup.json"  # the format and how many entries each table holds
STEMS = "stem"


def _hash(table: str, key: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{table}\x00{key}".encode(), digest_size=8).digest(), "little")


def write_lookups(vocabulary: Mapping[str, int], folder: Path) -> dict:
    """Group the vocabulary (term -> id, in the order the keyword index keeps it) and save the groups
    in ``folder``; returns the record also saved there."""
    hashes: list[int] = []
    ids: list[int] = []
    counts = {STEMS: 0, "arabic": 0, "latin": 0}
    for name, term_id in vocabulary.items():
        entries = [(STEMS, light_stem(name))] if is_arabic(name) else []
        entries += [(side, key) for side, key, _ in name_entries(name)]
        for table, key in dict.fromkeys(entries):  # a Latin term heard two ways may give one key twice
            hashes.append(_hash(table, key))
            ids.append(term_id)
            counts[table] += 1
    keys = np.array(hashes, dtype=np.uint64)
    order = np.argsort(keys, kind="stable")  # a key's entries stay in vocabulary order
    np.save(folder / KEYS, keys[order], allow_pickle=False)
    np.save(folder / TERMS, np.array(ids, dtype=np.int32)[order], allow_pickle=False)
    record = {"format": FORMAT, "entries": counts}
    (folder / RECORD).write_text(json.dumps(record), encoding="utf-8")
    return record


class Lookups:
    """A keyword index's stored groups, memory-mapped; ``names_of`` gives the terms of term ids."""

    def __init__(self, folder: Path, names_of: Callable[[Iterable[int]], list[str]]) -> None:
        self.record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        self._keys = np.load(folder / KEYS, mmap_mode="r", allow_pickle=False)
        self._terms = np.load(folder / TERMS, mmap_mode="r", allow_pickle=False)
        if len(self._keys) != len(self._terms) or self._keys.dtype != np.uint64:
            raise ValueError(f"{folder.name}/{KEYS} and {TERMS} do not match")
        self._names_of = names_of
        self.names = StoredNameMatcher(self)

    def find(self, table: str, key: str) -> list[str]:
        """The terms stored under ``key`` in ``table``, in vocabulary order (with any of a colliding hash)."""
        probe = np.uint64(_hash(table, key))
        start = int(np.searchsorted(self._keys, probe, side="left"))
        end = int(np.searchsorted(self._keys, probe, side="right"))
        return self._names_of(self._terms[start:end].tolist()) if end > start else []

    def stem_group(self, stem: str) -> list[str]:
        """The Arabic terms of the vocabulary whose light stem is ``stem``, in vocabulary order."""
        return [name for name in self.find(STEMS, stem) if light_stem(name) == stem]


class StoredNameMatcher(NameMatcher):
    """The name matcher over a vocabulary's stored groups: the same matches as ``NameMatcher(vocabulary)``."""

    def __init__(self, lookups: Lookups) -> None:
        super().__init__(())
        self._lookups = lookups

    @property
    def has_latin(self) -> bool:
        return bool(self._lookups.record["entries"]["latin"])

    def candidates(self, side: str, key: str) -> Sequence[tuple[str, str]]:
        return [
            (name, skeleton)
            for name in self._lookups.find(side, key)
            for found_side, found_key, skeleton in name_entries(name)
            if found_side == side and found_key == key
        ]


def open_lookups(folder: Path, names_of: Callable[[Iterable[int]], list[str]]) -> Lookups | None:
    """The stored groups of a keyword index folder; None for a generation written before them."""
    return Lookups(folder, names_of) if (folder / RECORD).is_file() else None
