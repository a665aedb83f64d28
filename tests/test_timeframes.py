"""Time expressions in English and Arabic questions as date ranges; numbers that are not dates stay numbers.

The tables are also the case list of ``bench/timeframes_bench.py``, which scores this module against dateparser.
"""

import datetime as dt

import pytest

from index.text.digits import to_ascii_digits
from index.text.timeframes import question_timeframe

TODAY = dt.date(2019, 11, 20)  # a Wednesday: this week is 18–24 November, last week 11–17 November

NAMED = [  # (question, first day, last day)
    # relative, English
    ("what happened today?", "2019-11-20", "2019-11-20"),
    ("who did Haftar meet yesterday?", "2019-11-19", "2019-11-19"),
    ("what did Haftar say the day before yesterday?", "2019-11-18", "2019-11-18"),
    ("what happened 3 days ago", "2019-11-17", "2019-11-17"),
    ("who was killed three days ago in Sirte?", "2019-11-17", "2019-11-17"),
    ("what happened last week in Tripoli?", "2019-11-11", "2019-11-17"),
    ("talks in Tripoli this week", "2019-11-18", "2019-11-24"),
    ("clashes two weeks ago", "2019-11-04", "2019-11-10"),
    ("news from this month", "2019-11-01", "2019-11-30"),
    ("who won the vote last month?", "2019-10-01", "2019-10-31"),
    ("what did Russia do last year", "2018-01-01", "2018-12-31"),
    ("what did the UN say this year?", "2019-01-01", "2019-12-31"),
    ("what happened on Monday?", "2019-11-18", "2019-11-18"),
    ("what happened last Wednesday?", "2019-11-13", "2019-11-13"),
    # relative, Arabic
    ("ماذا حدث أمس في طرابلس؟", "2019-11-19", "2019-11-19"),
    ("ماذا حدث البارحة في سرت؟", "2019-11-19", "2019-11-19"),
    ("ماذا قال حفتر أول أمس؟", "2019-11-18", "2019-11-18"),
    ("ماذا حدث منذ ثلاثة أيام؟", "2019-11-17", "2019-11-17"),
    ("ماذا حدث قبل 3 أيام؟", "2019-11-17", "2019-11-17"),
    ("من التقى حفتر الأسبوع الماضي؟", "2019-11-11", "2019-11-17"),
    ("ماذا حدث هذا الأسبوع في طرابلس؟", "2019-11-18", "2019-11-24"),
    ("اشتباكات قبل أسبوعين", "2019-11-04", "2019-11-10"),
    ("ماذا حدث الشهر الماضي؟", "2019-10-01", "2019-10-31"),
    ("ما أخبار هذا الشهر؟", "2019-11-01", "2019-11-30"),
    ("من فاز في الانتخابات العام الماضي؟", "2018-01-01", "2018-12-31"),
    ("ماذا حدث في السنة الماضية؟", "2018-01-01", "2018-12-31"),
    ("ماذا قال المبعوث هذا العام؟", "2019-01-01", "2019-12-31"),
    ("ماذا حدث يوم الجمعة؟", "2019-11-15", "2019-11-15"),
    # absolute, English
    ("what happened in 2018?", "2018-01-01", "2018-12-31"),
    ("talks in 2017", "2017-01-01", "2017-12-31"),
    ("what happened during 2016?", "2016-01-01", "2016-12-31"),
    ("talks in November 2019", "2019-11-01", "2019-11-30"),
    ("talks in Feb 2020", "2020-02-01", "2020-02-29"),
    ("what happened in december 2018", "2018-12-01", "2018-12-31"),
    ("what happened in March 2019", "2019-03-01", "2019-03-31"),
    ("who spoke on 5 May 2019?", "2019-05-05", "2019-05-05"),
    ("who spoke on May 5, 2019?", "2019-05-05", "2019-05-05"),
    ("talks on 12 January 2020", "2020-01-12", "2020-01-12"),
    ("what happened on 2019-11-05?", "2019-11-05", "2019-11-05"),
    ("what happened in May?", "2019-05-01", "2019-05-31"),  # a month or day without a year: the last one
    ("who spoke on 5 May?", "2019-05-05", "2019-05-05"),
    # absolute, Arabic
    ("ماذا حدث في عام ٢٠١٨؟", "2018-01-01", "2018-12-31"),
    ("ماذا حدث في عام 2019؟", "2019-01-01", "2019-12-31"),
    ("ماذا حدث في 2019؟", "2019-01-01", "2019-12-31"),
    ("ماذا حدث في ٢٠١٩؟", "2019-01-01", "2019-12-31"),
    ("انتخابات سنة ٢٠١٤", "2014-01-01", "2014-12-31"),
    ("ماذا حدث خلال عام 2017", "2017-01-01", "2017-12-31"),
    ("محادثات في نوفمبر/تشرين الثاني 2019", "2019-11-01", "2019-11-30"),
    ("محادثات في شباط 2019", "2019-02-01", "2019-02-28"),
    ("ماذا حدث في مارس 2019؟", "2019-03-01", "2019-03-31"),
    ("ماذا حدث في آذار ٢٠١٩؟", "2019-03-01", "2019-03-31"),
    ("ماذا حدث في أكتوبر/تشرين الأول 2019", "2019-10-01", "2019-10-31"),
    ("ماذا حدث في 5 مايو 2019؟", "2019-05-05", "2019-05-05"),
    ("اجتماع في ٥ مايو ٢٠١٩", "2019-05-05", "2019-05-05"),
    ("قمة في 12 يناير 2020", "2020-01-12", "2020-01-12"),
    ("ماذا حدث في 2019/11/05؟", "2019-11-05", "2019-11-05"),
    ("ماذا حدث في ديسمبر؟", "2018-12-01", "2018-12-31"),
    ("ماذا حدث في 25 ديسمبر؟", "2018-12-25", "2018-12-25"),
]

