"""An update that only appends articles shares the previous generation's vectors by hard link and writes a delta
(index/layered_vectors.py); what it answers is what a whole build of the same articles answers."""

from __future__ import annotations

import datetime as dt
import os

import numpy as np
import pytest

import index.layered_vectors as layered_vectors
import index.search.keyword_layers as keyword_layers
from index.errors import IndexCorruptError
from index.records import Article
from index.search.keywords import FOLDER as KEYWORDS_FOLDER
from index.storage import generations, store_layers
from index.storage.faiss_vectors import VECTORS_DELTA
from index.storage.row_files import RowFile, StackedRows
from index.storage.vector_base import VectorFilter, VectorStoreSettings
from index.storage.vector_stores import open_vectors
from tests.conftest import generation_files, story_articles

WORDS = (
    *("oil", "port", "ship", "harbour", "army", "council", "election", "court"),
    *("judge", "minister", "budget", "bank", "water", "grid", "school", "road"),
)
OUTLETS = ("Al Jazeera", "BBC News", "Libya Observer")


def _articles(count: int, seed: int) -> list[Article]:
    return story_articles(count, seed, WORDS, outlets=OUTLETS)


@pytest.fixture
def layered(monkeypatch):
    """Layers from the first row on (the default waits for 50,000 rows), a delta of up to half the base."""
    monkeypatch.setattr(layered_vectors, "LAYER_MIN_ROWS", 1)
    monkeypatch.setattr(layered_vectors, "DELTA_SHARE", 0.5)


def _generation(engine):
    return generations.current_generation(engine.index_dir)


def _answers(engine, store_of=None) -> list:
    """What the index answers: search hits, and the vector store's rows with filters."""
    questions = ["Which minister spoke about the budget?", "harbour ship oil port", "election court judge"]
    hits = [[(hit.chunk_id, round(hit.score, 5)) for hit in engine.search(question, k=8)] for question in questions]
    generation = _generation(engine)
    store = open_vectors(generation, generations.read_manifest(generation), VectorStoreSettings())
    vectors = np.asarray(generations.open_embeddings(generation), dtype=np.float32)[:5]
    filtered = []
    for where in (None, VectorFilter(since=dt.date(2024, 1, 20)), VectorFilter(sources=frozenset({"BBC News"}))):
        scores, rows = store.search(vectors, 12, where)
        filtered.append((rows.tolist(), np.round(scores, 5).tolist()))
    return [hits, filtered]


def test_an_append_shares_the_base_and_answers_as_a_whole_build(layered, hashing_engine, tmp_path):
    first, second, third = _articles(30, seed=1), _articles(3, seed=2), _articles(4, seed=3)
    engine = hashing_engine(index_dir=tmp_path / "layered")
    engine.add_articles(first)
    base = _generation(engine)
    base_files = generation_files(base)
    shared = {name: os.stat(base / name).st_ino for name in (generations.EMBEDDINGS, generations.VECTORS)}
    engine.add_articles(second)
    once = _generation(engine)
    assert {name: os.stat(once / name).st_ino for name in shared} == shared
    assert (once / generations.EMBEDDINGS_DELTA).exists() and (once / VECTORS_DELTA).exists()
    assert generation_files(base) == base_files  # the previous generation is not written
    engine.add_articles(third)  # the delta grows: the previous delta's rows and the new ones; the base stays
    twice = _generation(engine)
    assert {name: os.stat(twice / name).st_ino for name in shared} == shared
    manifest = generations.read_manifest(twice)
    delta_rows = manifest["vectors"]["delta"]["rows"]
    assert len(np.load(twice / generations.EMBEDDINGS_DELTA)) == delta_rows
    assert delta_rows + len(np.load(twice / generations.EMBEDDINGS)) == manifest["counts"]["chunks"]

    whole = hashing_engine(index_dir=tmp_path / "whole")
    whole.add_articles(first + second + third)
    assert not (_generation(whole) / generations.EMBEDDINGS_DELTA).exists()
    assert np.array_equal(
        np.asarray(generations.open_embeddings(twice)), np.load(_generation(whole) / generations.EMBEDDINGS)
    )
    assert _answers(engine) == _answers(whole)
    answer = engine.ask("Which minister spoke about the budget?")
    assert answer.found and answer.citations


def test_a_delta_past_its_share_or_a_removal_writes_one_layer_again(layered, hashing_engine, tmp_path):
    first, second, big = _articles(20, seed=4), _articles(2, seed=5), _articles(12, seed=6)
    engine = hashing_engine(index_dir=tmp_path / "layered")
    engine.add_articles(first)
    engine.add_articles(second)
    assert (_generation(engine) / VECTORS_DELTA).exists()
    engine.add_articles(big)  # more than half the base: merged into one layer, as a whole build writes it
    merged = _generation(engine)
    assert not (merged / VECTORS_DELTA).exists() and not (merged / generations.EMBEDDINGS_DELTA).exists()
    whole = hashing_engine(index_dir=tmp_path / "whole")
    whole.add_articles(first + second + big)
    vector_files = (generations.EMBEDDINGS, generations.VECTORS, "vector-rows.npz")
    for name in vector_files:
        assert (merged / name).read_bytes() == (_generation(whole) / name).read_bytes()
    engine.add_articles(_articles(2, seed=7))
    assert (_generation(engine) / VECTORS_DELTA).exists()
    engine.remove([first[0].id])  # rows move: every vector is written again
    assert not (_generation(engine) / VECTORS_DELTA).exists()


