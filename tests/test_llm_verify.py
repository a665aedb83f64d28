"""The checks an LLM answer passes before it is sent, sentence by sentence, and the LLM settings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from index.errors import SettingsError
from index.llm import LlmSettings
from index.llm.facts import calendar_names, number_values
from index.llm.prompt import Passage
from index.llm.verify import Unit, Verifier, split_units, supporting_span
from index.text.places import load_places
from index.text.typed_spans import SpanFinder

ENGLISH = Passage(
    1,
    "us-haftar",
    "US delegation meets Haftar over Russian role in Libya",
    "Example Wire",
    "https://example.com/a",
    "2019-11-25T09:30:00Z",
    "A senior US delegation met General Khalifa Haftar on Sunday to press for a ceasefire in Tripoli. "
    "The delegation included deputy national security adviser Victoria Coates and ambassador Richard Norland. "
    "The officials voiced concern about 1,200 Russian mercenaries fighting alongside Haftar's forces.",
    0,
    0.9,
)
ARABIC = Passage(
    2,
    "oil",
    "إنتاج النفط الليبي يرتفع",
    "الجزيرة",
    "",
    "2019-11-20",
    "قالت المؤسسة الوطنية للنفط إن إنتاج النفط في ليبيا ارتفع إلى مليون برميل يوميا في تشرين الثاني. "
    "والتقى رئيس المؤسسة مصطفى صنع الله السفير الأميركي في طرابلس، وحضر اللقاء ٣٥ مسؤولا.",
    0,
    0.8,
)


@pytest.fixture(scope="module")
def finder() -> SpanFinder:
    return SpanFinder(places=load_places())


def problems(finder, question: str, sentence: str, *citations: int) -> tuple[str, ...]:
    return Verifier(question, [ENGLISH, ARABIC], finder).check(Unit(sentence, citations)).problems


def test_a_reply_splits_into_sentences_each_with_its_markers():
    units, used = split_units("Haftar met them [1]. Oil rose [2][3]. Both [1, 2]! No source here.")
    assert units == [
        Unit("Haftar met them.", (1,)),
        Unit("Oil rose.", (2, 3)),
        Unit("Both!", (1, 2)),
        Unit("No source here.", ()),
    ]
    assert split_units("- First point. [1] [2]\n- Second [١].")[0] == [
        Unit("First point.", (1, 2)),
        Unit("Second.", (1,)),
    ]


def test_while_streaming_the_last_sentence_waits_for_what_follows_its_marker():
    assert split_units("Haftar met them [1", final=False)[0] == []
    assert split_units("Haftar met them [1]", final=False)[0] == []  # a "." or a [2] may follow
    assert split_units("Haftar met them [1]. Oil", final=False)[0] == [Unit("Haftar met them.", (1,))]
    assert split_units("Haftar met them [1]. Oil", final=True)[0][1] == Unit("Oil", ())


def test_numbers_are_values_whatever_digits_or_words_write_them():
    assert Decimal(1200) in number_values("1,200 mercenaries")
    assert Decimal(1200) in number_values("١٢٠٠ مرتزق")
    assert Decimal(1500000) in number_values("1.5 million") and Decimal("1.5") in number_values("1.5 million")
    assert Decimal(1500000) in number_values("١٫٥ مليون برميل")
    assert set(number_values("مليون برميل")) == {Decimal(1000000)}
    assert Decimal(35) in number_values("وحضر ٣٥ مسؤولا") and Decimal(3) in number_values("ثلاثة جنود")
    assert number_values("one of the two sides", checked_only=True) == {}


def test_months_and_weekdays_are_the_same_in_both_languages():
    assert set(calendar_names("in November")) == set(calendar_names("في نوفمبر")) == set(calendar_names("تشرين الثاني"))
    assert set(calendar_names("on Sunday")) == set(calendar_names("يوم الأحد"))
    assert calendar_names("they may meet") == {} and calendar_names("on 3 May") != {}


def test_a_faithful_sentence_passes_in_either_language(finder):
    assert problems(finder, "Who met Haftar?", "A US delegation met General Khalifa Haftar on Sunday.", 1) == ()
    assert problems(finder, "Who met Haftar?", "About 1,200 Russian mercenaries fight for Haftar.", 1) == ()
    assert problems(finder, "Who met Haftar?", "It was in November 2019 in Tripoli.", 1) == ()  # the article's date
    arabic = "من التقى حفتر؟"
    assert problems(finder, arabic, "التقى وفد أميركي الجنرال خليفة حفتر يوم الأحد.", 1) == ()
    assert problems(finder, arabic, "وضم الوفد السفير ريتشارد نورلاند و١٢٠٠ مرتزق.", 1) == ()


def test_an_english_sentence_citing_an_arabic_passage_is_checked_across_scripts(finder):
    question = "How much oil does Libya produce?"
    assert problems(finder, question, "Libya's oil output rose to one million barrels a day in November.", 2) == ()
    assert problems(finder, question, "Mustafa Sanalla met the US ambassador in Tripoli, with 35 officials.", 2) == ()
    found = problems(finder, question, "Libya's output rose to 1.2 million barrels a day in December.", 2)
    assert found == (
        "the number 1.2 million is not in the passage it cites",
        "December is not in the passage it cites",
    )


def test_invented_names_numbers_and_dates_fail(finder):
    question = "Who met Haftar?"
    assert problems(finder, question, "Mike Pompeo met Haftar in Tripoli.", 1) == (
        "the name Mike is not in the passage it cites",
        "the name Pompeo is not in the passage it cites",
    )
    assert problems(finder, question, "They met on Monday.", 1) == ("Monday is not in the passage it cites",)
    assert problems(finder, question, "Haftar has 25,000 fighters.", 1) == (
        "the number 25,000 is not in the passage it cites",
    )
    assert problems(finder, "من التقى حفتر؟", "التقى السفير مايك بومبيو حفتر.", 1) == (
        "the name مايك is not in the passage it cites",
        "the name بومبيو is not in the passage it cites",
    )


def test_a_name_cited_to_the_wrong_passage_fails(finder):
    assert problems(finder, "Who met Haftar?", "Richard Norland met Haftar.", 2) == (
        "the name Richard is not in the passage it cites",
        "the name Norland is not in the passage it cites",
        "the name Haftar is not in the passage it cites",
    )
    assert problems(finder, "Who met Haftar?", "Richard Norland met Haftar.", 1, 2) == ()  # one of them has it


def test_missing_or_unknown_citations_and_another_script_fail(finder):
    assert problems(finder, "Who met Haftar?", "Haftar met them.") == ("cites no passage",)
    assert problems(finder, "Who met Haftar?", "Haftar met them.", 7) == ("cites [7], but only 2 passages were given",)
    assert problems(finder, "Who met Haftar?", "التقى وفد أميركي حفتر.", 1) == (
        "is not in the question's script (latin)",
    )


def test_the_quote_is_the_passage_sentence_that_supports_the_answer_most():
    span = supporting_span(ARABIC.text, ["Mustafa Sanalla met the US ambassador in Tripoli."])
    assert span is not None and ARABIC.text[span[0] : span[1]].startswith("والتقى رئيس المؤسسة مصطفى صنع الله")
    assert supporting_span(ENGLISH.text, ["Nothing here at all."]) is None


def test_llm_settings_are_read_once_and_checked():
    assert not LlmSettings.from_env({}).enabled
    settings = LlmSettings.from_env(
        {
            "LLM_BASE_URL": "http://localhost:11434/v1/",
            "LLM_MODEL": "qwen2.5:7b-instruct",
            "LLM_TIMEOUT_SECONDS": "12.5",
            "LLM_MAX_OUTPUT_TOKENS": "300",
            "LLM_DAILY_CAP_PER_USER": "0",
        }
    )
    assert settings.enabled and settings.completions_url == "http://localhost:11434/v1/chat/completions"
    assert (settings.timeout_seconds, settings.max_output_tokens, settings.daily_cap_per_user) == (12.5, 300, 0)
    with pytest.raises(SettingsError, match="LLM_MODEL is missing"):
        LlmSettings.from_env({"LLM_BASE_URL": "https://api.openai.com/v1"})
    with pytest.raises(SettingsError, match="LLM_BASE_URL must be an http"):
        LlmSettings.from_env({"LLM_BASE_URL": "api.openai.com", "LLM_MODEL": "gpt-4o-mini"})
    with pytest.raises(SettingsError, match="LLM_TIMEOUT_SECONDS must be between"):
        LlmSettings.from_env({"LLM_TIMEOUT_SECONDS": "0"})
