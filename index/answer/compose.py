"""From ranked chunks to a short cited answer: the sentence (or two) that answers the question.

Every sentence of the best chunks is scored against the question:

* its cosine with the question (``question_similarity``): a sentence in the question's
  script embedded as a passage, as questions and answers are; a sentence in another script
  with the query prompt, as the question is, since across languages the passage prompt
  blurs most and e5 asks for the query prompt on both sides of a symmetric comparison such
  as bitext mining. Measured on XQuAD dev with 2,000 distractors (English questions over
  Arabic text, answer-hit@1 at the same "not in my articles" rate on unrelated articles):
  0.641 with the passage prompt, 0.662 with the query prompt; with paragraph-sized
  distractors 0.632 and 0.650. For Arabic questions the query prompt was no better (0.755
  against 0.753) and let "The US delegation tried to give Haftar a face-saving way out"
  tie with the sentence naming the delegation for "من التقى حفتر؟";
* mixed with some of its chunk's hybrid search score, so a sentence is read in the context
  it came from: a sentence of the passage the search ranked first beats a look-alike
  sentence of a weaker passage. Measured (sentences as passages): 0.9/0.1 0.611 / 0.737,
  0.85/0.15 0.619 / 0.743, 0.75/0.25 0.634 / 0.752, but at 0.75 the example article's
  English photo caption ("Haftar's forces target a home…") outranks the sentence that
  answers "Who met Haftar?", so 0.85;
* plus a bonus for the share of the question's words and names it contains (the keyword
  slots of the search, so "Haftar" finds حفتر and "river" نهر here too);
* plus, when the sentence and the question are in different scripts, the model's
  *sentence language gap*: multilingual encoders rate a sentence in the question's own
  language higher than the same sentence in another (e5-small by 0.071 on XQuAD's
  parallel paragraphs), which made an English photo caption beat the Arabic sentence that
  answers an English question.

Whether the best sentence answers at all is judged on one scale across languages: for a
sentence in another script than the question the ranking's gap is swapped for the
*question language gap*, what the same sentence scores less when the question is asked
in another language (0.056 for e5-small), so one threshold per model says when the
articles do not answer ("not in my articles"). The answer quotes the best sentence,
extended by the next sentence of the article when that one also scores near the top and
the quote stays short; a second, separate sentence is added the same way. Each quote is
an exact span of its article and each gets its own numbered citation: every marker
points at a shown source, every shown source is cited.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from index.encoders.base import Embedder
from index.encoders.calibration import Calibration, calibration_for
from index.records import Answer, Citation, SearchHit
from index.text.chunking import split_sentences
from index.text.normalise import keyword_terms
from index.text.scripts import script_of
from index.tuning import RANKING


@dataclass(frozen=True)
class Candidate:
    hit: SearchHit
    start: int  # in the article's text
    end: int
    text: str
    score: float = 0.0


class _RememberedVectors:
    """Vectors of short texts from one embedding function, remembered by text (least recently used go first)."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray], dimension: int, size: int) -> None:
        self._embed = embed
        self._dimension = dimension
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        fresh = self._embed(missing) if missing else []
        with self._lock:
            for text, vector in zip(missing, fresh):
                self._vectors[text] = vector
            result = []
            for text in texts:
                vector = self._vectors.get(text)
                if vector is None:  # evicted by another thread meanwhile
                    vector = self._embed([text])[0]
                else:
                    self._vectors.move_to_end(text)
                result.append(vector)
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)
        return np.stack(result) if result else np.zeros((0, self._dimension), np.float32)


class SentenceVectors:
    """Vectors of sentences and words, remembered across questions (they often return to the
    same passages): ``passages`` with the model's passage prompt, ``queries`` with its query prompt."""

    def __init__(self, embedder: Embedder, size: int = 8192) -> None:
        self.passages = _RememberedVectors(embedder.embed_passages, embedder.dimension, size)
        self.queries = _RememberedVectors(embedder.embed_queries, embedder.dimension, size)


