"""Whether a sentence continues the list or answer of the one before it (sentences written for the test)."""

from __future__ import annotations

import pytest

from index.text.continuation import Continuation, continues

DELEGATION_AR = "وتكون الوفد الذي زار المدينة من مسؤولة في مجلس الأمن سلمى يوسف، والسفير رامي نصار، وماهر عادل."
DELEGATION_EN = "The delegation that visited the city included Salma Youssef, Ambassador Rami Nassar and Maher Adel."
STATEMENT_AR = "وقال المتحدث باسم الحكومة إن المفاوضات ستستأنف الأسبوع المقبل."
STATEMENT_EN = "The government spokesman said talks would resume next week."

# (first sentence, second sentence, continues)
CASES = [
    (DELEGATION_AR, "كما ضم أيضا العميد وليد كرم المسؤول العسكري في القيادة الأفريقية.", True),
    (DELEGATION_AR, "كما ضم الوفد مستشارا من وزارة الطاقة.", True),
    (DELEGATION_AR, "وضم الوفد كذلك خبيرا في شؤون النفط.", True),
    (DELEGATION_AR, "كما شمل الوفد ممثلا عن وزارة الخزانة.", True),
    (DELEGATION_AR, "وكذلك مساعد وزير الخارجية للشؤون الأفريقية.", True),
    (DELEGATION_AR, "إضافة إلى ممثل عن وزارة الدفاع.", True),
    (DELEGATION_AR, "بالإضافة إلى مستشار للأمن القومي.", True),
    (DELEGATION_AR, "كما حضر اللقاء أيضا قائد القوات الجوية.", True),
    (DELEGATION_AR, "والعميد وليد كرم من القيادة الأفريقية.", True),
    (DELEGATION_AR, "«كما ضم أيضا خبيرا عسكريا»", True),
    (DELEGATION_AR, "كَمَا ضَمَّ أَيْضًا العَمِيد وليد كرم.", True),
    (DELEGATION_EN, "Also present was Brig. Gen. Walid Karam of Africa Command.", True),
    (DELEGATION_EN, "It also included Brig. Gen. Walid Karam of Africa Command.", True),
    (DELEGATION_EN, "The delegation also included an energy adviser.", True),
    (DELEGATION_EN, "And also a military adviser from the Pentagon.", True),
    (DELEGATION_EN, "In addition, a Treasury official attended.", True),
    (DELEGATION_EN, "As well as Walid Karam, a general.", True),
    (DELEGATION_EN, "Additionally, two aides travelled with them.", True),
    ("The delegation's members were:", "Salma Youssef of the National Security Council.", True),
    ("وأشار التقرير إلى ثلاثة أسباب رئيسية للأزمة:", "انقسام المؤسسات بين الشرق والغرب.", True),
    ('وقال الوزير: "إن الاتفاق يشمل ما يلي:"', "وقف إطلاق النار في كل الجبهات.", True),
    ("The plan includes three steps", "1. A ceasefire on all fronts.", True),
    ("The plan includes three steps", "- A ceasefire on all fronts.", True),
    ("وتشمل الخطة ثلاث مراحل هي", "أولا وقف إطلاق النار في كل الجبهات.", True),
    ("1. A ceasefire on all fronts.", "2. Talks within a month.", True),
    ("وتضم اللجنة خمسة أعضاء، وهم", "والسفير رامي نصار ممثلا عن الخارجية.", True),
    # not continuations
    (DELEGATION_AR, "من ناحية أخرى، أشارت دراسة إلى قلق واشنطن من الوضع.", False),
    (DELEGATION_AR, "وكانت تقارير سابقة أشارت إلى وجود مرتزقة في المنطقة.", False),
    (DELEGATION_AR, "كما قال المتحدث إن اللقاء كان صريحا.", False),
    (DELEGATION_EN, "Meanwhile, fighting continued south of the capital.", False),
    (DELEGATION_EN, "However, the talks also failed.", False),
    (DELEGATION_EN, "The talks failed after two hours.", False),
    (STATEMENT_AR, "والسفير رامي نصار التقى الوزير أمس.", False),
    (STATEMENT_EN, "1. The talks failed.", False),
    (STATEMENT_EN, "The minister said the talks would not resume.", False),
    (STATEMENT_AR, "", False),
]


@pytest.mark.parametrize(("first", "second", "expected"), CASES)
def test_continues(first: str, second: str, expected: bool) -> None:
    found = continues(first, second)
    assert found.continues is expected, found.reason
    assert bool(found) is expected and found.reason


def test_the_reason_names_the_cue() -> None:
    found = continues(DELEGATION_AR, "كما ضم أيضا العميد وليد كرم.")
    assert found == Continuation(True, "the second sentence adds to the first: 'كما ضم ايضا'")
    assert "colon" in continues("The members were:", "Salma Youssef.").reason
    assert "another subject" in continues(DELEGATION_EN, "Meanwhile, the talks went on.").reason
