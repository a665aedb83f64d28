"""Every tuned number of search and answering, in one place, with why it is what it is.

Each field says what it does and where it was measured. "XQuAD dev" is the development half of
XQuAD in ``../shared/eval`` (English and Arabic questions over Arabic paragraphs, 2,000 news
articles as distractors), measured with ``python -m index eval`` (see bench/results/README-eval.md
for every run). To re-measure one: change it here, run the eval commands of the README's
"Answer quality" section, and compare with the table there. Constants that only name files or
formats stay beside their code; per-model numbers (the "not in my articles" threshold and the
language gaps) are in ``encoders/calibration.py``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RankingConfig:
    """The tuned constants of a build, a search and an answer."""

    # --- search depth ---
    search_depth: int = 20
    """Chunks retrieved, then re-ranked by their best sentence, before the answer picks its sentences
    (one number for both: the re-ranking reads what the search returned)."""
    timeframe_depth_factor: int = 5
    """A question naming a time ("last week", "في 2019") searches this many times deeper, then keeps what
    is of that time."""
    dense_candidates: int = 100
    """Dense hits the keyword scores may reorder."""
    keyword_candidates: int = 100
    """Best keyword rows added to the dense candidates."""

    # --- hybrid score ---
    keyword_weight: float = 0.25
    """How far a chunk holding every question word moves up, in cosine units; plain reciprocal-rank fusion
    dropped English→Arabic R@1 on XQuAD dev to 0.170."""
    name_weight: float = 1.0
    """A name matched across scripts (Haftar ↔ حفتر) counts like the word itself."""
    suffix_form_weight: float = 0.7
    """Another form of a word (روسي for روسيا) counts for less than the word."""
    translation_weight: float = 0.35
    """A word translation from the lexicon ("river" → نهر) counts for this share of the word (XQuAD dev,
    third round)."""

    # --- lexicon (word translations across scripts, built with the index) ---
    lexicon_min_documents: int = 2
    """Terms in fewer chunks are left out of the lexicon (typos, one-off names)."""
    lexicon_max_terms: int = 100_000
    """Terms kept per script, the most frequent first."""
    lexicon_terms_per_chunk: int = 2
    """At most this many terms per chunk of the index are embedded: the lexicon then adds little to a build
    (0.91 of the bare encoder's throughput with 2, 0.84 uncapped; README Performance)."""
    lexicon_small_index_terms: int = 5_000
    """A small index may keep this many terms (about 10 s of encoder time at most)."""
    lexicon_min_word_chars: int = 3
    """Question words shorter than this are not translated."""
    lexicon_neighbours: int = 5
    """Translations kept per question word, at most."""
    lexicon_margin: float = 0.03
    """A translation scores this close to the word's best translation."""
    lexicon_min_standout: float = 4.0
    """Standard deviations above the word's similarity to typical terms that a translation must reach."""
    lexicon_sample_terms: int = 1000
    """Typical terms: evenly spaced through the lexicon (most frequent first)."""

    # --- hubness (crowded chunks lose some cosine) ---
    hubness_neighbours: int = 10
    """A chunk's density is the mean cosine of this many nearest chunks of other documents."""
    hubness_weight: float = 0.5
    """Cosine taken off per unit of density above the index's mean (XQuAD dev fourth round, checked on
    paragraph distractors too)."""
    hubness_extra_depth: int = 100
    """At most this many same-document chunks are skipped to find the neighbours."""

    # --- re-ranking by sentence ---
    rerank_chunk_weight: float = 0.7
    """The chunk's search score in the re-ranking mix; the rest is its best sentence's cosine."""
    rerank_cross_script_chunk_weight: float = 0.5
    """The same for a chunk in another script than the question: its vector blurs more."""

    # --- answer sentences ---
    answer_passages: int = 4
    """Chunks whose sentences compete to answer (3 measured +0.012 English answer-hit but lost the example's
    delegation sentence)."""
    answer_chars: int = 300
    """The quotes of one answer together, and what the eval's answer-hit reads of an answer."""
    min_sentence_chars: int = 12
    """Shorter lines (datelines, "2") are not answers, nor lines without a letter ("-----")."""
    sentence_weight: float = 0.85
    """A sentence's score mixes its own cosine with its chunk's (0.75 scored higher on XQuAD dev but let the
    example article's English photo caption answer "Who met Haftar?")."""
    keyword_bonus: float = 0.04
    """Added to a sentence holding every question word the index knows."""
    second_margin: float = 0.08
    """A second sentence must score this close to the best."""
    second_probability_margin: float = 0.1
    """With a fitted reader: a second sentence must be this close to the best in probability."""
    whole_answer_chars: int = 600
    """A best sentence carried on by the sentences continuing its list may grow to this many characters
    ("who met Haftar?": four names over two sentences)."""
    continuation_sentences: int = 2
    """At most this many following sentences carry on the best one."""
    closest_passages: int = 3
    """Offered when the answer is "not in my articles"."""

    # --- stories (near-duplicate articles) ---
    story_threshold: float = 0.6
    """Estimated resemblance (word 4-shingles, MinHash) at which two articles are one story."""


RANKING = RankingConfig()
