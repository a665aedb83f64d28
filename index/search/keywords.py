"""The keyword side of search: a BM25 index over the same chunks as the vectors.

Each chunk (with its article's title) becomes a bag of normalised, light-stemmed terms
(``arabic.keyword_terms``); bm25s computes the BM25 weight of every term in every chunk
once, at build time, and saves them as plain ``.npy`` arrays and JSON (no pickle) in the
generation's ``keywords/`` folder (an add to a large index writes a delta instead, whose
weights a question computes: ``keyword_layers``). Row ``i`` of the keyword index is row ``i`` of the
vector index.

A question becomes *slots*, one per question word: the word's term, its forms with or
without a one-letter prefix (ب ل ك ف) or a light suffix (روسي for روسيا) as found in the
index, for names its spellings in the other script (Haftar -> حفتر), and for other words
their translations found by the encoder (river -> نهر, see ``lexicon``). A chunk scores,
for each slot, its best form's BM25 weight; the sum is divided by what a chunk with every
question word would score, so the keyword score says how much of the question the chunk
contains (0 to about 1), and a question whose words the index cannot read scores low
everywhere.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.search.lexicon import Translation
from index.search.lookups import RECORD as LOOKUPS
from index.search.lookups import Lookups, open_lookups, write_lookups
from index.text.normalise import is_stopword, keyword_terms, light_stem, term, words
from index.text.scripts import is_arabic, is_latin
from index.tuning import RANKING

if TYPE_CHECKING:
    from index.text.names import NameMatcher  # imported on first use: most questions never need it

FORMAT = 1
FOLDER = "keywords"
K1, B = 1.2, 0.75
ONE_LETTER_PREFIXES = "بلكف"


@dataclass(frozen=True)
class Slot:
    """One question word: the index terms that may stand for it, each with a weight."""

    word: str
    forms: tuple[tuple[int, float], ...]  # (term id, weight in (0, 1])
    reference: float  # what one occurrence of the word is worth: its IDF (the largest IDF when unknown)
    terms: frozenset[str] = frozenset()  # the forms as terms


DOCUMENT_TERMS = "document_terms.npy"  # every row's term ids, one after another (int32)
DOCUMENT_OFFSETS = "document_offsets.npy"  # where each row's term ids start, and the end (int64)
TERMS = "terms.json"  # the term of each id


def documents_terms(documents: Sequence[str | list[str]]) -> list[list[str]]:
    """Each document's terms: read from its text, or given (a kept chunk's stored terms)."""
    return [document if isinstance(document, list) else keyword_terms(document) for document in documents]


class StoredTerms:
    """The terms of every row of a generation's keyword index: a later build reuses them for the chunks it
    keeps instead of reading their texts again (reading is most of a keyword index's build)."""

    def __init__(self, folder: Path) -> None:
        from index.search.keyword_layers import DELTA_OFFSETS, DELTA_TERMS

        self._names: list[str] = json.loads((folder / TERMS).read_text(encoding="utf-8"))
        self._layers: list[tuple[np.ndarray, np.ndarray]] = []  # the base's term ids and offsets, then a delta's
        for ids_name, offsets_name in ((DOCUMENT_TERMS, DOCUMENT_OFFSETS), (DELTA_TERMS, DELTA_OFFSETS)):
            if self._layers and not (folder / ids_name).is_file():
                break
            ids = np.load(folder / ids_name, mmap_mode="r", allow_pickle=False)
            offsets = np.load(folder / offsets_name, allow_pickle=False)
            if offsets[-1] != len(ids) or (len(ids) and int(ids.max()) >= len(self._names)):
                raise ValueError(f"{FOLDER}/{ids_name} does not match {FOLDER}/{TERMS}")
            self._layers.append((ids, offsets))
        self._base_rows = len(self._layers[0][1]) - 1

    def terms(self, row: int) -> list[str]:
        names = self._names
        ids, offsets = self._layers[row >= self._base_rows]
        row -= self._base_rows if row >= self._base_rows else 0
        return [names[term_id] for term_id in ids[offsets[row] : offsets[row + 1]].tolist()]


def open_stored_terms(generation: Path) -> StoredTerms | None:
    """The stored terms of a generation's keyword index; None when it has none or they cannot be read
    (a later build then reads the texts again)."""
    folder = generation / FOLDER
    try:
        return StoredTerms(folder) if (folder / DOCUMENT_TERMS).is_file() else None
    except (OSError, ValueError, IndexError):
        return None


def build_keyword_index(documents: Sequence[str | list[str]], folder: Path) -> tuple[dict, dict[str, int]]:
    """Index ``documents`` (one per vector row: a text, or its terms from ``StoredTerms``) and save the
    index in ``folder``; returns its manifest record and each term's document frequency (how many
    documents contain it)."""
    import bm25s

    vocabulary: dict[str, int] = {}
    ids = [[vocabulary.setdefault(t, len(vocabulary)) for t in terms] for terms in documents_terms(documents)]
    frequency = Counter(term_id for document in ids for term_id in set(document))
    document_frequencies = {name: frequency[term_id] for name, term_id in vocabulary.items()}
    retriever = bm25s.BM25(k1=K1, b=B, method="lucene")
    retriever.index((ids, vocabulary), show_progress=False)
    folder.mkdir(parents=True, exist_ok=True)
    retriever.save(str(folder), allow_pickle=False, show_progress=False)
    _save_document_terms(folder, ids, vocabulary)
    write_lookups(retriever.vocab_dict, folder)  # what questions look up in the vocabulary (lookups.py)
    _fsync_folder(folder)
    record = {
        "format": FORMAT,
        "library": "bm25s",
        "k1": K1,
        "b": B,
        "documents": len(documents),
        "terms": len(vocabulary),
    }
    return record, document_frequencies


def _save_document_terms(folder: Path, ids: list[list[int]], vocabulary: dict[str, int]) -> None:
    offsets = np.zeros(len(ids) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(document) for document in ids])
    flat = np.fromiter((term_id for document in ids for term_id in document), dtype=np.int32, count=int(offsets[-1]))
    np.save(folder / DOCUMENT_TERMS, flat, allow_pickle=False)
    np.save(folder / DOCUMENT_OFFSETS, offsets, allow_pickle=False)
    (folder / TERMS).write_text(json.dumps(list(vocabulary), ensure_ascii=False), encoding="utf-8")


