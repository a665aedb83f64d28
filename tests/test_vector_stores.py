"""The vector-store seam (issue 16, item 5): one contract suite over FAISS and Qdrant, then whole indexes
built and answered through each store, and the bookkeeping of a Qdrant server's collections.

Qdrant runs in qdrant-client's local mode (``QdrantClient(path=...)``, what ``VECTOR_STORE=qdrant`` without
``QDRANT_URL`` uses) and, for the server's code path (a collection per generation, payload indexes, search
parameters, dropping collections), against a stand-in server: qdrant-client's in-memory mode behind the
server-mode calls. Expected results are computed here by brute force over the vectors."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import sys
from pathlib import Path

import faiss
import numpy as np
import pytest
from qdrant_client import QdrantClient  # the `qdrant` extra; the `test` extra brings it, so CI runs all of this

from index import BuildError, IndexCorruptError, IndexMismatchError, IndexSettings, SettingsError
from index.cli import main
from index.search.hubness import neighbourhood_density
from index.storage import generations, qdrant_vectors
from index.storage.vector_base import RowPayload, VectorFilter, VectorStoreSettings
from index.storage.vector_stores import open_vectors, write_vectors
from tests.conftest import NEWS, write_articles
from tests.test_index_damage import one_line_error

OUTLETS = ("Reuters", "Al Jazeera", "Libya Herald")
SERVER_URL = "http://qdrant.stand-in:6333"  # never contacted: the stand-in server answers for it
FIRST_DAY = dt.date(2024, 1, 1)


class _Unclosable:
    """A client of the stand-in server: closing it leaves the server's collections, as closing a connection does."""

    def __init__(self, client: QdrantClient) -> None:
        self._client = client

    def __getattr__(self, name: str):
        return getattr(self._client, name)

    def close(self) -> None:
        pass


@pytest.fixture
def server(monkeypatch) -> QdrantClient:
    """A stand-in Qdrant server for ``QDRANT_URL=SERVER_URL``: qdrant-client's in-memory mode."""
    stand_in = QdrantClient(":memory:")
    real_connect = qdrant_vectors._connect

    def connect(settings, local_folder, generation=None):
        if local_folder is not None:
            return real_connect(settings, local_folder, generation)
        assert settings.qdrant_url == SERVER_URL
        return _Unclosable(stand_in)

    monkeypatch.setattr(qdrant_vectors, "_connect", connect)
    return stand_in


def _collections(client: QdrantClient) -> set[str]:
    return {collection.name for collection in client.get_collections().collections}


STORES = {
    "faiss": VectorStoreSettings(),
    "qdrant-local": VectorStoreSettings(store="qdrant"),
    "qdrant-server": VectorStoreSettings(store="qdrant", qdrant_url=SERVER_URL),
}


@pytest.fixture(params=list(STORES))
def kind(request) -> str:
    if request.param == "qdrant-server":
        request.getfixturevalue("server")
    return request.param


class Written:
    """A store written into ``folder`` by the seam, and the way to open it again."""

    def __init__(self, kind: str, folder: Path, vectors: np.ndarray, payloads: list[RowPayload]) -> None:
        self.kind, self.folder, self.vectors, self.payloads = kind, folder, vectors, payloads
        folder.mkdir(parents=True, exist_ok=True)
        self.store = write_vectors(folder, vectors, payloads, STORES[kind], "Flat")
        self.manifest = {"vectors": self.store.record, "counts": {"chunks": len(vectors)}}

    def reopen(self, rows: int | None = None):
        manifest = dict(self.manifest, counts={"chunks": len(self.vectors) if rows is None else rows})
        return open_vectors(self.folder, manifest, STORES[self.kind])


