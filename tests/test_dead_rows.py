"""Removing or changing an article of a layered generation's base leaves its rows in the shared base, dead
(index/row_layout.py, index/storage/dead_rows.py): every base file is shared, only the deltas are written, and the
index answers as one that went through the same updates written whole each time."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import numpy as np
import pytest

import index.layered_vectors as layered_vectors
import index.search.keyword_layers as keyword_layers
from index.errors import IndexCorruptError
from index.records import Article
from index.row_layout import RowLayout
from index.search.keywords import FOLDER as KEYWORDS_FOLDER
from index.search.keywords import load_keyword_index
from index.storage import dead_rows, faiss_vectors, generations
from index.storage.article_store import ArticleStore
from index.storage.faiss_vectors import VECTORS_DELTA
from index.storage.vector_base import VectorFilter, VectorStoreSettings
from index.storage.vector_stores import open_vectors
from tests.conftest import story_articles

WORDS = (
    *("oil", "port", "ship", "harbour", "army", "council", "election", "court"),
    *("judge", "minister", "budget", "bank", "water", "grid", "school", "road"),
)
OUTLETS = ("Al Jazeera", "BBC News", "Libya Observer")
SHARED = (
    generations.VECTORS,
    generations.EMBEDDINGS,
    generations.STORE,
    f"{KEYWORDS_FOLDER}/{keyword_layers.INDPTR}",
    f"{KEYWORDS_FOLDER}/{keyword_layers.DOCUMENT_TERMS}",
)


def _articles(count: int, seed: int) -> list[Article]:
    return story_articles(count, seed, WORDS, outlets=OUTLETS)


def _layers_from(monkeypatch, rows: int) -> None:
    monkeypatch.setattr(layered_vectors, "LAYER_MIN_ROWS", rows)
    monkeypatch.setattr(keyword_layers, "LAYER_MIN_ROWS", rows)


def _generation(engine) -> Path:
    return generations.current_generation(engine.index_dir)


def _answers(engine) -> list:
    """What the index answers, rows named by their article and place (a whole build numbers them otherwise):
    search hits, and the vector store's rows with filters."""
    questions = ["Which minister spoke about the budget?", "harbour ship oil port", "election court judge"]
    hits = [
        [(hit.article_id, hit.start, hit.end, round(hit.score, 5)) for hit in engine.search(question, k=8)]
        for question in questions
    ]
    generation = _generation(engine)
    store = open_vectors(generation, generations.read_manifest(generation), VectorStoreSettings())
    with ArticleStore(generation / generations.STORE) as articles:
        probes = [chunk for _, chunk in articles.chunks_of(articles.ids()[-1])][:2]
        rows = [row for row, _ in articles.chunks_of(articles.ids()[-1])][:2]
        vectors = np.asarray(generations.open_embeddings(generation), dtype=np.float32)[rows]
        filtered = []
        for where in (None, VectorFilter(since=dt.date(2024, 1, 20)), VectorFilter(sources=frozenset({"BBC News"}))):
            scores, found = store.search(vectors, 12, where)
            chunks = articles.chunks_by_rows([row for row in found.ravel().tolist() if row >= 0])
            named = [
                [(chunks[row][1].article_id, chunks[row][1].ordinal) for row in line if row >= 0] for line in found
            ]
            filtered.append((named, np.round(scores, 5).tolist()))
        return [hits, filtered, [chunk.text for chunk in probes], articles.counts(), sorted(articles.ids())]


def _same_answers(engine, whole) -> None:
    """The same answers; scores alike to 1e-4 (a kept row's density, reused, may differ in the last float bits from
    the one a whole update searched again)."""
    mine, theirs = _answers(engine), _answers(whole)
    assert _without_scores(mine) == _without_scores(theirs)
    assert np.allclose(_scores(mine), _scores(theirs), atol=1e-4)


def _without_scores(answers: list) -> list:
    hits, filtered, *rest = answers
    return [[[hit[:3] for hit in line] for line in hits], [named for named, _ in filtered], *rest]


def _scores(answers: list) -> np.ndarray:
    hits, filtered, *_ = answers
    values = [hit[3] for line in hits for hit in line] + [s for _, scores in filtered for line in scores for s in line]
    return np.array(values)


