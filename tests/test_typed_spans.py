"""Typed spans in sentences (numbers with units, dates, reasons, people, places), Arabic and English."""

from __future__ import annotations

import pytest

from index.text.answer_types import AnswerType, expected_answer
from index.text.folding import fold
from index.text.places import Places, load_places
from index.text.typed_spans import SpanFinder, TypedSpan, find_spans, new_spans, unit_matches

N, D, R, P, L = AnswerType.NUMBER, AnswerType.DATE, AnswerType.REASON, AnswerType.PERSON, AnswerType.PLACE


@pytest.fixture(scope="module")
def finder() -> SpanFinder:
    return SpanFinder(names=["فيكتوريا كوتس", "Victoria Coates", "حفتر"], places=load_places())


def texts(finder: SpanFinder, sentence: str, answer_type: AnswerType) -> list[str]:
    return [sentence[span.start : span.end] for span in finder.find(sentence, answer_type)]


# (sentence, type, the span texts expected, in order)
TABLE = [
    # numbers, with the counted noun after them
    ("قتل 12 شخصا في الهجوم.", N, ["12 شخصا"]),
    ("وأصيب ثلاثة آلاف جندي و٣٠ مدنيا.", N, ["ثلاثة آلاف جندي", "٣٠ مدنيا"]),
    ("ويعاني سكان درنة، البالغ عددهم 120 ألف مدني، من نقص حاد.", N, ["120 ألف مدني"]),
    ("بلغت الخسائر 67,4 مليون دولار و850ألف برميل يوميا.", N, ["67,4 مليون دولار", "850ألف برميل"]),
    ("سيطر الجيش على 75 بالمئة من مساحة درنة و٤٠ في المئة من الساحل.", N, ["75 بالمئة", "٤٠ في المئة"]),
    ("قتل ثلاثة وعشرون شخصا ونزح عشرات الآلاف من المدنيين.", N, ["ثلاثة وعشرون شخصا", "عشرات الآلاف من المدنيين"]),
    ("وصلت مليونان من الجرعات وألفان من الخيام.", N, ["مليونان من الجرعات", "ألفان من الخيام"]),
    ("The attack killed 12 soldiers and wounded twenty-five people.", N, ["12 soldiers", "twenty-five people"]),
    (
        "Losses reached $5 million, or 3.5% of output, and 1,250,000 barrels.",
        N,
        ["$5 million", "3.5%", "1,250,000 barrels"],
    ),
    ("Hundreds of fighters fled.", N, ["Hundreds of fighters"]),
    ("أرسل الجيش 2000 جندي في عام 2000.", N, ["2000 جندي"]),
    ("ودعت واشنطن في 14 نوفمبر 2019 إلى وقف القتال.", N, []),
    # dates
    ("ودعت واشنطن في 14 نوفمبر/تشرين الثاني الحالي إلى وقف القتال.", D, ["14 نوفمبر/تشرين الثاني"]),
    ("وحدد الإعلان إجراء الانتخابات في 10 كانون الأول/ ديسمبر 2018.", D, ["10 كانون الأول/ ديسمبر 2018"]),
    ("وكانت أعلنت في 14 حزيران/يونيو حالة القوة القاهرة.", D, ["14 حزيران/يونيو"]),
    ("وفي أواخر الثمانينيات انشق حفتر، وولد عام 1943.", D, ["أواخر الثمانينيات", "1943"]),
    ("احتل الإيطاليون ليبيا في القرن التاسع عشر ثم في القرن الماضي.", D, ["القرن التاسع عشر", "القرن الماضي"]),
    ("أعلن الجيش فجر اليوم الاثنين السيطرة على الميناء.", D, ["فجر اليوم الاثنين"]),
    ("وقعت الاشتباكات يوم الأحد بين الطرفين.", D, ["يوم الأحد"]),
    ("لا خلاف بين الاثنين على ذلك.", D, []),
    ("The talks were held on Sunday, 5 May 2019 in Paris.", D, ["Sunday, 5 May 2019"]),
    ("A follow-up is planned for 2019-06-02 or 5/6/2019.", D, ["2019-06-02", "5/6/2019"]),
    ("He may return in May, officials said in March 2018.", D, ["May", "March 2018"]),
    ("He may march on Tripoli.", D, []),
    ("Haftar defected in the late 1980s and returned last year.", D, ["the late 1980s", "last year"]),
    ("وسيعقد الاجتماع الشهر المقبل بعد أن فشل العام الماضي.", D, ["الشهر المقبل", "العام الماضي"]),
    ("ومارس الضغط على الطرفين.", D, []),
    # reasons
    ("أشارت دراسة إلى قلق واشنطن بسبب الانقسام السياسي بين الفرقاء.", R, ["بسبب الانقسام السياسي بين الفرقاء"]),
    ("توقف الإنتاج نتيجة عدم وجود فراغات في الخزانات، وفق البيان.", R, ["نتيجة عدم وجود فراغات في الخزانات"]),
    ("وتكتسي درنة أهمية نظرا لموقعها الجغرافي، كما قال.", R, ["نظرا لموقعها الجغرافي"]),
    ("بدأت التهديدات لأن مصالح هذه الجماعات باتت مهددة.", R, ["لأن مصالح هذه الجماعات باتت مهددة"]),
    ("وكان لهذا القرار أثر كبير، إثر إغلاق الموانئ.", R, ["إثر إغلاق الموانئ"]),
    ("اعتقل على خلفية الهجوم، وذلك لمنع تكراره.", R, ["على خلفية الهجوم", "وذلك لمنع تكراره"]),
    ("The ports closed because of the blockade, officials said.", R, ["because of the blockade"]),
    ("Production stopped, since the tanks are full.", R, ["since the tanks are full"]),
    ("Libya has been in chaos since 2011.", R, []),
    ("He travelled in order to meet Haftar.", R, ["in order to meet Haftar"]),
    ("تناولت المحادثات دعم أوروبا لإنشاء قوات خفر سواحل.", R, []),
    # people and organisations
    ("والسفير الأميركي لدى ليبيا ريتشارد نورلاند التقى الوفد.", P, ["السفير الأميركي لدى ليبيا ريتشارد نورلاند"]),
    ("وقال المتحدث باسم الجيش الليبي أحمد المسماري إن القوات تقدمت.", P, ["المتحدث باسم الجيش الليبي أحمد المسماري"]),
    ("وأيد رئيس الوزراء فايز السراج، الذي يقود الحكومة، الخطة.", P, ["رئيس الوزراء فايز السراج"]),
    ("وتكون الوفد من مسؤولة في مجلس الأمن فيكتوريا كوتس والسفير.", P, ["فيكتوريا كوتس", "السفير"]),
    ("كما ضم أيضا العميد ستيفن ديميليانو، إن صح ذلك.", P, ["العميد ستيفن ديميليانو"]),
    ("وقال الوفد، الذي ضم مسؤولين أميركيين، إن الاجتماع كان صريحا.", P, ["مسؤولين أميركيين"]),
    ("والتقى لحفتر مستشاروه.", P, ["حفتر"]),
    (
        "The delegation included Victoria Coates of the National Security Council and Brig. Gen. Steven deMiliano.",
        P,
        ["Victoria Coates of the National Security Council", "Brig. Gen. Steven deMiliano"],
    ),
    ("Officials said the US Department of Energy sent Matthew Zais.", P, ["US Department of Energy", "Matthew Zais"]),
    ("He was held in Derna by Khalifa Haftar's forces in May.", P, ["Khalifa Haftar"]),
    ("In Libya, the talks failed.", P, []),
    # places
    ("ألقت القوات القبض عليه في حي المغار بمدينة درنة.", L, ["حي المغار", "مدينة درنة"]),
    ("ثم نقل إلى العاصمة المصرية القاهرة.", L, ["العاصمة المصرية القاهرة"]),
    ("ويعد حفتر الشخصية المهيمنة في شرقي ليبيا وفي بنغازي.", L, ["شرقي ليبيا", "بنغازي"]),
    ("وعقد الاجتماع في باريس بحضور ممثلين عن الولايات المتحدة.", L, ["باريس", "الولايات المتحدة"]),
    (
        "Ashmawi was arrested in Derna, in eastern Libya, and flown to the United States.",
        L,
        ["Derna", "eastern Libya", "United States"],
    ),
    ("He spoke to President Macron in Paris.", L, ["Paris"]),
    ("وتدعم الأمم المتحدة والاتحاد الأوروبي إجراء انتخابات.", L, []),
    ("The closing prices were fine.", L, []),
]