def _unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def _data(count: int = 60, dimension: int = 16, seed: int = 0) -> tuple[np.ndarray, list[RowPayload]]:
    """Random unit vectors; every tenth row undated, the others a day apart (dates and datetimes), three outlets."""
    vectors = _unit(np.random.default_rng(seed).normal(size=(count, dimension)))
    payloads = []
    for row in range(count):
        day = FIRST_DAY + dt.timedelta(days=row)
        published = "" if row % 10 == 0 else (f"{day}T08:30:00Z" if row % 2 else day.isoformat())
        payloads.append(RowPayload(f"article-{row // 3}", published, OUTLETS[row % 3]))
    return vectors, payloads


def _queries(count: int = 6, dimension: int = 16) -> np.ndarray:
    return _unit(np.random.default_rng(99).normal(size=(count, dimension)))


def _allows(where: VectorFilter | None, payload: RowPayload) -> bool:
    if where is None:
        return True
    if where.sources is not None and payload.source not in where.sources:
        return False
    if where.since is None and where.until is None:
        return True
    if not payload.published:
        return False
    day = dt.date.fromisoformat(payload.published[:10])
    return (where.since is None or where.since <= day) and (where.until is None or day <= where.until)


def _expected(vectors, payloads, queries, k, where=None) -> tuple[np.ndarray, np.ndarray]:
    """(scores, rows) by brute force: the shape the contract promises, -inf and -1 past the last row found."""
    width = min(k, len(vectors))
    allowed = np.array([row for row, payload in enumerate(payloads) if _allows(where, payload)], dtype=np.int64)
    scores = np.full((len(queries), width), -np.inf, np.float32)
    rows = np.full((len(queries), width), -1, np.int64)
    for i, query in enumerate(queries):
        if not len(allowed):
            continue
        cosines = vectors[allowed] @ query
        order = np.argsort(-cosines, kind="stable")[:width]
        rows[i, : len(order)] = allowed[order]
        scores[i, : len(order)] = cosines[order]
    return scores, rows


def _assert_same(found, expected) -> None:
    (scores, rows), (want_scores, want_rows) = found, expected
    assert scores.dtype == np.float32 and rows.dtype == np.int64
    assert rows.shape == want_rows.shape
    np.testing.assert_array_equal(rows, want_rows)
    np.testing.assert_allclose(scores, want_scores, rtol=0, atol=1e-5)


# The contract ---------------------------------------------------------------------------------------------


def test_exact_neighbours_and_scores(kind, tmp_path):
    vectors, payloads = _data()
    with Written(kind, tmp_path / "gen", vectors, payloads).store as store:
        assert store.count == 60
        _assert_same(store.search(_queries(), 5), _expected(vectors, payloads, _queries(), 5))


def test_k_larger_than_the_count_gives_every_row_in_order(kind, tmp_path):
    vectors, payloads = _data(count=12)
    with Written(kind, tmp_path / "gen", vectors, payloads).store as store:
        found = store.search(_queries(), 1000)
        assert found[1].shape == (6, 12) and sorted(found[1][0]) == list(range(12))
        _assert_same(found, _expected(vectors, payloads, _queries(), 1000))


def test_an_empty_store_finds_nothing(kind, tmp_path):
    written = Written(kind, tmp_path / "gen", np.zeros((0, 16), np.float32), [])
    written.store.close()
    with written.reopen() as store:
        assert store.count == 0
        for where in (None, VectorFilter(sources=frozenset(OUTLETS))):
            scores, rows = store.search(_queries(3), 5, where)
            assert scores.shape == rows.shape == (3, 0)