def test_removing_and_changing_base_articles_keeps_every_base(half_deltas, hashing_engine, tmp_path, monkeypatch):
    first, second, third = _articles(30, seed=21), _articles(3, seed=22), _articles(4, seed=23)
    changed = dataclasses.replace(first[7], text=first[7].text + " The harbour closed for the election.")
    updates = [
        ("add", first),
        ("add", second),
        ("remove", [first[5].id]),  # a base article: its rows go dead
        ("add", [changed]),  # a base article changed: its rows dead, its new text in the delta
        ("add", third),
        ("remove", [second[1].id, first[0].id]),  # one of the delta and the base's first
    ]
    engine, whole = hashing_engine(index_dir=tmp_path / "layered"), hashing_engine(index_dir=tmp_path / "whole")
    for step, (kind, payload) in enumerate(updates):
        for index, layer_from in ((engine, 1), (whole, 10**9)):
            _layers_from(monkeypatch, layer_from)
            index.add_articles(payload) if kind == "add" else index.remove(payload)
        generation = _generation(engine)
        inodes = {name: os.stat(generation / name).st_ino for name in SHARED}
        if step == 0:
            base_inodes = inodes
        else:
            assert inodes == base_inodes, step
        dead = dead_rows.read_dead_rows(generation)
        if step >= 2:
            assert len(dead) > 0 and (generation / VECTORS_DELTA).exists()
            counts = generations.read_manifest(generation)["counts"]
            assert counts["rows"] == counts["chunks"] + len(dead)
        _same_answers(engine, whole)
    assert engine.stats().articles == whole.stats().articles == 30 + 3 + 4 - 3


def test_a_merge_drops_the_dead_rows(half_deltas, hashing_engine, tmp_path, monkeypatch):
    """Once the delta and the dead rows would pass the share, the update writes every layer whole, without them:
    the files of the same updates written whole each time."""
    first = _articles(30, seed=24)
    engine, whole = hashing_engine(index_dir=tmp_path / "layered"), hashing_engine(index_dir=tmp_path / "whole")
    for step, (share, removed) in enumerate(((0.5, None), (0.5, first[2].id), (0.01, first[3].id))):
        monkeypatch.setattr(layered_vectors, "DELTA_SHARE", share)
        for index, layer_from in ((engine, 1), (whole, 10**9)):
            _layers_from(monkeypatch, layer_from)
            index.add_articles(first) if removed is None else index.remove([removed])
        assert (_generation(engine) / dead_rows.FILE).exists() == (step == 1)
    generation = _generation(engine)
    assert not (generation / VECTORS_DELTA).exists() and not (generation / generations.STORE_DELTA).exists()
    for name in (generations.EMBEDDINGS, generations.VECTORS, "vector-rows.npz", "hubness.npy"):
        assert (generation / name).read_bytes() == (_generation(whole) / name).read_bytes(), name
    _same_answers(engine, whole)


def test_a_removed_article_stays_removed_after_later_adds(half_deltas, hashing_engine, tmp_path, monkeypatch):
    _layers_from(monkeypatch, 1)
    first, later = _articles(30, seed=25), _articles(2, seed=26)
    engine = hashing_engine(index_dir=tmp_path / "layered")
    engine.add_articles(first)
    engine.remove([first[4].id])
    engine.add_articles(later)
    generation = _generation(engine)
    with ArticleStore(generation / generations.STORE) as store:
        assert first[4].id not in store.ids() and store.article(first[4].id) is None
    assert all(hit.article_id != first[4].id for hit in engine.search(first[4].title, k=20))
    dead = dead_rows.read_dead_rows(generation)
    keywords = load_keyword_index(generation)
    scores = keywords.scores(keywords.slots(f"{first[4].title} {first[4].text[:80]}"))
    assert len(dead) and scores.max() > 0 and not scores[dead].any()  # its rows hold no posting a question gets
    engine.add_articles([first[4]])  # and comes back when added again
    assert engine.stats().articles == 30 + 2


