"""An update that only appends articles shares the previous generation's article store by hard link and writes a
delta layer of the appended articles (index/storage/store_layers.py, index/carry_over.py); every read of a layered
store gives what the whole store of a full build of the same articles gives."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest

import index.layered_vectors as layered_vectors
from index.cli import main
from index.errors import IndexCorruptError
from index.records import Article
from index.storage import generations, store_layers
from index.storage.article_store import ArticleStore
from tests.conftest import generation_files, story_articles

WORDS = (
    *("oil", "port", "ship", "harbour", "army", "council", "election", "court"),
    *("judge", "minister", "budget", "bank", "water", "grid", "school", "road"),
)
OUTLETS = ("Al Jazeera", "BBC News", "Libya Observer", "")


def _articles(count: int, seed: int) -> list[Article]:
    return story_articles(count, seed, WORDS, outlets=OUTLETS)


def _copies(of: list[Article], seed: int) -> list[Article]:
    """Republished copies of ``of`` (the text under another id, a line added): the same story as their originals."""
    return [
        dataclasses.replace(article, id=f"copy-{seed}-{article.id}", source="Wire", text=f"{article.text} (Reuters)")
        for article in of
    ]


@pytest.fixture
def layered(monkeypatch):
    """Layers from the first chunk on (the default waits for 50,000 chunks), a delta of up to half the base."""
    monkeypatch.setattr(layered_vectors, "LAYER_MIN_ROWS", 1)
    monkeypatch.setattr(layered_vectors, "DELTA_SHARE", 0.5)
    monkeypatch.setattr(store_layers, "DELTA_SHARE", 0.5)


def _generation(engine) -> Path:
    return generations.current_generation(engine.index_dir)


def _reads(generation: Path) -> dict:
    """Every read an ``ArticleStore`` offers, over the whole store."""
    with ArticleStore(generation / generations.STORE) as store:
        ids = store.ids()
        articles = list(store.articles())
        stored = store.stored_articles(block=7)  # blocks that end inside a layer and at its end
        _, chunks = store.counts()
        return {
            "counts": store.counts(),
            "sources": list(store.sources().items()),
            "newest": store.newest_published(),
            "ids": ids,
            "articles": articles,
            "article": [store.article(article_id) for article_id in ids] + [store.article("missing")],
            "stories": store.stories(),
            "story_of": store.story_of([*ids, "missing"]),
            "story_copies": store.story_copies([*ids, "missing"]),
            "hashes": store.content_hashes(),
            "some_hashes": store.content_hashes([ids[0], ids[-1], "missing"]),
            "chunk_rows": store.chunk_rows(),
            "chunks_of": [store.chunks_of(article_id) for article_id in ids],
            "by_rows": store.chunks_by_rows([chunks - 1, 0, chunks // 2, chunks + 5]),
            "signatures": [part.tolist() if isinstance(part, np.ndarray) else part for part in store.signature_rows(5)],
            "stored": {
                field.name: value.tolist() if isinstance(value, np.ndarray) else value
                for field in dataclasses.fields(stored)
                if (value := getattr(stored, field.name)) is not None
            },
            "signed": store.has_signatures(),
        }


def _answers(engine) -> list:
    questions = ["Which minister spoke about the budget?", "harbour ship oil port", "election court judge"]
    return [[(hit.chunk_id, round(hit.score, 5)) for hit in engine.search(question, k=8)] for question in questions]


def _whole(hashing_engine, tmp_path: Path, name: str, articles: list[Article]):
    whole = hashing_engine(index_dir=tmp_path / name)
    whole.add_articles(articles)
    assert not (_generation(whole) / generations.STORE_DELTA).exists()
    return whole


def test_appends_share_the_base_and_read_as_the_whole_store(layered, hashing_engine, tmp_path):
    first, second, third = _articles(30, seed=1), _articles(3, seed=2), _articles(4, seed=3)
    second += _copies(first[:2], seed=2)  # stories across the layers
    third += _copies(first[:1] + second[:1], seed=3)
    engine = hashing_engine(index_dir=tmp_path / "layered")
    engine.add_articles(first)
    base = _generation(engine)
    assert not (base / generations.STORE_DELTA).exists()
    base_files, base_inode = generation_files(base, skip=()), os.stat(base / generations.STORE).st_ino

    engine.add_articles(second)
    once = _generation(engine)
    assert os.stat(once / generations.STORE).st_ino == base_inode  # shared, not copied
    with ArticleStore(once / generations.STORE) as store:
        assert store.layers == ["main", "delta"] and [articles for articles, _ in store.layer_counts()] == [30, 5]
    assert generation_files(base, skip=()) == base_files  # the previous generation is not written
    once_files = generation_files(once, skip=())

    engine.add_articles(third)  # the delta grows: the previous delta's rows and the new ones; the base stays
    twice = _generation(engine)
    assert os.stat(twice / generations.STORE).st_ino == base_inode
    assert not base.exists() and os.stat(twice / generations.STORE).st_nlink == 2  # the base pruned: two links
    assert generation_files(once, skip=()) == once_files
    with ArticleStore(twice / generations.STORE) as store:
        assert [articles for articles, _ in store.layer_counts()] == [30, 11]
        store.check()
    whole = _whole(hashing_engine, tmp_path, "whole", first + second + third)
    assert _reads(twice) == _reads(_generation(whole))
    assert _reads(twice)["story_copies"]["copy-3-a-1-0"]  # a delta article's copies found in both layers
    assert _answers(engine) == _answers(whole)
    answer = engine.ask("Which minister spoke about the budget?")
    assert answer.found and answer.citations
    assert engine.stats().articles == 41

    engine.remove([first[3].id])  # rows move: one whole store again, the previous delta's rows merged into it
    removed = _generation(engine)
    assert not (removed / generations.STORE_DELTA).exists()
    assert os.stat(removed / generations.STORE).st_ino != base_inode
    kept = [article for article in first + second + third if article.id != first[3].id]
    assert _reads(removed) == _reads(_generation(_whole(hashing_engine, tmp_path, "removed", kept)))

    fourth = _articles(2, seed=4)
    engine.add_articles(fourth)  # layered on the new base
    assert (_generation(engine) / generations.STORE_DELTA).exists()
    whole = _whole(hashing_engine, tmp_path, "again", kept + fourth)
    assert _reads(_generation(engine)) == _reads(_generation(whole))
    # (the answers' scores differ a little after a remove: its densities and sentences are an update's, not a build's)
    assert [hit.chunk_id for hit in engine.search("harbour ship oil port", k=3)]


def test_a_removal_or_a_change_in_the_delta_keeps_the_base(layered, hashing_engine, tmp_path):
    """Removing or changing articles of the delta (recent ones) shares the base and writes the delta again, each of
    its articles at its new rows and with its story grouped again; every read is a whole build's."""
    first, second, third = _articles(30, seed=21), _articles(4, seed=22), _articles(3, seed=23)
    third += _copies(first[:1] + second[:1], seed=23)  # a copy of the delta's second[0]: its story follows it
    engine = hashing_engine(index_dir=tmp_path / "layered")
    for articles in (first, second, third):
        engine.add_articles(articles)
    base_inode = os.stat(_generation(engine) / generations.STORE).st_ino
    changed = dataclasses.replace(third[1], text=third[1].text + " The port reopened.")
    kept = [a for a in first + second + third if a.id not in (second[0].id, second[2].id, third[1].id)]
    steps = [
        ("remove", [second[0].id, second[2].id], [a for a in first + second + third if a not in second[::2]]),
        ("add", [changed], [*kept, changed]),
    ]
    for number, (kind, change, expected) in enumerate(steps):
        engine.add_articles(change) if kind == "add" else engine.remove(change)
        generation = _generation(engine)
        assert os.stat(generation / generations.STORE).st_ino == base_inode  # shared, not copied
        with ArticleStore(generation / generations.STORE) as store:
            assert [articles for articles, _ in store.layer_counts()] == [30, len(expected) - 30]
            store.check()
        whole = _whole(hashing_engine, tmp_path, f"whole-{number}", expected)
        assert _reads(generation) == _reads(_generation(whole))
    story_of_copy = _reads(_generation(engine))["story_of"][f"copy-23-{second[0].id}"]
    assert story_of_copy == f"copy-23-{second[0].id}"  # its first article removed: a story of its own