@pytest.mark.parametrize(
    "where",
    [
        pytest.param(VectorFilter(since=dt.date(2024, 1, 12), until=dt.date(2024, 1, 31)), id="date-range"),
        pytest.param(VectorFilter(since=dt.date(2024, 2, 10)), id="since"),
        pytest.param(VectorFilter(until=dt.date(2024, 1, 5)), id="until"),
        pytest.param(VectorFilter(sources=frozenset({"Al Jazeera"})), id="one-outlet"),
        pytest.param(VectorFilter(sources=frozenset({"Reuters", "Libya Herald", "Nowhere"})), id="outlets"),
        pytest.param(
            VectorFilter(since=dt.date(2024, 1, 20), until=dt.date(2024, 2, 20), sources=frozenset({"Reuters"})),
            id="dates-and-outlet",
        ),
        pytest.param(VectorFilter(), id="no-condition"),
    ],
)
def test_filters_by_date_and_outlet_are_exact(kind, tmp_path, where):
    vectors, payloads = _data()
    with Written(kind, tmp_path / "gen", vectors, payloads).store as store:
        found = store.search(_queries(), 8, where)
        _assert_same(found, _expected(vectors, payloads, _queries(), 8, where))
        assert all(_allows(where, payloads[row]) for row in found[1].ravel() if row >= 0)


def test_date_ranges_are_whole_days_both_ends_included_and_undated_rows_outside(kind, tmp_path):
    vectors, payloads = _data()
    day_of_row_11 = FIRST_DAY + dt.timedelta(days=11)  # row 11 is a datetime, 08:30 that day; row 10 is undated
    with Written(kind, tmp_path / "gen", vectors, payloads).store as store:
        _, rows = store.search(vectors[9:12], 60, VectorFilter(since=day_of_row_11, until=day_of_row_11))
        assert rows[:, 0].tolist() == [11, 11, 11] and (rows[:, 1:] == -1).all()
        _, rows = store.search(vectors[10:11], 60, VectorFilter(sources=frozenset({OUTLETS[1]})))
        assert rows[0, 0] == 10  # an undated row is found when no dates are asked for


def test_a_filter_narrower_than_k_pads_and_one_matching_nothing_finds_nothing(kind, tmp_path):
    vectors, payloads = _data()
    with Written(kind, tmp_path / "gen", vectors, payloads).store as store:
        where = VectorFilter(until=dt.date(2024, 1, 3))  # rows 1 and 2 (row 0 is undated)
        scores, rows = store.search(_queries(2), 5, where)
        assert sorted(rows[0, :2]) == [1, 2] and (rows[:, 2:] == -1).all() and np.isneginf(scores[:, 2:]).all()
        for nothing in (VectorFilter(sources=frozenset()), VectorFilter(until=dt.date(1990, 1, 1))):
            scores, rows = store.search(_queries(2), 5, nothing)
            assert rows.shape == (2, 5) and (rows == -1).all() and np.isneginf(scores).all()


def test_rows_round_trip(kind, tmp_path):
    vectors, payloads = _data(count=40)
    with Written(kind, tmp_path / "gen", vectors, payloads).store as store:
        scores, rows = store.search(vectors, 1)
        assert rows[:, 0].tolist() == list(range(40))
        np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-5)


def test_reopened_after_close_it_answers_the_same(kind, tmp_path):
    vectors, payloads = _data()
    written = Written(kind, tmp_path / "gen", vectors, payloads)
    where = VectorFilter(since=dt.date(2024, 1, 15), sources=frozenset({"Reuters", "Al Jazeera"}))
    before = written.store.search(_queries(), 7, where)
    written.store.close()
    for _ in range(2):  # closing releases what it held (Qdrant's local mode locks its folder while open)
        with written.reopen() as store:
            assert store.count == 60
            _assert_same(store.search(_queries(), 7, where), before)


def test_a_missing_store_or_one_of_another_length_is_one_sentence(kind, tmp_path, request):
    vectors, payloads = _data(count=20)
    written = Written(kind, tmp_path / "gen", vectors, payloads)
    written.store.close()
    with pytest.raises(IndexCorruptError) as wrong_length:
        written.reopen(rows=21)
    if kind == "faiss":
        (written.folder / "vectors.faiss").unlink()
    elif kind == "qdrant-local":
        shutil.rmtree(written.folder / "qdrant")
    else:
        request.getfixturevalue("server").delete_collection(written.store.record["collection"])
    with pytest.raises(IndexCorruptError) as missing:
        written.reopen()
    for error in (wrong_length.value, missing.value):
        message = str(error)
        assert "damaged" in message and "rebuild it" in message and "\n" not in message
        assert message.count(". ") == 0 and message.endswith(".")
    assert "21" in str(wrong_length.value)


