"""Hubness: each chunk's neighbourhood density and the penalty the search takes off."""

from __future__ import annotations

import json

import faiss
import numpy as np

from index.search.hubness import FILE, load_penalty, neighbourhood_density, save_density
from index.search.retrieval import OpenIndex
from index.storage import generations
from index.tuning import RANKING


def _unit(rows: list[list[float]]) -> np.ndarray:
    vectors = np.array(rows, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _density(vectors: np.ndarray, documents: list[tuple], neighbours: int = 2) -> np.ndarray:
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    return neighbourhood_density(index, vectors, documents, neighbours)


def test_a_chunk_close_to_many_documents_is_denser_than_an_outlier():
    vectors = _unit([[1, 0.1, 0], [1, 0.2, 0], [1, 0, 0.2], [1, 0.1, 0.1], [0, 0, 1]])
    documents = [(f"title {i}", f"story {i}") for i in range(5)]
    density = _density(vectors, documents)
    assert density[3] > density[4] and np.argmax(density) != 4
    assert abs(density[4] - np.sort(vectors[:4] @ vectors[4])[-2:].mean()) < 1e-5  # its 2 nearest others


def test_chunks_of_the_same_document_are_not_neighbours():
    # rows 0 and 1 are near copies; as two documents they crowd each other, as one they do not
    vectors = _unit([[1, 0, 0], [1, 0.05, 0], [0, 1, 0], [0, 0, 1]])
    apart = _density(vectors, [("a", "s1"), ("b", "s2"), ("c", "s3"), ("d", "s4")], neighbours=1)
    same_title = _density(vectors, [("a", "s1"), ("a", "s2"), ("c", "s3"), ("d", "s4")], neighbours=1)
    same_story = _density(vectors, [("a", "s1"), ("b", "s1"), ("c", "s3"), ("d", "s4")], neighbours=1)
    assert apart[0] > 0.99
    assert same_title[0] < 0.1 and same_story[0] < 0.1


def test_one_document_has_no_penalty(tmp_path):
    vectors = _unit([[1, 0, 0], [1, 0.3, 0], [0.5, 1, 0]])
    density = _density(vectors, [("only", "s")] * 3)
    save_density(density, tmp_path)
    assert np.all(load_penalty(tmp_path) == 0)


def test_search_takes_the_penalty_off_and_reorders(hashing_engine, news_folder):
    engine = hashing_engine()
    engine.update([news_folder], replace_all=True)
    generation = generations.current_generation(engine.index_dir)
    assert (generation / FILE).exists()
    assert json.loads((generation / generations.MANIFEST).read_text())["hubness"]["neighbours"] == 10
    query = engine.embedder.embed_queries(["olive oil prices in Europe"])[0]
    cosines = np.load(generation / generations.EMBEDDINGS) @ query
    first, second = np.argsort(-cosines)[:2]
    density = np.zeros(len(cosines), np.float32)
    density[first] = (
        2 * (cosines[first] - cosines[second]) / RANKING.hubness_weight + 0.1
    )  # crowded enough to fall behind the second
    save_density(density, generation)
    penalised = OpenIndex(generation)
    ranked = penalised.nearest(query, 3)
    assert ranked[0][0] == second and first in [row for row, _ in ranked]
    penalty = load_penalty(generation)
    assert penalty[first] > 0 and abs(dict(ranked)[first] - (cosines[first] - penalty[first])) < 1e-5
    assert abs(penalised.cosines(query, np.array([first]))[0] - dict(ranked)[first]) < 1e-5


def test_a_large_build_searches_a_coarse_index_whose_densities_stay_close_to_exact(monkeypatch):
    """Above EXACT_ROWS every row's density is searched in an approximate index (IVF, 8-bit codes), not in the
    build's own index: the same densities to within a few thousandths, in the same order."""
    from index.search import hubness

    rng = np.random.default_rng(7)
    centres = rng.normal(size=(40, 32))
    vectors = centres[rng.integers(0, 40, size=6000)] + 0.6 * rng.normal(size=(6000, 32))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    documents = [(f"title {i // 3}", f"story {i // 3}") for i in range(len(vectors))]  # 3 chunks a document
    exact = _density(vectors, documents, neighbours=10)

    searched = []

    class Counting:  # the build's own index: the coarse search must not use it
        def __init__(self, inner):
            self.inner = inner

        def search(self, queries, k):
            searched.append(len(queries))
            return self.inner.search(queries, k)

    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    monkeypatch.setattr(hubness, "EXACT_ROWS", 1000)
    coarse = neighbourhood_density(Counting(flat), vectors, documents, 10)
    assert searched == []
    assert np.abs(coarse - exact).mean() < 0.005 and np.abs(coarse - exact).max() < 0.05
    assert np.corrcoef(coarse, exact)[0, 1] > 0.99
    assert not np.array_equal(coarse, exact)  # it did search another index


class _Counting:
    """A FAISS index that counts the rows it is asked to search for."""

    def __init__(self, index) -> None:
        self.index, self.queries = index, 0

    def search(self, queries: np.ndarray, k: int):
        self.queries += len(queries)
        return self.index.search(queries, k)


def test_an_update_skips_the_rows_no_new_row_outranks_and_their_densities_stay_exact():
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(12, 16))
    vectors = centres[rng.integers(0, 12, size=640)] + 0.6 * rng.normal(size=(640, 16))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    documents = [(f"title {row // 3}", f"story {row // 3}") for row in range(640)]
    before = faiss.IndexFlatIP(16)
    before.add(vectors[:600])
    old_floors = np.full(600, np.nan, dtype=np.float32)
    old = neighbourhood_density(before, vectors[:600], documents[:600], 5, floors=old_floors)
    assert np.isfinite(old_floors).all()
    index = faiss.IndexFlatIP(16)
    index.add(vectors)
    previous = np.concatenate([old, np.full(40, np.nan, dtype=np.float32)])
    changed = np.arange(600, 640)
    unfiltered, filtered = _Counting(index), _Counting(index)
    expected = neighbourhood_density(unfiltered, vectors, documents, 5, previous, changed)
    floors = np.concatenate([old_floors, np.full(40, np.nan, dtype=np.float32)])
    density = neighbourhood_density(filtered, vectors, documents, 5, previous, changed, floors=floors)
    np.testing.assert_allclose(density, expected, atol=1e-6)  # the rows skipped would have kept their density
    assert filtered.queries < unfiltered.queries  # and some were skipped
    whole_floors = np.full(640, np.nan, dtype=np.float32)
    whole = neighbourhood_density(index, vectors, documents, 5, floors=whole_floors)
    searched = ~np.isclose(floors, np.concatenate([old_floors, np.full(40, np.nan)]), equal_nan=True)
    np.testing.assert_allclose(floors[searched], whole_floors[searched], atol=1e-6)  # searched rows: their new floor
    np.testing.assert_allclose(density[changed], whole[changed], atol=1e-6)


def test_density_batches_are_searched_as_matrix_products_and_the_setting_is_restored():
    rng = np.random.default_rng(4)
    vectors = rng.normal(size=(300, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    documents = [(f"title {row}", f"story {row}") for row in range(300)]
    index = faiss.IndexFlatIP(8)
    index.add(vectors)
    thresholds: list[int] = []

    class Watching:
        def search(self, queries, k):
            thresholds.append(faiss.cvar.distance_compute_blas_threshold)
            return index.search(queries, k)

    before = faiss.cvar.distance_compute_blas_threshold
    density = neighbourhood_density(Watching(), vectors, documents, 5)
    assert thresholds and max(thresholds) <= 20 and faiss.cvar.distance_compute_blas_threshold == before
    scores, _ = index.search(vectors, 6)  # one by one (below the default threshold): the same densities
    np.testing.assert_allclose(density, scores[:, 1:].mean(axis=1), atol=1e-6)