def _fsync_folder(folder: Path) -> None:
    """Flush the saved files to disk before the generation is published."""
    import os

    for path in folder.iterdir():
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class KeywordIndex:
    """A generation's keyword index, read-only."""

    def __init__(self, folder: Path) -> None:
        from index.search.keyword_layers import LayeredPostings, open_layers
        from index.storage.dead_rows import read_dead_rows

        # bm25s's files read as bm25s.BM25.load(mmap=True) reads them, without importing bm25s and scipy (0.4 to
        # 0.9 s of a new process's first question); memory-mapped, so processes opening one index share the pages
        def mapped(name: str) -> np.ndarray:  # a plain view of the mapping: slicing a np.memmap costs more
            return np.asarray(np.load(folder / f"{name}.csc.index.npy", mmap_mode="r", allow_pickle=False))

        self.documents = int(json.loads((folder / "params.index.json").read_text(encoding="utf-8"))["num_docs"])
        # a layered index (an append's delta on a shared base, keyword_layers.py) is weighed at question time;
        # its base may hold removed articles' rows (dead_rows.py), which it leaves out
        dead = read_dead_rows(folder.parent, self.documents)  # none without the file
        self._layers: LayeredPostings | None = open_layers(folder, self.documents, dead)
        live = self.documents if self._layers is None else self._layers.live  # the rows the weights count
        if self._layers is None:
            self._data, self._rows, self._starts = mapped("data"), mapped("indices"), mapped("indptr")
            if self._data.dtype != np.float32:
                raise ValueError(f"{folder.name}/data.csc.index.npy holds {self._data.dtype}, not float32")
            offsets = folder / DOCUMENT_OFFSETS
            if offsets.is_file() and len(np.load(offsets, mmap_mode="r")) != self.documents + 1:  # a delta lost
                raise ValueError(f"{folder.name}/{DOCUMENT_OFFSETS} does not hold the {self.documents} rows")
            frequency = np.diff(self._starts)
        else:
            frequency = self._layers.frequency
        self._idf = np.log1p((live - frequency + 0.5) / (frequency + 0.5)).astype(np.float32)
        self._unknown_idf = math.log1p((live - 1 + 0.5) / 1.5)
        self._folder = folder
        self._vocabulary: dict[str, int] | None = None
        self._names_by_id: list[str] | None = None
        self._stems: dict[str, list[str]] | None = None
        self._lookups: Lookups | None = open_lookups(folder)  # None for a generation written before them
        self._names: NameMatcher | None = self._lookups.names if self._lookups else None
        if self._lookups is not None and self._lookups.terms < len(frequency):  # bm25s adds a term "" of no row
            raise ValueError(f"{folder.name}/{LOOKUPS} holds {self._lookups.terms} terms, not {len(frequency)}")

    @property
    def vocabulary(self) -> dict[str, int]:
        """Term -> id, read whole on first use (a generation with stored lookups never needs it to answer)."""
        if self._vocabulary is None:
            self._vocabulary = json.loads((self._folder / "vocab.index.json").read_text(encoding="utf-8"))
        return self._vocabulary

    def _term_id(self, name: str) -> int | None:
        return self._lookups.term_id(name) if self._lookups is not None else self.vocabulary.get(name)

    @property
    def names(self) -> NameMatcher:
        """The cross-script name matcher over this index's vocabulary: its stored groups, or, for a
        generation written without them, built on first use."""
        if self._names is None:
            from index.text.names import NameMatcher

            self._names = NameMatcher(self.vocabulary)
        return self._names

    def slots(self, question: str, translations: Mapping[str, Sequence[Translation]] | None = None) -> list[Slot]:
        """The question's words as slots of index terms; ``translations`` (question word -> terms
        of the other script, see ``lexicon``) add forms at ``lexicon.WEIGHT``."""
        question_words = [w for w in words(question) if not is_stopword(w) and (len(w) > 1 or w.isdigit())]
        capitalised = _capitalised_words(question)
        slots = []
        for word in dict.fromkeys(question_words):
            forms: dict[int, float] = {}
            stem = term(word)
            self._add(forms, stem, 1.0)
            if is_arabic(word):
                self._add_prefixed_forms(forms, stem)
                for other in self._stem_group(light_stem(stem)):
                    self._add(forms, other, RANKING.suffix_form_weight)
                if self.names.has_latin:
                    for name, weight in self.names.latin_spellings_weighted(stem):
                        self._add(forms, name, RANKING.name_weight * weight)
            elif is_latin(word) and word.isalpha() and (word in capitalised or (not capitalised and len(word) >= 4)):
                for name, weight in self.names.arabic_spellings_weighted(word):
                    self._add(forms, name, RANKING.name_weight * weight)
            if len(forms) <= 1:  # words the index already reads in several forms are not translated:
                # names found across scripts (Haftar is not a word), Arabic words with their prefixed forms
                for translation in (translations or {}).get(word, ()):
                    self._add(forms, translation.term, RANKING.translation_weight)
            known = [self._idf[t] for t in forms]
            reference = float(max(known)) if known else self._unknown_idf
            slots.append(Slot(word, tuple(forms.items()), reference, frozenset(self._names_of(forms))))
        return slots

    def _stem_group(self, stem: str) -> Sequence[str]:
        """The Arabic terms of the index whose light stem is ``stem``: stored, or, for a generation
        written without them, from every Arabic term grouped on first use."""
        if self._lookups is not None:
            return self._lookups.stem_group(stem)
        if self._stems is None:
            groups: dict[str, list[str]] = {}
            for name in self.vocabulary:
                if is_arabic(name):
                    groups.setdefault(light_stem(name), []).append(name)
            self._stems = groups
        return self._stems.get(stem, ())

    def _names_of(self, term_ids: Iterable[int]) -> list[str]:
        if self._lookups is not None:
            return self._lookups.names_of(term_ids)
        if self._names_by_id is None:
            self._names_by_id = list(self.vocabulary)
            for name, term_id in self.vocabulary.items():
                self._names_by_id[term_id] = name
        return [self._names_by_id[term_id] for term_id in term_ids]

    def _add(self, forms: dict[int, float], name: str, weight: float) -> None:
        term_id = self._term_id(name)
        if term_id is not None and weight > forms.get(term_id, 0.0):
            forms[term_id] = weight

    def _add_prefixed_forms(self, forms: dict[int, float], stem: str) -> None:
        """بطرابلس for طرابلس and the reverse, when the index has them."""
        if stem[0] in ONE_LETTER_PREFIXES and len(stem) > 3:
            self._add(forms, stem[1:], 1.0)
        for prefix in ONE_LETTER_PREFIXES:
            self._add(forms, prefix + stem, 1.0)

    def scores(self, slots: Sequence[Slot]) -> np.ndarray:
        """Every row's keyword score for the slots: matched BM25 weight / the weight of all slots."""
        scores = np.zeros(self.documents, dtype=np.float32)
        total = sum(slot.reference for slot in slots)
        if total <= 0:
            return scores
        for slot in slots:
            if self._layers is not None:  # a layered index: the forms weighed together
                postings = self._layers.postings(slot.forms)
            else:
                postings = [self._postings(term_id, weight) for term_id, weight in slot.forms]
            if len(postings) == 1:
                rows, values = postings[0]
                scores[rows] += values
            elif postings:  # a row holding several forms of the word counts its best one
                rows, where = np.unique(np.concatenate([rows for rows, _ in postings]), return_inverse=True)
                best = np.zeros(len(rows), dtype=np.float32)  # as long as the rows found, not the index
                np.maximum.at(best, where, np.concatenate([values for _, values in postings]))
                scores[rows] += best
        scores /= total
        return scores

    def _postings(self, term_id: int, weight: float) -> tuple[np.ndarray, np.ndarray]:
        """(rows holding the term, their BM25 weight times ``weight``)."""
        if self._layers is not None:
            return self._layers.postings([(term_id, weight)])[0]
        start, end = self._starts[term_id], self._starts[term_id + 1]
        return self._rows[start:end], self._data[start:end] * weight


def _capitalised_words(question: str) -> set[str]:
    """Normalised Latin words written with a capital letter (names), the question's first word aside."""
    found = set()
    raw = question.split()
    for position, token in enumerate(raw):
        letters = "".join(ch for ch in token if ch.isalpha())
        if letters[:1].isupper() and (position > 0 or not is_stopword(letters.casefold())):
            found.update(words(letters))
    return found


def load_keyword_index(generation: Path) -> KeywordIndex | None:
    folder = generation / FOLDER
    return KeywordIndex(folder) if (folder / "params.index.json").is_file() else None


def keyword_record_is_current(manifest: dict) -> bool:
    return manifest.get("keywords", {}).get("format") == FORMAT