@pytest.mark.parametrize(("sentence", "answer_type", "expected"), TABLE)
def test_typed_spans(finder: SpanFinder, sentence: str, answer_type: AnswerType, expected: list[str]) -> None:
    assert texts(finder, sentence, answer_type) == expected


@pytest.mark.parametrize(
    ("sentence", "unit"),
    [
        ("قتل 30 جنديا", "جنديا"),
        ("خسرت 67,4 مليون دولار", "دولار"),
        ("نسبة 75 بالمئة", "percent"),
        ("lost $5 million", "money"),
        ("killed 12 soldiers", "soldiers"),
        ("hundreds of fighters", "fighters"),
        ("قتل 30 في الهجوم", None),
    ],
)
def test_number_spans_carry_the_unit_after_them(finder: SpanFinder, sentence: str, unit: str | None) -> None:
    (span,) = finder.find(sentence, N)
    assert span.unit == (unit and fold(unit).text)


@pytest.mark.parametrize(
    ("question", "span_unit", "matches"),
    [
        ("How many soldiers were killed?", "soldier", True),
        ("How many soldiers were killed?", "civilians", False),
        ("كم عدد الجنود؟", "جنود", True),
        ("كم جنديا قتل؟", "جندي", True),
        ("كم دولارا خسرت المؤسسة؟", "دولار", True),
        ("How much money was lost?", "دولار", True),
        ("How much money was lost?", "dollars", True),
        ("How many dollars were lost?", "money", True),
        ("What percentage of the city is held?", "percent", True),
        ("ما نسبة المساحة؟", "percent", True),
        ("How long did the battle last?", "أسابيع", True),
        ("How long did the battle last?", "soldiers", False),
        ("How old is Haftar?", "عاما", True),
        ("How many soldiers were killed?", None, False),
    ],
)
def test_unit_matches(question: str, span_unit: str | None, matches: bool) -> None:
    assert unit_matches(expected_answer(question).unit, span_unit) is matches


