"""The sentence tables in two layers (storage/sentence_vectors.py): an add links the previous base and writes a
small delta; a delta past its share of the base, or a full build, writes one base, the files a full build writes."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest

import index.storage.sentence_vectors as sentence_vectors
from index import IndexCorruptError
from index.builder import answer_sentences
from index.records import Article, Changes
from index.storage import generations
from index.storage.article_store import ArticleStore
from index.storage.sentence_vectors import DELTA, FOLDER, layer_files, open_sentences
from tests.conftest import generation_files, sentence_table

WORDS = ["oil", "port", "ship", "grain", "wheat", "harbour", "minister", "rain", "river", "bank", "market", "price"]


def _articles(count: int, seed: int) -> list[Article]:
    chooser = random.Random(seed)
    return [
        Article(
            f"a-{seed}-{number:03d}",
            f"Title {seed} {number} {chooser.choice(WORDS)}",
            " ".join(
                " ".join(chooser.choices(WORDS, k=10)).capitalize() + "." for _ in range(chooser.randrange(4, 12))
            ),
        )
        for number in range(count)
    ]


def _engine(hashing_engine, folder, articles):
    engine = hashing_engine(index_dir=folder, chunk_tokens=40, chunk_overlap_tokens=10)
    engine.apply(Changes(articles, replace_all=True))
    return engine


def _generation(engine):
    return generations.current_generation(engine.index_dir)


def _sentence_texts(generation) -> list[str]:
    with ArticleStore(generation / generations.STORE) as store:
        return [
            sentence
            for article in store.articles()
            for _, chunk in store.chunks_of(article.id)
            for sentence in answer_sentences(chunk.text)
        ]


@pytest.fixture
def large_share(monkeypatch):
    """Adds of a few articles to a small index stay within the delta's share."""
    monkeypatch.setattr(sentence_vectors, "DELTA_SHARE", 1.0)


def test_an_add_links_the_base_writes_a_delta_and_finds_every_vector_of_a_full_build(
    hashing_engine, tmp_path, large_share
):
    first, second, third = _articles(30, seed=1), _articles(3, seed=2), _articles(2, seed=3)
    engine = _engine(hashing_engine, tmp_path / "added", first)
    built = _generation(engine)
    before = generation_files(built, skip=())
    inodes = [os.stat(built / FOLDER / name).st_ino for name in layer_files()]
    base = len(np.load(built / FOLDER / "keys.npy"))
    engine.apply(Changes(second))
    assert generation_files(built, skip=()) == before  # the previous generation stays byte for byte
    engine.apply(Changes(third))  # the second delta holds the first's rows and the new ones
    added = _generation(engine)
    # the built generation's base is the added one's, shared by hard link (not written again)
    assert [os.stat(added / FOLDER / name).st_ino for name in layer_files()] == inodes
    delta = np.load(added / FOLDER / f"{DELTA}keys.npy")
    record = generations.read_manifest(added)["sentences"]
    assert len(delta) > 0 and record["base"] == base and record["delta"] == len(delta)
    assert record["sentences"] == base + len(delta)

    full = _generation(_engine(hashing_engine, tmp_path / "full", first + second + third))
    assert sentence_table(added) == sentence_table(full)  # the same vector for every key
    stored, whole = open_sentences(added, 64), open_sentences(full, 64)
    texts = _sentence_texts(full)
    assert len(stored) == len(whole) and len(texts) > len(delta)
    for kind in ("passages", "queries"):
        found, vectors = stored.lookup(kind, texts)  # rows in either layer, read from both
        assert found.all()
        np.testing.assert_array_equal(vectors, whole.lookup(kind, texts)[1])
    assert not stored.lookup("passages", ["Not a stored sentence at all."])[0].any()
    assert engine.ask("Which minister spoke about the wheat price?").text


def test_a_delta_past_its_share_is_merged_into_the_base_a_full_build_writes(
    hashing_engine, tmp_path, monkeypatch, large_share
):
    first, second, third = _articles(30, seed=1), _articles(3, seed=2), _articles(2, seed=3)
    engine = _engine(hashing_engine, tmp_path / "added", first)
    engine.apply(Changes(second))
    assert (_generation(engine) / FOLDER / f"{DELTA}keys.npy").is_file()
    monkeypatch.setattr(sentence_vectors, "DELTA_SHARE", 1 / 1000)
    engine.apply(Changes(third))  # the delta (the second's rows and the third's) is past 1/1000 of the base
    merged = generation_files(_generation(engine) / FOLDER)
    full = generation_files(_generation(_engine(hashing_engine, tmp_path / "full", first + second + third)) / FOLDER)
    assert sorted(merged) == sorted(layer_files()) and merged == full
    assert set(generations.read_manifest(_generation(engine))["sentences"]) == {"sentences", "reused", "embedded"}


@pytest.mark.parametrize("damage", ["overlap", "unsorted", "cut", "missing", "shape", "gone"])
def test_a_damaged_delta_is_a_damaged_generation(hashing_engine, tmp_path, large_share, damage):
    engine = _engine(hashing_engine, tmp_path / "index", _articles(30, seed=1))
    engine.apply(Changes(_articles(3, seed=2)))
    folder = _generation(engine) / FOLDER
    keys = np.load(folder / f"{DELTA}keys.npy")
    assert len(keys) > 1
    if damage == "overlap":  # a key of the base in the delta too, still sorted
        base_key = np.load(folder / "keys.npy")[0]
        _replace(folder / f"{DELTA}keys.npy", np.sort(np.concatenate([[base_key], keys[1:]])))
    elif damage == "unsorted":
        _replace(folder / f"{DELTA}keys.npy", keys[::-1].copy())
    elif damage == "cut":
        data = (folder / f"{DELTA}queries.npy").read_bytes()
        (folder / f"{DELTA}queries.npy").unlink()
        (folder / f"{DELTA}queries.npy").write_bytes(data[: len(data) // 2])
    elif damage == "missing":
        (folder / f"{DELTA}passages.npy").unlink()
    elif damage == "gone":  # the whole delta: the manifest counts its rows
        for name in layer_files(DELTA):
            (folder / name).unlink()
    else:
        _replace(folder / f"{DELTA}keys.npy", keys[1:].copy())
    with pytest.raises(IndexCorruptError) as caught:
        hashing_engine(index_dir=tmp_path / "index").ask("Which minister spoke about the wheat price?")
    assert "\n" not in str(caught.value) and FOLDER in str(caught.value)


def _replace(path, array) -> None:
    """Write ``array`` over ``path`` as a new file (a published file may be shared by hard link)."""
    path.unlink()
    np.save(path, array)


def test_a_base_that_cannot_be_linked_is_copied(hashing_engine, tmp_path, monkeypatch, large_share):
    engine = _engine(hashing_engine, tmp_path / "index", _articles(30, seed=1))
    built = _generation(engine)

    def refused(source, target):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(generations.os, "link", refused)
    engine.apply(Changes(_articles(3, seed=2)))
    added = _generation(engine)
    for name in layer_files():
        assert os.stat(added / FOLDER / name).st_ino != os.stat(built / FOLDER / name).st_ino
        assert (added / FOLDER / name).read_bytes() == (built / FOLDER / name).read_bytes()
    assert (added / FOLDER / f"{DELTA}keys.npy").is_file()