NOT_NAMED = [  # questions that name no time, some with numbers that look like years
    "who met Haftar?",
    "من التقى حفتر؟",
    "what is the 12345 code?",
    "a mayor said",
    "ماذا قالت أمستردام",
    "how many of the 2000 soldiers were killed?",
    "why did 2000 people flee Tripoli?",
    "what does UN resolution 2009 say?",
    "what did the 1500 protesters want?",
    "who led the march on Tripoli?",
    "what may happen to Libya?",
    "who leads Friday prayers?",
    "كم عدد 300 جندي",
    "كم من الـ2000 جندي قتلوا؟",
    "لماذا فر ٢٠٠٠ شخص من طرابلس؟",
    "ماذا يقول قرار مجلس الأمن 2009؟",
    "كم عدد سكان طرابلس؟",
    "ماذا قال خطيب صلاة الجمعة؟",
]


@pytest.mark.parametrize("question, start, end", NAMED)
def test_time_expressions(question, start, end):
    timeframe = question_timeframe(question, TODAY)
    assert timeframe is not None
    assert (timeframe.start, timeframe.end) == (start, end)
    assert timeframe.words and timeframe.words in to_ascii_digits(question).casefold()


@pytest.mark.parametrize("question", NOT_NAMED)
def test_no_time_named(question):
    assert question_timeframe(question, TODAY) is None


def test_contains():
    timeframe = question_timeframe("in 2018", TODAY)
    assert timeframe.contains("2018-05-31T10:00:00+00:00")
    assert not timeframe.contains("2019-01-01") and not timeframe.contains("")


def test_last_month_in_january_wraps_to_december():
    timeframe = question_timeframe("last month", dt.date(2020, 1, 15))
    assert (timeframe.start, timeframe.end) == ("2019-12-01", "2019-12-31")


def test_a_day_that_does_not_exist_still_names_its_month():
    timeframe = question_timeframe("talks on 31 February 2019", TODAY)
    assert (timeframe.start, timeframe.end) == ("2019-02-01", "2019-02-28")
