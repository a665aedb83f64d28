"""Near-duplicate articles: the same wire story republished by several outlets.

Each article gets a MinHash signature of its word 4-shingles (after light normalisation);
articles whose estimated resemblance reaches ``RANKING.story_threshold`` are one story. Candidate pairs
come from locality-sensitive hashing over bands of the signature, so finding the copies of
a new article does not compare it with every stored one.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

import numpy as np

from index.tuning import RANKING

PERMUTATIONS = 128
BANDS = 32  # 32 bands of 4 rows: pairs at resemblance 0.6 collide with probability ~0.99
SHINGLE_WORDS = 4
_PRIME = (1 << 31) - 1  # a*x+b stays below 2**63 for x, a, b < 2**31
_rng = np.random.default_rng(20191114)
_A = _rng.integers(1, _PRIME, size=PERMUTATIONS, dtype=np.uint64)
_B = _rng.integers(0, _PRIME, size=PERMUTATIONS, dtype=np.uint64)
_WORD = re.compile(r"\w+", re.UNICODE)
_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "ة": "ه", "ـ": None})


def _words(text: str) -> list[str]:
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _WORD.findall(text.casefold().translate(_FOLD))


def signature(text: str) -> np.ndarray:
    """The MinHash signature (uint64[PERMUTATIONS]) of the text's word shingles."""
    words = _words(text)
    shingles = {" ".join(words[i : i + SHINGLE_WORDS]) for i in range(max(1, len(words) - SHINGLE_WORDS + 1))}
    hashes = np.array(
        [int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "little") % _PRIME for s in shingles],
        dtype=np.uint64,
    )
    values = (hashes[:, None] * _A[None, :] + _B[None, :]) % np.uint64(_PRIME)
    return values.min(axis=0)


def resemblance(first: np.ndarray, second: np.ndarray) -> float:
    """Estimated Jaccard resemblance of two signatures."""
    return float(np.mean(first == second))


class DuplicateFinder:
    """Groups articles into stories as they are added: ``add`` returns the story's first article."""

    def __init__(self) -> None:
        self._signatures: dict[str, np.ndarray] = {}
        self._story: dict[str, str] = {}
        self._buckets: dict[tuple[int, bytes], list[str]] = defaultdict(list)

    def add(self, article_id: str, sig: np.ndarray) -> str:
        """Record an article; return the id of the story it belongs to (itself when new)."""
        rows = PERMUTATIONS // BANDS
        keys = [(band, sig[band * rows : (band + 1) * rows].tobytes()) for band in range(BANDS)]
        best, best_score = article_id, RANKING.story_threshold
        for key in keys:
            for other in self._buckets.get(key, ()):
                score = resemblance(sig, self._signatures[other])
                if score >= best_score:
                    best, best_score = self._story[other], score
        self._signatures[article_id] = sig
        self._story[article_id] = best
        for key in keys:
            self._buckets[key].append(article_id)
        return best

    def add_all(self, items: Iterable[tuple[str, np.ndarray]]) -> dict[str, str]:
        return {article_id: self.add(article_id, sig) for article_id, sig in items}