def test_hubness_densities_through_each_store_match_those_of_a_faiss_index(kind, tmp_path):
    vectors, payloads = _data(count=30)
    documents = [(payload.article_id, payload.source) for payload in payloads]
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    with Written(kind, tmp_path / "gen", vectors, payloads).store as store:
        np.testing.assert_allclose(
            neighbourhood_density(store, vectors, documents, 3),
            neighbourhood_density(flat, vectors, documents, 3),
            atol=1e-5,
        )


# Whole indexes ----------------------------------------------------------------------------------------------


def test_an_index_in_qdrant_answers_as_the_faiss_one_does(hashing_engine, news_folder, tmp_path):
    engines = {
        name: hashing_engine(index_dir=tmp_path / name, vectors=STORES[name]) for name in ("faiss", "qdrant-local")
    }
    for engine in engines.values():
        engine.update([news_folder], replace_all=True)
    for question in ("olive oil prices in Europe", "who met Haftar in Benghazi?", "إنتاج النفط في ليبيا"):
        hits = {name: engine.search(question, k=5) for name, engine in engines.items()}
        assert [(h.article_id, h.start) for h in hits["faiss"]] == [
            (h.article_id, h.start) for h in hits["qdrant-local"]
        ]
        np.testing.assert_allclose([h.score for h in hits["faiss"]], [h.score for h in hits["qdrant-local"]], atol=1e-5)
        assert engines["faiss"].ask(question).text == engines["qdrant-local"].ask(question).text
    generation = generations.current_generation(tmp_path / "qdrant-local")
    assert (generation / "qdrant").is_dir() and not (generation / "vectors.faiss").exists()
    assert generations.read_manifest(generation)["vectors"]["store"] == "qdrant"


def run(capsys, index_dir: Path, env: dict, *args: object) -> tuple[int, str, str]:
    status = main(["--index-dir", str(index_dir), *map(str, args)], {"EMBEDDING_MODEL": "test:hashing", **env})
    out, err = capsys.readouterr()
    return status, out, err


def test_the_command_line_builds_into_qdrant_and_answers(tmp_path, capsys):
    articles = write_articles(tmp_path / "articles", NEWS)
    index_dir = tmp_path / "index"
    qdrant = {"VECTOR_STORE": "qdrant"}
    status, _, err = run(capsys, index_dir, qdrant, "build", articles)
    assert status == 0, err
    status, out, err = run(capsys, index_dir, {}, "ask", "Who did the US delegation meet in Benghazi?")
    assert status == 0, err  # an index answers from the store it was built with, whatever VECTOR_STORE says now
    assert "Haftar" in out and "US delegation meets Haftar" in out
    first = generations.current_generation(index_dir)
    status, _, err = run(capsys, index_dir, {}, "build", articles)  # the next build writes the FAISS store
    assert status == 0, err
    assert (generations.current_generation(index_dir) / "vectors.faiss").is_file()
    status, _, err = run(capsys, index_dir, qdrant, "build", articles)  # and back
    assert status == 0, err
    assert not first.exists()  # pruned, its store with it
    status, out, err = run(capsys, index_dir, qdrant, "search", "olive oil prices in Europe")
    assert status == 0 and "Olive harvest starts early" in out, err


