"""Arabic normalisation, keyword terms and the keyword index (bm25s, saved without pickle)."""

from __future__ import annotations

import numpy as np
import pytest

from index.search.keywords import KeywordIndex, build_keyword_index, open_stored_terms
from index.text.normalise import keyword_terms, light_stem, normalise, strip_prefix


@pytest.mark.parametrize(
    "written, normalised",
    [
        ("مُحَمَّدٌ", "محمد"),  # diacritics
        ("الـــعـــربية", "العربيه"),  # tatweel, ة -> ه
        ("أحمد إبراهيم آمال ٱلله", "احمد ابراهيم امال الله"),  # alef forms
        ("مستشفى", "مستشفي"),  # ى -> ي
        ("رئيس مؤتمر", "رييس موتمر"),  # hamza on its carrier
        ("عام ٢٠١٩", "عام 2019"),  # Arabic-Indic digits
        ("Haftar  MET\tÉmile", "haftar met emile"),  # Latin case, accents, spaces
    ],
)
def test_normalise(written, normalised):
    assert normalise(written) == normalised


@pytest.mark.parametrize(
    "word, stem",
    [
        ("والسراج", "سراج"),
        ("بالعاصمة", "عاصمه"),
        ("للحكومة", "حكومه"),
        ("الليبي", "ليبي"),
        ("وفد", "وفد"),
        ("ولد", "ولد"),
        ("طرابلس", "طرابلس"),
    ],
)
def test_light_prefixes(word, stem):
    assert strip_prefix(normalise(word)) == stem


def test_light_stem_groups_forms_of_a_word():
    assert light_stem("روسيا") == light_stem("روسي") == light_stem("روسيه")


def test_keyword_terms_drop_function_words_in_both_languages():
    assert keyword_terms("من التقى حفتر في طرابلس؟") == ["تقي", "حفتر", "طرابلس"]
    assert keyword_terms("Who met Haftar in Tripoli?") == ["met", "haftar", "tripoli"]


CHUNKS = [
    "الوفد الأميركي\nوتكون الوفد الأميركي الذي التقى حفتر من فيكتوريا كوتس والسفير ريتشارد نورلاند.",
    "النفط الليبي\nقالت المؤسسة الوطنية للنفط إن إنتاج النفط ارتفع إلى مليون برميل يوميا في 2019.",
    "Olive harvest\nFarmers in Sfax began picking olives early this year.",
]


@pytest.fixture
def keyword_index(tmp_path) -> KeywordIndex:
    build_keyword_index(CHUNKS, tmp_path / "keywords")
    return KeywordIndex(tmp_path / "keywords")


def test_saved_without_pickle(tmp_path, keyword_index):
    for path in (tmp_path / "keywords").glob("*.npy"):
        np.load(path, allow_pickle=False)
    assert keyword_index.documents == len(CHUNKS)


def test_arabic_question_finds_its_chunk_across_prefixes(keyword_index):
    scores = keyword_index.scores(keyword_index.slots("من هو السفير نورلاند وماذا عن الوفد؟"))
    assert int(np.argmax(scores)) == 0 and 0 < scores[0] <= 1.5


def test_english_names_and_numbers_find_arabic_chunks(keyword_index):
    assert int(np.argmax(keyword_index.scores(keyword_index.slots("Who met Haftar?")))) == 0
    assert int(np.argmax(keyword_index.scores(keyword_index.slots("What happened in 2019?")))) == 1


def test_unreadable_question_scores_nothing(keyword_index):
    assert not keyword_index.scores(keyword_index.slots("What is the capital of Peru?")).any()


def test_the_vote_shrinks_with_what_the_index_cannot_read(keyword_index):
    whole = keyword_index.scores(keyword_index.slots("التقى حفتر"))[0]
    partial = keyword_index.scores(keyword_index.slots("Who really met Haftar yesterday?"))[0]
    assert 0 < partial < whole


def test_stored_terms_rebuild_the_same_index_without_reading_the_texts(tmp_path):
    texts = ["وصل الوفد الأميركي إلى بنغازي", "Haftar met the US delegation in Benghazi", "النفط في ليبيا"]
    build_keyword_index(texts, tmp_path / "gen-1" / "keywords")
    stored = open_stored_terms(tmp_path / "gen-1")
    assert [stored.terms(row) for row in range(3)] == [keyword_terms(text) for text in texts]
    # a later build given the first two as stored terms and a new text writes the same index as from texts
    build_keyword_index([stored.terms(0), stored.terms(1), "الغاز في مصر"], tmp_path / "again")
    build_keyword_index([*texts[:2], "الغاز في مصر"], tmp_path / "plain")
    for name in ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy", "terms.json"):
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / "plain" / name).read_bytes()


def test_damaged_stored_terms_are_ignored(tmp_path):
    build_keyword_index(["one text here", "another text"], tmp_path / "keywords")
    (tmp_path / "keywords" / "terms.json").write_text("[]")
    assert open_stored_terms(tmp_path) is None  # a later build reads the texts again
