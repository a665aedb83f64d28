"""Fuse the dense ranking with the keyword scores.

The fused score of a chunk is its cosine plus ``weight`` times its keyword score, where the
keyword score is the share of the question's words (weighted by rarity) the chunk
contains (see ``keywords.KeywordIndex.scores``). This is a score fusion, not a rank
fusion, for two reasons:

* it cannot hurt when the keyword side finds nothing: every keyword score is then 0 and
  the ranking is the dense one, unchanged;
* the keyword side's vote is as large as what it understood: a question whose words are
  all in the index (Arabic over Arabic) can move a chunk by up to ``weight``; a question the
  index can read only a name or a number of (English over Arabic) moves chunks by a
  fraction of that. Rank fusion gives the keyword side's first place the same vote
  whether it matched the whole question or one common word.

Chunks the keyword side ranks high but the dense search did not return get their cosine
computed exactly from the stored vectors, so every candidate is scored on both sides.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from index.tuning import RANKING


def fuse(
    dense: Sequence[tuple[int, float]],
    keyword_scores: np.ndarray | None,
    cosines: Callable[[np.ndarray], np.ndarray],
    weight: float,
    k: int,
) -> list[tuple[int, float]]:
    """(row, fused score) of the k best chunks.

    ``dense`` is the dense search's (row, cosine) list, best first; ``keyword_scores`` holds
    every row's keyword score (or None without a keyword index); ``cosines(rows)`` gives
    the exact cosine of any rows.
    """
    if keyword_scores is None or weight <= 0 or not np.any(keyword_scores > 0):
        return list(dense[:k])
    known = dict(dense)
    best_keyword = top_rows(keyword_scores, RANKING.keyword_candidates)
    extra = np.array([row for row in best_keyword if int(row) not in known], dtype=np.int64)
    if len(extra):
        known.update(zip(extra.tolist(), cosines(extra).tolist()))
    rows = np.fromiter(known.keys(), dtype=np.int64, count=len(known))
    fused = np.fromiter(known.values(), dtype=np.float64, count=len(known)) + weight * keyword_scores[rows]
    order = np.argsort(-fused, kind="stable")[:k]
    return [(int(rows[i]), float(fused[i])) for i in order]


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """The rows of the k highest positive scores, highest first, ties in row order: what a stable sort
    of every score would put first, without sorting them all (at a million rows a full sort took 118 ms
    a question, a partition 8 ms)."""
    positive = np.flatnonzero(scores > 0)  # in row order
    values = scores[positive]
    if len(positive) > k:
        kth = np.partition(values, len(values) - k)[len(values) - k]  # the k-th highest score
        above = values > kth
        tied = np.flatnonzero(values == kth)[: k - int(above.sum())]  # the first rows of the tie
        chosen = np.sort(np.concatenate([np.flatnonzero(above), tied]))
        positive, values = positive[chosen], values[chosen]
    return positive[np.argsort(-values, kind="stable")]
