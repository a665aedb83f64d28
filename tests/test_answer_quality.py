"""Short exact answers: spans, citations, "no answer", and the example article with the real model."""

from __future__ import annotations

import re

import pytest

from index import Engine, HashingEmbedder, IndexSettings
from index.answer.compose import compose_answer, is_sentence
from index.answer.similarity import SentenceVectors, question_similarity
from index.encoders.calibration import CALIBRATIONS, Calibration, calibration_for
from index.records import SearchHit
from index.tuning import RANKING
from tests.conftest import EXAMPLE_ARTICLES

QUESTIONS = [
    "Who met Haftar in Benghazi?",
    "olive oil prices in Europe",
    "إنتاج النفط في ليبيا",
    "Richard Norland Coates",
]


def _article_text(engine: Engine, article_id: str) -> str:
    return engine._index().article(article_id).text


@pytest.fixture
def engine(hashing_engine, news_folder):
    engine = hashing_engine()
    engine.update([news_folder], replace_all=True)
    return engine


@pytest.mark.parametrize("question", QUESTIONS)
def test_answer_quotes_are_exact_spans_of_their_articles(engine, question):
    answer = engine.ask(question)
    assert answer.found
    for citation in answer.citations:
        text = _article_text(engine, citation.article_id)
        assert text[citation.start : citation.end] == citation.quote
        passage_start = text.find(citation.passage)  # the passage is the retrieved chunk, a span of the article
        assert passage_start >= 0 and citation.passage
        assert passage_start <= citation.start and citation.end <= passage_start + len(citation.passage)
    for sentence, number in answer.sentences:
        assert sentence == answer.citations[number - 1].quote


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_marker_points_at_a_shown_source_and_every_source_is_cited(engine, question):
    answer = engine.ask(question)
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.text)]
    assert sorted(markers) == [c.number for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    assert len("".join(s for s, _ in answer.sentences)) <= RANKING.answer_chars or len(answer.sentences) == 1


def test_unrelated_question_gets_no_answer(hashing_engine, news_folder):
    engine = hashing_engine(embedder=HashingEmbedder(dimension=4096))  # wide enough that unrelated words never collide
    engine.update([news_folder], replace_all=True)
    answer = engine.ask("quantum chromodynamics gluon plasma")
    assert not answer.found
    assert answer.text == "I could not find this in my articles."


def test_hashing_embedder_keeps_its_own_threshold():
    assert calibration_for(HashingEmbedder()) == Calibration(threshold=HashingEmbedder().answer_threshold)


def test_the_bundled_model_is_calibrated():
    from index.encoders.sentence_transformer import BUNDLED_MODEL_ID

    assert CALIBRATIONS[BUNDLED_MODEL_ID].language_gap > 0


# The real model over the bundled example article ---------------------------------------

DELEGATION = ("كوتس", "نورلاند", "زايس")


@pytest.fixture(scope="session")
def example_engine(tmp_path_factory, bundled_embedder):
    engine = Engine(IndexSettings(index_dir=tmp_path_factory.mktemp("example-index")), embedder=bundled_embedder)
    engine.update([EXAMPLE_ARTICLES], replace_all=True)
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


# Sentences across scripts ---------------------------------------------------------------

ENGLISH_SENTENCE = "The delegation met Haftar in Benghazi on Sunday."
ARABIC_SENTENCE = "التقى الوفد الأميركي حفتر في بنغازي يوم الأحد."


class PromptRecordingEmbedder(HashingEmbedder):
    """Hashing vectors that differ by prompt, remembering which texts each prompt embedded."""

    def __init__(self) -> None:
        super().__init__(dimension=256, model_id="test:prompts")
        self.as_queries: list[str] = []
        self.as_passages: list[str] = []

    def embed_queries(self, texts):
        self.as_queries += texts
        return self._embed(["query " + t for t in texts])

    def embed_passages(self, texts):
        self.as_passages += texts
        return self._embed(texts)


def test_a_sentence_in_another_script_is_read_with_the_query_prompt_plus_the_gap():
    embedder = PromptRecordingEmbedder()
    question = "Who met Haftar?"
    query_vector = embedder.embed_queries([question])[0]
    similarity = question_similarity(
        question, query_vector, [ENGLISH_SENTENCE, ARABIC_SENTENCE], SentenceVectors(embedder), gap=0.07
    )
    assert embedder.as_passages == [ENGLISH_SENTENCE]
    assert embedder.as_queries == [question, ARABIC_SENTENCE]
    assert similarity[0] == pytest.approx(float(embedder._embed([ENGLISH_SENTENCE])[0] @ query_vector))
    assert similarity[1] == pytest.approx(float(embedder._embed(["query " + ARABIC_SENTENCE])[0] @ query_vector) + 0.07)


def test_sentence_vectors_are_remembered_per_prompt():
    embedder = PromptRecordingEmbedder()
    vectors = SentenceVectors(embedder)
    vectors.queries([ARABIC_SENTENCE])
    vectors.queries([ARABIC_SENTENCE])
    vectors.passages([ARABIC_SENTENCE])
    assert embedder.as_queries == [ARABIC_SENTENCE] and embedder.as_passages == [ARABIC_SENTENCE]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("--------------------", False),
        ("2019-11-14 12:30", False),
        ("Haftar", False),
        (ENGLISH_SENTENCE, True),
        (ARABIC_SENTENCE, True),
    ],
)
def test_only_spans_with_letters_and_some_length_can_answer(text, expected):
    assert is_sentence(text) is expected


def _arabic_hit(text: str) -> SearchHit:
    return SearchHit("a1", "خبر", "test", "", "2019-11-17", 0, 0, len(text), text, 0.5)


@pytest.mark.parametrize("question_gap, found", [(0.07, True), (0.0, False)])
def test_an_answer_across_scripts_is_judged_with_the_question_language_gap(monkeypatch, question_gap, found):
    """The sentence language gap ranks sentences of both scripts; whether the best one answers
    is judged with the question language gap (the threshold's scale)."""
    embedder = PromptRecordingEmbedder()
    question = "Who met Haftar?"
    query_vector = embedder.embed_queries([question])[0]
    hits = [_arabic_hit(ARABIC_SENTENCE)]
    cosine = float(embedder.embed_queries([ARABIC_SENTENCE])[0] @ query_vector)
    ranked = RANKING.sentence_weight * (cosine + 0.07) + (1 - RANKING.sentence_weight) * 0.5
    halfway = ranked - RANKING.sentence_weight * 0.07 / 2  # between the scores with either gap
    calibration = Calibration(threshold=halfway, sentence_language_gap=0.07, question_language_gap=question_gap)
    monkeypatch.setitem(CALIBRATIONS, embedder.model_id, calibration)
    answer = compose_answer(question, query_vector, hits, embedder)
    assert answer.found is found
    if found:
        assert answer.citations[0].score == pytest.approx(ranked)
