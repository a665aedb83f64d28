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
from collections.abc import Iterable

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
    marks = {ord(mark): None for mark in set(_MARK.findall(text)) if unicodedata.combining(mark)}
    text = text.translate(marks).casefold()
    for letter, folded in _FOLD:  # str.replace: several times faster than str.translate on Arabic text
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
    """Groups articles into stories as they are added: ``add`` returns the story's first article.

    ``comparisons`` counts the signatures compared so far (at most ``BANDS * BUCKET_CAPACITY`` an article)."""

    def __init__(self) -> None:
        self._signatures = np.zeros((64, PERMUTATIONS), dtype=np.uint64)  # row = position of the article
        self._story: list[str] = []  # story id by position
        self._buckets: list[dict[bytes, list[int]]] = [{} for _ in range(BANDS)]  # band value -> positions
        self.comparisons = 0

    def add(self, article_id: str, sig: np.ndarray) -> str:
        """Record an article; return the id of the story it belongs to (itself when new)."""
        bands = [sig[band * ROWS : (band + 1) * ROWS].tobytes() for band in range(BANDS)]
        candidates = sorted(
            {position for band, value in enumerate(bands) for position in self._buckets[band].get(value, ())}
        )
        story = article_id
        if candidates:
            scores = (self._signatures[candidates] == sig).mean(axis=1)
            self.comparisons += len(candidates)
            latest_best = len(scores) - 1 - int(np.argmax(scores[::-1]))  # ties go to the latest, as they did
            if scores[latest_best] >= RANKING.story_threshold:
                story = self._story[candidates[latest_best]]
        self._remember(sig, story, bands)
        return story

    def _remember(self, sig: np.ndarray, story: str, bands: list[bytes]) -> None:
        position = len(self._story)
        if position == len(self._signatures):
            self._signatures = np.concatenate([self._signatures, np.zeros_like(self._signatures)])
        self._signatures[position] = sig
        self._story.append(story)
        for band, value in enumerate(bands):
            members = self._buckets[band].setdefault(value, [])
            if len(members) < BUCKET_CAPACITY and sum(self._story[m] == story for m in members) < COPIES_PER_STORY:
                members.append(position)

    def add_all(self, items: Iterable[tuple[str, np.ndarray]]) -> dict[str, str]:
        return {article_id: self.add(article_id, sig) for article_id, sig in items}
