"""A build streams its articles (issue 16, bounded build memory): chunked and embedded a step at a time, sentences
embedded a batch at a time, keyword terms read one row at a time. Whatever the steps, the files are the same."""

from __future__ import annotations

import random

import numpy as np
import pytest

import index.fresh_chunks as fresh_chunks
import index.search.keyword_writer as keyword_writer
import index.storage.sentence_vectors as sentence_vectors
from index.encoders.base import HashingEmbedder
from index.records import Article, Changes
from index.storage import generations
from tests.conftest import generation_files

WORDS = [
    "oil",
    "port",
    "ship",
    "grain",
    "wheat",
    "harbour",
    "minister",
    "rain",
    "river",
    "bank",
    "market",
    "price",
    "trade",
    "road",
    "city",
]


def _articles(count: int, seed: int) -> list[Article]:
    chooser = random.Random(seed)
    return [
        Article(
            f"a-{seed}-{number:03d}",
            f"Title {number} {chooser.choice(WORDS)}",
            " ".join(
                " ".join(chooser.choices(WORDS, k=chooser.randrange(5, 14))).capitalize() + "."
                for _ in range(chooser.randrange(3, 30))
            ),
            source=chooser.choice(("Wire", "Herald")),
            published=f"2021-0{chooser.randrange(1, 10)}-1{chooser.randrange(10)}",
        )
        for number in range(count)
    ]


def _files(engine) -> dict[str, bytes]:
    return generation_files(generations.current_generation(engine.index_dir))


def _small_steps(monkeypatch) -> None:
    monkeypatch.setattr(fresh_chunks, "EMBED_STEP", 3)
    monkeypatch.setattr(sentence_vectors, "BATCH", 2)
    monkeypatch.setattr(sentence_vectors, "INTAKE", 1)
    monkeypatch.setattr(sentence_vectors, "COPY_ROWS", 5)
    monkeypatch.setattr(keyword_writer, "POSTINGS_BLOCK", 7)


def _build_and_add(hashing_engine, folder, embedder=None):
    engine = hashing_engine(index_dir=folder, embedder=embedder, chunk_tokens=40, chunk_overlap_tokens=10)
    engine.apply(Changes(_articles(30, seed=1), replace_all=True))
    built = _files(engine)
    engine.apply(Changes(_articles(6, seed=2)))
    return engine, built, _files(engine)


def test_a_build_in_small_steps_writes_the_files_of_a_build_in_one_step(hashing_engine, tmp_path, monkeypatch):
    engine, built, added = _build_and_add(hashing_engine, tmp_path / "one-step")
    with generations.current_generation(engine.index_dir).joinpath(generations.MANIFEST).open() as manifest:
        assert '"sentences": ' in manifest.read()
    _small_steps(monkeypatch)
    _, small_built, small_added = _build_and_add(hashing_engine, tmp_path / "small-steps")
    assert len(built) > 10 and {name for name in built if built[name] != small_built.get(name)} == set()
    assert {name for name in added if added[name] != small_added.get(name)} == set()


class BatchSensitiveEmbedder(HashingEmbedder):
    """The hashing encoder, its vectors moved by how many texts came in the same call: what the test above would
    see if a build's steps changed what the encoder is given."""

    def embed_passages(self, texts):
        return super().embed_passages(texts) + np.float32(len(texts) / 1000)

    def embed_queries(self, texts):
        return super().embed_queries(texts) + np.float32(len(texts) / 1000)


@pytest.mark.parametrize("part", ["embeddings.npy", "sentences/passages.npy"])
def test_the_comparison_sees_the_steps_when_the_encoder_does(hashing_engine, tmp_path, monkeypatch, part):
    _, built, _ = _build_and_add(hashing_engine, tmp_path / "one-step", BatchSensitiveEmbedder())
    _small_steps(monkeypatch)
    _, small_built, _ = _build_and_add(hashing_engine, tmp_path / "small-steps", BatchSensitiveEmbedder())
    assert built[part] != small_built[part]
    assert built["store.sqlite"] == small_built["store.sqlite"]
