"""Sentence vectors computed at build time and stored in the generation: a question embeds only itself."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from index import IndexCorruptError
from index.builder import answer_sentences
from index.encoders.base import HashingEmbedder
from index.storage import generations
from index.storage.sentence_vectors import FOLDER, open_sentences, sentence_keys, write_sentences
from tests.conftest import write_articles


class CountingEmbedder(HashingEmbedder):
    """The hashing encoder, recording every text it embeds with each prompt."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded: dict[str, list[str]] = {"passage": [], "query": []}

    def embed_passages(self, texts):
        self.embedded["passage"] += list(texts)
        return super().embed_passages(texts)

    def embed_queries(self, texts):
        self.embedded["query"] += list(texts)
        return super().embed_queries(texts)


def test_a_build_stores_every_answer_sentence_with_both_prompts(hashing_engine, news_folder):
    embedder = CountingEmbedder()
    engine = hashing_engine(embedder=embedder)
    engine.update([news_folder], replace_all=True)
    generation = generations.current_generation(engine.index_dir)
    stored = open_sentences(generation, embedder.dimension)
    index = engine._index()
    chunk_texts = [hit.text for hit in index.hits([(row, 0.0) for row in range(index.store_summary()[1])])]
    sentences = {sentence for text in chunk_texts for sentence in answer_sentences(text)}
    assert "A United States delegation met General Khalifa Haftar in Benghazi on Sunday." in sentences
    assert stored is not None and len(stored) == len(sentences)
    texts = sorted(sentences)
    for kind, embed in (("passages", embedder.embed_passages), ("queries", embedder.embed_queries)):
        found, vectors = stored.lookup(kind, texts)
        assert found.all()
        np.testing.assert_allclose(vectors, embed(texts), atol=1e-6)
    manifest = generations.read_manifest(generation)
    assert manifest["sentences"] == {"sentences": len(sentences), "reused": 0, "embedded": len(sentences)}


def test_a_new_process_embeds_only_the_question(hashing_engine, news_folder):
    hashing_engine().update([news_folder], replace_all=True)
    embedder = CountingEmbedder()
    fresh = hashing_engine(embedder=embedder)  # as a new process would: nothing remembered
    answer = fresh.ask("Who did the United States delegation meet in Benghazi?")
    assert "Haftar" in answer.text
    assert embedder.embedded == {"passage": [], "query": ["Who did the United States delegation meet in Benghazi?"]}


def test_a_generation_without_stored_sentences_still_answers_by_embedding_them(hashing_engine, news_folder):
    hashing_engine().update([news_folder], replace_all=True)
    generation = generations.current_generation(hashing_engine().index_dir)
    shutil.rmtree(generation / FOLDER)  # as an index written before sentence vectors were stored
    manifest = json.loads((generation / generations.MANIFEST).read_text())
    del manifest["sentences"]
    (generation / generations.MANIFEST).write_text(json.dumps(manifest))
    embedder = CountingEmbedder()
    answer = hashing_engine(embedder=embedder).ask("Who did the United States delegation meet in Benghazi?")
    assert "Haftar" in answer.text
    assert embedder.embedded["passage"]  # the sentences were embedded when the question met them


def test_an_incremental_add_embeds_only_the_new_sentences(hashing_engine, news_folder):
    embedder = CountingEmbedder()
    engine = hashing_engine(embedder=embedder)
    engine.update([news_folder], replace_all=True)
    embedder.embedded = {"passage": [], "query": []}
    write_articles(news_folder, {"new-port": "Port of Misrata reopens\n\nShips returned to Misrata harbour on Monday."})
    report = engine.update([news_folder])
    new_sentence = "Ships returned to Misrata harbour on Monday."
    assert embedder.embedded["query"] == [new_sentence]
    assert embedder.embedded["passage"] == [f"Port of Misrata reopens\n{new_sentence}", new_sentence]
    assert report.embedded_sentences == 1
    generation = generations.current_generation(engine.index_dir)
    assert generations.read_manifest(generation)["sentences"]["reused"] > 0


def test_a_rebuild_with_another_model_embeds_every_sentence_again(hashing_engine, news_folder):
    hashing_engine().update([news_folder], replace_all=True)
    other = CountingEmbedder()
    other.dimension = 32  # another model: nothing of the old index can be reused
    report = hashing_engine(embedder=other).update([news_folder], replace_all=True)
    assert report.embedded_sentences == len(other.embedded["query"]) > 0