def test_a_delta_past_its_share_writes_one_whole_store(layered, hashing_engine, tmp_path, monkeypatch):
    first, second, big = _articles(20, seed=5), _articles(2, seed=6), _articles(12, seed=7)
    engine = hashing_engine(index_dir=tmp_path / "layered")
    engine.add_articles(first)
    engine.add_articles(second)
    assert (_generation(engine) / generations.STORE_DELTA).exists()
    engine.add_articles(big)  # more than half the base: the base with the delta's rows and the new ones
    merged = _generation(engine)
    assert not (merged / generations.STORE_DELTA).exists()
    assert _reads(merged) == _reads(_generation(_whole(hashing_engine, tmp_path, "whole", first + second + big)))
    monkeypatch.setattr(layered_vectors, "LAYER_MIN_ROWS", 10**6)
    engine.add_articles(_articles(1, seed=8))  # a small base: one whole store
    assert not (_generation(engine) / generations.STORE_DELTA).exists()


def test_small_stores_are_written_whole(hashing_engine, tmp_path):
    engine = hashing_engine(index_dir=tmp_path / "index")
    engine.add_articles(_articles(10, seed=9))
    engine.add_articles(_articles(1, seed=10))
    assert not (_generation(engine) / generations.STORE_DELTA).exists()


