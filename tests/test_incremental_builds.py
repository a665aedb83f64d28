"""An update costs what it changes: kept chunks are not read again for the keyword index, hubness densities
are searched only for the new rows and their neighbours, kept sentences are not split again."""

from __future__ import annotations

import dataclasses
import random
import sqlite3
import uuid

import numpy as np
import pytest

import index.builder as builder
import index.search.keyword_writer as keyword_writer
import index.search.keywords as keywords
from index.records import Article, Changes
from index.search import hubness, lookups
from index.search.hubness import FILE as HUBNESS_FILE
from index.search.keywords import build_keyword_index
from index.storage import generations
from index.storage.article_store import ArticleStore
from index.text.near_duplicates import DuplicateFinder
from tests.conftest import generation_files, sentence_table, write_articles

WORDS = [
    *("oil", "port", "ship", "harbour", "tripoli", "benghazi", "misrata", "army", "council", "election", "vote"),
    *("court", "judge", "minister", "budget", "bank", "water", "power", "grid", "school", "hospital", "doctor"),
    *("road", "bridge", "airport", "flight", "border", "trade", "market", "price", "wheat", "olive"),
]


def _articles(count: int, seed: int) -> dict[str, str]:
    chooser = random.Random(seed)
    articles = {}
    for number in range(count):
        sentences = [" ".join(chooser.choices(WORDS, k=12)).capitalize() + "." for _ in range(6)]
        articles[f"story-{seed}-{number}"] = f"Story {seed} {number} {chooser.choice(WORDS)}\n\n" + " ".join(sentences)
    return articles


def _keyword_files(engine) -> dict[str, bytes]:
    folder = generations.current_generation(engine.index_dir) / keywords.FOLDER
    names = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy", "terms.json")
    return {name: (folder / name).read_bytes() for name in names}


def _density(engine) -> np.ndarray:
    return np.load(generations.current_generation(engine.index_dir) / HUBNESS_FILE)


def test_an_add_reads_only_the_new_chunks_and_writes_the_index_a_rebuild_writes(hashing_engine, tmp_path, monkeypatch):
    folder = write_articles(tmp_path / "articles", _articles(40, seed=1))
    engine = hashing_engine(index_dir=tmp_path / "incremental")
    engine.update([folder], replace_all=True)
    write_articles(folder, _articles(2, seed=2))
    read: list[str] = []
    original = keyword_writer.keyword_terms
    monkeypatch.setattr(keyword_writer, "keyword_terms", lambda text: read.append(text) or original(text))
    split: list[str] = []
    original_sentences = builder.answer_sentences
    monkeypatch.setattr(builder, "answer_sentences", lambda text: split.append(text) or original_sentences(text))
    report = engine.update([folder])
    assert report.added == 2 and report.unchanged == 40
    assert len(read) == report.embedded_chunks  # only the new chunks were read for the keyword index
    assert len(split) == report.embedded_chunks  # and split into sentences
    monkeypatch.undo()
    rebuilt = hashing_engine(index_dir=tmp_path / "rebuilt")
    rebuilt.update([folder], replace_all=True)
    assert _keyword_files(engine) == _keyword_files(rebuilt)
    question = "Which minister spoke about the wheat price at the harbour?"
    assert [hit.chunk_id for hit in engine.search(question, k=5)] == [hit.chunk_id for hit in rebuilt.search(question)]


def test_an_add_searches_densities_only_near_the_new_rows(hashing_engine, tmp_path, monkeypatch):
    folder = write_articles(tmp_path / "articles", _articles(40, seed=3))
    engine = hashing_engine(index_dir=tmp_path / "incremental")
    engine.update([folder], replace_all=True)
    before = _density(engine)
    write_articles(folder, _articles(2, seed=4))
    searched: list[int] = []
    original = builder.neighbourhood_density

    def counting(store, vectors, document_of_row, **known):
        class Counting:
            def search(self, queries, k):
                searched.append(len(queries))
                return store.search(queries, k)

        return original(Counting(), vectors, document_of_row, **known)

    monkeypatch.setattr(builder, "neighbourhood_density", counting)
    report = engine.update([folder])
    monkeypatch.undo()
    incremental = _density(engine)
    rebuilt = hashing_engine(index_dir=tmp_path / "rebuilt")
    rebuilt.update([folder], replace_all=True)
    exact = _density(rebuilt)
    total = report.chunks
    assert report.embedded_chunks <= sum(searched) < total  # the new rows, their neighbours, not every row
    new_rows = np.arange(total - report.embedded_chunks, total)  # the new articles come last
    np.testing.assert_allclose(incremental[new_rows], exact[new_rows], atol=1e-6)
    unchanged = np.isclose(incremental[: len(before)], before)
    assert unchanged.sum() >= len(before) - sum(searched)  # rows far from the new ones keep their density
    assert np.abs(incremental - exact).max() < 0.05  # and the rest is close to a full computation


