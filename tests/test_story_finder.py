"""The story finder's numpy buckets (index/text/near_duplicates.py) against the dictionaries they replaced: a
reference finder kept here as it was (a dict of band bytes to lists of positions for each band), on crafted
signatures that fill buckets to their capacity, send more than ``COPIES_PER_STORY`` copies of one story to a
bucket, tie the best candidates of two stories and make band keys collide."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from index import carry_over
from index.carry_over import ResumedFinder
from index.errors import IndexCorruptError
from index.records import Article
from index.storage.article_store import ArticleStore
from index.text import near_duplicates
from index.text.near_duplicates import (
    BANDS,
    BUCKET_CAPACITY,
    COPIES_PER_STORY,
    PERMUTATIONS,
    ROWS,
    DuplicateFinder,
)
from index.tuning import RANKING


class ReferenceFinder:
    """The finder before numpy buckets, word for word, counting what the crafted data should exercise."""

    def __init__(self) -> None:
        self._signatures = np.zeros((64, PERMUTATIONS), dtype=np.uint64)
        self._story: list[str] = []
        self._buckets: list[dict[bytes, list[int]]] = [{} for _ in range(BANDS)]
        self.comparisons = 0
        self.seen: Counter[str] = Counter()

    def add(self, article_id: str, sig: np.ndarray) -> str:
        bands = [sig[band * ROWS : (band + 1) * ROWS].tobytes() for band in range(BANDS)]
        candidates = sorted(
            {position for band, value in enumerate(bands) for position in self._buckets[band].get(value, ())}
        )
        story = article_id
        if candidates:
            scores = (self._signatures[candidates] == sig).mean(axis=1)
            self.comparisons += len(candidates)
            latest_best = len(scores) - 1 - int(np.argmax(scores[::-1]))
            if scores[latest_best] >= RANKING.story_threshold:
                story = self._story[candidates[latest_best]]
                best = {self._story[candidates[i]] for i in np.flatnonzero(scores == scores[latest_best])}
                self.seen["tie between stories"] += len(best) > 1
        self.remember(sig, story)
        return story

    def remember(self, sig: np.ndarray, story: str) -> None:
        position = len(self._story)
        if position == len(self._signatures):
            self._signatures = np.concatenate([self._signatures, np.zeros_like(self._signatures)])
        self._signatures[position] = sig
        self._story.append(story)
        for band in range(BANDS):
            members = self._buckets[band].setdefault(sig[band * ROWS : (band + 1) * ROWS].tobytes(), [])
            copies = sum(self._story[m] == story for m in members)
            if len(members) >= BUCKET_CAPACITY:
                self.seen["bucket full"] += 1
            elif copies >= COPIES_PER_STORY:
                self.seen["enough copies"] += 1
            else:
                members.append(position)


def crafted(count: int, seed: int = 5) -> np.ndarray:
    """Signatures of ``count`` articles: copies of a few templates (some stories with many copies) with bands and
    values changed, some of the first bands from a small pool shared by every story, and blends of twin templates
    (equal on 18 bands, less than the story threshold) that resemble both twins alike."""
    rng = np.random.default_rng(seed)
    templates = rng.integers(0, 2**31 - 1, size=(60, PERMUTATIONS), dtype=np.uint64)
    templates[1::2, 14 * ROWS :] = templates[0::2, 14 * ROWS :]  # twins
    pool = rng.integers(0, 2**31 - 1, size=(3, ROWS), dtype=np.uint64)
    signatures = np.zeros((count, PERMUTATIONS), dtype=np.uint64)
    for position in range(count):
        template = min(int(rng.geometric(0.08)), len(templates)) - 1
        sig = templates[template].copy()
        if rng.random() < 0.15:  # a blend of twins
            twin = template ^ 1
            sig[7 * ROWS : 14 * ROWS] = templates[twin, 7 * ROWS : 14 * ROWS]
        changed = int(rng.integers(0, 16)) if rng.random() < 0.6 else 0
        for band in rng.choice(BANDS, size=changed, replace=False):
            choice = rng.random()
            values = slice(band * ROWS, (band + 1) * ROWS)
            if choice < 0.5:  # a pooled value, in one of the first bands
                pooled = int(rng.integers(0, 4))
                sig[pooled * ROWS : (pooled + 1) * ROWS] = pool[rng.integers(0, len(pool))]
            elif choice < 0.8:
                sig[values] = rng.integers(0, 2**31 - 1, size=ROWS, dtype=np.uint64)
            else:
                sig[band * ROWS + int(rng.integers(0, ROWS))] ^= 1  # one value: the band no longer matches
        if position and rng.random() < 0.08:  # the same signature as an earlier article
            sig = signatures[int(rng.integers(0, position))].copy()
        signatures[position] = sig
    return signatures


def coarse_band_keys(signatures: np.ndarray, band: int) -> np.ndarray:
    """Band keys with many collisions: unequal bands share a key."""
    return signatures[:, band * ROWS].astype(np.uint64) % np.uint64(3)


def reference(signatures: np.ndarray) -> tuple[ReferenceFinder, list[str]]:
    finder = ReferenceFinder()
    return finder, [finder.add(f"a{position}", sig) for position, sig in enumerate(signatures)]


SIGNATURES = crafted(900)
REFERENCE, REFERENCE_STORIES = reference(SIGNATURES)


def test_the_crafted_signatures_exercise_every_rule():
    assert REFERENCE.seen["bucket full"] > 100 and REFERENCE.seen["enough copies"] > 100
    assert REFERENCE.seen["tie between stories"] > 3
    assert 5 < len(set(REFERENCE_STORIES)) < len(SIGNATURES) / 2


@pytest.mark.parametrize("keys", ["exact", "colliding"])
def test_the_finder_groups_as_the_reference_does(keys, monkeypatch):
    if keys == "colliding":
        monkeypatch.setattr(near_duplicates, "band_keys", coarse_band_keys)
    ids = [f"a{position}" for position in range(len(SIGNATURES))]
    finder = DuplicateFinder()
    assert finder.stories_of(ids, SIGNATURES.astype(np.uint32)) == REFERENCE_STORIES
    assert finder.comparisons == REFERENCE.comparisons
    finder = DuplicateFinder()
    assert finder.add_all(zip(ids, SIGNATURES)) == dict(zip(ids, REFERENCE_STORIES))
    assert finder.comparisons == REFERENCE.comparisons


def test_articles_added_one_at_a_time_are_grouped_as_the_reference_does():
    finder = DuplicateFinder()  # each add places every bucket again, with the articles remembered so far
    head = SIGNATURES[:240]
    assert [finder.add(f"a{position}", sig) for position, sig in enumerate(head)] == REFERENCE_STORIES[:240]


@pytest.mark.parametrize("keys", ["exact", "colliding"])
@pytest.mark.parametrize("split", [300, 700])
def test_a_resumed_finder_groups_the_later_articles_as_grouping_all_does(keys, split, monkeypatch):
    if keys == "colliding":  # every near test and bucket order then meets collisions
        monkeypatch.setattr(near_duplicates, "band_keys", coarse_band_keys)
        monkeypatch.setattr(carry_over, "band_keys", coarse_band_keys)
    resumed = ResumedFinder()
    resumed.remember_near(SIGNATURES[:split].astype(np.uint32), REFERENCE_STORIES[:split], SIGNATURES[split:])
    later = [(f"a{position}", SIGNATURES[position]) for position in range(split, len(SIGNATURES))]
    assert list(resumed.add_all(later).values()) == REFERENCE_STORIES[split:]


def test_signatures_are_read_from_the_store_as_one_array(tmp_path):
    store = ArticleStore.create(tmp_path / "store.sqlite")
    for position, sig in enumerate(SIGNATURES[:5]):
        store.add_article(Article(f"a{position}", "title", "text"), [], "a0", sig.astype("<u8").tobytes())
    store.commit()
    ids, table = store.signature_rows(block=2)
    assert ids == [f"a{position}" for position in range(5)] and table.dtype == np.uint32
    assert np.array_equal(table, SIGNATURES[:5])
    store.add_article(Article("damaged", "title", "text"), [], "damaged", b"\xff" * 8 * PERMUTATIONS)
    store.commit()
    with pytest.raises(IndexCorruptError):
        store.signature_rows(block=2)
    store.close()