def test_a_removal_or_a_change_in_the_delta_keeps_the_base(layered, hashing_engine, tmp_path, monkeypatch):
    """Removing or changing a recent article (one of the delta's) writes the deltas again and shares every base (the
    vectors, the store, the keyword index); the index answers as one that went through the same updates written
    whole each time."""
    monkeypatch.setattr(keyword_layers, "DELTA_SHARE", 0.5)
    monkeypatch.setattr(store_layers, "DELTA_SHARE", 0.5)
    first, second, third = _articles(30, seed=12), _articles(3, seed=13), _articles(4, seed=14)
    changed = Article(third[0].id, third[0].title, third[0].text + " The port reopened.", third[0].source)
    updates = [("add", first), ("add", second), ("add", third), ("remove", [second[1].id]), ("add", [changed])]
    engine, whole = hashing_engine(index_dir=tmp_path / "layered"), hashing_engine(index_dir=tmp_path / "whole")
    shared = (generations.VECTORS, generations.STORE, f"{KEYWORDS_FOLDER}/{keyword_layers.INDPTR}")
    for step, (kind, payload) in enumerate(updates):
        for index, layer_from in ((engine, 1), (whole, 10**9)):
            monkeypatch.setattr(layered_vectors, "LAYER_MIN_ROWS", layer_from)
            monkeypatch.setattr(keyword_layers, "LAYER_MIN_ROWS", layer_from)
            index.add_articles(payload) if kind == "add" else index.remove(payload)
        inodes = {name: os.stat(_generation(engine) / name).st_ino for name in shared}
        if step == 0:
            base_inodes = inodes
        else:
            assert inodes == base_inodes
            assert (_generation(engine) / VECTORS_DELTA).exists()
            assert not (_generation(whole) / VECTORS_DELTA).exists()
        assert np.array_equal(
            np.asarray(generations.open_embeddings(_generation(engine))),
            np.load(_generation(whole) / generations.EMBEDDINGS),
        )
        assert _answers(engine) == _answers(whole)
    monkeypatch.setattr(layered_vectors, "LAYER_MIN_ROWS", 1)
    engine.remove([first[3].id])  # a row of the base goes: one layer again
    assert not (_generation(engine) / VECTORS_DELTA).exists()


def test_removing_every_article_of_the_delta_writes_one_layer(layered, hashing_engine, tmp_path, monkeypatch):
    """No file is left with an empty delta: removing the delta's last articles writes each file whole again."""
    monkeypatch.setattr(keyword_layers, "LAYER_MIN_ROWS", 1)
    monkeypatch.setattr(keyword_layers, "DELTA_SHARE", 0.5)
    monkeypatch.setattr(store_layers, "DELTA_SHARE", 0.5)
    first, second = _articles(30, seed=15), _articles(3, seed=16)
    engine = hashing_engine(index_dir=tmp_path / "layered")
    engine.add_articles(first)
    engine.add_articles(second)
    assert (_generation(engine) / VECTORS_DELTA).exists()
    engine.remove([article.id for article in second])
    generation = _generation(engine)
    assert not (generation / VECTORS_DELTA).exists() and not (generation / generations.STORE_DELTA).exists()
    assert not (generation / KEYWORDS_FOLDER / keyword_layers.DELTA_INDPTR).exists()
    whole = hashing_engine(index_dir=tmp_path / "whole")
    whole.add_articles(first)
    assert (generation / generations.EMBEDDINGS).read_bytes() == (
        _generation(whole) / generations.EMBEDDINGS
    ).read_bytes()
    assert engine.stats().articles == 30


def test_a_damaged_delta_is_a_damaged_index(layered, hashing_engine, tmp_path):
    engine = hashing_engine(index_dir=tmp_path / "layered")
    engine.add_articles(_articles(20, seed=8))
    engine.add_articles(_articles(2, seed=9))
    generation = _generation(engine)
    delta = generation / generations.EMBEDDINGS_DELTA
    rows = np.load(delta)
    np.save(delta, rows[:-1])  # one row short
    with pytest.raises(IndexCorruptError):
        generations.check_generation(generation)
    np.save(delta, rows)
    (generation / VECTORS_DELTA).unlink()
    with pytest.raises(IndexCorruptError):
        open_vectors(generation, generations.read_manifest(generation), VectorStoreSettings())


def test_small_indexes_write_one_layer(hashing_engine, tmp_path):
    engine = hashing_engine(index_dir=tmp_path / "index")
    engine.add_articles(_articles(10, seed=10))
    engine.add_articles(_articles(1, seed=11))
    assert not (_generation(engine) / generations.EMBEDDINGS_DELTA).exists()


def test_stacked_rows_read_as_one_array(tmp_path):
    rng = np.random.default_rng(0)
    base, delta = rng.normal(size=(70, 8)).astype(np.float32), rng.normal(size=(9, 8)).astype(np.float32)
    np.save(tmp_path / "base.npy", base)
    stacked = StackedRows([RowFile.npy(tmp_path / "base.npy"), delta])
    whole = np.concatenate([base, delta])
    assert stacked.shape == whole.shape and len(stacked) == 79
    assert np.array_equal(stacked[65:75], whole[65:75]) and np.array_equal(np.asarray(stacked), whole)
    rows = np.array([78, 0, 69, 70, 3, 71])
    assert np.array_equal(stacked[rows], whole[rows])
    assert np.array_equal(stacked.read(60, 19), whole[60:79])
    with pytest.raises(IndexError):
        stacked[np.array([79])]
    stacked.close()
