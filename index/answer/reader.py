"""The reader: which sentence of the best passages answers the question, and whether any does.

Every sentence of the best chunks becomes a row of *signals* (``SIGNALS``): its cosine with the
question (read across scripts as ``compose.question_similarity`` does), its chunk's search score
and rank, the share of the question's words it holds, whether it holds a span of the type the
question asks for (a name for "who", a figure with the asked unit for "how many", a date, a place,
a reason) that the question does not already say, how much of it merely restates the question,
its place in the article and its length. A small model fitted on data (``ReaderModel``, a logistic
regression; ``training/train_reader.py`` fits it from ``../shared/eval`` and writes its weights
beside the encoder's calibration) turns the row into the probability that the sentence holds the
answer. The answer is the most probable sentence; the articles do not answer when that
probability is too low, or when the calibrated cosine threshold says the passages are off topic.

Without fitted weights for the encoder the default model reproduces the hand-set mix the project
used before (``DEFAULT_MODEL``): 0.85 of the cosine, 0.15 of the chunk's score and 0.04 for the
question's words, under the calibrated cosine threshold alone.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from index.answer.answerability import AnswerabilityModel, QuestionConstraints
from index.text.answer_types import AnswerType, ExpectedAnswer
from index.text.entity_spans import names_someone
from index.text.typed_spans import SpanFinder, TypedSpan, new_spans, unit_matches
from index.tuning import RANKING

TYPED = (AnswerType.PERSON, AnswerType.DATE, AnswerType.NUMBER, AnswerType.PLACE, AnswerType.REASON)
SIGNALS: tuple[str, ...] = (
    "cosine",  # the sentence's cosine with the question, one scale across scripts
    "cosine_behind_best",  # how far its cosine is behind the best candidate's (0 for the best)
    "chunk_score",  # its chunk's hybrid search score
    "chunk_behind_best",  # how far that is behind the best chunk's
    "chunk_rank",  # 1 / the chunk's rank after re-ranking
    "word_share",  # the weighted share of the question's words (and their translations) it holds
    "passage_share",  # ... that its passage holds (a passage without the question's specifics does not answer)
    "numbers_share",  # the share of the question's numbers and years it holds (1 when the question has none)
    "restates",  # the share of its own content words that are the question's
    *(f"has_{t.value}" for t in TYPED),  # it holds a new span of the type asked (one signal per type)
    *(f"lacks_{t.value}" for t in TYPED),  # the question asks for that type and it holds none
    "unit_match",  # a number question names a unit and the sentence has a figure of that unit
    "other_script",  # the sentence is in another script than the question
    "first_sentence",  # it opens its article (a lead sums up the story)
    "log_chars",  # log of its length
)


@dataclass(frozen=True)
class ReaderModel:
    """A logistic regression over ``SIGNALS``; ``min_probability``: under it, "not in my articles"."""

    weights: tuple[float, ...]
    bias: float
    min_probability: float  # 0: abstain on the calibrated cosine threshold alone
    source: str = "default"  # where the weights come from
    answerability: AnswerabilityModel | None = None  # whether the passages answer at all; None: min_probability

    def probabilities(self, signals: np.ndarray) -> np.ndarray:
        logits = signals @ np.asarray(self.weights, dtype=np.float64) + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -30, 30)))

    def to_json(self) -> dict:
        data = {
            "signals": list(SIGNALS),
            "weights": [round(w, 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "min_probability": round(self.min_probability, 4),
            "source": self.source,
        }
        if self.answerability is not None:
            data["answerability"] = self.answerability.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict) -> ReaderModel:
        if tuple(data.get("signals", ())) != SIGNALS:
            raise ValueError("the reader weights were fitted on other signals; run training/train_reader.py again")
        answerability = AnswerabilityModel.from_json(data["answerability"]) if "answerability" in data else None
        return cls(tuple(float(w) for w in data["weights"]), float(data["bias"]), float(data["min_probability"]),
                   str(data.get("source", "")), answerability)  # fmt: skip


def _default_model() -> ReaderModel:
    """Today's hand-set mix as a model: scores rank like 0.85·cosine + 0.15·chunk + 0.04·words."""
    weights = dict.fromkeys(SIGNALS, 0.0)
    scale = 40.0  # any positive scale ranks the same; this one keeps probabilities away from 0 and 1
    weights["cosine"] = scale * RANKING.sentence_weight
    weights["chunk_score"] = scale * (1 - RANKING.sentence_weight)
    weights["word_share"] = scale * RANKING.keyword_bonus
    return ReaderModel(tuple(weights[name] for name in SIGNALS), -scale * 0.8, 0.0, "default")


