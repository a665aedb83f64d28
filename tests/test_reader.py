"""The reader: signals of candidate sentences, the fitted model's choice, whole answers, junk never answers."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from index import HashingEmbedder
from index.answer.answerability import ANSWERABILITY_SIGNALS, AnswerabilityModel, QuestionConstraints
from index.answer.compose import compose_answer, read_sentences
from index.answer.reader import DEFAULT_MODEL, SIGNALS, ReaderModel, reader_model, sentence_signals
from index.records import SearchHit
from index.text.answer_types import expected_answer
from index.text.typed_spans import SpanFinder

COLUMN = {name: i for i, name in enumerate(SIGNALS)}


def hit(text: str, article_id: str = "a", chunk_id: int = 0, score: float = 0.9, start: int = 0) -> SearchHit:
    return SearchHit(article_id, f"Title {article_id}", "Wire", "https://example.com/" + article_id, "2024-01-02",
                     chunk_id, start, start + len(text), text, score)  # fmt: skip


def model_preferring(**weights: float) -> ReaderModel:
    """A fitted-looking model that weighs only the named signals (never abstains)."""
    return ReaderModel(tuple(weights.get(name, 0.0) for name in SIGNALS), 0.0, 0.0, "test")


def signals_of(question: str, sentences: list[str], **overrides) -> np.ndarray:
    n = len(sentences)
    values = {
        "cosines": np.full(n, 0.8),
        "chunk_scores": [0.8] * n,
        "chunk_ranks": [1] * n,
        "word_shares": [0.5] * n,
        "passage_shares": [0.5] * n,
        "question_terms": frozenset({"haftar", "met"}),
        "other_script": [False] * n,
        "first_in_article": [False] * n,
    }
    values.update(overrides)
    return sentence_signals(question, expected_answer(question), sentences, finder=SpanFinder(), **values).matrix


def test_a_who_question_rewards_a_sentence_naming_someone_new_and_marks_the_restatement() -> None:
    rows = signals_of(
        "Who met Haftar?",
        ["Haftar met them on Sunday in his headquarters.", "Ambassador Richard Norland met Haftar on Sunday."],
    )
    restating, naming = rows
    assert naming[COLUMN["has_person"]] == 1.0 and naming[COLUMN["lacks_person"]] == 0.0
    assert restating[COLUMN["lacks_person"]] == 1.0 and restating[COLUMN["has_person"]] == 0.0
    assert restating[COLUMN["restates"]] > naming[COLUMN["restates"]]


def test_a_how_many_question_checks_the_unit_it_names() -> None:
    rows = signals_of(
        "How many soldiers were sent?",
        ["The army sent 300 soldiers to the border.", "The trip took 300 minutes by road."],
    )
    assert rows[0][COLUMN["has_number"]] == 1.0 and rows[0][COLUMN["unit_match"]] == 1.0
    assert rows[1][COLUMN["has_number"]] == 1.0 and rows[1][COLUMN["unit_match"]] == 0.0


def test_relative_signals_are_measured_from_the_best_candidate() -> None:
    rows = signals_of("What happened?", ["One thing happened.", "Another thing happened."],
                      cosines=np.array([0.9, 0.7]), chunk_scores=[0.6, 0.8], chunk_ranks=[1, 2])  # fmt: skip
    assert rows[0][COLUMN["cosine_behind_best"]] == 0.0
    assert rows[1][COLUMN["cosine_behind_best"]] == pytest.approx(0.2)
    assert rows[0][COLUMN["chunk_behind_best"]] == pytest.approx(0.2)
    assert rows[1][COLUMN["chunk_rank"]] == 0.5


def test_the_fitted_model_chooses_by_its_weights_and_marks_the_typed_span() -> None:
    embedder = HashingEmbedder()
    text = "Haftar spoke about the war on Sunday. Ambassador Richard Norland met Haftar in Benghazi."
    question = "Who met Haftar?"
    answer = compose_answer(question, embedder.embed_queries([question])[0], [hit(text)], embedder, min_score=-1.0,
                            model=model_preferring(has_person=5.0, lacks_person=-5.0))  # fmt: skip
    assert answer.found
    sentence, _ = answer.sentences[0]
    assert sentence == "Ambassador Richard Norland met Haftar in Benghazi."
    (index, start, end) = answer.marks[0]
    assert index == 0 and "Richard Norland" in sentence[start:end]


def test_a_list_continued_in_the_next_sentence_is_quoted_whole() -> None:
    embedder = HashingEmbedder()
    text = (
        "The delegation included Victoria Coates, Richard Norland and Matthew Zais. "
        "In addition, Brigadier General Steven deMiliano joined them. "
        "The weather in Benghazi was mild."
    )
    question = "Who was in the delegation?"
    prefer_first = model_preferring(first_sentence=5.0)
    answer = compose_answer(question, embedder.embed_queries([question])[0], [hit(text)], embedder, min_score=-1.0,
                            model=prefer_first)  # fmt: skip
    sentence, _ = answer.sentences[0]
    assert "Matthew Zais" in sentence and "Steven deMiliano" in sentence
    assert "weather" not in sentence
    assert text.startswith(sentence)  # still one exact span of the article


def test_a_photo_caption_never_answers_even_when_the_model_would_prefer_it() -> None:
    embedder = HashingEmbedder()
    text = (
        "Haftar's forces target a home in Libya (Reuters)\n"
        "A United States delegation met General Khalifa Haftar in Benghazi on Sunday."
    )
    question = "Who met Haftar?"
    prefer_short = model_preferring(log_chars=-5.0)  # the caption is the shorter line
    reading = read_sentences(question, embedder.embed_queries([question])[0], [hit(text)], embedder, model=prefer_short)
    assert [c.text for c in reading.candidates] == [
        "A United States delegation met General Khalifa Haftar in Benghazi on Sunday."
    ]


def test_one_article_is_cited_once() -> None:
    embedder = HashingEmbedder()
    first = hit("Norland met Haftar on Sunday. Coates met Haftar on Monday.", "a", 0)
    other = hit("Zais met Haftar in March.", "b", 1, score=0.8)
    question = "Who met Haftar?"
    answer = compose_answer(question, embedder.embed_queries([question])[0], [first, other], embedder,
                            min_score=-1.0, model=model_preferring(has_person=1.0))  # fmt: skip
    cited = [citation.article_id for citation in answer.citations]
    assert len(cited) == len(set(cited))


def test_the_default_model_is_the_hand_set_mix() -> None:
    assert reader_model("an encoder nobody fitted") is DEFAULT_MODEL
    weights = dict(zip(SIGNALS, DEFAULT_MODEL.weights))
    assert weights["cosine"] / weights["chunk_score"] == pytest.approx(0.85 / 0.15)
    assert weights["word_share"] / weights["cosine"] == pytest.approx(0.04 / 0.85)


def test_weights_fitted_on_other_signals_are_refused() -> None:
    data = DEFAULT_MODEL.to_json()
    again = ReaderModel.from_json(json.loads(json.dumps(data)))
    assert again.weights == pytest.approx(DEFAULT_MODEL.weights) and again.bias == pytest.approx(DEFAULT_MODEL.bias)
    data["signals"] = data["signals"][:-1]
    with pytest.raises(ValueError, match="train_reader.py"):
        ReaderModel.from_json(data)


def test_a_list_continued_in_the_next_passage_is_joined_across_the_two() -> None:
    embedder = HashingEmbedder()
    article = (
        "The delegation included Victoria Coates, Richard Norland and Matthew Zais. "
        "In addition, Brigadier General Steven deMiliano joined them. "
        "The weather in Benghazi was mild."
    )
    cut = article.index("In addition")
    first = hit(article[:cut], "a", 0, score=0.9, start=0)
    second = hit(article[cut:], "a", 1, score=0.5, start=cut)
    question = "Who was in the delegation?"
    answer = compose_answer(question, embedder.embed_queries([question])[0], [first, second], embedder,
                            min_score=-1.0, model=model_preferring(first_sentence=5.0))  # fmt: skip
    sentence, number = answer.sentences[0]
    assert sentence == article[: article.index(" The weather")]
    citation = answer.citations[number - 1]
    assert citation.quote == sentence and sentence in citation.passage


def test_the_floor_applies_to_answers_in_the_question_script_only() -> None:
    embedder = HashingEmbedder()
    cautious = replace(model_preferring(cosine=1.0), min_probability=0.99)
    question = "Who met Haftar?"
    vector = embedder.embed_queries([question])[0]
    english = hit("A United States delegation met Haftar in Benghazi on Sunday.", "en")
    arabic = hit("التقى وفد أميركي بحفتر في بنغازي يوم الأحد الماضي.", "ar")
    assert not compose_answer(question, vector, [english], embedder, min_score=-1.0, model=cautious).found
    assert compose_answer(question, vector, [arabic], embedder, min_score=-1.0, model=cautious).found


def test_a_question_numbers_years_and_names_are_its_constraints() -> None:
    constraints = QuestionConstraints.of("How many soldiers did Haftar send to Tripoli in 2019?")
    assert constraints.numbers == {"2019"}
    assert constraints.numbers_in("أرسل حفتر 300 جندي عام ٢٠١٩") == 1.0  # Arabic-Indic digits count
    assert constraints.numbers_in("Haftar sent 300 soldiers in 2020.") == 0.0
    assert constraints.names_in("أرسل حفتر قواته إلى طرابلس") == 1.0  # Haftar and Tripoli, in Arabic letters
    assert constraints.names_in("أرسل حفتر قواته إلى بنغازي") == 0.5
    assert constraints.names_in("Haftar sent soldiers to Tripoli.") == 1.0
    assert constraints.words_in("Soldiers were sent to Tripoli by Haftar.") > constraints.words_in("The sky is blue.")
    assert constraints.words_in("الجنود") == 1.0  # across scripts the words say nothing
    assert QuestionConstraints.of("Who met Haftar?").numbers_in("No figure here.") == 1.0  # nothing asked


def answerability_preferring(floor: float = 0.5, **weights: float) -> AnswerabilityModel:
    return AnswerabilityModel(tuple(weights.get(name, 0.0) for name in ANSWERABILITY_SIGNALS), 0.0, floor)


def test_the_answerability_model_refuses_passages_without_the_question_constraints() -> None:
    embedder = HashingEmbedder()
    question = "How many soldiers did Haftar send in 2019?"
    vector = embedder.embed_queries([question])[0]
    # the bias is 0: a read holding none of the question's numbers has probability 0.5, under the floor
    demanding = answerability_preferring(floor=0.6, numbers_in_passage=4.0)
    strict = replace(model_preferring(has_number=1.0), answerability=demanding)
    answered = hit("In 2019 Haftar sent 3,000 soldiers to the capital.")
    other_year = hit("In 2020 Haftar sent 3,000 soldiers to the capital.")
    assert compose_answer(question, vector, [answered], embedder, min_score=-1.0, model=strict).found
    refused = compose_answer(question, vector, [other_year], embedder, min_score=-1.0, model=strict)
    assert not refused.found and refused.citations  # the closest passages are still offered
    # across scripts too (the old floor applied to answers in the question's script only)
    arabic = hit("أرسل حفتر ثلاثة آلاف جندي إلى العاصمة عام 2020.")
    assert not compose_answer(question, vector, [arabic], embedder, min_score=-1.0, model=strict).found


def test_answerability_weights_travel_with_the_reader_weights() -> None:
    answerability = answerability_preferring(lead=2.0)
    model = replace(model_preferring(cosine=1.0), answerability=answerability)
    again = ReaderModel.from_json(json.loads(json.dumps(model.to_json())))
    assert again.answerability is not None
    assert again.answerability.weights == pytest.approx(answerability.weights)
    assert again.answerability.min_probability == pytest.approx(0.5)
    data = model.to_json()
    data["answerability"]["signals"] = data["answerability"]["signals"][1:]
    with pytest.raises(ValueError, match="train_reader.py"):
        ReaderModel.from_json(data)


def test_the_span_marked_for_who_names_someone_when_one_does() -> None:
    """ "مسؤولة الشرق الأوسط" (the Middle East official) comes first but names no one: the mark goes to the span
    with a name; the signal (a new person span) is the same either way."""
    sentence = (
        "وتكون الوفد من مسؤولة الشرق الأوسط في مجلس الأمن القومي فيكتوريا كوتس، "
        "والسفير الأميركي لدى ليبيا ريتشارد نورلاند."
    )
    question = "من التقى حفتر؟"
    signals = sentence_signals(question, expected_answer(question), [sentence], np.full(1, 0.8), [0.8], [1], [0.5],
                               [0.5], frozenset(), [False], [False], SpanFinder())  # fmt: skip
    first = signals.spans[0][0]
    assert "ريتشارد نورلاند" in sentence[first.start : first.end]
    assert any("مسؤولة" in sentence[s.start : s.end] for s in signals.spans[0])  # still found, marked second
    assert signals.matrix[0][COLUMN["has_person"]] == 1.0
