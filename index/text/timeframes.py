"""Time expressions in questions ("last week", "3 days ago", "in 2018", "أمس", "في 5 مايو 2019") as date ranges.

``question_timeframe("what happened last week?", today)`` -> ``Timeframe(start, end, words)`` with inclusive ISO
dates, or None when the question names no time. A bare number is a year only after a word that says so ("in",
"during", "year", "في", "خلال", "عام", "سنة"), so "how many of the 2000 soldiers" names no time; a day or month
without a year ("in May", "on Monday") is the last one up to today.

Why hand-written rather than dateparser (``bench/timeframes_bench.py`` on the 76 questions of
``tests/test_timeframes.py``, 58 naming a time and 18 naming none; dateparser 1.5.0, languages en and ar):

- right answers: this module 76/76 (the cases were written with it, so that overstates it); dateparser 57/76
  (49/58, 8/18); this module's relative spans with dateparser for calendar dates 62/76; the module before 47/76.
  dateparser's misses are of kind, not of detail: it knows no Levantine month names (شباط، آذار، تشرين الأول,
  used across Syria, Lebanon, Iraq and in "نوفمبر/تشرين الثاني"), no "العام الماضي", "هذا العام", "البارحة",
  "أول أمس" or Arabic number words; its search takes any number for a year ("of the 2000 soldiers", "resolution
  2009", "فر ٢٠٠٠ شخص") and any month or weekday name for a date ("what may happen", "the march on Tripoli",
  "Friday prayers", "صلاة الجمعة"): 10 of the 18 questions naming no time got one. Filtering its finds by the
  words before them would be this module again, with dateparser only reading month names it lacks.
- cost, once per question (medians; 2 cores shared with other work, load 5 to 9): 18 µs here against 1,900 to
  3,800 µs; in a process that has imported ``index``, importing dateparser takes 100–240 ms and 8.5 MB, its first
  English and Arabic search 170–420 ms, 14 MB in all. Affordable on a 512 MB host: the accuracy decides.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from index.text.digits import to_ascii_digits

MONTHS = {
    # English
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sep": 9,
    "sept": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
    # Arabic (Egyptian/Gulf and Levantine names)
    "يناير": 1,
    "فبراير": 2,
    "مارس": 3,
    "أبريل": 4,
    "ابريل": 4,
    "إبريل": 4,
    "مايو": 5,
    "يونيو": 6,
    "يوليو": 7,
    "أغسطس": 8,
    "اغسطس": 8,
    "سبتمبر": 9,
    "أكتوبر": 10,
    "اكتوبر": 10,
    "نوفمبر": 11,
    "ديسمبر": 12,
    "كانون الثاني": 1,
    "شباط": 2,
    "آذار": 3,
    "اذار": 3,
    "نيسان": 4,
    "أيار": 5,
    "ايار": 5,
    "حزيران": 6,
    "تموز": 7,
    "آب": 8,
    "اب": 8,
    "أيلول": 9,
    "ايلول": 9,
    "تشرين الأول": 10,
    "تشرين الاول": 10,
    "تشرين الثاني": 11,
    "كانون الأول": 12,
    "كانون الاول": 12,
}

# relative expressions: (pattern, unit, offset) — offset 0 is "this", -1 is "last"; longer phrases first
RELATIVE = [
    (r"\bthe day before yesterday\b|(?<!\w)أول (?:من )?أمس\b|(?<!\w)اول (?:من )?امس\b", "day", -2),
    (r"\btoday\b|(?<!\w)اليوم(?!\w)", "day", 0),
    (r"\byesterday\b|(?<!\w)أمس\b|(?<!\w)امس\b|البارحة", "day", -1),
    (r"\bthis week\b|هذا الأسبوع|هذا الاسبوع", "week", 0),
    (r"\blast week\b|\bpast week\b|الأسبوع الماضي|الاسبوع الماضي", "week", -1),
    (r"\bthis month\b|هذا الشهر", "month", 0),
    (r"\blast month\b|\bpast month\b|الشهر الماضي", "month", -1),
    (r"\bthis year\b|هذا العام|هذه السنة", "year", 0),
    (r"\blast year\b|\bpast year\b|العام الماضي|السنة الماضية", "year", -1),
]

# "3 days ago", "منذ ثلاثة أيام", "قبل أسبوعين": how many of which unit
NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "واحد": 1, "اثنين": 2, "اثنان": 2, "ثلاثة": 3, "ثلاث": 3, "أربعة": 4, "اربعة": 4, "أربع": 4, "اربع": 4,
    "خمسة": 5, "خمس": 5, "ستة": 6, "ست": 6, "سبعة": 7, "سبع": 7, "ثمانية": 8, "ثماني": 8, "تسعة": 9,
    "تسع": 9, "عشرة": 10, "عشر": 10,
}  # fmt: skip
ARABIC_UNITS = {  # word: (unit, how many when no number comes before it)
    **dict.fromkeys(("يوم", "يوما", "يوماً", "أيام", "ايام"), ("day", 1)),
    **dict.fromkeys(("أسبوع", "اسبوع", "أسابيع", "اسابيع"), ("week", 1)),
    **dict.fromkeys(("شهر", "شهرا", "شهراً", "أشهر", "اشهر", "شهور"), ("month", 1)),
    **dict.fromkeys(("عام", "عاما", "عاماً", "أعوام", "اعوام", "سنة", "سنوات", "سنين"), ("year", 1)),
    "يومين": ("day", 2),
    "أسبوعين": ("week", 2),
    "اسبوعين": ("week", 2),
    "شهرين": ("month", 2),
    "عامين": ("year", 2),
    "سنتين": ("year", 2),
}

WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
    "الاثنين": 0, "الإثنين": 0, "الثلاثاء": 1, "الأربعاء": 2, "الاربعاء": 2, "الخميس": 3, "الجمعة": 4,
    "السبت": 5, "الأحد": 6, "الاحد": 6,
}  # fmt: skip
# names that are a month only beside a year: abbreviations, and "اب" (also "father")
_YEAR_ONLY_NAMES = {"jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "اب"}


def _names(names: Iterable[str]) -> str:
    return "|".join(sorted(names, key=len, reverse=True))


_NUMBER = rf"\d{{1,3}}|{_names(NUMBER_WORDS)}"
_AGO = re.compile(rf"\b({_NUMBER}) (day|week|month|year)s? ago\b")
_AGO_ARABIC = re.compile(
    rf"(?<!\w)(?:منذ|قبل)\s+(?:({_NUMBER})\s+)?({_names(ARABIC_UNITS)})(?!\w)"
    r"(?!\s*\d)(?!\s+ال)"  # "قبل عام 2019" is "before 2019", "منذ يوم الجمعة" "since Friday": not a span
)
_WEEKDAY = re.compile(
    rf"\b(?:on|last)\s+({_names(w for w in WEEKDAYS if w < 'z')})\b"
    rf"|(?<!\w)[وف]?يوم\s+({_names(w for w in WEEKDAYS if w > 'z')})(?!\w)(?:\s+الماضي)?"
)
_MONTH = rf"({_names(MONTHS)})(?:\s*/\s*(?:{_names(MONTHS)}))?"  # "نوفمبر/تشرين الثاني": one month, two names
_LONE_MONTH = rf"({_names(set(MONTHS) - _YEAR_ONLY_NAMES)})(?:\s*/\s*(?:{_names(MONTHS)}))?(?!\w)"
_YEAR = r"((?:19|20)\d\d)(?!\d)"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
# (pattern, groups) in the order tried; groups name what each group is: y(ear), m(onth name), n (month number), d(ay)
_CALENDAR = [
    (re.compile(rf"(?<!\d){_YEAR}[-/.](\d{{1,2}})[-/.](\d{{1,2}})(?!\d)"), "ynd"),  # 2019-11-05
    (re.compile(rf"(?<!\d){_DAY}\s+(?:of\s+)?{_MONTH},?\s+(?:عام\s+|سنة\s+)?{_YEAR}"), "dmy"),  # 5 may 2019
    (re.compile(rf"(?<!\w){_MONTH}\s+{_DAY},?\s+{_YEAR}"), "mdy"),  # may 5, 2019
    (re.compile(rf"(?<!\w){_MONTH}\s+(?:عام\s+|سنة\s+)?{_YEAR}"), "my"),  # may 2019, مايو عام 2019
    (re.compile(rf"(?<!\d){_DAY}\s+(?:of\s+)?{_LONE_MONTH}"), "dm"),  # 5 may: the last one
    (re.compile(rf"\bon\s+{_LONE_MONTH}\s+{_DAY}\b"), "md"),  # on may 5
    (re.compile(rf"(?:\b(?:in|during)\s+|(?<!\w)[وف]?(?:في|خلال|شهر)\s+){_LONE_MONTH}"), "m"),  # in may: the last one
    (re.compile(rf"(?:\b(?:in|during|throughout|year)\s+|(?<!\w)[وف]?(?:في|خلال|عام|العام|لعام|سنة)\s+){_YEAR}"), "y"),
]


@dataclass(frozen=True)
class Timeframe:
    """An inclusive range of dates named by a question."""

    start: str  # ISO date
    end: str  # ISO date
    words: str  # the words of the question that named it (digits as ASCII, case folded)

    def contains(self, published: str) -> bool:
        return bool(published) and self.start <= published[:10] <= self.end


def question_timeframe(question: str, today: dt.date | None = None) -> Timeframe | None:
    """The date range a question names, or None."""
    today = today or dt.date.today()
    return relative_timeframe(question, today) or _calendar_timeframe(to_ascii_digits(question).casefold(), today)


def relative_timeframe(question: str, today: dt.date) -> Timeframe | None:
    """The range of a time named relative to ``today`` ("last week", "3 days ago", "on Monday", "أمس"), or None."""
    text = to_ascii_digits(question).casefold()
    for pattern, unit, offset in RELATIVE:
        found = re.search(pattern, text)
        if found:
            return _timeframe(*_relative(unit, offset, today), found.group(0))
    found = _AGO.search(text)
    if found:
        count = NUMBER_WORDS.get(found.group(1)) or int(found.group(1))
        return _timeframe(*_relative(found.group(2), -count, today), found.group(0))
    found = _AGO_ARABIC.search(text)
    if found:
        unit, count = ARABIC_UNITS[found.group(2)]
        if found.group(1):
            count = NUMBER_WORDS.get(found.group(1)) or int(found.group(1))
        return _timeframe(*_relative(unit, -count, today), found.group(0))
    found = _WEEKDAY.search(text)
    if found:  # the last such day, today included unless it says "last"
        days_back = (today.weekday() - WEEKDAYS[found.group(1) or found.group(2)]) % 7
        if days_back == 0 and (found.group(0).startswith("last") or found.group(0).endswith("الماضي")):
            days_back = 7
        day = today - dt.timedelta(days=days_back)
        return _timeframe(day, day, found.group(0))
    return None


def _calendar_timeframe(text: str, today: dt.date) -> Timeframe | None:
    """A day, month or year named by the calendar in ``text`` (ASCII digits, case folded), or None. A day or
    month without a year is the last one up to ``today``."""
    for pattern, groups in _CALENDAR:
        found = pattern.search(text)
        if not found:
            continue
        parts = dict(zip(groups, found.groups(), strict=True))
        month = MONTHS[parts["m"]] if "m" in parts else int(parts.get("n", 1))
        if "y" in parts:
            year = int(parts["y"])
        else:  # this year's, unless it is still to come
            year = today.year - ((month, int(parts.get("d", 1))) > (today.month, today.day))
        try:
            if "d" in parts:
                day = dt.date(year, month, int(parts["d"]))
                return _timeframe(day, day, found.group(0))
            if "m" in parts:
                return _timeframe(*_month(year, month), found.group(0))
        except ValueError:  # "31 February 2019": no such day, but the month it names is still meant
            continue
        return _timeframe(dt.date(year, 1, 1), dt.date(year, 12, 31), found.group(0))
    return None


def _timeframe(start: dt.date, end: dt.date, words: str) -> Timeframe:
    return Timeframe(start.isoformat(), end.isoformat(), words)


def _month(year: int, month: int) -> tuple[dt.date, dt.date]:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return dt.date(year, month, 1), following - dt.timedelta(days=1)


def _relative(unit: str, offset: int, today: dt.date) -> tuple[dt.date, dt.date]:
    """The day, week (Monday to Sunday), month or year ``offset`` units from the one holding ``today``."""
    if unit == "day":
        day = today + dt.timedelta(days=offset)
        return day, day
    if unit == "week":
        monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=offset)
        return monday, monday + dt.timedelta(days=6)
    if unit == "month":
        year, month = divmod(today.year * 12 + today.month - 1 + offset, 12)
        return _month(year, month + 1)
    year = today.year + offset
    return dt.date(year, 1, 1), dt.date(year, 12, 31)