def test_a_damaged_or_busy_local_qdrant_store_is_one_line(tmp_path, capsys):
    articles = write_articles(tmp_path / "articles", NEWS)
    index_dir = tmp_path / "index"
    qdrant = {"VECTOR_STORE": "qdrant"}
    assert run(capsys, index_dir, qdrant, "build", articles)[0] == 0
    generation = generations.current_generation(index_dir)
    busy = open_vectors(generation, generations.read_manifest(generation), STORES["qdrant-local"])
    try:
        status, _, err = run(capsys, index_dir, qdrant, "ask", "olive oil prices")
        assert status == 1 and "open in another process" in one_line_error(err) and "QDRANT_URL" in err
    finally:
        busy.close()
    (generation / "qdrant" / "meta.json").write_text("{not json")
    status, _, err = run(capsys, index_dir, qdrant, "ask", "olive oil prices")
    assert status == 1 and "damaged" in one_line_error(err) and "qdrant cannot be read" in err
    shutil.rmtree(generation / "qdrant")
    status, _, err = run(capsys, index_dir, qdrant, "ask", "olive oil prices")
    assert status == 1 and "qdrant is missing" in one_line_error(err)
    status, _, err = run(capsys, index_dir, qdrant, "build", articles)  # a rebuild replaces it
    assert status == 0, err
    assert run(capsys, index_dir, qdrant, "ask", "olive oil prices")[0] == 0


# A Qdrant server: a collection per generation ------------------------------------------------------------------


def test_on_a_server_each_generation_has_a_collection_dropped_when_it_is_pruned(hashing_engine, news_folder, server):
    engine = hashing_engine(vectors=STORES["qdrant-server"])
    names = []
    for _ in range(3):
        engine.update([news_folder], replace_all=True)
        generation = generations.current_generation(engine.index_dir)
        record = generations.read_manifest(generation)["vectors"]
        assert record["location"] == "server" and record["collection"].startswith("article-qa-")
        assert json.loads((generation / "qdrant.json").read_text())["collection"] == record["collection"]
        assert not (generation / "qdrant").exists() and not (generation / "vectors.faiss").exists()
        names.append(record["collection"])
        assert engine.search("olive oil prices in Europe", k=1)[0].article_id == "olive-harvest"
    assert _collections(server) == set(names[1:])  # the current generation's and the previous one's


def test_on_a_server_a_failed_build_drops_its_collection_and_a_killed_one_is_cleaned_next(
    hashing_engine, news_folder, server, monkeypatch
):
    engine = hashing_engine(vectors=STORES["qdrant-server"])
    engine.update([news_folder], replace_all=True)
    kept = _collections(server)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr("index.builder.write_keyword_index", disk_full)  # after the vectors are written
        with pytest.raises(BuildError, match="disk holding"):
            engine.update([news_folder], replace_all=True)
    assert _collections(server) == kept
    leftover = engine.index_dir / ".staging-killed"  # a build killed after making its collection
    leftover.mkdir()
    (leftover / "qdrant.json").write_text(json.dumps({"store": "qdrant", "collection": "article-qa-killed"}))
    server.create_collection(
        "article-qa-killed", vectors_config=server.get_collection(next(iter(kept))).config.params.vectors
    )
    engine.update([news_folder], replace_all=True)
    assert "article-qa-killed" not in _collections(server) and not leftover.exists()


