"""A whole vector layer written from the previous generation's trained IVF index (storage/ivf_carry.py): the
same index, byte for byte, as adding every row in row order to that trained empty index, without training."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

import index.layered_vectors as layered_vectors
from index.records import Article, Changes
from index.storage import generations, ivf_carry
from index.storage.faiss_vectors import build_faiss_index, save_faiss_index
from index.storage.ivf_carry import PreviousVectors, carried_ivf
from index.storage.row_files import RowFile
from tests.conftest import generation_files, story_articles

WORDS = ["minister", "budget", "harbour", "ship", "oil", "port", "election", "court", "judge", "river"]

DIMENSION = 16


def _rows(rng, count: int) -> np.ndarray:
    rows = rng.standard_normal((count, DIMENSION)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _previous(folder: Path, vectors: np.ndarray, factory: str, store: str = "faiss") -> Path:
    """A previous generation's folder holding only what the carry-over reads: its manifest and FAISS index."""
    folder.mkdir(parents=True)
    save_faiss_index(build_faiss_index(vectors, factory), folder / generations.VECTORS)
    record = {"store": store, "file": generations.VECTORS, "factory": factory}
    (folder / generations.MANIFEST).write_text(json.dumps({"vectors": record}))
    return folder


def _added_in_row_order(previous: Path, vectors: np.ndarray):
    """What ``add`` of every row, in row order, makes from the previous index's trained empty index."""
    import faiss

    index = faiss.read_index(str(previous / generations.VECTORS))
    index.reset()
    index.add(vectors)
    return index


def _serialized(index) -> bytes:
    import faiss

    return faiss.serialize_index(index).tobytes()


