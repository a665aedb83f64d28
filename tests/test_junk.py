"""Junk lines (captions, bylines, datelines, related links, subheadings, fragments) that never answer.

Every line here is written for the test in the style of the news the bot reads; none is copied from an article.
"""

from __future__ import annotations

import pytest

from index.text import junk
from index.text.junk import junk_reason, junk_spans

PARAGRAPH = "وقال المتحدث باسم الحكومة في مؤتمر صحفي إن المفاوضات ستستأنف الأسبوع المقبل في العاصمة."

# (line, reason expected when followed by a paragraph, in an Arabic article)
JUNK = [
    ("قوات موالية للحكومة تتقدم نحو مطار المدينة (رويترز)", junk.CAPTION),
    ("أنقاض مبنى استهدفته غارة جوية جنوب العاصمة (الجزيرة)", junk.CAPTION),
    ("متظاهرون يرفعون الأعلام في الساحة الرئيسية (الأناضول)", junk.CAPTION),
    ("عناصر من الشرطة أمام مقر البرلمان (غيتي)", junk.CAPTION),
    ("Rebel fighters gather near the port (Reuters)", junk.CAPTION),
    ("A damaged house after the strike (Getty Images)", junk.CAPTION),
    ("وزير الخارجية خلال مؤتمر صحفي سابق -أرشيف", junk.CAPTION),
    ("الصورة: رئيس الوزراء يصافح المبعوث الأممي", junk.CAPTION),
    ("(photo) Delegates arrive at the conference hall", junk.CAPTION),
    ("ونشر الجيش صورة القائد الميداني بعد اعتقاله", junk.CAPTION),
    (
        "Militia forces shell a suburb of the capital- - MISRATA, LIBYA - MARCH 3: A view of damaged shops.",
        junk.CAPTION,
    ),
    ("The ceasefire talks collapsed after the second round and both delegations went home.", junk.OTHER_LANGUAGE),
    ("سامر الأحمد–بيروت", junk.BYLINE),
    ("ليلى حسن - القاهرة", junk.BYLINE),
    ("By Jane Doe", junk.BYLINE),
    ("بقلم: خالد العمري", junk.BYLINE),
    ("طرابلس - الجزيرة نت", junk.DATELINE),
    ("TUNIS (Reuters) -", junk.DATELINE),
    ("القاهرة (رويترز) -", junk.DATELINE),
    ("المصدر : الجزيرة", junk.SOURCE_LINE),
    ("Source: agencies", junk.SOURCE_LINE),
    ("بالصور: احتفالات العيد في المدن الساحلية", junk.RELATED),
    ("بالفيديو: لحظة وصول الوفد إلى المطار", junk.RELATED),
    ("اقرأ أيضاً: البرلمان يرفض الميزانية الجديدة", junk.RELATED),
    ("اقرأ أيضا:", junk.RELATED),
    ("شاهد: جولة في الأسواق القديمة", junk.RELATED),
    ("للمزيد: هل تنجح الوساطة الجديدة؟", junk.RELATED),
    ("Read more: Talks stall over the oil revenue", junk.RELATED),
    ("Related: Who controls the southern oil fields?", junk.RELATED),
    ("تحديات أمام المفاوضين", junk.SUBHEADING),
    ("مخاوف إقليمية متزايدة من اتساع رقعة القتال", junk.SUBHEADING),
    ("من يدفع الثمن؟", junk.SUBHEADING),
    ("هل تصمد الهدنة الجديدة في الجنوب؟", junk.SUBHEADING),
    ("تحذير دولي!", junk.SUBHEADING),
    ('"لن نتراجع عن مطالبنا"', junk.SUBHEADING),
    ("A fragile truce", junk.SUBHEADING),
    ("--------------------", junk.SEPARATOR),
    ("* * *", junk.SEPARATOR),
    ("حملوا تطبيقنا لتسلم إشعارات بأهم الأخبار بعد تحميل أحدث نسخة من التطبيق.", junk.PROMOTION),
    ("Sign up for our morning newsletter.", junk.PROMOTION),
    ('وقال الوزير إن "الحكومة لن تقبل بأي شروط مسبقة (...)', junk.FRAGMENT),
    ("وتشمل المطالب إصلاح الكهرباء والمياه والطرق… إلخ...)", junk.FRAGMENT),
    ("وأكد المتحدث أن الوفد سيعود إلى العاصمة بعد انتهاء المحادثات…", junk.FRAGMENT),
    ("وأضاف البيان أن القوات (التي وصلت فجرا انتشرت في الأحياء الشرقية.", junk.FRAGMENT),
    ("وكشف المسؤول أن الحكومة ستعلن خلال أيام عن خطة لإعادة إعمار المدينة المتضررة من القتال، وذلك", junk.FRAGMENT),
    ("وأكد.", junk.FRAGMENT),
]