def test_a_large_add_computes_every_density_again(hashing_engine, tmp_path):
    folder = write_articles(tmp_path / "articles", _articles(10, seed=5))
    engine = hashing_engine(index_dir=tmp_path / "incremental")
    engine.update([folder], replace_all=True)
    write_articles(folder, _articles(5, seed=6))  # a third of the index is new: above INCREMENTAL_SHARE
    engine.update([folder])
    rebuilt = hashing_engine(index_dir=tmp_path / "rebuilt")
    rebuilt.update([folder], replace_all=True)
    np.testing.assert_allclose(_density(engine), _density(rebuilt), atol=1e-6)


def test_a_removed_article_leaves_the_keyword_index_a_rebuild_writes(hashing_engine, tmp_path):
    articles = _articles(30, seed=7)
    folder = write_articles(tmp_path / "articles", articles)
    engine = hashing_engine(index_dir=tmp_path / "incremental")
    engine.update([folder], replace_all=True)
    engine.remove(["story-7-3"])
    (folder / "story-7-3.txt").unlink()
    rebuilt = hashing_engine(index_dir=tmp_path / "rebuilt")
    rebuilt.update([folder], replace_all=True)
    assert _keyword_files(engine) == _keyword_files(rebuilt)


# --- every part of a generation written from the previous one: the same as a build of the same articles ---

NAMES = ("Haftar", "Tripoli", "Benghazi", "حفتر", "طرابلس", "بنغازي", "روسيا", "الروسي", "النفط", "ليبيا")


def _news(count: int, seed: int, prefix: str = "news") -> list[Article]:
    """Articles in English and Arabic, with names in both scripts and words only some articles hold."""
    chooser = random.Random(seed)
    words = [*WORDS, *NAMES, *(f"rare{seed}x{n}" for n in range(40))]
    articles = []
    for number in range(count):
        sentences = [" ".join(chooser.choices(words, k=chooser.randrange(6, 16))).capitalize() + "." for _ in range(5)]
        articles.append(
            Article(
                f"{prefix}-{seed}-{number:03d}",
                f"{chooser.choice(NAMES)} {chooser.choice(WORDS)} {number}",
                " ".join(sentences),
                source=chooser.choice(("Wire", "الوسط", "Herald")),
                published=f"2020-0{chooser.randrange(1, 10)}-1{chooser.randrange(10)}",
            )
        )
    return articles


WIRE = " ".join(random.Random(3).choices(WORDS, k=120))


def _copies(start: int, count: int) -> list[Article]:
    """A wire story republished, a few words changed each time: one story (near_duplicates.py)."""
    chooser = random.Random(start)
    found = []
    for number in range(start, start + count):
        words = WIRE.split()
        for _ in range(chooser.randrange(0, 6)):
            words[chooser.randrange(len(words))] = chooser.choice(WORDS)
        found.append(Article(f"copy-{number:03d}", f"Wire story {number % 3}", " ".join(words)))
    return found


def _store_rows(generation) -> tuple[list, list]:
    """The store's articles in their order and its chunks by row (what a reader sees, not SQLite's pages), a
    layered store's base then delta (the delta's rows come after the base's)."""
    articles, chunks = [], []
    for name in (generations.STORE, generations.STORE_DELTA):
        if (generation / name).exists():
            with sqlite3.connect(f"file:{generation / name}?mode=ro", uri=True) as db:  # published: read-only
                articles += db.execute("SELECT * FROM articles ORDER BY rowid").fetchall()
                chunks += db.execute("SELECT * FROM chunks ORDER BY id").fetchall()
    return articles, chunks


def _generation_files(generation) -> dict[str, bytes]:
    # the store by its rows: an update that appends may write a delta beside the previous base (store_layers.py)
    return generation_files(generation, skip={generations.STORE, generations.STORE_DELTA, generations.MANIFEST})


@pytest.fixture
def exact_densities(monkeypatch):
    """Every build computes every hubness density (an update's are otherwise close, not equal: see above)."""
    monkeypatch.setattr(hubness, "INCREMENTAL_SHARE", -1.0)


def _rebuilt_alike(engine, hashing_engine, tmp_path):
    """A full build, in a fresh folder, of the articles ``engine``'s index holds, in its order."""
    with ArticleStore(generations.current_generation(engine.index_dir) / generations.STORE) as store:
        articles = list(store.articles())
    rebuilt = hashing_engine(index_dir=tmp_path / f"rebuilt-{uuid.uuid4().hex[:6]}")
    rebuilt.apply(Changes(articles, replace_all=True))
    return rebuilt