DEFAULT_MODEL = _default_model()
WEIGHTS_FILE = "reader-{model}.json"  # in index/encoders, beside the calibration: one file per encoder


@cache
def reader_model(model_id: str) -> ReaderModel:
    """The fitted reader of an encoder (``index/encoders/reader-<model>.json``), else ``DEFAULT_MODEL``."""
    name = WEIGHTS_FILE.format(model=model_id.replace("/", "_").replace("@", "_"))
    try:
        text = resources.files("index.encoders").joinpath(name).read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return DEFAULT_MODEL
    return ReaderModel.from_json(json.loads(text))


@dataclass(frozen=True)
class SentenceSignals:
    """The signals of each candidate sentence, and the typed spans that make an answer."""

    expected: ExpectedAnswer
    constraints: QuestionConstraints  # the question's words, numbers and names (the answerability model reads them)
    matrix: np.ndarray  # one row per candidate, columns SIGNALS
    spans: list[list[TypedSpan]]  # per candidate: new spans of the expected type (for marking the answer)


def sentence_signals(
    question: str,
    expected: ExpectedAnswer,
    sentences: list[str],
    cosines: np.ndarray,
    chunk_scores: list[float],
    chunk_ranks: list[int],
    word_shares: list[float],
    passage_shares: list[float],
    question_terms: frozenset[str],
    other_script: list[bool],
    first_in_article: list[bool],
    finder: SpanFinder,
) -> SentenceSignals:
    """The signal rows of ``sentences`` (candidates of one question; the lists run parallel)."""
    from index.text.normalise import is_stopword, keyword_terms

    n = len(sentences)
    matrix = np.zeros((n, len(SIGNALS)), dtype=np.float64)
    column = {name: i for i, name in enumerate(SIGNALS)}
    constraints = QuestionConstraints.of(question)
    if n == 0:
        return SentenceSignals(expected, constraints, matrix, [])
    best_cosine, best_chunk = float(np.max(cosines)), max(chunk_scores)
    asked = expected.type if expected.type in TYPED else None
    spans: list[list[TypedSpan]] = []
    for row, sentence in enumerate(sentences):
        found: list[TypedSpan] = []
        if asked is not None:
            found = new_spans(finder.find(sentence, asked), sentence, question, question_terms=question_terms)
            if asked is AnswerType.PERSON:  # the span marked for "who" names someone if any does (stable sort)
                found.sort(key=lambda span: not names_someone(sentence[span.start : span.end]))
        spans.append(found)
        terms = [t for t in keyword_terms(sentence) if not is_stopword(t)]
        values = {
            "cosine": float(cosines[row]),
            "cosine_behind_best": best_cosine - float(cosines[row]),
            "chunk_score": chunk_scores[row],
            "chunk_behind_best": best_chunk - chunk_scores[row],
            "chunk_rank": 1.0 / chunk_ranks[row],
            "word_share": word_shares[row],
            "passage_share": passage_shares[row],
            "numbers_share": constraints.numbers_in(sentence),
            "restates": sum(t in question_terms for t in terms) / len(terms) if terms else 0.0,
            "unit_match": float(any(unit_matches(expected.unit, span.unit) for span in found)),
            "other_script": float(other_script[row]),
            "first_sentence": float(first_in_article[row]),
            "log_chars": math.log(max(len(sentence), 1)),
        }
        if asked is not None:
            values[f"has_{asked.value}" if found else f"lacks_{asked.value}"] = 1.0
        for name, value in values.items():
            matrix[row, column[name]] = value
    return SentenceSignals(expected, constraints, matrix, spans)
