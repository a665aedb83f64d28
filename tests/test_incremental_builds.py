"""An update costs what it changes: kept chunks are not read again for the keyword index, hubness densities
are searched only for the new rows and their neighbours, kept sentences are not split again."""

from __future__ import annotations

import random

import numpy as np

import index.builder as builder
import index.search.keywords as keywords
from index.search.hubness import FILE as HUBNESS_FILE
from index.storage import generations
from tests.conftest import write_articles

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
    original = keywords.keyword_terms
    monkeypatch.setattr(keywords, "keyword_terms", lambda text: read.append(text) or original(text))
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
