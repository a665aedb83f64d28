"""A question's FAISS search runs on one OpenMP thread (issue 16: splitting one query's scan across threads
made the 100k-chunk Flat search 10-20x slower on a busy 2-core machine), in the searching thread only, and
finds the same rows in the same order as the multi-threaded search and as an exact numpy scan."""

from __future__ import annotations

import threading

import faiss
import numpy as np
import pytest

from index.storage import faiss_vectors
from index.storage.faiss_vectors import FaissStore, build_faiss_index, one_thread


@pytest.fixture
def two_threads():
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(2)
    yield
    faiss.omp_set_num_threads(before)


def unit_rows(count: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, 32)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_one_thread_holds_only_while_searching_and_only_in_this_thread(two_threads):
    seen: dict[str, int] = {}

    def elsewhere() -> None:
        seen["other thread"] = faiss.omp_get_max_threads()

    with one_thread(1):
        seen["inside"] = faiss.omp_get_max_threads()
        other = threading.Thread(target=elsewhere)
        other.start()
        other.join()
    with one_thread(faiss_vectors.SMALL_BATCH):  # a batch (a build's search) keeps every thread
        seen["batch"] = faiss.omp_get_max_threads()
    seen["after"] = faiss.omp_get_max_threads()
    assert seen == {"inside": 1, "other thread": 2, "batch": 2, "after": 2}


def test_one_thread_is_restored_when_the_search_fails(two_threads):
    with pytest.raises(RuntimeError), one_thread(1):
        raise RuntimeError("the search failed")
    assert faiss.omp_get_max_threads() == 2


@pytest.mark.parametrize("factory", ["Flat", "HNSW32"])
def test_a_question_finds_the_rows_a_multithreaded_search_finds(two_threads, monkeypatch, factory):
    """The same rows, in the same order but for rows whose scores tie to float32 rounding (the multi-threaded
    scan rounds its sums differently: one unit in the last place, which can swap two rows that close)."""
    vectors, queries = unit_rows(20_000, 0), unit_rows(40, 1)
    store = FaissStore(build_faiss_index(vectors, factory), None, {})
    single = [store.search(query[None], 100) for query in queries]
    monkeypatch.setattr(faiss_vectors, "SMALL_BATCH", 0)  # every search on all threads, as before
    shared = [store.search(query[None], 100) for query in queries]
    for query, (one_scores, one_rows), (all_scores, all_rows) in zip(queries, single, shared):
        np.testing.assert_allclose(one_scores, all_scores, rtol=0, atol=1e-6)
        assert set(one_rows[0]) == set(all_rows[0])
        exact = vectors.astype(np.float64) @ query.astype(np.float64)
        np.testing.assert_allclose(exact[one_rows[0]], exact[all_rows[0]], rtol=0, atol=1e-6)  # swaps are ties


def test_a_flat_question_finds_the_exact_nearest_rows_in_order(two_threads):
    vectors, queries = unit_rows(20_000, 2), unit_rows(40, 3)
    store = FaissStore(build_faiss_index(vectors, "Flat"), None, {})
    for query in queries:
        scores, rows = store.search(query[None], 50)
        exact = vectors.astype(np.float64) @ query.astype(np.float64)
        assert np.array_equal(rows[0], np.argsort(-exact, kind="stable")[:50])
        np.testing.assert_allclose(scores[0], exact[rows[0]], rtol=0, atol=1e-6)
