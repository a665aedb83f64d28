"""The keyword side's per-question work, made cheaper without changing a result (issue 16): the
vocabulary's stem groups and name keys stored at build time (``search/lookups.py``), memory-mapped
BM25 weights, keyword scores without per-slot arrays of every row, and the fusion's partial sort."""

from __future__ import annotations

import dataclasses
import mmap
import random

import numpy as np
import pytest

from index.search import fusion, lookups
from index.search.fusion import fuse, top_rows
from index.search.keywords import KeywordIndex, build_keyword_index
from index.text.names import NameMatcher
from index.tuning import RANKING

TEXTS = [
    "الوفد الأميركي\nوتكون الوفد الأميركي الذي التقى حفتر من فيكتوريا كوتس والسفير ريتشارد نورلاند.",
    "النفط الليبي\nقالت المؤسسة الوطنية للنفط إن إنتاج النفط ارتفع إلى مليون برميل يوميا في 2019.",
    "Olive harvest\nFarmers in Sfax began picking olives early this year.",
    "روسيا وليبيا\nقال الروسي إن روسيا تدعم الحوار الليبي في طرابلس وبطرابلس والسراج.",
    "Talks in Tripoli\nHaftar and Sarraj met Pompeo; Richard Norland and Victoria Coates joined the delegation.",
    "مصراتة ودرنة\nبومبيو وماكرون تحدثا عن بنغازي ومصراتة ودرنة والطرابلسي.",
    "Markets\nOil prices rose in Benghazi and Misrata as the Russian envoy spoke of Russia.",
    "الاقتصاد\nالبنك المركزي أبقى أسعار الفائدة والروسية تتحدث عن الروس في موسكو.",
]
QUESTIONS = [
    "من التقى حفتر؟",
    "Who met Haftar?",
    "ماذا قالت روسيا عن طرابلس؟",
    "What did Pompeo say in Tripoli?",
    "ما هو إنتاج النفط في 2019؟",
    "olive harvest in Sfax",
    "السراج وبومبيو في مصراتة",
    "Norland Coates Richard Victoria",
    "الروسي والروسية",
    "Benghazi Misrata Derna Macron",
]


def open_both(tmp_path) -> tuple[KeywordIndex, KeywordIndex]:
    """The same keyword index opened with its stored lookups and, without them, grouped the old way."""
    folder = tmp_path / "keywords"
    build_keyword_index(TEXTS, folder)
    stored = KeywordIndex(folder)
    old = tmp_path / "old"
    old.mkdir()
    for path in folder.iterdir():
        if path.name not in (lookups.KEYS, lookups.IDS, lookups.TERM_BYTES, lookups.TERM_OFFSETS, lookups.RECORD):
            (old / path.name).write_bytes(path.read_bytes())
    return stored, KeywordIndex(old)


def test_stored_lookups_give_the_slots_of_the_old_way(tmp_path):
    stored, old = open_both(tmp_path)
    assert stored._lookups is not None and old._lookups is None
    for question in QUESTIONS:
        assert stored.slots(question) == old.slots(question), question
    assert any(len(slot.forms) > 2 for q in QUESTIONS for slot in stored.slots(q))  # the groups were used


def test_stored_name_matches_equal_the_matcher_built_from_the_vocabulary(tmp_path):
    stored, old = open_both(tmp_path)
    matcher = NameMatcher(old.vocabulary)
    assert stored.names.has_latin == matcher.has_latin is True
    found = 0
    for word in list(old.vocabulary) + ["Haftar", "Tripoli", "Pompeo", "Sarraj", "Misrata", "Russia"]:
        assert stored.names.arabic_spellings_weighted(word) == matcher.arabic_spellings_weighted(word), word
        assert stored.names.latin_spellings_weighted(word) == matcher.latin_spellings_weighted(word), word
        found += bool(matcher.arabic_spellings_weighted(word)) + bool(matcher.latin_spellings_weighted(word))
    assert found >= 10


def test_colliding_hashes_change_nothing(tmp_path, monkeypatch):
    """Every key hashed alike: each lookup finds the whole vocabulary, and the checks keep only its key's terms."""
    monkeypatch.setattr(lookups, "_hash", lambda table, key: 7)
    stored, old = open_both(tmp_path)
    for question in QUESTIONS:
        assert stored.slots(question) == old.slots(question), question