def _update(rng, old: np.ndarray, base_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """An update's rows and ``old_row_of``: a tenth of the old rows removed, some moved, 150 new rows among
    them; rows from ``base_rows`` on are the previous generation's delta rows (not in its IVF lists)."""
    kept = np.sort(rng.choice(len(old), size=len(old) * 9 // 10, replace=False))
    moved = rng.choice(len(kept), size=40, replace=False)
    kept[moved] = kept[rng.permutation(moved)]  # a few articles change places
    old_row_of = np.concatenate([kept, np.full(150, -1)])
    old_row_of = old_row_of[rng.permutation(len(old_row_of))]
    fresh = _rows(rng, len(old_row_of))
    vectors = np.where((old_row_of >= 0)[:, None], old[np.maximum(old_row_of, 0)], fresh)
    assert base_rows <= len(old)
    return vectors.astype(np.float32), old_row_of.astype(np.int64)


@pytest.mark.parametrize("factory", ["IVF16,Flat", "IVF16,SQ8", "IVF8,PQ4"])
@pytest.mark.parametrize("layered", [False, True])
def test_carried_index_is_the_trained_empty_index_filled_in_row_order(tmp_path, factory, layered):
    rng = np.random.default_rng(3)
    old = _rows(rng, 3000)
    base_rows = 2600 if layered else len(old)  # a layered previous: its last rows in a delta, not in the IVF
    previous = _previous(tmp_path / "previous", old[:base_rows], factory)
    vectors, old_row_of = _update(rng, old, base_rows)
    carried = carried_ivf(PreviousVectors(previous, old_row_of), vectors, factory)
    assert carried is not None
    expected = _added_in_row_order(previous, vectors)
    assert carried.ntotal == len(vectors)
    assert _serialized(carried) == _serialized(expected)


def test_rows_read_from_a_file_give_the_same_index(tmp_path):
    rng = np.random.default_rng(4)
    old = _rows(rng, 3000)
    previous = _previous(tmp_path / "previous", old, "IVF16,Flat")
    vectors, old_row_of = _update(rng, old, len(old))
    np.save(tmp_path / "rows.npy", vectors)
    rows = RowFile.npy(tmp_path / "rows.npy")
    try:
        carried = carried_ivf(PreviousVectors(previous, old_row_of), rows, "IVF16,Flat")
    finally:
        rows.close()
    assert _serialized(carried) == _serialized(_added_in_row_order(previous, vectors))


def test_the_carried_index_finds_what_a_search_of_every_row_finds(tmp_path):
    import faiss

    rng = np.random.default_rng(5)
    old = _rows(rng, 3000)
    previous = _previous(tmp_path / "previous", old, "IVF16,Flat")
    vectors, old_row_of = _update(rng, old, len(old))
    carried = carried_ivf(PreviousVectors(previous, old_row_of), vectors, "IVF16,Flat")
    carried.nprobe = 16  # every list: an exact search
    exact = faiss.IndexFlatIP(DIMENSION)
    exact.add(vectors)
    queries = _rows(rng, 20)
    assert np.array_equal(carried.search(queries, 5)[1], exact.search(queries, 5)[1])


def test_mismatches_train_again(tmp_path):
    rng = np.random.default_rng(6)
    old = _rows(rng, 3000)
    vectors, old_row_of = _update(rng, old, len(old))
    ivf = PreviousVectors(_previous(tmp_path / "ivf", old, "IVF16,Flat"), old_row_of)
    assert carried_ivf(ivf, vectors, "IVF32,Flat") is None  # another factory
    assert carried_ivf(ivf, vectors[:, :8].copy(), "IVF16,Flat") is None  # another dimension
    assert carried_ivf(ivf, vectors[:50], "IVF16,Flat") is None  # too few rows: a whole build writes Flat
    flat = PreviousVectors(_previous(tmp_path / "flat", old, "Flat"), old_row_of)
    assert carried_ivf(flat, vectors, "Flat") is None  # no IVF base
    hnsw = PreviousVectors(_previous(tmp_path / "hnsw", old, "HNSW8"), old_row_of)
    assert carried_ivf(hnsw, vectors, "HNSW8") is None
    qdrant = PreviousVectors(_previous(tmp_path / "qdrant", old, "IVF16,Flat", store="qdrant"), old_row_of)
    assert carried_ivf(qdrant, vectors, "IVF16,Flat") is None
    fast_scan = PreviousVectors(_previous(tmp_path / "fs", old, "IVF16,PQ4x4fs"), old_row_of)
    assert carried_ivf(fast_scan, vectors, "IVF16,PQ4x4fs") is None  # codes packed in blocks


def test_a_damaged_previous_index_trains_again(tmp_path):
    rng = np.random.default_rng(7)
    old = _rows(rng, 3000)
    vectors, old_row_of = _update(rng, old, len(old))
    previous = _previous(tmp_path / "previous", old, "IVF16,Flat")
    path = previous / generations.VECTORS
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert carried_ivf(PreviousVectors(previous, old_row_of), vectors, "IVF16,Flat") is None


def test_lists_naming_rows_outside_the_index_train_again(tmp_path, monkeypatch):
    rng = np.random.default_rng(8)
    old = _rows(rng, 3000)
    vectors, old_row_of = _update(rng, old, len(old))
    previous = _previous(tmp_path / "previous", old, "IVF16,Flat")
    real_view = ivf_carry._view

    def shifted(pointer, count, dtype):
        found = real_view(pointer, count, dtype)
        return found + len(old) if dtype is np.int64 and count else found

    monkeypatch.setattr(ivf_carry, "_view", shifted)
    assert carried_ivf(PreviousVectors(previous, old_row_of), vectors, "IVF16,Flat") is None


def _articles(count: int, seed: int) -> list[Article]:
    return story_articles(count, seed, WORDS, sentence_words=10, sentences=4)


def _filled_again(previous: Path, generation: Path) -> bytes:
    """The generation's rows added in row order to the previous generation's trained IVF index, emptied."""
    return _serialized(_added_in_row_order(previous, np.load(generation / generations.EMBEDDINGS)))


def _saved(generation: Path) -> bytes:
    return (generation / generations.VECTORS).read_bytes()


def _kept(generation: Path, folder: Path) -> Path:
    """A copy of the generation's FAISS index (the generation is deleted two updates later)."""
    folder.mkdir()
    (folder / generations.VECTORS).write_bytes(_saved(generation))
    return folder


def test_a_removal_and_a_change_fill_the_previous_trained_index_again(hashing_engine, tmp_path):
    engine = hashing_engine(faiss_factory="IVF4,Flat")
    articles = _articles(300, seed=1)
    engine.add_articles(articles)
    first = generations.current_generation(engine.index_dir)
    first_files = generation_files(first, skip=())

    engine.remove([articles[3].id, articles[150].id])
    second = generations.current_generation(engine.index_dir)
    assert second != first and generation_files(first, skip=()) == first_files  # the previous one is not written
    trained = _kept(first, tmp_path / "trained")
    assert _saved(second) == _filled_again(trained, second)  # not trained again: the previous centroids, filled

    changed = dataclasses.replace(articles[10], text=articles[10].text + " A line added.")
    engine.add_articles([changed, *_articles(3, seed=2)])  # a changed article moves rows: one whole layer again
    third = generations.current_generation(engine.index_dir)
    assert _saved(third) == _filled_again(trained, third)


def test_a_layered_previous_generations_delta_rows_are_encoded(hashing_engine, tmp_path, monkeypatch):
    monkeypatch.setattr(layered_vectors, "LAYER_MIN_ROWS", 1)
    monkeypatch.setattr(layered_vectors, "DELTA_SHARE", 0.5)
    engine = hashing_engine(faiss_factory="IVF4,Flat")
    articles = _articles(300, seed=1)
    engine.add_articles(articles)
    trained = _kept(generations.current_generation(engine.index_dir), tmp_path / "trained")
    engine.add_articles(_articles(20, seed=3))  # a delta on the first generation's base
    layered = generations.current_generation(engine.index_dir)
    assert (layered / generations.EMBEDDINGS_DELTA).exists()

    engine.remove([articles[0].id])  # the delta's rows are not in the base's lists: assigned and encoded
    removed = generations.current_generation(engine.index_dir)
    assert not (removed / generations.EMBEDDINGS_DELTA).exists()
    assert _saved(removed) == _filled_again(trained, removed)


def test_another_factory_trains_its_own_index(hashing_engine, tmp_path):
    import faiss

    articles = _articles(300, seed=1)
    engine = hashing_engine(faiss_factory="IVF4,Flat")
    engine.add_articles(articles)
    engine.close()
    engine = hashing_engine(faiss_factory="IVF8,Flat")
    engine.remove([articles[0].id])
    index = faiss.read_index(str(generations.current_generation(engine.index_dir) / generations.VECTORS))
    assert index.nlist == 8 and index.ntotal == index.invlists.compute_ntotal()


def test_a_rebuild_trains_afresh(hashing_engine, tmp_path):
    """`build` (every article listed again) is the way to new centroids: it trains, as a first build does (300 rows:
    enough to train an IVF index, ``ivf_carry.training_points_needed``)."""
    articles = _articles(400, seed=1)
    engine = hashing_engine(faiss_factory="IVF4,Flat")
    engine.add_articles(articles)
    trained = _kept(generations.current_generation(engine.index_dir), tmp_path / "trained")
    engine.apply(Changes(articles[:300], replace_all=True))
    rebuilt = generations.current_generation(engine.index_dir)

    fresh = hashing_engine(index_dir=tmp_path / "fresh", faiss_factory="IVF4,Flat")
    fresh.add_articles(articles[:300])
    assert _saved(rebuilt) == _saved(generations.current_generation(fresh.index_dir))
    assert _saved(rebuilt) != _filled_again(trained, rebuilt)
