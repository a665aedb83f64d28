"""Re-rank the best chunks by their best sentence.

A question usually asks about one sentence, and a chunk's single vector blurs that
sentence with its neighbours; across languages (an English question over Arabic
articles) the blur costs most. The first chunks of the hybrid ranking are therefore
re-scored: their search score mixed with the cosine of their sentence closest to the
question (``answering.question_similarity``: a sentence in the question's script embedded
as a passage, one in another script with the query prompt plus the model's sentence
language gap; remembered across questions). The chunks below keep their order and scores.

Across scripts the query prompt is what lifts English→Arabic on XQuAD dev (2,000
distractors): R@1 0.812 → 0.822, MRR@10 0.876 → 0.886 against the passage prompt
(bench/results/README-eval.md, "Fifth round").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from index.answer.compose import is_sentence
from index.answer.similarity import SentenceVectors, question_similarity
from index.encoders.base import Embedder
from index.encoders.calibration import calibration_for
from index.records import SearchHit
from index.text.chunking import split_sentences
from index.text.junk import junk_spans
from index.text.scripts import foreign_share, script_of
from index.tuning import RANKING


def correct_language_gap(question: str, hits: list[SearchHit], embedder: Embedder) -> list[SearchHit]:
    """``hits`` re-scored for the encoder's same-language bias, best first: each chunk gains the
    model's language gap in proportion to the share of its letters in another script than
    the question's (an Arabic chunk with an English caption gains a little less)."""
    gap = calibration_for(embedder).language_gap
    if not gap or not hits:
        return hits
    question_script = script_of(question)
    corrected = [replace(hit, score=hit.score + gap * foreign_share(hit.text, question_script)) for hit in hits]
    return sorted(corrected, key=lambda hit: -hit.score)


def rerank_by_sentences(
    question: str,
    query_vector: np.ndarray,
    hits: list[SearchHit],
    embedder: Embedder,
    sentence_vectors: SentenceVectors,
    depth: int = RANKING.search_depth,
) -> list[SearchHit]:
    """``hits`` with the first ``depth`` re-scored and re-ordered by their best sentence."""
    head, tail = hits[:depth], hits[depth:]
    if len(head) < 2:
        return hits
    gap = calibration_for(embedder).sentence_language_gap
    question_script = script_of(question)
    # a chunk is judged by its prose: a caption, byline or related-link headline never leads the search
    junk_of = [junk_spans(hit.text) for hit in head]
    spans = [
        [(a, b) for a, b in split_sentences(hit.text) if is_sentence(hit.text[a:b]) and not _in_junk(a, b, junk)]
        or [(0, len(hit.text))]
        for hit, junk in zip(head, junk_of)
    ]
    texts = [hit.text[a:b] for hit, chunk_spans in zip(head, spans) for a, b in chunk_spans]
    similarity = question_similarity(question, query_vector, texts, sentence_vectors, gap)
    rescored, at = [], 0
    for hit, chunk_spans, junk in zip(head, spans, junk_of):
        best = float(similarity[at : at + len(chunk_spans)].max())
        at += len(chunk_spans)
        weight = (
            RANKING.rerank_chunk_weight
            if script_of(hit.text) == question_script
            else RANKING.rerank_cross_script_chunk_weight
        )
        # the chunk's vector also encodes its captions and bylines: it counts in proportion to the prose it holds
        weight *= 1 - sum(end - start for start, end, _ in junk) / max(len(hit.text), 1)
        rescored.append(replace(hit, score=weight * hit.score + (1 - weight) * best))
    rescored.sort(key=lambda hit: -hit.score)
    floor = rescored[-1].score
    return rescored + [replace(hit, score=min(hit.score, floor)) for hit in tail]


def _in_junk(start: int, end: int, junk: Sequence[tuple[int, int, str]]) -> bool:
    return any(start < junk_end and junk_start < end for junk_start, junk_end, _ in junk)