def old_scores(index: KeywordIndex, slots) -> np.ndarray:
    """The keyword scores as computed before: an array of every row per slot with several forms."""
    scores = np.zeros(index.documents, dtype=np.float32)
    total = sum(slot.reference for slot in slots)
    if total <= 0:
        return scores
    for slot in slots:
        best = np.zeros(index.documents, dtype=np.float32) if len(slot.forms) > 1 else None
        for term_id, weight in slot.forms:
            start, end = index._starts[term_id], index._starts[term_id + 1]
            rows, values = index._rows[start:end], index._data[start:end] * weight
            if best is None:
                scores[rows] += values
            else:
                np.maximum.at(best, rows, values)
        if best is not None:
            scores += best
    return scores / total


def old_fuse(dense, keyword_scores, cosines, weight, k, ranking=RANKING):
    """The fusion as it was, with a stable sort of every keyword score."""
    if keyword_scores is None or weight <= 0 or not np.any(keyword_scores > 0):
        return list(dense[:k])
    known = dict(dense)
    best_keyword = np.argsort(-keyword_scores, kind="stable")[: ranking.keyword_candidates]
    extra = np.array([row for row in best_keyword if keyword_scores[row] > 0 and int(row) not in known], dtype=np.int64)
    if len(extra):
        known.update(zip(extra.tolist(), cosines(extra).tolist()))
    rows = np.fromiter(known.keys(), dtype=np.int64, count=len(known))
    fused = np.fromiter(known.values(), dtype=np.float64, count=len(known)) + weight * keyword_scores[rows]
    order = np.argsort(-fused, kind="stable")[:k]
    return [(int(rows[i]), float(fused[i])) for i in order]


def test_scores_and_fused_rankings_equal_the_old_ones(tmp_path, monkeypatch):
    index, _ = open_both(tmp_path)
    few = dataclasses.replace(RANKING, keyword_candidates=2)  # fewer than the rows with a keyword score
    cosines = np.linspace(0.3, 0.8, index.documents).astype(np.float32)  # made-up cosines, ties in keyword scores
    for question in QUESTIONS:
        slots = index.slots(question)
        scores = index.scores(slots)
        assert np.array_equal(scores, old_scores(index, slots)), question
        dense = [(row, float(cosines[row])) for row in (5, 2, 0)]
        for candidates in (RANKING, few):
            monkeypatch.setattr(fusion, "RANKING", candidates)
            for k in (1, 3, 8):
                got = fuse(dense, scores, lambda rows: cosines[rows], 0.25, k)
                assert got == old_fuse(dense, scores, lambda rows: cosines[rows], 0.25, k, candidates), (question, k)


@pytest.mark.parametrize("seed", range(20))
def test_top_rows_are_the_stable_sorts_first_positive_rows(seed):
    rng = random.Random(seed)
    size = rng.choice([1, 5, 50, 400])
    scores = np.array([rng.choice([0, 0, 0, 0.25, 0.5, 0.5, 1.0, rng.random()]) for _ in range(size)], np.float32)
    for k in (1, 2, 10, 100, 1000):
        expected = [row for row in np.argsort(-scores, kind="stable")[:k] if scores[row] > 0]
        assert top_rows(scores, k).tolist() == [int(row) for row in expected], (size, k)


def _mapped(array: np.ndarray) -> bool:
    """Whether the array's memory is a file mapping."""
    while array is not None:
        if isinstance(array, (np.memmap, mmap.mmap)):
            return True
        array = getattr(array, "base", None)
    return False


def test_the_weights_and_lookups_are_memory_mapped(tmp_path):
    index, _ = open_both(tmp_path)
    assert _mapped(index._data) and _mapped(index._rows) and _mapped(index._starts)
    assert index._lookups is not None
    assert all(_mapped(array) for array in (index._lookups._keys, index._lookups._ids, index._lookups._bytes))
    assert index._vocabulary is None  # the whole vocabulary is never read
    assert index.slots("Who met Haftar?") and index._vocabulary is None
