"""The checkable facts of a text other than names: the numbers it states and the months and weekdays it names,
in English and Arabic alike.

Numbers are values, so "1.5 million", "1,500,000" and "١٫٥ مليون" are one fact; Arabic-Indic digits count as
Western ones (``normalise`` folds them). Months and weekdays are ids, so "November", "نوفمبر" and "تشرين الثاني"
are one month. An article's date (as the model is shown it) gives its year, month, day and weekday.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from index.text.normalise import normalise

_TOKEN = re.compile(r"\d+(?:[.,٫٬]\d+)*|[^\W\d_]+")
_GROUPED = re.compile(r"\d{1,3}(?:[,٬]\d{3})+(?:[.٫]\d+)?")


def _table(entries: dict[str, int | float]) -> dict[str, Decimal]:
    return {normalise(word): Decimal(str(value)) for word, value in entries.items()}


_UNITS_EN = re.findall(r"\w+", "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen")
_NUMBER_WORDS = _table(
    {
        **{word: value for value, word in enumerate(_UNITS_EN)},
        "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
        "forty": 40, "fifty": 50,
        "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "dozen": 12,
        "واحد": 1, "واحدة": 1, "اثنان": 2, "اثنين": 2, "اثنتان": 2, "اثنتين": 2, "ثلاث": 3, "ثلاثة": 3, "أربع": 4,
        "أربعة": 4, "خمس": 5, "خمسة": 5, "ست": 6, "ستة": 6, "سبع": 7, "سبعة": 7, "ثماني": 8, "ثمانية": 8, "تسع": 9,
        "تسعة": 9, "عشر": 10, "عشرة": 10, "عشرون": 20, "عشرين": 20, "ثلاثون": 30, "ثلاثين": 30, "أربعون": 40,
        "أربعين": 40, "خمسون": 50, "خمسين": 50, "ستون": 60, "ستين": 60, "سبعون": 70, "سبعين": 70, "ثمانون": 80,
        "ثمانين": 80, "تسعون": 90, "تسعين": 90, "مئتان": 200, "مئتين": 200, "مائتين": 200, "ألفان": 2000,
        "ألفين": 2000, "مليونان": 2e6, "مليونين": 2e6, "ملياران": 2e9, "مليارين": 2e9,
    }
)  # fmt: skip
_SCALES = _table(
    {
        "hundred": 100, "thousand": 1000, "million": 1e6, "billion": 1e9, "trillion": 1e12, "bn": 1e9,
        "مئة": 100, "مائة": 100, "ألف": 1000, "آلاف": 1000, "ألفا": 1000, "مليون": 1e6, "ملايين": 1e6,
        "مليونا": 1e6, "مليار": 1e9, "مليارات": 1e9, "مليارا": 1e9, "بليون": 1e9, "تريليون": 1e12,
    }
)  # fmt: skip
_VAGUE = frozenset(normalise(w) for w in re.findall(r"\w+", "hundreds thousands millions dozens آلاف ملايين مليارات"))
MIN_CHECKED_WORD_NUMBER = 3  # "one" and "two" are too often idiom or grammar (the dual أسبوعين) to check

_MONTH_NAMES = [
    "january يناير كانون_الثاني",
    "february فبراير شباط",
    "march مارس آذار",
    "april أبريل إبريل ابريل نيسان",
    "may مايو أيار",
    "june يونيو يونيه حزيران",
    "july يوليو يوليه تموز",
    "august أغسطس اغسطس آب",
    "september سبتمبر أيلول",
    "october أكتوبر تشرين_الأول",
    "november نوفمبر تشرين_الثاني",
    "december ديسمبر كانون_الأول",
]
_MONTHS = {
    normalise(name.replace("_", " ")): f"month {n}" for n, names in enumerate(_MONTH_NAMES, 1) for name in names.split()
}
_AMBIGUOUS_MONTHS = frozenset(normalise(word) for word in ("may", "march", "آب", "مارس"))  # a verb, "father"
_WEEKDAY_NAMES = [
    "monday الاثنين الإثنين",
    "tuesday الثلاثاء",
    "wednesday الأربعاء",
    "thursday الخميس",
    "friday الجمعة",
    "saturday السبت",
    "sunday الأحد",
]
_WEEKDAYS = {normalise(name): f"weekday {n}" for n, names in enumerate(_WEEKDAY_NAMES) for name in names.split()}
_MONTH_LABELS = {f"month {n}": names.split()[0].title() for n, names in enumerate(_MONTH_NAMES, 1)}
_WEEKDAY_LABELS = {f"weekday {n}": names.split()[0].title() for n, names in enumerate(_WEEKDAY_NAMES)}


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(normalise(text))


def _value(token: str) -> Decimal | None:
    if _GROUPED.fullmatch(token):
        token = token.replace(",", "").replace("٬", "").replace("٫", ".")
    else:
        token = token.replace("٫", ".").replace(",", ".").replace("٬", "")
    try:
        return Decimal(token)
    except InvalidOperation:
        return None


def _bare(word: str) -> str:
    """An Arabic word without a leading و ف ب ل (وثلاثة -> ثلاثة)."""
    return word[1:] if len(word) > 3 and word[0] in "وفبل" and not word.isascii() else word


def number_values(text: str, *, checked_only: bool = False) -> dict[Decimal, str]:
    """The numbers ``text`` states, as {value: how it was written}. A number followed by a scale counts as the
    product ("1.5 million" = 1500000) and, unless ``checked_only``, as itself too. ``checked_only``: only the
    numbers an answer must not state without a source (digits, and number words of 3 and more)."""
    tokens = _tokens(text)
    found: dict[Decimal, str] = {}
    index = 0
    while index < len(tokens):
        token = tokens[index]
        word = _bare(token)
        value = _value(token) if token[0].isdigit() else _NUMBER_WORDS.get(word, _NUMBER_WORDS.get(token))
        written = token
        scale = None
        if value is None and (word in _SCALES or token in _SCALES) and word not in _VAGUE:
            value, scale = Decimal(1), _SCALES.get(word, _SCALES.get(token))
        elif value is not None and index + 1 < len(tokens):
            following = _bare(tokens[index + 1])
            if following in _SCALES:
                scale = _SCALES[following]
                written = f"{token} {tokens[index + 1]}"
                index += 1
        index += 1
        if value is None:
            continue
        total = value * scale if scale is not None else value
        words_only = not token[0].isdigit()
        if checked_only and words_only and total < MIN_CHECKED_WORD_NUMBER:
            continue
        found.setdefault(total.normalize(), written)
        if scale is not None and written != token and not checked_only:
            found.setdefault(value.normalize(), token)  # "1.5 million" states 1.5 too; a bare "million" not 1
    return found


def calendar_names(text: str) -> dict[str, str]:
    """The months and weekdays ``text`` names, as {id: how it was written}. "May", "March", "آب" and "مارس" count
    only next to a number (they are also a verb, a verb and "father")."""
    tokens = _tokens(text)
    found: dict[str, str] = {}
    for index, token in enumerate(tokens):
        pair = f"{token} {tokens[index + 1]}" if index + 1 < len(tokens) else ""
        word = _bare(token)
        if pair in _MONTHS:
            found.setdefault(_MONTHS[pair], pair)
        elif word in _MONTHS or token in _MONTHS:
            name = word if word in _MONTHS else token
            near = tokens[max(0, index - 2) : index + 3]
            if name not in _AMBIGUOUS_MONTHS or any(t[0].isdigit() for t in near):
                found.setdefault(_MONTHS[name], token)
        elif word in _WEEKDAYS or token in _WEEKDAYS:
            found.setdefault(_WEEKDAYS.get(word) or _WEEKDAYS[token], token)
    return found


def date_facts(published: str) -> tuple[set[Decimal], set[str]]:
    """The numbers (year, month, day) and the month of an ISO date; nothing if unreadable. Not its weekday: an
    article published on a Monday tells of Sunday's meeting."""
    try:
        day = dt.date.fromisoformat(published[:10])
    except ValueError:
        return set(), set()
    numbers = {Decimal(day.year), Decimal(day.month), Decimal(day.day)}
    return numbers, {f"month {day.month}"}


def calendar_label(fact: str) -> str:
    """ "month 11" -> "November", "weekday 6" -> "Sunday"."""
    return _MONTH_LABELS.get(fact) or _WEEKDAY_LABELS.get(fact, fact)
