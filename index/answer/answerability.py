"""Whether the passages answer the question at all: the question-level half of the reader.

The sentence reader (``reader.py``) says how likely each sentence is to hold the answer. On-topic
questions the articles do not answer still find sentences that look likely: the same story, the same
names, another figure. This model reads the whole reading instead: the best sentence's probability and
its lead over the next, how close the passages are on the calibrated "off topic" scale, and whether the
question's constraints are met: its numbers and years in the chosen sentence and its passage, its words
in them (in the question's script), its Latin names spelled in the passage (across scripts: Haftar and
حفتر), a span of the type it asks for. A logistic regression fitted by ``training/train_reader.py`` on
reads of the same questions with and without their answering paragraph turns that into the probability
that the articles answer; under its floor the answer is "not in my articles".
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.text.digits import to_ascii_digits
from index.text.names import arabic_skeleton, latin_skeletons, skeletons_match
from index.text.normalise import ENGLISH_STOPWORDS, keyword_terms, strip_prefix, words
from index.text.scripts import is_arabic, script_of

ANSWERABILITY_SIGNALS: tuple[str, ...] = (
    "best_logit",  # the reader's log-odds for the chosen sentence
    "lead",  # its probability minus the best other sentence's
    "over_threshold",  # the best cosine mix above the calibrated "off topic" threshold
    "best_cosine",  # the chosen sentence's signals, as the sentence reader saw them
    "best_chunk_score",
    "best_word_share",
    "max_word_share",  # the most of the question's words any candidate holds
    "best_passage_share",  # the share of the question's words the chosen sentence's passage holds
    "max_passage_share",  # the most any passage holds
    "best_numbers_share",  # the share of the question's numbers and years the chosen sentence holds
    "words_in_sentence",  # the share of the question's content words in the chosen sentence (same script)
    "words_in_passage",  # ... in its passage
    "numbers_in_passage",  # ... in its passage
    "names_in_passage",  # the share of the question's Latin names spelled in the passage, in either script
    "asks_typed",  # the question asks for a person, date, number, place or reason
    "typed_span",  # the chosen sentence holds a new span of that type
    "other_script",  # the chosen sentence is in another script than the question
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_CAPITALISED = re.compile(r"\b[A-Z][A-Za-z'’-]{2,}")


@dataclass(frozen=True)
class AnswerabilityModel:
    """A logistic regression over ``ANSWERABILITY_SIGNALS``; under ``min_probability``: "not in my articles"."""

    weights: tuple[float, ...]
    bias: float
    min_probability: float

    def probability(self, signals: np.ndarray) -> float:
        logit = float(signals @ np.asarray(self.weights, dtype=np.float64)) + self.bias
        return 1.0 / (1.0 + math.exp(-min(30.0, max(-30.0, logit))))

    def to_json(self) -> dict:
        return {
            "signals": list(ANSWERABILITY_SIGNALS),
            "weights": [round(w, 6) for w in self.weights],
            "bias": round(self.bias, 6),
            "min_probability": round(self.min_probability, 4),
        }

    @classmethod
    def from_json(cls, data: dict) -> AnswerabilityModel:
        if tuple(data.get("signals", ())) != ANSWERABILITY_SIGNALS:
            raise ValueError("the answerability weights were fitted on other signals; run training/train_reader.py")
        return cls(tuple(float(w) for w in data["weights"]), float(data["bias"]), float(data["min_probability"]))


@dataclass(frozen=True)
class QuestionConstraints:
    """What a passage that answers the question should hold: its content words, numbers and Latin names."""

    script: str
    terms: frozenset[str]
    numbers: frozenset[str]
    names: tuple[frozenset[str], ...]  # per Latin name of the question: its skeletons

    @classmethod
    def of(cls, question: str) -> QuestionConstraints:
        names = []
        for match in _CAPITALISED.finditer(question):
            word = match.group(0).strip("'’-")
            if match.start() == 0 or word.casefold() in ENGLISH_STOPWORDS:
                continue  # the question's first word is capitalised anyway
            names.append(frozenset(latin_skeletons(word.casefold())))
        return cls(
            script_of(question),
            frozenset(keyword_terms(question)),
            frozenset(_NUMBER.findall(to_ascii_digits(question))),
            tuple(names),
        )

    def words_in(self, text: str) -> float:
        """The share of the question's content words in ``text`` (1 when it has none, or across scripts)."""
        if not self.terms or script_of(text) != self.script:
            return 1.0
        return len(self.terms & set(keyword_terms(text))) / len(self.terms)

    def numbers_in(self, text: str) -> float:
        if not self.numbers:
            return 1.0
        return len(self.numbers & set(_NUMBER.findall(to_ascii_digits(text)))) / len(self.numbers)

    def names_in(self, text: str) -> float:
        """The share of the question's Latin names written in ``text``, in Latin or Arabic letters."""
        if not self.names:
            return 1.0
        latin: set[str] = set()
        arabic: set[str] = set()
        for word in words(text):
            if is_arabic(word):
                arabic.add(arabic_skeleton(strip_prefix(word)))
            else:
                latin.update(latin_skeletons(word))
        found = sum(
            1
            for skeletons in self.names
            if skeletons & latin or any(skeletons_match(a, s) for a in arabic for s in skeletons)
        )
        return found / len(self.names)


def answerability_signals(
    constraints: QuestionConstraints,
    texts: Sequence[str],
    passages: Sequence[str],
    sentence_signals: np.ndarray,
    signal_names: Sequence[str],
    probabilities: np.ndarray,
    chosen: int,
    over_threshold: float,
    asks_typed: bool,
) -> np.ndarray:
    """The signal row of one reading: ``chosen`` indexes the sentence the answer would quote."""
    column = {name: i for i, name in enumerate(signal_names)}
    row = sentence_signals[chosen]
    p = float(np.clip(probabilities[chosen], 1e-6, 1 - 1e-6))
    others = np.delete(probabilities, chosen)
    typed = sum(row[i] for name, i in column.items() if name.startswith("has_"))
    values = {
        "best_logit": math.log(p / (1 - p)),
        "lead": p - float(others.max()) if len(others) else p,
        "over_threshold": over_threshold,
        "best_cosine": row[column["cosine"]],
        "best_chunk_score": row[column["chunk_score"]],
        "best_word_share": row[column["word_share"]],
        "max_word_share": float(sentence_signals[:, column["word_share"]].max()),
        "best_passage_share": row[column["passage_share"]],
        "max_passage_share": float(sentence_signals[:, column["passage_share"]].max()),
        "best_numbers_share": row[column["numbers_share"]],
        "words_in_sentence": constraints.words_in(texts[chosen]),
        "words_in_passage": constraints.words_in(passages[chosen]),
        "numbers_in_passage": constraints.numbers_in(passages[chosen]),
        "names_in_passage": constraints.names_in(passages[chosen]),
        "asks_typed": float(asks_typed),
        "typed_span": float(typed > 0),
        "other_script": row[column["other_script"]],
    }
    return np.array([values[name] for name in ANSWERABILITY_SIGNALS], dtype=np.float64)
