"""Expected answer types of questions, English and Arabic (the table lives here)."""

from __future__ import annotations

import pytest

from index.text.answer_types import AnswerType, ExpectedAnswer, expected_answer
from index.text.normalise import normalise

P, D, N, L, R, OP = (
    AnswerType.PERSON,
    AnswerType.DATE,
    AnswerType.NUMBER,
    AnswerType.PLACE,
    AnswerType.REASON,
    AnswerType.OPEN,
)

# (question, expected type, expected unit or None)
ENGLISH = [
    ("Who met Haftar?", P, None),
    ("who met haftar", P, None),
    ("Whom did the delegation meet in Benghazi?", P, None),
    ("Whose forces besieged Tripoli?", P, None),
    ("The delegation was led by whom?", P, None),
    ("Do you know who leads the national army?", P, None),
    ("And who is David Mack?", P, None),
    ("Which organisation runs the oil ports?", P, None),
    ("What is the name of the UN envoy to Libya?", P, None),
    ("Name the members of the American delegation.", P, None),
    ("When did Haftar return to Benghazi?", D, None),
    ("What year was Haftar born?", D, None),
    ("In which year did the uprising begin?", D, None),
    ("On what date were the elections planned?", D, None),
    ("Haftar announced the operation when?", D, None),
    ("Since when has Derna been under siege?", D, None),
    ("How many soldiers were killed in the attack?", N, "soldiers"),
    ("How many Egyptian soldiers died?", N, "soldiers"),
    ("How many of the soldiers were wounded?", N, "soldiers"),
    ("How much money did the company lose?", N, "money"),
    ("How many dollars were lost each day?", N, "dollars"),
    ("How much did the closure cost the oil corporation?", N, "money"),
    ("How long did the battle for Derna last?", N, "duration"),
    ("How old is Haftar?", N, "age"),
    ("How many people live in Derna?", N, "people"),
    ("What percentage of the city does the army control?", N, "percent"),
    ("What is the number of voters in Libya?", N, "voters"),
    ("Where was Hisham Ashmawi arrested?", L, None),
    ("In which city did the talks take place?", L, None),
    ("Which country hosted the conference?", L, None),
    ("What is the capital of Libya?", L, None),
    ("From where did the attackers come?", L, None),
    ("Why did Washington move now?", R, None),
    ("What is the reason for the closure of the ports?", R, None),
    ("What caused the oil exports to stop?", R, None),
    ("For what reason was the minister dismissed?", R, None),
    ("What worries Washington about Russia in Libya?", OP, None),
    ("What did the president say after the meeting?", OP, None),
    ("Which steps did the delegation propose?", OP, None),
    ("How did the army take the port?", OP, None),
    ("Did Haftar meet the delegation?", OP, None),
    ("Did the man who met Haftar resign?", OP, None),
    ("What did the ambassador's letter ask for?", OP, None),
    ("Is the city under army control?", OP, None),
]

