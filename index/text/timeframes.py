"""Time expressions in questions ("last week", "in 2018", "أمس") as date ranges.

``question_timeframe("what happened last week?", today)`` -> ``Timeframe(start, end, words)``
with inclusive ISO dates, or None when the question names no time.
"""

from __future__ import annotations

import datetime as dt
import re
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

# relative expressions: (pattern, unit, offset) — offset 0 is "this", -1 is "last"
RELATIVE = [
    (r"\btoday\b|اليوم", "day", 0),
    (r"\byesterday\b|\bأمس\b|\bامس\b|البارحة", "day", -1),
    (r"\bthis week\b|هذا الأسبوع|هذا الاسبوع", "week", 0),
    (r"\blast week\b|\bpast week\b|الأسبوع الماضي|الاسبوع الماضي", "week", -1),
    (r"\bthis month\b|هذا الشهر", "month", 0),
    (r"\blast month\b|\bpast month\b|الشهر الماضي", "month", -1),
    (r"\bthis year\b|هذا العام|هذه السنة", "year", 0),
    (r"\blast year\b|\bpast year\b|العام الماضي|السنة الماضية", "year", -1),
]

_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_MONTH_YEAR = re.compile(
    rf"(?<!\w)({_MONTH_NAMES})(?:\s*/\s*[^\s\d]+)?\s+(?:عام\s+|سنة\s+)?((?:19|20)\d\d)\b", re.IGNORECASE
)
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")


@dataclass(frozen=True)
class Timeframe:
    """An inclusive range of dates named by a question."""

    start: str  # ISO date
    end: str  # ISO date
    words: str  # the words of the question that named it

    def contains(self, published: str) -> bool:
        return bool(published) and self.start <= published[:10] <= self.end


def question_timeframe(question: str, today: dt.date | None = None) -> Timeframe | None:
    """The date range a question names, or None."""
    today = today or dt.date.today()
    text = to_ascii_digits(question)
    lowered = text.casefold()
    for pattern, unit, offset in RELATIVE:
        found = re.search(pattern, lowered)
        if found:
            start, end = _relative(unit, offset, today)
            return Timeframe(start.isoformat(), end.isoformat(), found.group(0))
    found = _MONTH_YEAR.search(lowered)
    if found:
        month, year = MONTHS[found.group(1).casefold()], int(found.group(2))
        last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
        return Timeframe(dt.date(year, month, 1).isoformat(), dt.date(year, month, last).isoformat(), found.group(0))
    found = _YEAR.search(text)
    if found:
        year = int(found.group(1))
        return Timeframe(f"{year}-01-01", f"{year}-12-31", found.group(0))
    return None


def _relative(unit: str, offset: int, today: dt.date) -> tuple[dt.date, dt.date]:
    if unit == "day":
        day = today + dt.timedelta(days=offset)
        return day, day
    if unit == "week":
        monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=offset)
        return monday, monday + dt.timedelta(days=6)
    if unit == "month":
        month_index = today.year * 12 + today.month - 1 + offset
        year, month = divmod(month_index, 12)
        start = dt.date(year, month + 1, 1)
        following = dt.date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
        return start, following - dt.timedelta(days=1)
    year = today.year + offset
    return dt.date(year, 1, 1), dt.date(year, 12, 31)
