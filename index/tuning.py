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

    # --- approximate vector search (bench/scale_bench.py recall; README "Scale") ---
    approximate_above_rows: int = 250_000
    """Chunks (of 384 dimensions; scaled by the dimension, as an exact search costs rows x dimension) above which
    a build without FAISS_FACTORY gets an IVF index instead of exact search (Flat). One core searched e5 vectors
    exactly in 6.7 ms a question at 100,000, 19.8 ms at 300,000 and 69.8 ms at 1M (too much of a 100 ms budget);
    the IVF index in 2.7, 4.6 and 6.5 ms, at the cost of a training step (583 s of a 1M build, two cores)."""
    ivf_lists_per_root: int = 4
    """An IVF index has about this many times the square root of its rows lists (a power of two)."""
    ivf_probes: int = 256
    """Lists an IVF search visits. Recall@10 against exact search (a search for 100, as the dense side asks):
    0.998 on 24,000 real e5 chunk vectors (IVF512), 0.986 / 0.986 / 0.982 on 100,000 / 300,000 / 1M synthetic
    ones made from them (IVF1024 / 2048 / 4096); recall@100 0.996 / 0.977 / 0.968 / 0.969. 128 lists fell to
    0.945 at 1M; 16, the previous setting, gave 0.75 / 0.69 / 0.73 / 0.76. HNSW32 fell with size instead
    (efSearch 512: 0.950 real, 0.971 / 0.891 synthetic at 100,000 / 300,000), and cannot remove rows."""
    hnsw_ef_search: int = 512
    """An HNSW index's search breadth (FAISS_FACTORY=HNSW32): recall@10 0.950 on the 24,000 real vectors, 1.4 ms
    a question (128, the previous setting: 0.883)."""

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