def test_stored_lookups_find_exact_texts_only(tmp_path):
    texts = ["first sentence here.", "second sentence here.", "first sentence here."]
    embedder = HashingEmbedder()
    calls = []

    def embed(texts):
        calls.append(list(texts))
        return embedder.embed_passages(texts)

    record = write_sentences(tmp_path, texts, embedder.dimension, {"passages": embed, "queries": embed})
    assert record == {"sentences": 2, "reused": 0, "embedded": 2}
    stored = open_sentences(tmp_path, embedder.dimension)
    found, vectors = stored.lookup("passages", ["second sentence here.", "Second sentence here.", "unknown"])
    assert found.tolist() == [True, False, False]
    np.testing.assert_allclose(vectors[0], embedder.embed_passages(["second sentence here."])[0])
    later = tmp_path / "later"
    later.mkdir()
    calls.clear()
    record = write_sentences(
        later,
        ["second sentence here.", "a third one."],
        embedder.dimension,
        {"passages": embed, "queries": embed},
        stored,
    )
    assert record == {"sentences": 2, "reused": 1, "embedded": 1}
    assert calls == [["a third one."], ["a third one."]]
    assert sentence_keys(["a"]).dtype == np.uint64


@pytest.mark.parametrize("damage", ["cut", "unsorted", "missing"])
def test_damaged_sentence_vectors_are_a_one_line_error(hashing_engine, news_folder, damage):
    hashing_engine().update([news_folder], replace_all=True)
    generation = generations.current_generation(hashing_engine().index_dir)
    folder = generation / FOLDER
    if damage == "cut":
        data = (folder / "queries.npy").read_bytes()
        (folder / "queries.npy").write_bytes(data[: len(data) // 2])
    elif damage == "unsorted":
        keys = np.load(folder / "keys.npy")
        np.save(folder / "keys.npy", keys[::-1].copy())
    else:
        shutil.rmtree(folder)
    with pytest.raises(IndexCorruptError) as caught:
        hashing_engine().ask("Who met Haftar?")
    assert "\n" not in str(caught.value) and "sentences" in str(caught.value)


def test_adding_to_an_index_without_stored_sentences_stores_every_sentence(hashing_engine, news_folder):
    engine = hashing_engine()
    engine.update([news_folder], replace_all=True)
    generation = generations.current_generation(engine.index_dir)
    everything = len(open_sentences(generation, engine.embedder.dimension))
    shutil.rmtree(generation / FOLDER)  # as an index written before sentence vectors were stored
    manifest = json.loads((generation / generations.MANIFEST).read_text())
    del manifest["sentences"]
    (generation / generations.MANIFEST).write_text(json.dumps(manifest))
    write_articles(news_folder, {"new-port": "Port of Misrata reopens\n\nShips returned to Misrata harbour on Monday."})
    report = engine.update([news_folder])
    stored = open_sentences(generations.current_generation(engine.index_dir), engine.embedder.dimension)
    assert len(stored) == report.embedded_sentences == everything + 1  # the kept articles' sentences too


@pytest.mark.model
def test_a_question_and_its_words_are_embedded_in_one_encoder_pass(bundled_embedder) -> None:
    """The question (query prompt) and the words it translates (passage prompt) go through the encoder once,
    with the same vectors as apart; the words are then remembered and translating them embeds nothing."""
    from index.answer.similarity import SentenceVectors
    from index.encoders.bundled_e5 import BundledE5Embedder

    embedder = bundled_embedder
    assert isinstance(embedder, BundledE5Embedder)
    passes = []
    run = embedder._run
    embedder._run = lambda texts: passes.append(len(texts)) or run(texts)  # type: ignore[method-assign]
    try:
        vectors = SentenceVectors(embedder)
        question = vectors.embed_question("Who met Haftar in Benghazi?", ["haftar", "benghazi"])
        assert passes == [3]
        words = vectors.passages(["haftar", "benghazi"])
        assert passes == [3]  # remembered
        alone_question, alone_words = (
            embedder.embed_queries(["Who met Haftar in Benghazi?"]),
            embedder.embed_passages(["haftar", "benghazi"]),
        )
    finally:
        embedder._run = run  # type: ignore[method-assign]
    assert float(question @ alone_question[0]) > 0.99999
    assert np.allclose(words, alone_words, atol=1e-5)