def test_new_spans_drop_what_the_question_already_says(finder: SpanFinder) -> None:
    sentence = "والتقى حفتر في بنغازي السفير الأميركي ريتشارد نورلاند."
    people = finder.find(sentence, P)
    assert [sentence[s.start : s.end] for s in people] == ["حفتر", "السفير الأميركي ريتشارد نورلاند"]
    kept = new_spans(people, sentence, "من التقى حفتر؟")
    assert [sentence[s.start : s.end] for s in kept] == ["السفير الأميركي ريتشارد نورلاند"]
    assert new_spans(people, sentence, "Who met Haftar?", question_terms=["حفتر"]) == kept
    assert new_spans(people, sentence, "من التقى السفير الأميركي ريتشارد نورلاند وحفتر؟") == []
    places = finder.find(sentence, L)
    assert new_spans(places, sentence, "أين التقى حفتر نورلاند؟") == places
    assert new_spans(places, sentence, "متى زار حفتر بنغازي؟") == []


def test_spans_are_offsets_into_the_sentence_as_written() -> None:
    sentence = "وَقُتِلَ ٣٠ جُنْدِيًّا فِي الهُجُوم"
    (span,) = find_spans(sentence, N)
    assert sentence[span.start : span.end] == "٣٠ جُنْدِيًّا"
    assert span == TypedSpan(span.start, span.end, N, fold("جنديا").text)


def test_open_questions_have_no_typed_spans_and_places_are_optional() -> None:
    assert find_spans("The attack killed 12 soldiers.", AnswerType.OPEN) == []
    empty = SpanFinder(places=Places(frozenset(), frozenset()))
    assert [s[:2] for s in empty.find("وعقد الاجتماع في باريس.", L)] == []
    assert "طرابلس" in load_places() and "Tripoli" in load_places() and "بيان" not in load_places()