def test_lookups_search_each_layer_by_index(layered, hashing_engine, tmp_path):
    """A keyed read of a layered store looks up each layer by an index: it neither scans nor sorts a whole table."""
    engine = hashing_engine(index_dir=tmp_path / "layered")
    first = _articles(20, seed=11)
    engine.add_articles(first)
    engine.add_articles(_articles(2, seed=12) + _copies(first[:1], seed=12))
    with ArticleStore(_generation(engine) / generations.STORE) as store:
        assert store.layers == ["main", "delta"]
        statements: list[str] = []
        store._db.set_trace_callback(statements.append)
        ids = [first[0].id, "copy-12-a-11-0"]
        store.chunks_by_rows([0, 1, 200, 201])
        store.story_copies(ids)
        store.story_of(ids)
        store.content_hashes(ids)
        store.chunks_of(ids[1])
        store._db.set_trace_callback(None)
        plans = [detail for sql in statements for *_, detail in store._db.execute("EXPLAIN QUERY PLAN " + sql)]
    # (a SCAN of the view itself reads the few rows its layers' lookups found)
    scans = [detail for detail in plans if detail.startswith(("SCAN main.", "SCAN delta.", "MATERIALIZE"))]
    assert plans and scans == []
    assert any("delta.chunks" in detail for detail in plans) and any("main.articles" in detail for detail in plans)


def _replace_delta(generation: Path, data: bytes) -> None:
    (generation / generations.STORE_DELTA).write_bytes(data)


def test_a_damaged_delta_is_a_damaged_index(layered, hashing_engine, tmp_path, capsys):
    engine = hashing_engine(index_dir=tmp_path / "layered")
    engine.add_articles(_articles(20, seed=13))
    engine.add_articles(_articles(2, seed=14))
    engine.close()
    generation = _generation(engine)
    delta = generation / generations.STORE_DELTA
    whole_delta = delta.read_bytes()
    page = 4096  # SQLite's default page size: the delta's last page is its chunks_by_article index
    for damaged, on_opening in (
        (b"this is not a database" * 500, True),  # garbage
        (whole_delta[: len(whole_delta) // 2], True),  # cut short
        ((generation / generations.STORE).read_bytes(), True),  # a store whose rows do not follow the base's
        (whole_delta[:-page] + bytes(page), False),  # a page zeroed: found by the check (quick_check) alone
    ):
        _replace_delta(generation, damaged)
        with pytest.raises(IndexCorruptError, match=r"store-delta\.sqlite") as caught:
            generations.check_generation(generation)
        message = str(caught.value)
        assert "damaged" in message and message.count(". ") == 0, message  # one sentence
        command = ["ask", "oil port"] if on_opening else ["add", str(tmp_path / "more.jsonl")]
        (tmp_path / "more.jsonl").write_text('{"id": "more", "title": "More", "text": "Oil port news."}\n')
        status = main(["--index-dir", str(engine.index_dir), *command], {"EMBEDDING_MODEL": "test:hashing"})
        err = capsys.readouterr().err
        assert status == 1 and "damaged" in err and "Traceback" not in err, err
    delta.unlink()  # the base alone: fewer articles than the generation's manifest counts
    with pytest.raises(IndexCorruptError, match="holds 20 articles"):
        generations.check_generation(generation)
    _replace_delta(generation, whole_delta)
    generations.check_generation(generation)


def test_a_stopped_update_leaves_the_previous_layered_generation_whole(layered, hashing_engine, tmp_path, monkeypatch):
    engine = hashing_engine(index_dir=tmp_path / "layered")
    engine.add_articles(_articles(20, seed=15))
    engine.add_articles(_articles(2, seed=16))
    generation = _generation(engine)
    before = generation_files(generation, skip=())

    def stop(*args, **kwargs):
        raise OSError("stopped")

    monkeypatch.setattr(ArticleStore, "commit", stop)
    for change in (lambda: engine.add_articles(_articles(1, seed=17)), lambda: engine.remove(["a-15-0"])):
        with pytest.raises(Exception, match="stopped"):
            change()
        assert _generation(engine) == generation and generation_files(generation, skip=()) == before


def test_the_delta_is_named_beside_the_store():
    assert generations.STORE_DELTA == "store-delta.sqlite"
    assert store_layers.delta_path(Path("gen") / generations.STORE) == Path("gen") / generations.STORE_DELTA
    db = sqlite3.connect(":memory:")
    assert store_layers.missing_tables(db, "main") == "its tables are missing"