def _assert_same_index(engine, rebuilt, sentences: bool = True) -> None:
    mine = generations.current_generation(engine.index_dir)
    theirs = generations.current_generation(rebuilt.index_dir)
    assert _store_rows(mine) == _store_rows(theirs)
    files, expected = _generation_files(mine), _generation_files(theirs)
    # the sentence tables by content: an add writes a delta beside the previous base (sentence_vectors.py)
    files = {name: data for name, data in files.items() if not name.startswith("sentences/")}
    expected = {name: data for name, data in expected.items() if not name.startswith("sentences/")}
    stored, built = sentence_table(mine), sentence_table(theirs)
    if sentences:
        assert stored == built
    else:  # an incremental build keeps a removed article's sentences too
        assert len(built) > 0 and {key: stored.get(key) for key in built} == built
    assert sorted(files) == sorted(expected)
    assert [name for name in files if files[name] != expected[name]] == []
    for question in ("Which minister spoke in Tripoli about the wheat price?", "ماذا قال حفتر عن النفط في بنغازي؟"):
        found = [(hit.chunk_id, round(hit.score, 5)) for hit in engine.search(question, k=8)]
        assert found == [(hit.chunk_id, round(hit.score, 5)) for hit in rebuilt.search(question, k=8)]


def test_an_add_copies_the_previous_generation_and_writes_what_a_build_of_the_same_articles_writes(
    hashing_engine, tmp_path, monkeypatch, exact_densities
):
    engine = hashing_engine(index_dir=tmp_path / "incremental")
    engine.apply(Changes(_news(60, seed=11), replace_all=True))
    created, postings, grouped = [], [], []
    monkeypatch.setattr(ArticleStore, "create", classmethod(lambda cls, path: created.append(path)))
    previous_rows = (
        len(np.load(generations.current_generation(engine.index_dir) / keywords.FOLDER / keywords.DOCUMENT_OFFSETS)) - 1
    )
    original_postings = keyword_writer._block_postings

    def counting_postings(ids, offsets, first, last, *args):
        postings.append((first, last))
        return original_postings(ids, offsets, first, last, *args)

    monkeypatch.setattr(keyword_writer, "_block_postings", counting_postings)
    original_entries = lookups._entries
    monkeypatch.setattr(lookups, "_entries", lambda name: grouped.append(name) or original_entries(name))
    report = engine.add_articles(_news(3, seed=12))
    monkeypatch.undo()
    assert report.added == 3 and report.embedded_chunks > 0
    assert created == []  # the store is the previous one's copy with the new articles inserted
    new_rows = [keyword_writer.keyword_terms(text) for text in _keyword_texts(engine, 3)]
    assert {first for first, _ in postings} == {previous_rows}  # only the new rows' terms were sorted into postings
    assert {last for _, last in postings} == {previous_rows + len(new_rows)}
    assert 0 < len(grouped) <= len({term for terms in new_rows for term in terms}) + 1  # new terms (and "") grouped
    _assert_same_index(engine, _rebuilt_alike(engine, hashing_engine, tmp_path))


def _keyword_texts(engine, articles: int) -> list[str]:
    """The title-and-chunk texts of the last ``articles`` articles of the index."""
    with ArticleStore(generations.current_generation(engine.index_dir) / generations.STORE) as store:
        last = list(store.articles())[-articles:]
        return [f"{a.title}\n{chunk.text}" for a in last for _, chunk in store.chunks_of(a.id)]


def test_removals_changes_and_a_new_order_write_what_a_build_of_the_same_articles_writes(
    hashing_engine, tmp_path, exact_densities
):
    first, second = _news(50, seed=13), _news(8, seed=14) + _copies(0, 6)
    engine = hashing_engine(index_dir=tmp_path / "incremental")
    engine.apply(Changes(first + second, replace_all=True))
    engine.remove([first[0].id, first[17].id, second[7].id, "copy-000"])  # rows after them move down
    stories = {row[0]: row[9] for row in _store_rows(generations.current_generation(engine.index_dir))[0]}
    assert stories["copy-005"] == "copy-001"  # the story's first article went: its copies' story changed
    _assert_same_index(engine, _rebuilt_alike(engine, hashing_engine, tmp_path), sentences=False)
    changed = dataclasses.replace(first[5], text=first[5].text + " A new closing sentence about Misrata.")
    engine.apply(Changes([changed, first[6], *_news(2, seed=15)]))  # changed, unchanged, new
    _assert_same_index(engine, _rebuilt_alike(engine, hashing_engine, tmp_path), sentences=False)
    reordered = list(reversed(first[1:17])) + first[18:] + second[:7] + second[8:]  # a refresh, in another order
    engine.apply(Changes(reordered + _news(2, seed=16), replace_all=True))
    _assert_same_index(engine, _rebuilt_alike(engine, hashing_engine, tmp_path))


