"""Near-duplicate articles: the same wire story republished by several outlets.

Each article gets a MinHash signature of its word 4-shingles (after light normalisation);
articles whose estimated resemblance reaches ``RANKING.story_threshold`` are one story. Candidate pairs
come from locality-sensitive hashing over bands of the signature, so finding the copies of
a new article does not compare it with every stored one. A bucket (one band's value) remembers at
most ``COPIES_PER_STORY`` articles of a story and ``BUCKET_CAPACITY`` articles in all: a thousand
copies of one wire story share their buckets, and comparing each new copy with every earlier one
made the grouping quadratic. A copy still meets its story through the copies its buckets kept.

Why not datasketch's MinHashLSH: its query returns every key in the matching buckets, so the same
thousand copies would still be compared pairwise, and its own hashing would change the signatures
stored in the index.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import regex

from index.tuning import RANKING

PERMUTATIONS = 128
BANDS = 32  # 32 bands of 4 rows: pairs at resemblance 0.6 collide with probability ~0.99
ROWS = PERMUTATIONS // BANDS
SHINGLE_WORDS = 4
COPIES_PER_STORY = 4  # articles of one story a bucket remembers
BUCKET_CAPACITY = 32  # articles a bucket remembers in all
_PRIME = (1 << 31) - 1  # a*x+b stays below 2**63 for x, a, b < 2**31
_rng = np.random.default_rng(20191114)
_A = _rng.integers(1, _PRIME, size=PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, _PRIME, size=PERMUTATIONS, dtype=np.uint64)
_WORD = re.compile(r"\w+", re.UNICODE)
_MARK = regex.compile(r"\p{M}")  # every character with a combining class is a mark (category M)
_FOLD = (("أ", "ا"), ("إ", "ا"), ("آ", "ا"), ("ى", "ي"), ("ة", "ه"), ("ـ", ""))


def _words(text: str) -> list[str]:
    """The text's words: decomposed, without combining marks, case-folded, Arabic letter forms folded."""
    text = unicodedata.normalize("NFKD", text)
    for mark in {mark for mark in _MARK.findall(text) if unicodedata.combining(mark)}:
        text = text.replace(mark, "")  # str.replace: several times faster than str.translate on Arabic text
    text = text.casefold()
    for letter, folded in _FOLD:
        text = text.replace(letter, folded)
    return _WORD.findall(text)


def signature(text: str) -> np.ndarray:
    """The MinHash signature (uint64[PERMUTATIONS]) of the text's word shingles."""
    words = _words(text)
    shingles = {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(max(1, len(words) - SHINGLE_WORDS + 1))}
    digests = b"".join([hashlib.blake2b(shingle.encode(), digest_size=8).digest() for shingle in shingles])
    hashes = np.frombuffer(digests, dtype="<u8") % np.uint64(_PRIME)
    values = (hashes[:, None] * _A[None, :] + _B[None, :]) % np.uint64(_PRIME)
    return values.min(axis=0)


def resemblance(first: np.ndarray, second: np.ndarray) -> float:
    """Estimated Jaccard resemblance of two signatures."""
    return float(np.mean(first == second))


