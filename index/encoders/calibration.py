"""Per-model calibration: the numbers that put scores of one encoder on one scale across languages.

Every encoder rates a text in the question's own language higher than the same text in another;
these gaps, and the score under which the articles do not answer ("not in my articles"), are
properties of the model, so they live beside the encoders, one entry per model id. A model not
in the table uses the ``ANSWER_THRESHOLD`` setting and no gaps.
"""

from __future__ import annotations

from dataclasses import dataclass

from index.encoders.base import Embedder
from index.encoders.sentence_transformer import BUNDLED_MODEL_ID


@dataclass(frozen=True)
class Calibration:
    """Per-model constants (cosine units) for putting scores across languages on one scale.

    ``threshold``: the answer score under which the articles do not answer.
    ``language_gap``: what a question loses against a chunk (embedded as a passage) in
    another script. ``sentence_language_gap``: how much higher a question rates a sentence
    in its own language (as a passage) than the same sentence in another language (with the
    query prompt); it ranks sentences of different scripts against each other.
    ``question_language_gap``: what a question asked in another language than the sentence
    scores less than one asked in the sentence's language; it puts the best score of a
    question asked across languages on the threshold's scale."""

    threshold: float
    language_gap: float = 0.0
    sentence_language_gap: float = 0.0
    question_language_gap: float = 0.0


# Measured on the development half of XQuAD (its English and Arabic questions over the
# parallel English and Arabic paragraphs, and the same questions over 87 unrelated news
# articles for the threshold): language_gap and question_language_gap are the mean cosine an
# English question loses, against the Arabic one, to its Arabic gold chunk and to the Arabic
# sentence holding its answer; sentence_language_gap is the mean, over both languages'
# questions, of the cosine with the gold sentence in the question's language less that with
# the gold sentence in the other (English questions 0.069, Arabic 0.072).
CALIBRATIONS = {
    BUNDLED_MODEL_ID: Calibration(
        threshold=0.839, language_gap=0.064, sentence_language_gap=0.071, question_language_gap=0.056
    ),
}


def calibration_for(embedder: Embedder) -> Calibration:
    """The model's calibration; models not in the table use their own ``answer_threshold``."""
    return CALIBRATIONS.get(embedder.model_id, Calibration(threshold=embedder.answer_threshold))
