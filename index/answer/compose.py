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

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from index.answer.answerability import answerability_signals
from index.answer.reader import (
    DEFAULT_MODEL,
    SIGNALS,
    TYPED,
    ReaderModel,
    SentenceSignals,
    reader_model,
    sentence_signals,
)
from index.answer.similarity import SentenceVectors, question_similarity
from index.encoders.base import Embedder
from index.encoders.calibration import Calibration, calibration_for
from index.records import Answer, Citation, SearchHit
from index.text.answer_types import expected_answer
from index.text.chunking import split_sentences
from index.text.continuation import continues
from index.text.junk import junk_spans
from index.text.normalise import keyword_terms
from index.text.scripts import script_of
from index.text.typed_spans import SpanFinder
from index.tuning import RANKING


@dataclass(frozen=True)
class Candidate:
    hit: SearchHit
    start: int  # in the article's text
    end: int
    text: str
    score: float = 0.0  # what ranks the candidates: the reader's probability, or the mix with the default reader
    mix: float = 0.0  # the cosine mix, which the calibrated "not in my articles" threshold reads
    marks: tuple[tuple[int, int], ...] = ()  # spans of the type the question asks for, in ``text``


def compose_answer(
    question: str,
    query_vector: np.ndarray,
    hits: list[SearchHit],
    embedder: Embedder,
    min_score: float | None = None,
    question_words: Sequence[tuple[frozenset[str], float]] = (),
    sentence_vectors: SentenceVectors | None = None,
    chunk_scores: dict[int, float] | None = None,
    finder: SpanFinder | None = None,
    model: ReaderModel | None = None,
) -> Answer:
    """Pick the sentence (or two) that best answers the question and cite them.

    ``question_words`` are the question's keyword slots as (index terms that stand for the
    word, weight), words the index does not know included (they count in the share, so a
    sentence naming the one known word of a long question gains little); ``min_score``
    overrides the model's calibrated threshold; ``chunk_scores`` (chunk id -> score) replace
    the hits' scores as the sentences' context, e.g. the hybrid scores before a re-ranking
    that already counted the sentences themselves; ``model`` (default: the encoder's fitted
    reader, see ``reader.py``) scores the sentences. When the passages are off topic (the best
    cosine mix under the calibrated threshold) or no sentence is likely enough to answer, the
    articles do not answer the question: the answer says so and offers the closest passages.
    """
    reading = read_sentences(
        question, query_vector, hits, embedder, question_words, sentence_vectors, chunk_scores, finder, model
    )
    calibration = calibration_for(embedder)
    threshold = calibration.threshold if min_score is None else min_score
    if not reading.candidates:
        return Answer(question, found=False)
    best_mix = max(reading.candidates, key=lambda c: c.mix)
    scored = sorted(reading.candidates, key=lambda c: -c.score)
    over_threshold = mix_confidence(best_mix, question, calibration) - threshold
    if over_threshold < 0 or not answers_at_all(question, reading, scored[0], over_threshold):
        closest = [Candidate(hit, hit.start, hit.end, hit.text, hit.score) for hit in hits[: RANKING.closest_passages]]
        return Answer(question, found=False, citations=_citations(closest))
    if reading.model is DEFAULT_MODEL:
        chosen = _choose(scored, reading.candidates, RANKING.second_margin)
    else:
        chosen = _choose_read(scored, reading.candidates, reading.model.min_probability, hits)
    citations = _citations(chosen)
    sentences = [(c.text, citation.number) for c, citation in zip(chosen, citations)]
    marks = tuple((i, a, b) for i, c in enumerate(chosen) for a, b in c.marks[:1])
    return Answer(question, found=True, sentences=sentences, citations=citations, marks=marks)


@dataclass(frozen=True)
class Reading:
    """The candidate sentences of one question, scored by ``model``, with their signals."""

    model: ReaderModel
    candidates: list[Candidate]  # in the order of the passages and the text
    signals: SentenceSignals | None  # None with the default model (it reads the mix alone)
    probabilities: np.ndarray | None = None  # the reader's, per candidate (the ranking may be the mix's)


def answers_at_all(question: str, reading: Reading, chosen: Candidate, over_threshold: float) -> bool:
    """Whether the passages answer the question (above the calibrated "off topic" threshold already).

    With a fitted answerability model, its probability over the reading's signals decides. Otherwise the
    reader's floor: it was fitted on questions in the script of their answers; across scripts (an English
    question over Arabic articles) its probabilities run lower, and only the calibrated threshold decides."""
    model = reading.model.answerability
    if model is None or reading.signals is None or reading.probabilities is None:
        same_script = script_of(chosen.text) == script_of(question)
        return not same_script or chosen.score >= reading.model.min_probability
    signals = answerability_signals(
        reading.signals.constraints,
        [c.text for c in reading.candidates],
        [c.hit.text for c in reading.candidates],
        reading.signals.matrix,
        SIGNALS,
        reading.probabilities,
        next(i for i, c in enumerate(reading.candidates) if c is chosen),
        over_threshold,
        reading.signals.expected.type in TYPED,
    )
    return model.probability(signals) >= model.min_probability


