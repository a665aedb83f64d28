"""What a question looks up in the keyword vocabulary, computed at build time: the id of each term,
the Arabic terms of each light stem (روسيا, روسي, روسيه) and the terms under each consonant key of
the name matcher (``text/names.py``: حفتر under HFTR, for Haftar).

Grouping the whole vocabulary is slow (2.7 s for the 78,000 terms of 20,000 news chunks, 4 s at
100,000 chunks), and a process used to do it on its first question, after reading the whole
vocabulary into a dictionary of its own. A build now writes them beside the keyword index as plain
arrays: the hash of every (table, key) pair, sorted (``uint64``), the term id each entry stands for
(``int32``; entries of one key in vocabulary order), and the terms themselves (UTF-8 bytes and
offsets, in id order). A process maps them (several processes share the pages) and finds a key with
a binary search. A hash can collide, so every term found is checked against the key it was looked up
by: the answers are the old dictionaries' answers, exactly. A generation written before these files
has none, and its keyword index reads and groups its vocabulary as before.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from index.text.names import NameMatcher, name_entries
from index.text.normalise import light_stem
from index.text.scripts import is_arabic

FORMAT = 2  # 2: the terms themselves (term -> id, id -> term) are stored too
KEYS = "lookup_keys.npy"  # uint64: the hash of each entry's (table, key), sorted
IDS = "lookup_ids.npy"  # int32: each entry's term id
TERM_BYTES = "term_bytes.npy"  # uint8: every term in UTF-8, in id order
TERM_OFFSETS = "term_offsets.npy"  # int64: where each term starts in TERM_BYTES, and the end
RECORD = "lookup.json"  # the format and how many entries each table holds
TERMS, STEMS = "term", "stem"  # the tables beside the name matcher's "arabic" and "latin"


def _hash(table: str, key: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{table}\x00{key}".encode(), digest_size=8).digest(), "little")


def _entries(name: str) -> list[tuple[str, str]]:
    """The (table, key) pairs a term is stored under, each once (a Latin term heard two ways may give a key twice)."""
    entries = [(TERMS, name)] + ([(STEMS, light_stem(name))] if is_arabic(name) else [])
    entries += [(side, key) for side, key, _ in name_entries(name)]
    return list(dict.fromkeys(entries))


def write_lookups(vocabulary: Mapping[str, int], folder: Path) -> dict:
    """Store the vocabulary (term -> id, ids 0 to n - 1, in the order the keyword index keeps it) and its
    groups in ``folder``; returns the record also saved there."""
    hashes, ids = array("Q"), array("i")  # 12 bytes an entry (Python lists of ints: about 80)
    counts = {TERMS: 0, STEMS: 0, "arabic": 0, "latin": 0}
    for name, term_id in vocabulary.items():
        for table, key in _entries(name):
            hashes.append(_hash(table, key))
            ids.append(term_id)
            counts[table] += 1
    keys = np.frombuffer(hashes, dtype=np.uint64) if hashes else np.zeros(0, dtype=np.uint64)
    order = np.argsort(keys, kind="stable")  # a key's entries stay in vocabulary order
    terms = [""] * len(vocabulary)
    for name, term_id in vocabulary.items():
        terms[term_id] = name
    entry_ids = np.frombuffer(ids, dtype=np.int32) if ids else np.zeros(0, dtype=np.int32)
    return _save(folder, keys[order], entry_ids[order], terms, counts)


def update_lookups(previous: Path, old_terms: Sequence[str], terms: Sequence[str], folder: Path) -> dict:
    """Write the lookups of the vocabulary ``terms`` (in id order) from those of a previous keyword index
    (``previous``, whose vocabulary was ``old_terms``): the entries of the terms both hold are kept with their
    new ids, only the terms the previous one lacks are grouped (grouping is slow). The same files as
    ``write_lookups``; a previous folder without lookups of this format raises ValueError."""
    record = json.loads((previous / RECORD).read_text(encoding="utf-8"))
    old_keys = np.load(previous / KEYS, allow_pickle=False)
    old_ids = np.load(previous / IDS, allow_pickle=False)
    stored = np.load(previous / TERM_BYTES, allow_pickle=False), np.load(previous / TERM_OFFSETS, allow_pickle=False)
    expected = _encoded(old_terms)
    if record.get("format") != FORMAT or not all(np.array_equal(a, b) for a, b in zip(stored, expected)):
        raise ValueError(f"{previous.name}/{RECORD}: the stored lookups are not of this vocabulary")
    same = _common_prefix(old_terms, terms)  # an add: every previous term but "" keeps its id
    new_id = {name: term_id for term_id, name in enumerate(terms[same:], start=same)}
    old_to_new = np.arange(len(old_terms), dtype=np.int64)
    old_to_new[same:] = [new_id.get(name, -1) for name in old_terms[same:]]
    counts = dict(record["entries"])
    for name in (name for name, moved in zip(old_terms, old_to_new) if moved < 0):  # terms no row holds now
        for table, _ in _entries(name):
            counts[table] -= 1
    new_ids = old_to_new[old_ids]
    stay = new_ids == old_ids  # entries keeping their term id (an add: every previous term's but "")
    moved = (new_ids >= 0) & ~stay  # entries of terms with another id now
    keys, ids = [old_keys[moved]], [new_ids[moved]]
    known = set(old_terms[same:])
    for term_id, name in enumerate(terms[same:], start=same):
        if name not in known:
            entries = _entries(name)
            keys.append(np.array([_hash(table, key) for table, key in entries], dtype=np.uint64))
            ids.append(np.full(len(entries), term_id, dtype=np.int64))
            for table, _ in entries:
                counts[table] += 1
    other_keys, other_ids = np.concatenate(keys), np.concatenate(ids)
    order = np.lexsort((other_ids, other_keys))  # by key, a key's entries in vocabulary order: write_lookups' order
    other_keys, other_ids = other_keys[order], other_ids[order].astype(np.int32)
    kept_keys, kept_ids = old_keys[stay], old_ids[stay]  # still in that order
    if len(other_ids) and len(kept_ids) and int(kept_ids.max()) >= int(other_ids.min()):  # not after them: sorted
        all_keys, all_ids = np.concatenate((kept_keys, other_keys)), np.concatenate((kept_ids, other_ids))
        order = np.lexsort((all_ids, all_keys))
        return _save(folder, all_keys[order], all_ids[order], terms, counts)
    at = np.searchsorted(kept_keys, other_keys, side="right")  # a key's other entries after its kept ones
    return _save(folder, np.insert(kept_keys, at, other_keys), np.insert(kept_ids, at, other_ids), terms, counts)


def _common_prefix(first: Sequence[str], second: Sequence[str]) -> int:
    """How many terms two vocabularies share from their start (a binary search on slices compared in C)."""
    low, high = 0, min(len(first), len(second))
    while low < high:
        middle = (low + high + 1) // 2
        if first[:middle] == second[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _save(folder: Path, keys: np.ndarray, ids: np.ndarray, terms: Sequence[str], counts: dict[str, int]) -> dict:
    np.save(folder / KEYS, keys, allow_pickle=False)
    np.save(folder / IDS, ids, allow_pickle=False)
    encoded, offsets = _encoded(terms)
    np.save(folder / TERM_BYTES, encoded, allow_pickle=False)
    np.save(folder / TERM_OFFSETS, offsets, allow_pickle=False)
    record = {"format": FORMAT, "entries": counts}
    (folder / RECORD).write_text(json.dumps(record), encoding="utf-8")
    return record


def _encoded(terms: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every term in UTF-8, one after another (uint8), and where each starts, and the end (int64)."""
    encoded = list(map(str.encode, terms))
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


