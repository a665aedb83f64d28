"""A build's vectors held once (issue 16): the row vectors written to their file a block at a time and read back
from it by FAISS and the densities, the sentence vectors put in key order with file reads, the coarse density
index in 8-bit codes. The files are those the whole arrays gave."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import faiss
import numpy as np
import pytest

from index import carry_over
from index.search import hubness
from index.storage import faiss_vectors, row_files, sentence_vectors
from index.storage.row_files import NpyWriter, RowFile
from index.storage.sentence_vectors import FOLDER, open_sentences, sentence_keys, write_sentences
from index.storage.vector_base import RowPayload, VectorStoreSettings
from index.storage.vector_stores import write_vectors

PROJECT = Path(__file__).resolve().parent.parent


def _unit(rows: int, dimension: int, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(rows, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_a_file_written_in_blocks_is_what_np_save_writes_and_reads_back_by_rows(tmp_path):
    vectors = _unit(1000, 7)
    np.save(tmp_path / "whole.npy", vectors)
    with NpyWriter(tmp_path / "blocks.npy", np.float32, (7,), 1000) as out:
        for start in range(0, 1000, 333):
            out.write(vectors[start : start + 333])
    assert (tmp_path / "blocks.npy").read_bytes() == (tmp_path / "whole.npy").read_bytes()
    rows = RowFile.npy(tmp_path / "blocks.npy")
    assert rows.shape == (1000, 7) and len(rows) == 1000
    np.testing.assert_array_equal(rows[10:20], vectors[10:20])
    chosen = np.array([5, 6, 7, 3, 999, 0, 1, 500])
    np.testing.assert_array_equal(rows[chosen], vectors[chosen])
    np.testing.assert_array_equal(np.asarray(rows), vectors)
    assert rows[0:0].shape == (0, 7)
    mapped = RowFile.of(np.load(tmp_path / "whole.npy", mmap_mode="r"))
    assert isinstance(mapped, RowFile)
    np.testing.assert_array_equal(mapped[chosen], vectors[chosen])
    with pytest.raises(ValueError), NpyWriter(tmp_path / "short.npy", np.float32, (7,), 10) as out:
        out.write(vectors[:9])


@pytest.mark.parametrize("order", ["kept first", "shuffled"])
def test_carried_vectors_write_the_rows_np_save_wrote(tmp_path, monkeypatch, order):
    rng = np.random.default_rng(1)
    old = _unit(300, 16, seed=2)
    np.save(tmp_path / "old.npy", old)
    old_row_of = np.full(500, -1, dtype=np.int64)
    kept = np.arange(300) if order == "kept first" else rng.permutation(500)[:300]
    old_row_of[np.sort(kept)] = np.arange(300) if order == "kept first" else rng.permutation(300)
    fresh = _unit(200, 16, seed=3)
    whole = np.zeros((500, 16), dtype=np.float32)  # the array the build held before
    whole[old_row_of >= 0] = old[old_row_of[old_row_of >= 0]]
    whole[old_row_of < 0] = fresh
    np.save(tmp_path / "expected.npy", whole)
    monkeypatch.setattr(row_files, "BLOCK_ROWS", 64)
    mapped = np.load(tmp_path / "old.npy", mmap_mode="r")
    rows = carry_over.carried_vectors(mapped, old_row_of, fresh, 16, tmp_path / "embeddings.npy")
    assert (tmp_path / "embeddings.npy").read_bytes() == (tmp_path / "expected.npy").read_bytes()
    np.testing.assert_array_equal(rows[np.arange(500)], whole)


@pytest.mark.parametrize("factory", ["Flat", "IVF16,Flat"])
def test_faiss_reads_a_row_file_into_the_index_one_add_makes(tmp_path, monkeypatch, factory):
    vectors = _unit(2000, 8)
    np.save(tmp_path / "embeddings.npy", vectors)
    payloads = [RowPayload(f"a{row}", "2024-01-02", "outlet") for row in range(2000)]
    (tmp_path / "whole").mkdir()
    (tmp_path / "blocks").mkdir()
    write_vectors(tmp_path / "whole", vectors, payloads, VectorStoreSettings(), factory)
    monkeypatch.setattr(faiss_vectors, "ADD_ROWS", 300)
    store = write_vectors(
        tmp_path / "blocks", RowFile.npy(tmp_path / "embeddings.npy"), payloads, VectorStoreSettings(), factory
    )
    for name in ("vectors.faiss", "vector-rows.npz"):
        assert (tmp_path / "blocks" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()
    assert store.count == 2000


def test_densities_read_from_a_row_file_are_those_of_the_array(tmp_path):
    vectors = _unit(600, 8)
    np.save(tmp_path / "embeddings.npy", vectors)
    documents = [(f"title {row // 3}", f"story {row // 3}") for row in range(600)]
    flat = faiss.IndexFlatIP(8)
    flat.add(vectors)
    whole = hubness.neighbourhood_density(flat, vectors, documents, 5)
    from_file = hubness.neighbourhood_density(flat, RowFile.npy(tmp_path / "embeddings.npy"), documents, 5)
    np.testing.assert_array_equal(from_file, whole)
    changed = np.array([3, 4, 5, 100, 599])
    previous = np.where(np.isin(np.arange(600), changed), np.nan, whole).astype(np.float32)
    again = hubness.neighbourhood_density(
        flat, RowFile.npy(tmp_path / "embeddings.npy"), documents, 5, previous, changed
    )
    np.testing.assert_array_equal(again, hubness.neighbourhood_density(flat, vectors, documents, 5, previous, changed))


def test_the_coarse_density_index_keeps_8_bit_codes():
    vectors = _unit(3000, 16)
    index = hubness._coarse_search(vectors)
    ivf = faiss.extract_index_ivf(index)
    assert index.ntotal == 3000 and ivf.code_size == 16  # one byte a dimension, not four


def _embed_by_text(group: list[str]) -> np.ndarray:
    """Vectors that depend on each text alone (not on its batch)."""
    return np.stack(
        [np.random.default_rng(int(key) % 2**32).random(8, dtype=np.float32) for key in sentence_keys(group)]
    )


@pytest.mark.parametrize("keep_previous", [True, False])
def test_sentence_vectors_in_small_blocks_are_the_files_of_one_block(tmp_path, monkeypatch, keep_previous):
    texts = [f"sentence number {number % 700}." for number in range(1000)]  # 700 distinct, some met again
    kinds = {"passages": _embed_by_text, "queries": _embed_by_text}
    for folder in ("previous", "whole", "small"):
        (tmp_path / folder).mkdir()
    write_sentences(tmp_path / "previous", texts[::3], 8, kinds)
    previous = open_sentences(tmp_path / "previous", 8)
    whole = write_sentences(tmp_path / "whole", texts, 8, kinds, previous, keep_previous)
    monkeypatch.setattr(sentence_vectors, "COPY_ROWS", 7)
    small = write_sentences(tmp_path / "small", texts, 8, kinds, previous, keep_previous, batch=3)
    assert whole == small == {"sentences": 700, "reused": len(set(texts[::3])), "embedded": 700 - len(set(texts[::3]))}
    for name in ("keys.npy", "passages.npy", "queries.npy"):
        assert (tmp_path / "whole" / FOLDER / name).read_bytes() == (tmp_path / "small" / FOLDER / name).read_bytes()
    assert sorted(path.name for path in (tmp_path / "small" / FOLDER).iterdir()) == [
        "keys.npy",
        "passages.npy",
        "queries.npy",
    ]  # the spilled files are gone
    stored = open_sentences(tmp_path / "small", 8)
    found, vectors = stored.lookup("queries", texts[:50])
    assert found.all()
    np.testing.assert_array_equal(vectors, _embed_by_text(texts[:50]))


def _growth_of(script: str) -> float:
    """How far (MB) a new process's resident memory went above what it was when ``script`` called ``start()``
    (its high-water mark reset then: ``/proc/self/clear_refs``)."""
    preamble = """
