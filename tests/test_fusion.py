"""Fusing the dense ranking with keyword scores."""

from __future__ import annotations

import numpy as np

from index.search.fusion import fuse

DENSE = [(4, 0.81), (2, 0.80), (7, 0.78)]
COSINES = {0: 0.70, 1: 0.60, 2: 0.80, 3: 0.50, 4: 0.81, 5: 0.40, 6: 0.30, 7: 0.78}


def cosines(rows):
    return np.array([COSINES[int(r)] for r in rows], dtype=np.float32)


def test_empty_keyword_side_leaves_the_dense_ranking_unchanged():
    assert fuse(DENSE, np.zeros(8, np.float32), cosines, 0.25, 3) == DENSE
    assert fuse(DENSE, None, cosines, 0.25, 2) == DENSE[:2]


def test_keyword_scores_reorder_within_the_vote():
    keyword = np.zeros(8, np.float32)
    keyword[2] = 0.5  # half the question's words
    fused = fuse(DENSE, keyword, cosines, 0.25, 3)
    assert [row for row, _ in fused] == [2, 4, 7]
    assert abs(fused[0][1] - (0.80 + 0.125)) < 1e-6


def test_keyword_only_candidates_get_their_exact_cosine():
    keyword = np.zeros(8, np.float32)
    keyword[0] = 1.0
    fused = dict(fuse(DENSE, keyword, cosines, 0.25, 4))
    assert abs(fused[0] - (0.70 + 0.25)) < 1e-6


def test_a_small_vote_cannot_overturn_a_clear_dense_lead():
    keyword = np.zeros(8, np.float32)
    keyword[5] = 0.2  # one name out of many words
    assert fuse(DENSE, keyword, cosines, 0.25, 1)[0][0] == 4