class Lookups:
    """A keyword index's stored vocabulary and groups, memory-mapped."""

    def __init__(self, folder: Path) -> None:
        self.record = json.loads((folder / RECORD).read_text(encoding="utf-8"))

        def mapped(name: str) -> np.ndarray:  # a plain view of the mapping: slicing a np.memmap costs more
            return np.asarray(np.load(folder / name, mmap_mode="r", allow_pickle=False))

        self._keys, self._ids = mapped(KEYS), mapped(IDS)
        self._bytes, self._offsets = mapped(TERM_BYTES), mapped(TERM_OFFSETS)
        if len(self._keys) != len(self._ids) or self._keys.dtype != np.uint64 or self._offsets[-1] != len(self._bytes):
            raise ValueError(f"{folder.name}/{RECORD}: the stored lookups do not match")
        self.terms = len(self._offsets) - 1
        self.names = StoredNameMatcher(self)

    def ids(self, table: str, key: str) -> list[int]:
        """The term ids stored under ``key`` in ``table``, in vocabulary order (with any of a colliding hash)."""
        probe = np.uint64(_hash(table, key))
        start = int(np.searchsorted(self._keys, probe, side="left"))
        end = int(np.searchsorted(self._keys, probe, side="right"))
        return self._ids[start:end].tolist()

    def term_id(self, name: str) -> int | None:
        """The id of the term ``name``; None when the vocabulary does not have it."""
        return next((term_id for term_id in self.ids(TERMS, name) if self.term(term_id) == name), None)

    def term(self, term_id: int) -> str:
        return self._bytes[self._offsets[term_id] : self._offsets[term_id + 1]].tobytes().decode()

    def names_of(self, term_ids: Iterable[int]) -> list[str]:
        return [self.term(term_id) for term_id in term_ids]

    def find(self, table: str, key: str) -> list[str]:
        """The terms stored under ``key`` in ``table``, in vocabulary order (with any of a colliding hash)."""
        return self.names_of(self.ids(table, key))

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


def open_lookups(folder: Path) -> Lookups | None:
    """The stored lookups of a keyword index folder; None for a generation written before them (or
    before their format)."""
    if not (folder / RECORD).is_file():
        return None
    lookups = Lookups(folder)
    return lookups if lookups.record.get("format") == FORMAT else None