ARABIC = [
    ("من التقى حفتر؟", P, None),
    ("مَن التقى حفتر؟", P, None),
    ("ومن التقى حفتر؟", P, None),
    ("من هو ديفيد ماك؟", P, None),
    ("من هم أعضاء الوفد الأميركي؟", P, None),
    ("من الذي قاد الوفد؟", P, None),
    ("مع من التقى حفتر في بنغازي؟", P, None),
    ("التقى حفتر بمن؟", P, None),
    ("الوفد الأميركي كان برئاسة من؟", P, None),
    ("قاد الهجوم من؟", P, None),
    ("لمن تتبع القوات التي سيطرت على الميناء؟", P, None),
    ("من قبل من تم اعتقال عشماوي؟", P, None),
    ("ما اسم المبعوث الأممي إلى ليبيا؟", P, None),
    ("ما الجهة التي تدير الموانئ النفطية؟", P, None),
    ("ما الذي طلبه الوفد من حفتر؟", OP, None),
    ("ماذا طلب الوفد الأميركي من حفتر؟", OP, None),
    ("ما الذي يقلق واشنطن من روسيا في ليبيا؟", OP, None),
    ("هل التقى الوفد من حفتر أي تعهد؟", OP, None),
    ("متى عاد حفتر إلى بنغازي؟", D, None),
    ("ومتى أعلن حفتر تحرير درنة؟", D, None),
    ("في أي عام ولد حفتر؟", D, None),
    ("في أي سنة اندلعت الانتفاضة؟", D, None),
    ("ما تاريخ الانتخابات المقررة؟", D, None),
    ("ما هو تاريخ اجتماع باريس؟", D, None),
    ("منذ متى تحاصر القوات درنة؟", D, None),
    ("كم عدد الجنود الذين قتلوا؟", N, "الجنود"),
    ("فكم عدد القتلى؟", N, "القتلي"),
    ("كم دولارا خسرت المؤسسة؟", N, "دولارا"),
    ("كم جنديا قتل في الهجوم؟", N, "جنديا"),
    ("كم يبلغ عدد سكان درنة؟", N, "سكان"),
    ("ما عدد الناخبين في ليبيا؟", N, "الناخبين"),
    ("ما هو عدد المهاجرين؟", N, "المهاجرين"),
    ("ما مقدار الخسائر اليومية؟", N, "الخسائر"),
    ("ما نسبة المساحة التي يسيطر عليها الجيش؟", N, "percent"),
    ("كم عمر حفتر؟", N, "age"),
    ("كم مرة التقى ماكرون بحفتر؟", N, "مره"),
    ("كم من الوقت استمرت المعركة؟", N, "duration"),
    ("كم ٢٠١٩ مرة؟", N, None),
    ("أين اعتقل هشام عشماوي؟", L, None),
    ("وأين عقد الاجتماع؟", L, None),
    ("في أي مدينة عقد المؤتمر؟", L, None),
    ("في أي بلد يعالج حفتر؟", L, None),
    ("ما هي المدينة التي استضافت المؤتمر؟", L, None),
    ("من أين جاء المهاجمون؟", L, None),
    ("من أي بلد جاء المقاتلون؟", L, None),
    ("ما عاصمة ليبيا؟", L, None),
    ("لماذا تحركت واشنطن الآن؟", R, None),
    ("ولماذا أغلقت الموانئ؟", R, None),
    ("لم رفض حفتر المبادرة؟", R, None),
    ("ما سبب إغلاق الموانئ؟", R, None),
    ("ما السبب في تعليق الصادرات؟", R, None),
    ("ما هو سبب قلق واشنطن؟", R, None),
    ("ما الذي دفع واشنطن للتحرك؟", R, None),
    ("ما أسباب الأزمة الليبية؟", R, None),
    ("لم يحضر حفتر الاجتماع؟", OP, None),
    ("طلب الوفد من حفتر ماذا؟", OP, None),
    ("في بنغازي، من التقى حفتر؟", P, None),
    ("بعد سيطرة الجيش على درنة: من تولى إدارة المدينة؟", P, None),
    ("ما الدور الذي تلعبه روسيا من خلال المرتزقة؟", OP, None),
    ("ما موقف روسيا من النزاع؟", OP, None),
    ("ماذا قال ماك عن اللقاء؟", OP, None),
    ("كيف سيطر الجيش على الميناء؟", OP, None),
    ("أي الخطوات اقترحها الوفد؟", OP, None),
    ("هل عاد حفتر إلى ليبيا؟", OP, None),
]


@pytest.mark.parametrize(("question", "answer_type", "unit"), ENGLISH + ARABIC)
def test_expected_answer_type_and_unit(question: str, answer_type: AnswerType, unit: str | None) -> None:
    found = expected_answer(question)
    assert (found.type, found.unit) == (answer_type, unit and normalise(unit)), found


def test_the_tables_are_large_and_cover_every_type_in_both_languages() -> None:
    assert len(ENGLISH) + len(ARABIC) >= 60
    for table in (ENGLISH, ARABIC):
        assert {row[1] for row in table} == set(AnswerType)


@pytest.mark.parametrize(
    ("question", "cues"),
    [
        ("How many soldiers were killed?", ("how", "many")),
        ("فكم عدد القتلى؟", ("كم", "عدد")),
        ("ومن التقى حفتر؟", ("من",)),
        ("In which year did it start?", ("which", "year")),
    ],
)
def test_cues_are_the_question_words_matched(question: str, cues: tuple[str, ...]) -> None:
    assert expected_answer(question).cues == tuple(normalise(cue) for cue in cues)


def test_diacritics_and_arabic_indic_digits_do_not_change_the_type() -> None:
    assert expected_answer("مَتَى عَادَ حَفْتَر؟").type is D
    assert expected_answer("كَمْ عَدَدُ الجُنُودِ؟") == expected_answer("كم عدد الجنود؟")


def test_the_result_is_a_small_frozen_value() -> None:
    found = expected_answer("Who met Haftar?")
    assert found == ExpectedAnswer(P, None, ("who",))
    with pytest.raises(AttributeError):
        found.type = D
    assert expected_answer("").type is OP
    assert expected_answer("؟").type is OP
    assert str(AnswerType.PERSON) == "person"
