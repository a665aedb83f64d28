"""Word translations across scripts, taken from the encoder: the keyword side of an English
question over Arabic articles (and the reverse).

The keyword index reads an English question over Arabic articles only where its words are
names or numbers. The multilingual encoder, though, places a word near its translations:
embedded alone, "river" lands next to نهر, "population" next to تعداد and سكان, "defense"
next to دفاع. So at build time every term of the keyword index found in at least
``RANKING.lexicon_min_documents`` chunks is embedded once (as a passage) and kept, per script, in a small
FAISS index (float16); an incremental build embeds only the terms that are new. At question
time each content word of the question is embedded the same way, and the terms of the
*other* script closest to it become extra forms of its keyword slot, counted at ``RANKING.translation_weight``
of the word itself: the translations are often right but not always (church -> مسجد as
well as كنيسه). Words the index already reads in several forms are not translated: names
found across scripts by ``names``, and Arabic words found with their prefixes (so in an
index mixing Arabic and English articles an Arabic question rarely reaches English terms
through the lexicon; over English-only articles it does).

Measured on XQuAD dev, English questions over the Arabic paragraphs and 2,000 news
distractors: recall@1 0.783 -> 0.796 and MRR@10 0.853 -> 0.861, recall@5 0.951 -> 0.946;
counting a translation like the word itself (0.7 instead of 0.35) gave 0.794 / 0.858 / 0.940;
with the cap below (13,202 of its 25,302 terms) 0.796 / 0.860 / 0.946.
The lexicon is capped at ``RANKING.lexicon_terms_per_chunk`` terms per chunk, the most frequent first, so
that it adds little to a build (uncapped, the first 1,000 articles of the news sample have
16,696 terms, whose embedding took 33 s of a 221 s build).

A neighbour is a translation only when it stands out: its similarity to the word is at
least ``RANKING.lexicon_min_standout`` standard deviations above the word's similarity to typical terms of
the lexicon (a fixed sample of them), and within ``RANKING.lexicon_margin`` of the best neighbour. Raw
similarities do not say this: e5's vectors share a large common direction, so every pair
of words scores 0.8 or more, and in the lexicon of a single article the nearest term to
"river" is whatever the article happens to contain (measured with e5-small: real
translations stand 4.5 to 8 deviations out in a lexicon of 25,000 terms, the nearest term
of a 142-term lexicon 1.5 to 3.5).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.encoders.base import Embedder, embed_in_steps
from index.storage.faiss_vectors import load_faiss_index, one_thread, save_faiss_index
from index.text.normalise import is_stopword
from index.text.scripts import script_of_term
from index.tuning import RANKING

FOLDER = "lexicon"
FORMAT = 2  # 2: capped by the index's size
SCRIPTS = ("arabic", "latin")
# costs the encoder about 1/30 of a chunk, so the lexicon stays under about 7% of the build's encoder time

Progress = Callable[[str, int, int], None]


def term_limit(chunks: int) -> int:
    """How many terms the lexicon of an index of ``chunks`` chunks keeps."""
    return min(
        RANKING.lexicon_max_terms, max(RANKING.lexicon_small_index_terms, RANKING.lexicon_terms_per_chunk * chunks)
    )


def build_lexicon(
    terms: dict[str, int],
    embedder: Embedder,
    folder: Path,
    previous: Path | None = None,
    progress: Progress | None = None,
    limit: int = RANKING.lexicon_max_terms,
) -> dict:
    """Embed the terms (term -> number of chunks containing it), at most ``limit`` of them,
    the most frequent first, and save the lexicon in ``folder``; vectors of terms already in
    the ``previous`` lexicon folder (same encoder) are reused. Returns the manifest record."""
    kept = _read_vectors(previous) if previous is not None else {}
    folder.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {"format": FORMAT, "min_documents": RANKING.lexicon_min_documents, "terms": {}}
    by_script: dict[str, list[str]] = {script: [] for script in SCRIPTS}
    kept_terms = 0
    for term, documents in sorted(terms.items(), key=lambda item: (-item[1], item[0])):
        term_script = script_of_term(term)
        if kept_terms >= limit or documents < RANKING.lexicon_min_documents:
            break
        if term_script and not is_stopword(term) and len(by_script[term_script]) < RANKING.lexicon_max_terms:
            by_script[term_script].append(term)
            kept_terms += 1
    missing = [term for script in SCRIPTS for term in by_script[script] if term not in kept]
    fresh = embed_in_steps(embedder, missing, progress, "lexicon")
    vectors_of = {**kept, **dict(zip(missing, fresh))}
    for script in SCRIPTS:
        words = by_script[script]
        vectors = np.stack([vectors_of[w] for w in words]) if words else np.zeros((0, embedder.dimension), np.float32)
        save_faiss_index(_faiss_index(vectors), folder / f"{script}.faiss")
        (folder / f"{script}.json").write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")
        record["terms"][script] = len(words)
    record["embedded"] = len(missing)
    return record


def _faiss_index(vectors: np.ndarray):
    import faiss

    index = faiss.IndexScalarQuantizer(vectors.shape[1], faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def _read_vectors(folder: Path) -> dict[str, np.ndarray]:
    """term -> vector of a saved lexicon ({} when there is none)."""
    found: dict[str, np.ndarray] = {}
    for script in SCRIPTS:
        words_file, index_file = folder / f"{script}.json", folder / f"{script}.faiss"
        if not (words_file.is_file() and index_file.is_file()):
            continue
        words = json.loads(words_file.read_text(encoding="utf-8"))
        index = load_faiss_index(index_file)
        if words and index.ntotal == len(words):
            found.update(zip(words, index.reconstruct_n(0, len(words))))
    return found


@dataclass(frozen=True)
class Translation:
    term: str
    similarity: float


class Lexicon:
    """A generation's lexicon, read-only."""

    def __init__(self, folder: Path) -> None:
        self._indexes = {}
        self._words: dict[str, list[str]] = {}
        self._samples: dict[str, np.ndarray] = {}
        for script in SCRIPTS:
            words_file = folder / f"{script}.json"
            if words_file.is_file():
                self._words[script] = json.loads(words_file.read_text(encoding="utf-8"))
                index = self._indexes[script] = load_faiss_index(folder / f"{script}.faiss", mapped=True)
                rows = np.unique(
                    np.linspace(0, index.ntotal - 1, min(RANKING.lexicon_sample_terms, index.ntotal)).astype(np.int64)
                )
                if len(rows):  # an empty lexicon has no terms, so nothing is compared with its samples
                    self._samples[script] = np.stack([index.reconstruct(int(row)) for row in rows])

    def terms(self, script: str) -> int:
        return len(self._words.get(script, ()))

    def words_to_translate(self, question_words: Sequence[str]) -> list[str]:
        """The question's words worth translating: content words whose other script is in the lexicon."""
        chosen = []
        for word in dict.fromkeys(question_words):
            script = script_of_term(word)
            if (
                script
                and len(word) >= RANKING.lexicon_min_word_chars
                and not is_stopword(word)
                and self.terms(_other(script))
            ):
                chosen.append(word)
        return chosen

    def translate(self, words: Sequence[str], vectors: np.ndarray) -> dict[str, list[Translation]]:
        """The terms of the other script closest to each word (``vectors`` are the words' passage vectors)."""
        found: dict[str, list[Translation]] = {}
        for script in SCRIPTS:
            rows = [i for i, word in enumerate(words) if script_of_term(word) == script]
            other = _other(script)
            if not rows or not self.terms(other):
                continue
            k = min(RANKING.lexicon_neighbours, self.terms(other))
            queries = np.ascontiguousarray(vectors[rows], dtype=np.float32)
            with one_thread(len(queries)):  # a question's few words: threads would cost more than they save
                scores, ids = self._indexes[other].search(queries, k)
            typical = queries @ self._samples[other].T
            floors = typical.mean(axis=1) + RANKING.lexicon_min_standout * np.maximum(typical.std(axis=1), 1e-3)
            for row, row_scores, row_ids, floor in zip(rows, scores, ids, floors):
                best = float(row_scores[0])
                found[words[row]] = [
                    Translation(self._words[other][int(i)], float(s))
                    for s, i in zip(row_scores, row_ids)
                    if i >= 0 and s >= floor and s >= best - RANKING.lexicon_margin
                ]
        return found


def _other(script: str) -> str:
    return "latin" if script == "arabic" else "arabic"


def load_lexicon(generation: Path) -> Lexicon | None:
    folder = generation / FOLDER
    return Lexicon(folder) if (folder / "arabic.json").is_file() else None


def lexicon_record_is_current(manifest: dict) -> bool:
    return manifest.get("lexicon", {}).get("format") == FORMAT
