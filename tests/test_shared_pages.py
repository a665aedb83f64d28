"""What several processes opening one index share: its large files are memory-mapped, not copied
(FAISS vectors, the lexicon, BM25 weights, the keyword lookups), so a second bot or worker process
on the same host adds little private memory (issue 16; measured by bench/scale_bench.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from index.storage import generations
from index.storage.faiss_vectors import load_faiss_index, save_faiss_index

pytestmark = pytest.mark.skipif(not Path("/proc/self/maps").is_file(), reason="reads /proc/self/maps (Linux)")


def mapped_files() -> set[str]:
    return {line.split(None, 5)[5].strip() for line in open("/proc/self/maps") if len(line.split(None, 5)) == 6}


@pytest.mark.parametrize("factory", ["Flat", "HNSW32"])
def test_an_opened_generation_maps_its_files(hashing_engine, news_folder, factory):
    engine = hashing_engine(faiss_factory=factory)
    engine.update([news_folder], replace_all=True)
    opened = engine._index()
    generation = generations.current_generation(engine.index_dir)
    assert opened.search("olive oil", engine.embedder.embed_queries(["olive oil"])[0], 3)
    found = mapped_files()
    wanted = [
        generation / generations.VECTORS,
        generation / "lexicon" / "latin.faiss",
        generation / "keywords" / "data.csc.index.npy",
        generation / "keywords" / "lookup_keys.npy",
    ]
    assert [str(path) for path in wanted if str(path) not in found] == []


@pytest.mark.parametrize("factory", ["Flat", "HNSW32", "IVF4,Flat"])
def test_a_mapped_faiss_index_searches_as_a_read_one(tmp_path, factory):
    import faiss

    vectors = np.random.default_rng(0).standard_normal((400, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = faiss.index_factory(16, factory, faiss.METRIC_INNER_PRODUCT)
    index.train(vectors)
    index.add(vectors)
    save_faiss_index(index, tmp_path / "vectors.faiss")
    read, mapped = load_faiss_index(tmp_path / "vectors.faiss"), load_faiss_index(tmp_path / "vectors.faiss", True)
    assert str(tmp_path / "vectors.faiss") in mapped_files() or sys.platform != "linux"
    for loaded in (read, mapped):
        if factory.startswith("IVF"):
            faiss.extract_index_ivf(loaded).nprobe = 2
    assert all(np.array_equal(a, b) for a, b in zip(read.search(vectors[:20], 5), mapped.search(vectors[:20], 5)))