def question_similarity(
    question: str, query_vector: np.ndarray, texts: Sequence[str], vectors: SentenceVectors, gap: float
) -> np.ndarray:
    """Each text's cosine with the question, on one scale across scripts.

    A text in the question's script is embedded as a passage (question and answer); a text in
    another script with the query prompt, as the question is (the symmetric comparison e5
    asks the query prompt for, as in bitext mining), plus the model's sentence language gap.
    """
    script = script_of(question)
    foreign = np.array([script_of(text) != script for text in texts], dtype=bool)
    similarity = np.zeros(len(texts), dtype=np.float32)
    if (~foreign).any():
        similarity[~foreign] = vectors.passages([t for t, f in zip(texts, foreign) if not f]) @ query_vector
    if foreign.any():
        similarity[foreign] = vectors.queries([t for t, f in zip(texts, foreign) if f]) @ query_vector + gap
    return similarity


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
    candidates = _candidates(hits[: RANKING.answer_passages])
    if not candidates:
        return Answer(question, found=False)
    similarity = question_similarity(
        question,
        query_vector,
        [c.text for c in candidates],
        sentence_vectors or SentenceVectors(embedder),
        calibration.sentence_language_gap,
    )
    scored = []
    for candidate, cosine in zip(candidates, similarity):
        context = (
            candidate.hit.score
            if chunk_scores is None
            else chunk_scores.get(candidate.hit.chunk_id, candidate.hit.score)
        )
        score = RANKING.sentence_weight * float(cosine) + (1 - RANKING.sentence_weight) * context
        score += RANKING.keyword_bonus * _word_share(candidate.text, question_words)
        scored.append(Candidate(candidate.hit, candidate.start, candidate.end, candidate.text, score))
    scored.sort(key=lambda c: -c.score)
    if _confidence(scored[0], question, calibration) < threshold:
        closest = [Candidate(hit, hit.start, hit.end, hit.text, hit.score) for hit in hits[: RANKING.closest_passages]]
        return Answer(question, found=False, citations=_citations(closest))
    chosen = _choose(scored, candidates)
    citations = _citations(chosen)
    sentences = [(c.text, citation.number) for c, citation in zip(chosen, citations)]
    return Answer(question, found=True, sentences=sentences, citations=citations)


def _confidence(best: Candidate, question: str, calibration: Calibration) -> float:
    """The best sentence's score on the threshold's scale: a sentence in another script than the
    question was ranked with the sentence language gap, and is judged with the question one."""
    if script_of(best.text) == script_of(question):
        return best.score
    return best.score - RANKING.sentence_weight * (
        calibration.sentence_language_gap - calibration.question_language_gap
    )


def is_sentence(text: str) -> bool:
    """Whether a span can answer: long enough and with at least one letter."""
    return len(text) >= RANKING.min_sentence_chars and any(ch.isalpha() for ch in text)


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
            if key in seen or not is_sentence(hit.text[start:end]):  # overlapping chunks repeat sentences
                continue
            if hit.text[start:end].rstrip("\"'»”’) ").endswith(("?", "؟")):
                continue  # a question in an article is not an answer
            seen.add(key)
            candidates.append(Candidate(hit, hit.start + start, hit.start + end, hit.text[start:end], hit.score))
    return candidates


def _choose(scored: list[Candidate], in_order: list[Candidate]) -> list[Candidate]:
    """The best sentence, joined with the article's next sentence when that one scores near the
    best too; or else a second sentence scoring near the best; within RANKING.answer_chars."""
    best = scored[0]
    budget = RANKING.answer_chars - len(best.text)
    position = {(c.hit.article_id, c.start): i for i, c in enumerate(in_order)}
    following = position.get((best.hit.article_id, best.start), -1) + 1
    for candidate in scored[1:]:
        if candidate.score < best.score - RANKING.second_margin:
            break
        if len(candidate.text) + 1 > budget:
            continue
        if (
            following < len(in_order)
            and _same_sentence(candidate, in_order[following])
            and candidate.hit.chunk_id == best.hit.chunk_id
        ):
            text = best.hit.text[best.start - best.hit.start : candidate.end - best.hit.start]
            return [Candidate(best.hit, best.start, candidate.end, text, best.score)]
        if not _same_sentence(candidate, best):  # the same sentence, read from an overlapping chunk
            return [best, candidate]
    return [best]


def _same_sentence(a: Candidate, b: Candidate) -> bool:
    return a.hit.article_id == b.hit.article_id and a.start == b.start


def _citations(chosen: list[Candidate]) -> list[Citation]:
    return [
        Citation(
            number,
            c.hit.article_id,
            c.hit.title,
            c.hit.source,
            c.hit.url,
            c.hit.published,
            c.text,
            c.start,
            c.end,
            c.hit.text,
            c.score,
        )
        for number, c in enumerate(chosen, start=1)
    ]