import sys
from pathlib import Path
import numpy as np

def resident_mb():
    with open("/proc/self/status", encoding="ascii") as status:
        return {line.split(":")[0]: int(line.split()[1]) / 1024 for line in status if line.startswith("Vm")}

def start():
    global before
    with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
        clear.write("5")  # the high-water mark (VmHWM) back to the resident memory now
    before = resident_mb()["VmRSS"]
"""
    ending = """
print(resident_mb()["VmHWM"] - before)
"""
    result = subprocess.run(
        [sys.executable, "-c", preamble + textwrap.dedent(script) + ending],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip().splitlines()[-1])


def test_putting_sentence_vectors_in_key_order_does_not_hold_the_spilled_files(tmp_path):
    # 200,000 new sentences of 64 dimensions spill 51 MB a kind; mapped and touched, they would count in memory
    growth = _growth_of(
        f"""
        from index.storage import sentence_vectors
        sentence_vectors.COPY_ROWS = 4096
        rng = np.random.default_rng(0)

        def embed(texts):
            return rng.random((len(texts), 64), dtype=np.float32)

        texts = (f"sentence {{number}}" for number in range(200_000))
        start()
        sentence_vectors.write_sentences(Path({str(tmp_path)!r}), texts, 64, {{"passages": embed, "queries": embed}})
        """
    )
    assert growth < 30, f"{growth:.0f} MB"  # keys, a batch, a block: not the 51 MB of a spilled file


def test_a_build_holds_its_row_vectors_once_beside_faiss(tmp_path):
    # 200,000 rows of 64 dimensions are 51 MB: once in the embedder's output, once in FAISS, not in between
    growth = _growth_of(
        f"""
        from index.carry_over import carried_vectors
        from index.storage.vector_base import RowPayload, VectorStoreSettings
        from index.storage.vector_stores import write_vectors

        folder = Path({str(tmp_path)!r})
        fresh = np.random.default_rng(0).random((200_000, 64), dtype=np.float32)
        payloads = [RowPayload("a", "", "outlet")] * len(fresh)
        start()
        vectors = carried_vectors(None, np.full(len(fresh), -1), fresh, 64, folder / "embeddings.npy")
        del fresh
        store = write_vectors(folder, vectors, payloads, VectorStoreSettings(), "Flat")
        """
    )
    assert growth < 35, f"{growth:.0f} MB"  # a block of rows and the payloads' columns: no second 51 MB copy
