"""Which FAISS index a build gets: exact search (Flat) while it is cheap, approximate search above a size
(``RANKING.approximate_above_rows``, measured with bench/scale_bench.py recall), FAISS_FACTORY overriding."""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from index.storage import faiss_vectors, generations
from index.storage.faiss_vectors import FaissStore, default_factory, tune_for_recall
from index.storage.vector_base import RowPayload
from index.tuning import RANKING


def test_exact_search_up_to_the_threshold_then_approximate():
    rows = RANKING.approximate_above_rows
    assert default_factory(rows, 384) == "Flat"
    assert default_factory(rows + 1, 384).startswith("IVF")
    assert default_factory(rows + 1, 64) == "Flat"  # an exact search of 64 dimensions costs a sixth
    assert default_factory(rows * 6 + 6, 64).startswith("IVF")
    assert default_factory(1_000_000, 384) == "IVF4096,Flat"  # about 4 sqrt(rows) lists


def test_an_unset_factory_is_chosen_by_size_and_recorded(tmp_path, monkeypatch):
    import faiss

    monkeypatch.setattr(faiss_vectors, "RANKING", dataclasses.replace(RANKING, approximate_above_rows=100))
    vectors = np.random.default_rng(0).standard_normal((300, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    payloads = [RowPayload(f"a{row}", "", "") for row in range(len(vectors))]
    for rows, factory, expected in ((90, "", "Flat"), (300, "", "IVF64,Flat"), (300, "HNSW32", "HNSW32")):
        folder = tmp_path / f"{rows}-{factory}"
        folder.mkdir()
        store = FaissStore.write(folder, vectors[:rows], payloads[:rows], factory)
        assert store.record["factory"] == expected
        kind = type(faiss.downcast_index(store.index)).__name__
        assert kind == {"Flat": "IndexFlat", "IVF64,Flat": "IndexIVFFlat", "HNSW32": "IndexHNSWFlat"}[expected]


def test_a_build_records_the_factory_it_chose(hashing_engine, news_folder):
    engine = hashing_engine()  # FAISS_FACTORY unset: three articles are searched exactly
    engine.update([news_folder], replace_all=True)
    manifest = json.loads((generations.current_generation(engine.index_dir) / "manifest.json").read_text())
    assert manifest["faiss"]["factory"] == manifest["vectors"]["factory"] == "Flat"


def test_search_time_knobs_are_set_for_recall():
    import faiss

    hnsw = faiss.index_factory(8, "HNSW32", faiss.METRIC_INNER_PRODUCT)
    ivf = faiss.index_factory(8, "IVF256,Flat", faiss.METRIC_INNER_PRODUCT)
    tune_for_recall(hnsw)
    tune_for_recall(ivf)
    assert faiss.downcast_index(hnsw).hnsw.efSearch == RANKING.hnsw_ef_search
    assert faiss.extract_index_ivf(ivf).nprobe == RANKING.ivf_probes