PROSE = [
    "وقال المتحدث باسم الجيش إن القوات سيطرت على الميناء بعد معارك استمرت ثلاثة أيام.",
    "ودعت الأمم المتحدة الأطراف المتنازعة إلى وقف فوري لإطلاق النار والعودة إلى طاولة الحوار.",
    'وأكد الوزير أن "الحكومة لن تقبل بأي شروط مسبقة (...) ولن تتخلى عن حقوق المواطنين".',
    "وأضاف البيان أن القوات (التي وصلت فجرا) انتشرت في الأحياء الشرقية.",
    "وكان المبعوث قد التقى رئيس المجلس الرئاسي في العاصمة الأسبوع الماضي.",
    "وتمثل مشاركة القائد العسكري في الاجتماع دليلا على اهتمام وزارة الدفاع بالملف.",
    "كما ضم الوفد مسؤولا رفيعا من وزارة الطاقة ومستشارا للأمن القومي.",
    "ويرى محللون أن الاتفاق قد لا يصمد طويلا بسبب الخلافات حول توزيع عائدات النفط.",
    'وقال الباحث: «إن الاتفاق هش، والأطراف لا تثق ببعضها".',
    "وأشار التقرير إلى ثلاثة أسباب رئيسية للأزمة:",
    "The delegation met the general in his headquarters east of the city on Sunday.",
    "Officials said the talks would resume next week in the capital, according to the statement.",
    "وقالت الوزارة في بيان إن عدد الضحايا ارتفع إلى 12 شخصا بينهم أطفال",
    "ولماذا تأخرت الحكومة في الرد على المبادرة رغم مرور أسابيع على إطلاقها وتأكيد الوسطاء جاهزيتها؟",
]


@pytest.mark.parametrize(("line", "reason"), JUNK)
def test_junk_lines_are_recognised(line: str, reason: str) -> None:
    assert junk_reason(line, next_line=PARAGRAPH, article_is_arabic=True) == reason


@pytest.mark.parametrize("line", PROSE)
def test_prose_is_not_junk(line: str) -> None:
    arabic = not line.isascii()
    assert (
        junk_reason(line, next_line=PARAGRAPH if arabic else "Officials said more.", article_is_arabic=arabic) is None
    )


def test_the_tables_are_large() -> None:
    assert len(JUNK) + len(PROSE) >= 40


def test_a_short_line_is_a_subheading_only_above_a_paragraph() -> None:
    assert junk_reason("تحديات أمام المفاوضين", next_line=PARAGRAPH) == junk.SUBHEADING
    assert junk_reason("تحديات أمام", next_line=None) == junk.FRAGMENT
    assert junk_reason("من يدفع الثمن؟", next_line=None) == junk.FRAGMENT
    assert junk_reason("هل تصمد الهدنة الجديدة في الجنوب؟", next_line=None) is None


def test_an_english_line_is_junk_only_inside_an_arabic_article() -> None:
    line = "The ceasefire talks collapsed after the second round and both delegations went home."
    assert junk_reason(line, next_line=PARAGRAPH, article_is_arabic=False) is None
    assert junk_reason(line, next_line=PARAGRAPH, article_is_arabic=True) == junk.OTHER_LANGUAGE


ARTICLE = """Rebel fighters gather near the port- - MISRATA, LIBYA - MARCH 3: A view of the harbour after the shelling.
قوات موالية للحكومة تتقدم نحو مطار المدينة (رويترز)

سامر الأحمد–بيروت

قال مصدر دبلوماسي إن الوفد الأوروبي التقى قائد الجيش في مقره شرق البلاد، وبحث معه شروط الهدنة.

وأضاف المصدر أن الوفد ضم ثلاثة مبعوثين ومستشارا عسكريا.
ما هي شروط الهدنة؟
بالصور: الدمار في الأحياء الجنوبية
قائمة بأبرز جولات التفاوض منذ عامين
تحديات أمام المفاوضين
ويرى محللون أن الاتفاق قد لا يصمد طويلا بسبب الخلافات حول توزيع عائدات النفط.
اقرأ أيضاً:
البرلمان يرفض الميزانية الجديدة
الحكومة تعلن خطة لإعادة الإعمار في الجنوب
وكان المبعوث قد التقى رئيس المجلس الرئاسي في العاصمة الأسبوع الماضي.
المصدر : الجزيرة"""


def test_junk_spans_of_an_article() -> None:
    found = [(ARTICLE[start:end], reason) for start, end, reason in junk_spans(ARTICLE)]
    assert found == [
        (ARTICLE.splitlines()[0], junk.CAPTION),
        ("قوات موالية للحكومة تتقدم نحو مطار المدينة (رويترز)", junk.CAPTION),
        ("سامر الأحمد–بيروت", junk.BYLINE),
        ("ما هي شروط الهدنة؟", junk.RELATED),
        ("بالصور: الدمار في الأحياء الجنوبية", junk.RELATED),
        ("قائمة بأبرز جولات التفاوض منذ عامين", junk.RELATED),
        ("تحديات أمام المفاوضين", junk.RELATED),
        ("اقرأ أيضاً:", junk.RELATED),
        ("البرلمان يرفض الميزانية الجديدة", junk.RELATED),
        ("الحكومة تعلن خطة لإعادة الإعمار في الجنوب", junk.RELATED),
        ("المصدر : الجزيرة", junk.SOURCE_LINE),
    ]


def test_junk_spans_leave_prose_alone() -> None:
    text = "\n\n".join(PROSE[:8])
    assert junk_spans(text) == ()
    assert junk_spans("") == ()


def test_a_long_paragraph_with_a_stray_quote_or_bracket_is_prose() -> None:
    paragraph = (
        'The "west side of the city, often called "southwest, is one of the oldest neighbourhoods (founded in 1880 '
        "and grew with the railway that crossed the valley from north to south, bringing workers from many "
        "countries who settled near the freight yards and built churches, schools and small shops along the "
        "main avenue, which is still lined with their buildings today."
    )
    assert junk_reason(paragraph) is None
    assert junk_spans(paragraph) == ()