def read_sentences(
    question: str,
    query_vector: np.ndarray,
    hits: list[SearchHit],
    embedder: Embedder,
    question_words: Sequence[tuple[frozenset[str], float]] = (),
    sentence_vectors: SentenceVectors | None = None,
    chunk_scores: dict[int, float] | None = None,
    finder: SpanFinder | None = None,
    model: ReaderModel | None = None,
) -> Reading:
    """Every candidate sentence of the best passages with its cosine mix and its reader score."""
    calibration = calibration_for(embedder)
    model = model or reader_model(embedder.model_id)
    candidates = _candidates(hits[: RANKING.answer_passages], skip_junk=model is not DEFAULT_MODEL)
    if not candidates:
        return Reading(model, [], None)
    similarity = question_similarity(
        question,
        query_vector,
        [c.text for c in candidates],
        sentence_vectors or SentenceVectors(embedder),
        calibration.sentence_language_gap,
    )
    contexts = [
        c.hit.score if chunk_scores is None else chunk_scores.get(c.hit.chunk_id, c.hit.score) for c in candidates
    ]
    shares = [_word_share(c.text, question_words) for c in candidates]
    passages = {c.hit.chunk_id: c.hit.text for c in candidates}
    passage_shares = {chunk: _word_share(text, question_words) for chunk, text in passages.items()}
    mixes = [
        RANKING.sentence_weight * float(cosine)
        + (1 - RANKING.sentence_weight) * context
        + RANKING.keyword_bonus * share
        for cosine, context, share in zip(similarity, contexts, shares)
    ]
    if model is DEFAULT_MODEL:
        scored = [replace(c, score=mix, mix=mix) for c, mix in zip(candidates, mixes)]
        return Reading(model, scored, None)
    script = script_of(question)
    rank_of = {hit.chunk_id: rank for rank, hit in enumerate(hits, start=1)}
    signals = sentence_signals(
        question,
        expected_answer(question),
        [c.text for c in candidates],
        similarity,
        contexts,
        [rank_of[c.hit.chunk_id] for c in candidates],
        shares,
        [passage_shares[c.hit.chunk_id] for c in candidates],
        frozenset(term for terms, _ in question_words for term in terms),
        [script_of(c.text) != script for c in candidates],
        [c.start == _first_sentence_start(c.hit) for c in candidates],
        finder or SpanFinder(),
    )
    probabilities = ranking = model.probabilities(signals.matrix)
    if sum(script_of(c.text) != script for c in candidates) * 2 > len(candidates):
        # Across scripts (an English question over Arabic articles) the fitted reader chose no better than
        # the cosine mix on the English questions it was fitted on (0.595 against 0.600), and worse on the
        # example article: the mix ranks there, the reader still marks typed spans and continues lists.
        ranking = np.asarray(mixes)
    scored = [
        replace(c, score=float(p), mix=mix, marks=tuple((s.start, s.end) for s in spans))
        for c, p, mix, spans in zip(candidates, ranking, mixes, signals.spans)
    ]
    return Reading(model, scored, signals, probabilities)


def _first_sentence_start(hit: SearchHit) -> int:
    """Where the article's first sentence starts, when the chunk is the article's first (else -1)."""
    if hit.start > 0:
        return -1
    return next((start for start, _ in split_sentences(hit.text)), 0)


def mix_confidence(best: Candidate, question: str, calibration: Calibration) -> float:
    """The best sentence's score on the threshold's scale: a sentence in another script than the
    question was ranked with the sentence language gap, and is judged with the question one."""
    if script_of(best.text) == script_of(question):
        return best.mix
    return best.mix - RANKING.sentence_weight * (calibration.sentence_language_gap - calibration.question_language_gap)


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


def answer_spans(text: str, skip_junk: bool = True) -> list[tuple[int, int]]:
    """The sentences of a passage that may answer: long enough, with a letter, not a question, and
    (with ``skip_junk``) not in a caption, byline, dateline, related-link headline, subheading or fragment."""
    junk = junk_spans(text) if skip_junk else []
    spans = []
    for start, end in split_sentences(text):
        sentence = text[start:end]
        if not is_sentence(sentence) or sentence.rstrip("\"'»”’) ").endswith(("?", "؟")):
            continue  # a question in an article is not an answer
        if any(start < junk_end and junk_start < end for junk_start, junk_end, _ in junk):
            continue
        spans.append((start, end))
    return spans


