"""Short exact answers: spans, citations, "no answer", and the example article with the real model."""

from __future__ import annotations

import re

import pytest

from index import Engine, HashingEmbedder, IndexSettings
from index.answering import CALIBRATIONS, Calibration, calibration_for

from tests.conftest import EXAMPLE_ARTICLES

QUESTIONS = ["Who met Haftar in Benghazi?", "olive oil prices in Europe", "إنتاج النفط في ليبيا", "Richard Norland Coates"]


def _article_text(engine: Engine, article_id: str) -> str:
    return engine._index().article(article_id).text


@pytest.fixture
def engine(hashing_engine, news_folder):
    engine = hashing_engine()
    engine.build([news_folder])
    return engine


@pytest.mark.parametrize("question", QUESTIONS)
def test_answer_quotes_are_exact_spans_of_their_articles(engine, question):
    answer = engine.ask(question)
    assert answer.found
    for citation in answer.citations:
        text = _article_text(engine, citation.article_id)
        assert text[citation.start : citation.end] == citation.quote
        assert citation.quote in citation.passage or citation.passage in text
    for sentence, number in answer.sentences:
        assert sentence == answer.citations[number - 1].quote


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_marker_points_at_a_shown_source_and_every_source_is_cited(engine, question):
    answer = engine.ask(question)
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.text)]
    assert sorted(markers) == [c.number for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert len("".join(s for s, _ in answer.sentences)) <= 300 or len(answer.sentences) == 1


def test_unrelated_question_gets_no_answer(hashing_engine, news_folder):
    engine = hashing_engine(embedder=HashingEmbedder(dimension=4096))  # wide enough that unrelated words never collide
    engine.build([news_folder])
    answer = engine.ask("quantum chromodynamics gluon plasma")
    assert not answer.found
    assert answer.text == "I could not find this in my articles."


def test_hashing_embedder_keeps_its_own_threshold():
    assert calibration_for(HashingEmbedder()) == Calibration(threshold=HashingEmbedder().answer_threshold)


def test_the_bundled_model_is_calibrated():
    from index.sentence_encoder import BUNDLED_MODEL_ID

    assert CALIBRATIONS[BUNDLED_MODEL_ID].language_gap > 0


# The real model over the bundled example article ---------------------------------------

DELEGATION = ("كوتس", "نورلاند", "زايس")


@pytest.fixture(scope="session")
def example_engine(tmp_path_factory, bundled_embedder):
    engine = Engine(IndexSettings(index_dir=tmp_path_factory.mktemp("example-index")), embedder=bundled_embedder)
    engine.build([EXAMPLE_ARTICLES])
    yield engine
    engine.close()


@pytest.mark.model
@pytest.mark.parametrize("question", ["who met Haftar?", "من التقى حفتر؟", "Who met Haftar?"])
def test_the_first_answer_sentence_names_the_delegation(example_engine, question):
    answer = example_engine.ask(question)
    assert answer.found
    first, number = answer.sentences[0]
    assert all(name in first for name in DELEGATION), first
    assert answer.citations[number - 1].quote == first


@pytest.mark.model
def test_who_is_david_mack(example_engine):
    answer = example_engine.ask("who is David Mack?")
    assert answer.found and "ديفيد ماك" in answer.sentences[0][0]


@pytest.mark.model
def test_unrelated_question_over_the_example_gets_no_answer(example_engine):
    assert not example_engine.ask("How many points did the Panthers defense surrender in the Super Bowl?").found