def test_a_damaged_dead_rows_file_is_a_damaged_index(half_deltas, hashing_engine, tmp_path, monkeypatch):
    _layers_from(monkeypatch, 1)
    first = _articles(30, seed=27)
    engine = hashing_engine(index_dir=tmp_path / "layered")
    engine.add_articles(first)
    engine.remove([first[1].id])
    generation = _generation(engine)
    np.save(generation / dead_rows.FILE, np.array([5, 3]))  # not ascending
    with pytest.raises(IndexCorruptError):
        open_vectors(generation, generations.read_manifest(generation), VectorStoreSettings())
    np.save(generation / dead_rows.FILE, np.array([10**6]))  # no such row
    with pytest.raises(IndexCorruptError):
        dead_rows.read_dead_rows(generation, generations.read_manifest(generation)["counts"]["rows"])


def test_dead_runs_take_their_place_among_the_articles():
    layout = RowLayout(np.arange(12), np.array([0, 1, 5, 6, 11]), np.array([2, 4, 7, 7]))
    values, sizes = layout.with_dead_runs(["a", "b", "empty", "c"], [2, 1, 0, 4], lambda run: f"dead{run}")
    assert values == ["dead0", "a", "b", "dead1", "empty", "c", "dead2"]
    assert sizes == [2, 2, 1, 2, 0, 4, 1]
    assert sum(sizes) == 12


@pytest.mark.parametrize("margin", [0, 3, 32])
def test_a_search_leaves_dead_rows_out_as_exact_search_of_the_live_ones(margin, monkeypatch):
    """Dead rows are left out of the rows a search fetches beyond ``k`` (``DEAD_MARGIN``); a query that met more of
    them is searched again: either way, the best live rows of an exact search."""
    monkeypatch.setattr(faiss_vectors, "DEAD_MARGIN", margin)
    rng = np.random.default_rng(5)
    base, delta = rng.normal(size=(300, 16)).astype(np.float32), rng.normal(size=(20, 16)).astype(np.float32)
    queries = np.concatenate([base[:40] + 0.01, rng.normal(size=(10, 16))]).astype(np.float32)
    dead = np.sort(rng.choice(300, 60, replace=False))
    dead = np.union1d(dead, np.arange(40))  # each query's nearest row dead
    indexes = [faiss_vectors.build_faiss_index(layer, "Flat") for layer in (base, delta)]
    store = faiss_vectors.FaissStore(indexes[0], None, {}, indexes[1], dead)
    scores, rows = store.search(queries, 7)
    every = np.concatenate([base, delta]) @ queries.T
    every[dead] = -np.inf
    best = np.argsort(-every, axis=0, kind="stable")[:7].T
    assert np.array_equal(rows, best) and not np.isin(rows, dead).any()
    assert np.allclose(scores, np.take_along_axis(every.T, best, axis=1), atol=1e-5)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_updates_answer_as_whole_ones(seed, half_deltas, hashing_engine, tmp_path, monkeypatch):
    """Random adds, removals and changes, of the base's articles and the delta's, the first and the last: the layered
    index (dead rows, merges when they pass the share) answers as the same updates written whole."""
    chooser = np.random.default_rng(seed)
    pool = _articles(60, seed=100 + seed)
    engine, whole = hashing_engine(index_dir=tmp_path / "layered"), hashing_engine(index_dir=tmp_path / "whole")
    present = pool[:30]
    updates: list[tuple[str, list]] = [("add", present)]
    for step in range(8):
        ids = [article.id for article in present]
        kind = chooser.choice(["remove", "change", "add"])
        if kind == "remove" or len(present) > 40:
            gone = {ids[0], ids[-1]} if step == 3 else set(chooser.choice(ids, size=2, replace=False).tolist())
            updates.append(("remove", sorted(gone)))
            present = [article for article in present if article.id not in gone]
        elif kind == "change":
            picked = present[int(chooser.integers(len(present)))]
            edited = dataclasses.replace(picked, text=f"{picked.text} Step {step}: the court met.")
            updates.append(("add", [edited]))
            present = [edited if article.id == picked.id else article for article in present]
        else:
            fresh = [article for article in pool if article.id not in ids][:2]
            updates.append(("add", fresh))
            present = present + fresh
    for kind, payload in updates:
        for index, layer_from in ((engine, 1), (whole, 10**9)):
            _layers_from(monkeypatch, layer_from)
            index.add_articles(payload) if kind == "add" else index.remove(payload)
        _same_answers(engine, whole)
    assert engine.stats().articles == len(present)
