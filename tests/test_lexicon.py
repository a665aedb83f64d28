"""Word translations across scripts (the lexicon): built from the index's terms, used by the keyword slots."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from index import HashingEmbedder
from index.search.lexicon import Lexicon, build_lexicon, load_lexicon
from index.storage.generations import current_generation, read_manifest
from tests.conftest import write_articles

# A fake multilingual encoder: these words share a vector with their translation.
TRANSLATIONS = {"river": "نهر", "water": "مياه", "bridge": "جسر"}


class TranslatingEmbedder(HashingEmbedder):
    """The hashing encoder, except that the words of TRANSLATIONS embed as their Arabic translation."""

    cross_lingual = True

    def __init__(self) -> None:
        super().__init__(dimension=4096)

    def _embed(self, texts):
        pattern = re.compile(r"\b(" + "|".join(TRANSLATIONS) + r")\b", re.IGNORECASE)
        return super()._embed([pattern.sub(lambda m: TRANSLATIONS[m.group(1).lower()], t) for t in texts])


COMMON_ARABIC = [
    "نهر",
    "ملك",
    "حرب",
    "سكان",
    "جامعه",
    "كنيسه",
    "مسجد",
    "مدينه",
    "حكومه",
    "رييس",
    "جيش",
    "سلاح",
    "طاقه",
    "نفط",
    "غاز",
    "مياه",
    "بحر",
    "جبل",
    "صحراء",
    "زراعه",
    "قمح",
    "مدرسه",
    "طالب",
    "معلم",
    "مستشفي",
    "طبيب",
    "دواء",
    "مرض",
    "علاج",
    "سياره",
    "طريق",
    "جسر",
    "قطار",
    "طاءره",
    "مطار",
    "ميناء",
    "سفينه",
    "تجاره",
    "سوق",
    "سعر",
    "بنك",
    "مال",
    "ضريبه",
    "قانون",
    "محكمه",
    "قاضي",
    "شرطه",
    "سجن",
    "انتخابات",
    "برلمان",
    "حزب",
    "وزير",
    "سفير",
    "وفد",
    "اجتماع",
    "مفاوضات",
    "اتفاق",
    "سلام",
    "هدنه",
    "هجوم",
    "قصف",
    "صاروخ",
    "لاجيء",
    "حدود",
    "عاصمه",
    "دوله",
    "شعب",
    "لغه",
    "كتاب",
    "صحيفه",
    "تلفزيون",
    "اذاعه",
    "موسيقي",
    "فيلم",
    "مسرح",
    "رياضه",
    "كره",
    "فريق",
    "لاعب",
    "مباراه",
    "بطوله",
    "ملعب",
    "شمس",
    "قمر",
    "نجم",
    "مطر",
    "ثلج",
    "رياح",
    "زلزال",
    "فيضان",
    "حريق",
    "غابه",
    "شجره",
    "زهره",
    "حيوان",
    "طاير",
    "سمك",
    "بقره",
    "حصان",
    "كلب",
    "قط",
    "ذهب",
    "فضه",
    "حديد",
    "نحاس",
    "خشب",
    "حجر",
    "زجاج",
    "ورق",
    "قلم",
    "حاسوب",
    "هاتف",
    "انترنت",
    "شركه",
    "مصنع",
    "عامل",
    "راتب",
    "بطاله",
    "فقر",
    "غذاء",
    "خبز",
    "لحم",
    "حليب",
    "سكر",
    "ملح",
    "قهوه",
    "شاي",
    "ماء",
    "نار",
    "هواء",
    "ارض",
    "سماء",
    "ليل",
    "نهار",
    "صباح",
    "مساء",
    "اسبوع",
    "شهر",
    "سنه",
    "قرن",
    "تاريخ",
    "ثوره",
    "استقلال",
    "امبراطوريه",
    "ملكه",
    "امير",
    "اسره",
    "طفل",
    "امراه",
    "رجل",
    "شاب",
    "شيخ",
    "صديق",
    "عدو",
]
FILLER = " ".join(w for w in COMMON_ARABIC if w not in ("نهر", "جسر", "مياه"))

RIVER_ARTICLES = {
    "nile": "النيل\n\nنهر النيل أطول نهر في أفريقيا ويعبر جسر القاهرة فوق مياه النهر.\n\nالمصدر: الجزيرة",
    "bridge": "جسر جديد\n\nافتتحت المدينة جسر المشاة الجديد فوق نهر صغير.\n\nالمصدر: الجزيرة",
    "oil": "النفط\n\nارتفع إنتاج النفط في ليبيا إلى مليون برميل يوميا.\n\nالمصدر: الجزيرة",
    "olives": "الزيتون\n\nبدأ موسم قطف الزيتون مبكرا بسبب الحرارة في صفاقس.\n\nالمصدر: الجزيرة",
    # two articles of common words: a lexicon large enough for a translation to stand out
    "words-1": f"كلمات\n\n{FILLER}.\n\nالمصدر: الجزيرة",
    "words-2": f"كلمات\n\n{FILLER}.\n\nالمصدر: الجزيرة",
}


@pytest.fixture
def river_engine(hashing_engine, tmp_path):
    engine = hashing_engine(embedder=TranslatingEmbedder())
    engine.update([write_articles(tmp_path / "articles", RIVER_ARTICLES)], replace_all=True)
    return engine


def _slot_terms(engine, question):
    index = engine._index()
    return {slot.word: slot.terms for slot in index.slots(question, engine.embedder.embed_passages)}


def test_an_english_word_matches_its_arabic_translation_in_the_keyword_slots(river_engine):
    terms = _slot_terms(river_engine, "How long is the river?")
    assert "نهر" in terms["river"]
    assert terms["long"] == frozenset()  # no translation stands out: nothing is added


def test_without_the_encoder_the_slots_have_no_translations(river_engine):
    index = river_engine._index()
    assert {slot.word: slot.terms for slot in index.slots("How long is the river?")}["river"] == frozenset()


def test_the_translation_brings_the_arabic_article_up_for_an_english_question(river_engine):
    hits = river_engine.search("the bridge over the river", k=2)
    assert {hit.article_id for hit in hits} == {"nile", "bridge"}


def test_the_manifest_records_the_lexicon_and_terms_seen_once_are_left_out(river_engine):
    manifest = read_manifest(current_generation(river_engine.index_dir))
    assert manifest["lexicon"]["format"] == 2
    words = json.loads((current_generation(river_engine.index_dir) / "lexicon" / "arabic.json").read_text("utf-8"))
    assert "نهر" in words and "جسر" in words  # in two articles each
    assert "زيتون" not in words  # in one chunk only


def test_an_incremental_build_embeds_only_new_terms(river_engine, tmp_path):
    more = write_articles(
        tmp_path / "more", {"dam": "سد\n\nبني سد على نهر في الجبال حيث الزيتون والنفط.\n\nالمصدر: الجزيرة"}
    )
    report_before = read_manifest(current_generation(river_engine.index_dir))["lexicon"]
    river_engine.update([more])
    after = read_manifest(current_generation(river_engine.index_dir))["lexicon"]
    assert after["terms"]["arabic"] > report_before["terms"]["arabic"]
    assert after["embedded"] == after["terms"]["arabic"] - report_before["terms"]["arabic"]


def test_an_encoder_that_is_not_cross_lingual_gets_an_empty_lexicon(hashing_engine, tmp_path):
    engine = hashing_engine()
    engine.update([write_articles(tmp_path / "articles", RIVER_ARTICLES)], replace_all=True)
    manifest = read_manifest(current_generation(engine.index_dir))
    assert manifest["lexicon"]["terms"] == {"arabic": 0, "latin": 0}
    assert _slot_terms(engine, "the river")["river"] == frozenset()


# enough terms in each script for a translation to stand out from the typical term
FILLER_TERMS = {word: 2 for word in COMMON_ARABIC[:60]} | {
    a + b + c: 2 for a in "bcd" for b in "aeiou" for c in "klmnp"
}


def test_a_lexicon_translates_only_into_the_other_script(tmp_path):
    embedder = TranslatingEmbedder()
    terms = FILLER_TERMS | {"نهر": 3, "river": 3, "مياه": 2, "water": 2, "جسر": 2}
    build_lexicon(terms, embedder, tmp_path / "lexicon")
    lexicon = Lexicon(tmp_path / "lexicon")
    words = lexicon.words_to_translate(["river", "the", "نهر", "x"])
    assert words == ["river", "نهر"]
    found = lexicon.translate(words, embedder.embed_passages(words))
    assert [t.term for t in found["river"]] == ["نهر"]
    assert [t.term for t in found["نهر"]] == ["river"]


def test_the_lexicon_keeps_the_most_frequent_terms_up_to_its_limit(tmp_path):
    terms = {"نهر": 9, "جسر": 5, "مياه": 4, "river": 3, "سد": 1}
    record = build_lexicon(terms, TranslatingEmbedder(), tmp_path / "lexicon", limit=3)
    assert record["terms"] == {"arabic": 3, "latin": 0}
    assert json.loads((tmp_path / "lexicon" / "arabic.json").read_text("utf-8")) == ["نهر", "جسر", "مياه"]


def test_a_generation_without_a_lexicon_folder_has_none(tmp_path):
    assert load_lexicon(tmp_path) is None


# The real encoder ---------------------------------------------------------------------


@pytest.mark.model
@pytest.mark.parametrize("english, arabic", [("river", "نهر"), ("king", "ملك"), ("war", "حرب"), ("hospital", "مستشفي")])
def test_the_bundled_encoder_translates_common_words(tmp_path, bundled_embedder, english, arabic):
    build_lexicon({word: 2 for word in COMMON_ARABIC}, bundled_embedder, tmp_path / "lexicon")
    lexicon = Lexicon(tmp_path / "lexicon")
    found = lexicon.translate([english], bundled_embedder.embed_passages([english]))
    assert arabic in [t.term for t in found[english]]


@pytest.mark.model
def test_the_bundled_encoder_finds_no_translation_in_a_lexicon_without_one(tmp_path, bundled_embedder):
    unrelated = [
        w for w in COMMON_ARABIC if w not in ("نهر", "بحر", "مياه", "ماء", "جسر", "فيضان", "سمك", "ميناء", "سفينه")
    ]
    build_lexicon({word: 2 for word in unrelated}, bundled_embedder, tmp_path / "lexicon")
    lexicon = Lexicon(tmp_path / "lexicon")
    assert lexicon.translate(["river"], bundled_embedder.embed_passages(["river"]))["river"] == []


def test_lexicon_vectors_round_trip_through_float16(tmp_path):
    embedder = TranslatingEmbedder()
    build_lexicon({"نهر": 2, "جسر": 2} | FILLER_TERMS, embedder, tmp_path / "a")
    record = build_lexicon(
        {"نهر": 2, "جسر": 2, "بحيره": 2} | FILLER_TERMS, embedder, tmp_path / "b", previous=tmp_path / "a"
    )
    assert record["embedded"] == 1  # the rest came from the previous lexicon
    lexicon = Lexicon(tmp_path / "b")
    vector = embedder.embed_passages(["river"])
    found = lexicon.translate(["river"], vector)
    assert found["river"] and found["river"][0].term == "نهر"
    assert np.isclose(found["river"][0].similarity, 1.0, atol=1e-3)