def _candidates(hits: list[SearchHit], skip_junk: bool) -> list[Candidate]:
    seen: set[tuple[str, int]] = set()
    candidates = []
    for hit in hits:
        for start, end in answer_spans(hit.text, skip_junk):
            key = (hit.article_id, hit.start + start)
            if key in seen:  # overlapping chunks repeat sentences
                continue
            seen.add(key)
            candidates.append(Candidate(hit, hit.start + start, hit.start + end, hit.text[start:end], hit.score))
    return candidates


def _choose(scored: list[Candidate], in_order: list[Candidate], margin: float) -> list[Candidate]:
    """The best sentence, joined with the article's next sentence when that one scores near the
    best too; or else a second sentence scoring near the best; within RANKING.answer_chars."""
    best = scored[0]
    budget = RANKING.answer_chars - len(best.text)
    position = {(c.hit.article_id, c.start): i for i, c in enumerate(in_order)}
    following = position.get((best.hit.article_id, best.start), -1) + 1
    for candidate in scored[1:]:
        if candidate.score < best.score - margin:
            break
        if len(candidate.text) + 1 > budget:
            continue
        if (
            following < len(in_order)
            and _same_sentence(candidate, in_order[following])
            and candidate.hit.chunk_id == best.hit.chunk_id
        ):
            text = best.hit.text[best.start - best.hit.start : candidate.end - best.hit.start]
            return [Candidate(best.hit, best.start, candidate.end, text, best.score, best.mix, best.marks)]
        if not _same_sentence(candidate, best):  # the same sentence, read from an overlapping chunk
            return [best, candidate]
    return [best]


def _choose_read(
    scored: list[Candidate], in_order: list[Candidate], floor: float, hits: list[SearchHit]
) -> list[Candidate]:
    """The most probable sentence, carried on by the sentences that continue its list or answer ("كما ضم
    أيضا …", "In addition, …"); then, from another article, a second sentence nearly as probable."""
    margin = RANKING.second_margin if scored[0].score == scored[0].mix else RANKING.second_probability_margin
    unscored = [replace(c, score=float("-inf")) for c in _candidates(hits, skip_junk=True)]  # continue lists only
    best = _carried_on(scored[0], in_order + unscored, margin)
    chosen = [best]
    for candidate in scored[1:]:
        if candidate.score < max(floor, best.score - RANKING.second_probability_margin):
            break
        if (
            candidate.hit.article_id != best.hit.article_id
            and len(best.text) + len(candidate.text) < RANKING.answer_chars
        ):
            chosen.append(candidate)
            break
    return chosen


def _carried_on(best: Candidate, in_order: list[Candidate], margin: float) -> Candidate:
    """``best`` extended over the article's next sentences while they continue it (read from any of the
    passages, two overlapping passages joined when the answer runs from one into the next); the very next
    sentence also joins when it scores within ``margin`` of the best and the quote stays short, as before."""
    by_start = {c.start: c for c in reversed(in_order) if c.hit.article_id == best.hit.article_id}
    same_article = sorted(by_start.values(), key=lambda c: c.start)  # each sentence once, from its best passage
    hits = list({c.hit.chunk_id: c.hit for c in same_article}.values())
    end, last = best.end, best
    for following in [c for c in same_article if c.start >= best.end][: RANKING.continuation_sentences]:
        close = last is best and following.score >= best.score - margin
        close = close and following.end - best.start <= RANKING.answer_chars
        if following.end - best.start > RANKING.whole_answer_chars:
            break
        if not close and not continues(last.text, following.text):
            break
        hit = _covering(hits, best.start, following.end)
        if hit is None or hit.text[last.end - hit.start : following.start - hit.start].strip():
            break  # not the very next sentence (a caption or a question between), or not in the passages
        end, last = following.end, following
    if end == best.end:
        return best
    hit = _covering(hits, best.start, end)
    assert hit is not None
    return replace(best, hit=hit, end=end, text=hit.text[best.start - hit.start : end - hit.start])


def _covering(hits: list[SearchHit], start: int, end: int) -> SearchHit | None:
    """A passage holding ``[start, end)`` of the article: one of ``hits``, or two overlapping ones joined."""
    for hit in hits:
        if hit.start <= start and end <= hit.end:
            return hit
    for first in hits:
        for second in hits:
            if first.start <= start < first.end and second.start <= first.end < second.end and end <= second.end:
                text = first.text + second.text[first.end - second.start :]
                return replace(first, end=second.end, text=text)
    return None


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