class DuplicateFinder:
    """Groups articles into stories in order: ``add`` returns the story of each article (its story's first article).

    Everything is numbers in numpy arrays (under 1 KB an article): the signatures in one uint32 array (their
    values are below 2**31), a story number by article, and the buckets of the articles planned so far (``_plan``;
    ``add_all`` and ``stories_of`` plan all theirs at once): a bucket is one band's exact value, and only buckets two
    or more planned articles share are kept, as slots of one array (a bucket met by one article gives no candidate).

    ``comparisons`` counts the signatures compared so far (at most ``BANDS * BUCKET_CAPACITY`` an article)."""

    def __init__(self) -> None:
        self._signatures = np.zeros((0, PERMUTATIONS), dtype=np.uint32)  # row = position of the article
        self._story = np.zeros(0, dtype=np.int32)  # story number by position (of the remembered articles)
        self._admitted = np.zeros((0, BANDS), dtype=bool)  # whether an article stayed in its bucket of each band
        self._names: list[str] = []  # story id by story number
        self._number_of: dict[str, int] = {}
        self._remembered = 0  # articles remembered: the next one added is at this position
        self._buckets = _Buckets(self._signatures, self._admitted, 0)
        self.comparisons = 0

    def add(self, article_id: str, sig: np.ndarray) -> str:
        """Record an article; return the id of the story it belongs to (itself when new). The article is the next one
        planned or, when none is left, planned alone (which places every bucket again: for a few articles)."""
        if self._remembered == len(self._signatures):
            self._plan(np.asarray(sig).reshape(1, PERMUTATIONS))
        assert np.array_equal(self._signatures[self._remembered], sig), "not the article planned next"
        return self._add_next(article_id)

    def add_all(self, items: Iterable[tuple[str, np.ndarray]]) -> dict[str, str]:
        items = list(items)
        if items:
            self._plan(np.stack([sig for _, sig in items]))
        return {article_id: self.add(article_id, sig) for article_id, sig in items}

    def stories_of(self, article_ids: Sequence[str], signatures: np.ndarray) -> list[str]:
        """Add the articles (``signatures``: one row each, in order) and return their stories, as ``add`` would."""
        self._plan(signatures)
        return [self._add_next(article_id) for article_id in article_ids]

    def remember(self, signatures: np.ndarray, stories: Sequence[str]) -> None:
        """Remember articles whose stories are known (``signatures``: one row each, in order) as ``add`` would have
        remembered them, without comparing them."""
        self._plan(signatures)
        for story in stories:
            self._remember_next(self._number(story), self._buckets.met_by(self._remembered))

    def _plan(self, signatures: np.ndarray) -> None:
        """Make room for ``signatures`` (the articles added next, in order) and place the buckets again."""
        if len(signatures) and int(signatures.max()) >= 2**31:
            raise ValueError("a MinHash signature holds values below 2**31")
        fresh = len(self._signatures) == 0 and signatures.dtype == np.uint32 and signatures.flags.c_contiguous
        self._signatures = signatures if fresh else np.concatenate([self._signatures, signatures.astype(np.uint32)])
        count = len(self._signatures)
        self._story = np.concatenate([self._story[: self._remembered], np.full(count - self._remembered, -1, np.int32)])
        self._admitted = np.concatenate(
            [self._admitted[: self._remembered], np.ones((count - self._remembered, BANDS), bool)]
        )
        self._buckets = _Buckets(self._signatures, self._admitted, self._remembered)

    def _add_next(self, article_id: str) -> str:
        position = self._remembered
        buckets = self._buckets.met_by(position)
        number = -1
        if len(buckets.members):
            candidates = np.unique(buckets.members)
            scores = (self._signatures[candidates] == self._signatures[position]).mean(axis=1)
            self.comparisons += len(candidates)
            latest_best = len(scores) - 1 - int(np.argmax(scores[::-1]))  # ties go to the latest, as they did
            if scores[latest_best] >= RANKING.story_threshold:
                number = int(self._story[candidates[latest_best]])
        if number < 0:
            number = self._number(article_id)
        self._remember_next(number, buckets)
        return self._names[number]

    def _number(self, story: str) -> int:
        """The story's number (a new one for a story not met yet)."""
        number = self._number_of.setdefault(story, len(self._names))
        if number == len(self._names):
            self._names.append(story)
        return number

    def _remember_next(self, number: int, buckets: _Met) -> None:
        """Remember the next article with its story in the buckets it meets that keep it: a bucket keeps at most
        ``BUCKET_CAPACITY`` articles and ``COPIES_PER_STORY`` of one story."""
        position = self._remembered
        self._story[position] = number
        if len(buckets.numbers):
            of_story = np.bincount(
                buckets.of_member, weights=self._story[buckets.members] == number, minlength=len(buckets.numbers)
            )
            kept = (buckets.sizes < BUCKET_CAPACITY) & (of_story < COPIES_PER_STORY)
            self._buckets.keep(position, buckets.numbers[kept])
            self._admitted[position, buckets.bands[~kept]] = False
        self._remembered += 1