def test_on_a_server_settings_and_a_lost_collection_are_one_sentence(hashing_engine, news_folder, server):
    engine = hashing_engine(vectors=STORES["qdrant-server"])
    engine.update([news_folder], replace_all=True)
    without_url = hashing_engine(index_dir=engine.index_dir)
    with pytest.raises(SettingsError, match="keeps its vectors on a Qdrant server; set QDRANT_URL"):
        without_url.search("olive oil")
    engine.close()
    server.delete_collection(
        generations.read_manifest(generations.current_generation(engine.index_dir))["vectors"]["collection"]
    )
    problem = hashing_engine(index_dir=engine.index_dir, vectors=STORES["qdrant-server"]).index_problem()
    assert problem is not None and "damaged" in problem and "is missing from the Qdrant server" in problem


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_server_that_cannot_be_reached_fails_the_build_in_one_line_and_keeps_the_index(tmp_path, capsys):
    articles = write_articles(tmp_path / "articles", NEWS)
    index_dir = tmp_path / "index"
    assert run(capsys, index_dir, {}, "build", articles)[0] == 0
    before = os.readlink(index_dir / generations.CURRENT)
    unreachable = {"VECTOR_STORE": "qdrant", "QDRANT_URL": f"http://127.0.0.1:{_closed_port()}"}
    status, _, err = run(capsys, index_dir, unreachable, "build", articles)
    line = one_line_error(err)
    assert status == 1 and "could not store the vectors on the Qdrant server at http://127.0.0.1:" in line
    assert "the index was left as it was" in line
    assert os.readlink(index_dir / generations.CURRENT) == before and not list(index_dir.glob(".staging-*"))
    status, out, err = run(capsys, index_dir, unreachable, "search", "olive oil prices in Europe")
    assert status == 0 and "Olive harvest starts early" in out, err  # the FAISS index still answers


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VECTOR_STORE": "milvus"}, "VECTOR_STORE must be one of faiss, qdrant, not 'milvus'."),
        ({"QDRANT_URL": "localhost:6333"}, "QDRANT_URL must be a server's address"),
        ({"QDRANT_COLLECTION_PREFIX": "my index"}, "QDRANT_COLLECTION_PREFIX must be 1-64 letters"),
    ],
)
def test_vector_store_settings_are_checked(env, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(".", r"\.")):
        IndexSettings.from_env(env)
    assert "secret" not in repr(IndexSettings.from_env({"QDRANT_API_KEY": "secret"}))


def test_a_filtered_search_needs_row_columns_that_an_older_faiss_generation_lacks(tmp_path):
    vectors, payloads = _data(count=10)
    written = Written("faiss", tmp_path / "gen", vectors, payloads)
    with open_vectors(written.folder, {"counts": {"chunks": 10}}, STORES["faiss"]) as old:  # no "vectors" record
        assert old.search(_queries(1), 3)[1].shape == (1, 3)
        with pytest.raises(IndexMismatchError, match="before searches could be filtered"):
            old.search(_queries(1), 3, VectorFilter(sources=frozenset({"Reuters"})))
    with pytest.raises(IndexMismatchError, match="'lancedb', which this version cannot read"):
        open_vectors(written.folder, {"vectors": {"store": "lancedb"}}, STORES["faiss"])


@pytest.mark.parametrize(
    ("factory", "kind_of_index"),
    [("HNSW32", "IndexHNSWFlat"), ("IVF4,Flat", "IndexIVFFlat"), ("RR16,IVF4,Flat", "IndexPreTransform")],
)
def test_filters_work_with_approximate_faiss_indexes(tmp_path, factory, kind_of_index):
    """Approximate factories take the filter too (an ID selector; an IVF inside a transform filters a search of
    every row); tuned for recall, these small ones find what exact search finds."""
    vectors, payloads = _data(count=400, seed=3)
    store = write_vectors(tmp_path, vectors, payloads, STORES["faiss"], factory)
    assert type(faiss.downcast_index(store.index)).__name__ == kind_of_index
    where = VectorFilter(since=dt.date(2024, 3, 1), until=dt.date(2024, 9, 1), sources=frozenset({"Reuters"}))
    _assert_same(store.search(_queries(), 6, where), _expected(vectors, payloads, _queries(), 6, where))


def test_without_the_qdrant_client_it_is_one_sentence_before_any_work(tmp_path, capsys, monkeypatch):
    articles = write_articles(tmp_path / "articles", NEWS)
    index_dir = tmp_path / "index"
    assert run(capsys, index_dir, {"VECTOR_STORE": "qdrant"}, "build", articles)[0] == 0
    monkeypatch.setitem(sys.modules, "qdrant_client", None)  # as in a plain install, without the qdrant extra
    status, out, err = run(capsys, index_dir, {"VECTOR_STORE": "qdrant"}, "build", articles)
    assert status == 1 and "pip install 'article-qa-bot[qdrant]'" in one_line_error(err) and "embedding" not in err
    status, _, err = run(capsys, index_dir, {}, "ask", "olive oil prices")  # an index kept in Qdrant
    assert status == 1 and "needs the Qdrant client" in one_line_error(err)
