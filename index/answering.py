"""From ranked chunks to a short cited answer: the sentences that answer the question."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .answers import Answer, Citation, SearchHit
from .chunking import split_sentences
from .embedders import Embedder

ANSWER_PASSAGES = 5  # chunks whose sentences compete to answer
MAX_ANSWER_SENTENCES = 3
SENTENCE_WEIGHT = 0.6  # a sentence's score mixes its own similarity with its chunk's


@dataclass(frozen=True)
class Candidate:
    hit: SearchHit
    start: int  # in the article's text
    end: int
    text: str
    score: float


def compose_answer(
    question: str, query_vector: np.ndarray, hits: list[SearchHit], embedder: Embedder, min_score: float
) -> Answer:
    """Pick the sentences that best answer the question and cite their articles.

    When even the best sentence scores under ``min_score`` the articles do not answer the
    question: the answer says so and offers the closest passages as its citations.
    """
    candidates = _candidates(hits[:ANSWER_PASSAGES])
    if not candidates:
        return Answer(question, found=False)
    vectors = embedder.embed_passages([c.text for c in candidates])
    similarity = vectors @ query_vector
    scored = sorted(
        (
            Candidate(c.hit, c.start, c.end, c.text, SENTENCE_WEIGHT * float(s) + (1 - SENTENCE_WEIGHT) * c.hit.score)
            for c, s in zip(candidates, similarity)
        ),
        key=lambda c: -c.score,
    )
    if scored[0].score < min_score:
        closest = [Candidate(hit, hit.start, hit.end, hit.text, hit.score) for hit in hits[:MAX_ANSWER_SENTENCES]]
        return Answer(question, found=False, citations=_citations(closest))
    chosen = _choose(scored)
    citations = _citations(chosen)
    sentences = [(c.text, citation.number) for c, citation in zip(chosen, citations)]
    return Answer(question, found=True, sentences=sentences, citations=citations)


def _candidates(hits: list[SearchHit]) -> list[Candidate]:
    seen: set[tuple[str, int]] = set()
    candidates = []
    for hit in hits:
        for start, end in split_sentences(hit.text):
            key = (hit.article_id, hit.start + start)
            if key in seen or end - start < 12:  # overlapping chunks repeat sentences; skip scraps
                continue
            seen.add(key)
            candidates.append(Candidate(hit, hit.start + start, hit.start + end, hit.text[start:end], hit.score))
    return candidates


def _choose(scored: list[Candidate], margin: float = 0.04) -> list[Candidate]:
    """The best sentence, and up to two more from other chunks that score nearly as well."""
    chosen = [scored[0]]
    for candidate in scored[1:]:
        if len(chosen) == MAX_ANSWER_SENTENCES or candidate.score < scored[0].score - margin:
            break
        if all(candidate.hit.chunk_id != c.hit.chunk_id for c in chosen):
            chosen.append(candidate)
    return chosen


def _citations(chosen: list[Candidate]) -> list[Citation]:
    return [
        Citation(
            number, c.hit.article_id, c.hit.title, c.hit.source, c.hit.url, c.hit.published,
            c.text, c.start, c.end, c.hit.text, c.score,
        )
        for number, c in enumerate(chosen, start=1)
    ]