def band_keys(signatures: np.ndarray, band: int) -> np.ndarray:
    """One number for each signature's band (equal bands, equal numbers; unequal bands rarely share one)."""
    key = np.zeros(len(signatures), dtype=np.uint64)
    for value in signatures[:, band * ROWS : (band + 1) * ROWS].T:
        key = key * np.uint64(0x9E3779B97F4A7C15) + value  # wraps around: a hash
    return key


def _equal_bands_together(signatures: np.ndarray, band: int) -> np.ndarray:
    """An order of the signatures that puts those with equal values in ``band`` next to each other: by their
    ``band_keys``, or, when two unequal bands share a key, by the values themselves."""
    keys = band_keys(signatures, band)
    order = np.argsort(keys)
    values = signatures[:, band * ROWS : (band + 1) * ROWS]
    same_key = np.flatnonzero(keys[order[1:]] == keys[order[:-1]])
    if (values[order[same_key]] != values[order[same_key + 1]]).any():
        return np.lexsort(values.T[::-1])
    return order


@dataclass
class _Met:
    """The shared buckets an article meets: their bands, numbers and sizes, their members one bucket after another."""

    bands: np.ndarray
    numbers: np.ndarray
    sizes: np.ndarray
    members: np.ndarray
    of_member: np.ndarray  # the index in ``numbers`` of each member's bucket


_NOTHING = np.zeros(0, dtype=np.int64)
_NONE_MET = _Met(_NOTHING, _NOTHING, _NOTHING, _NOTHING, _NOTHING)


class _Buckets:
    """The buckets of the planned articles that two or more of them share, their members in slots of one array: a
    bucket has ``min(articles sharing it, BUCKET_CAPACITY)`` slots, the first ``filled`` of them taken."""

    def __init__(self, signatures: np.ndarray, admitted: np.ndarray, remembered: int) -> None:
        self.of = np.full((len(signatures), BANDS), -1, dtype=np.int32)  # bucket by article and band, -1 unshared
        sizes: list[np.ndarray] = []  # of the shared buckets, band after band
        for band in range(BANDS):
            order = _equal_bands_together(signatures, band)
            ordered = signatures[order, band * ROWS : (band + 1) * ROWS]
            starts = np.flatnonzero(np.r_[True, (ordered[1:] != ordered[:-1]).any(axis=1)])
            size = np.diff(np.r_[starts, len(order)])
            shared = size > 1
            numbers = np.full(len(starts), -1, dtype=np.int32)
            numbers[shared] = np.arange(int(shared.sum()), dtype=np.int32) + sum(len(s) for s in sizes)
            self.of[order, band] = np.repeat(numbers, size)
            sizes.append(size[shared])
        self.alone = np.asarray((self.of < 0).all(axis=1))  # articles sharing no bucket
        slots = np.minimum(np.concatenate(sizes) if sizes else np.zeros(0, np.int64), BUCKET_CAPACITY)
        self.start = np.concatenate([[0], np.cumsum(slots)[:-1]]).astype(np.int64)
        self.slots = np.full(int(slots.sum()), -1, dtype=np.int32)
        # the remembered articles, in order, in the buckets that kept them
        articles, bands = np.nonzero((self.of[:remembered] >= 0) & admitted[:remembered])
        numbers = self.of[articles, bands]
        order = np.argsort(numbers, kind="stable")
        numbers, articles = numbers[order], articles[order]
        self.filled = np.bincount(numbers, minlength=len(slots)).astype(np.int32)
        rank = np.arange(len(numbers)) - np.searchsorted(numbers, numbers)
        self.slots[self.start[numbers] + rank] = articles

    def met_by(self, position: int) -> _Met:
        """The shared buckets of the article at ``position`` and their members now."""
        if self.alone[position]:
            return _NONE_MET
        bands = np.flatnonzero(self.of[position] >= 0)
        numbers = self.of[position, bands]
        sizes = self.filled[numbers]
        total = int(sizes.sum())
        ends = np.cumsum(sizes)
        index = np.arange(total) + np.repeat(self.start[numbers] - (ends - sizes), sizes)
        return _Met(bands, numbers, sizes, self.slots[index], np.repeat(np.arange(len(numbers)), sizes))

    def keep(self, position: int, numbers: np.ndarray) -> None:
        self.slots[self.start[numbers] + self.filled[numbers]] = position
        self.filled[numbers] += 1
