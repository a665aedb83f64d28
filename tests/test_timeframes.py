import datetime as dt

import pytest

from index.text.timeframes import question_timeframe

TODAY = dt.date(2019, 11, 20)  # a Wednesday


@pytest.mark.parametrize(
    "question, start, end",
    [
        ("what happened today?", "2019-11-20", "2019-11-20"),
        ("who did Haftar meet yesterday?", "2019-11-19", "2019-11-19"),
        ("ماذا حدث أمس في طرابلس؟", "2019-11-19", "2019-11-19"),
        ("what happened last week in Tripoli?", "2019-11-11", "2019-11-17"),
        ("من التقى حفتر الأسبوع الماضي؟", "2019-11-11", "2019-11-17"),
        ("news from this month", "2019-11-01", "2019-11-30"),
        ("ماذا حدث الشهر الماضي؟", "2019-10-01", "2019-10-31"),
        ("what did Russia do last year", "2018-01-01", "2018-12-31"),
        ("what happened in 2018?", "2018-01-01", "2018-12-31"),
        ("ماذا حدث في عام ٢٠١٨؟", "2018-01-01", "2018-12-31"),
        ("talks in November 2019", "2019-11-01", "2019-11-30"),
        ("talks in Feb 2020", "2020-02-01", "2020-02-29"),
        ("محادثات في نوفمبر/تشرين الثاني 2019", "2019-11-01", "2019-11-30"),
        ("محادثات في شباط 2019", "2019-02-01", "2019-02-28"),
        ("what happened in december 2018", "2018-12-01", "2018-12-31"),
    ],
)
def test_time_expressions(question, start, end):
    timeframe = question_timeframe(question, TODAY)
    assert (timeframe.start, timeframe.end) == (start, end)
    assert timeframe.words and timeframe.words in question.casefold().replace("٢٠١٨", "2018")


@pytest.mark.parametrize(
    "question", ["who met Haftar?", "من التقى حفتر؟", "what is the 12345 code?", "a mayor said", "ماذا قالت أمستردام"]
)
def test_no_time_named(question):
    assert question_timeframe(question, TODAY) is None


def test_contains():
    timeframe = question_timeframe("in 2018", TODAY)
    assert timeframe.contains("2018-05-31T10:00:00+00:00")
    assert not timeframe.contains("2019-01-01") and not timeframe.contains("")


def test_last_month_in_january_wraps_to_december():
    timeframe = question_timeframe("last month", dt.date(2020, 1, 15))
    assert (timeframe.start, timeframe.end) == ("2019-12-01", "2019-12-31")