def test_an_add_groups_new_copies_into_the_stories_grouping_every_article_again_finds(
    hashing_engine, tmp_path, monkeypatch
):
    base = _copies(0, 45) + _news(10, seed=17)  # more copies than a bucket keeps (near_duplicates.py)
    later = _copies(100, 6) + _news(2, seed=18)
    engine = hashing_engine(index_dir=tmp_path / "incremental")
    engine.apply(Changes(base, replace_all=True))
    compared: list[str] = []
    original = DuplicateFinder.add
    monkeypatch.setattr(DuplicateFinder, "add", lambda self, i, sig: compared.append(i) or original(self, i, sig))
    engine.add_articles(later)
    monkeypatch.undo()
    assert compared == [article.id for article in later]  # the previous articles were not grouped again
    rebuilt = _rebuilt_alike(engine, hashing_engine, tmp_path)
    mine, theirs = (
        _store_rows(generations.current_generation(engine.index_dir)),
        _store_rows(generations.current_generation(rebuilt.index_dir)),
    )
    assert mine == theirs
    stories = {row[0]: row[9] for row in mine[0]}
    assert len({stories[a.id] for a in later[:6]}) == 1 and stories[later[0].id].startswith("copy-0")


def test_a_failed_add_leaves_the_previous_generation_byte_for_byte(hashing_engine, tmp_path, monkeypatch):
    articles = _news(30, seed=19)
    engine = hashing_engine(index_dir=tmp_path / "incremental")
    engine.apply(Changes(articles, replace_all=True))
    generation = generations.current_generation(engine.index_dir)
    before = {path: path.read_bytes() for path in generation.rglob("*") if path.is_file()}
    question = "What did Haftar say about the oil port?"
    answers = [hit.chunk_id for hit in engine.search(question)]

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt  # a build killed after its copy of the store was edited

    monkeypatch.setattr("index.builder.write_keyword_index", stopped)
    with pytest.raises(KeyboardInterrupt):
        engine.apply(Changes(_news(2, seed=20), remove_ids=[articles[3].id]))
    monkeypatch.undo()
    assert generations.current_generation(engine.index_dir) == generation
    assert {path: path.read_bytes() for path in generation.rglob("*") if path.is_file()} == before
    assert not list(engine.index_dir.glob(".staging-*"))
    assert [hit.chunk_id for hit in engine.search(question)] == answers


def test_the_keyword_writer_writes_the_files_bm25s_writes(tmp_path, monkeypatch):
    """From texts, and from a previous index's terms after an add, removals and another order."""
    monkeypatch.setattr(keyword_writer, "BLOCK", 7)  # weighed in many blocks

    def texts(count: int, seed: int) -> list[str]:
        chooser = random.Random(seed)
        words = [*WORDS, *NAMES, *(f"w{seed}x{n}" for n in range(30))]
        return [" ".join(chooser.choices(words, k=chooser.randrange(0, 40))) for _ in range(count)]

    def files(folder):
        return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.name != keyword_writer.COUNTS}

    first, more = texts(60, 1), texts(15, 2)
    build_keyword_index(first, tmp_path / "bm25s")
    keyword_writer.write_keyword_index(tmp_path / "gen" / keywords.FOLDER, np.full(60, -1), first)
    assert files(tmp_path / "gen" / keywords.FOLDER) == files(tmp_path / "bm25s")
    previous = keyword_writer.open_previous_terms(tmp_path / "gen")
    assert previous is not None and previous.postings
    cases = {
        "add": (list(range(60)), more),
        "remove": ([row for row in range(60) if row % 7], []),
        "reorder": ([5, 3, *range(10, 60)], more),
        "everything new": ([], more),
    }
    for name, (rows, fresh) in cases.items():
        build_keyword_index([first[row] for row in rows] + fresh, tmp_path / f"bm25s-{name}")
        old_rows = np.array(rows + [-1] * len(fresh), dtype=np.int64)
        keyword_writer.write_keyword_index(tmp_path / name, old_rows, fresh, previous)
        mine, theirs = files(tmp_path / name), files(tmp_path / f"bm25s-{name}")
        assert [file for file in theirs if mine.get(file) != theirs[file]] == [], name
