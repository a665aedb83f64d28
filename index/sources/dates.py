"""Dates as articles and pages write them, read as ISO 8601."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from email.utils import parsedate_to_datetime

_DATE_FORMATS = ("%Y/%m/%d", "%d.%m.%Y", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y")
_ARABIC_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("يناير", "كانون الثاني"),
            ("فبراير", "شباط"),
            ("مارس", "آذار"),
            ("أبريل", "ابريل", "إبريل", "نيسان"),
            ("مايو", "أيار"),
            ("يونيو", "حزيران"),
            ("يوليو", "تموز"),
            ("أغسطس", "اغسطس", "آب"),
            ("سبتمبر", "أيلول"),
            ("أكتوبر", "اكتوبر", "تشرين الأول"),
            ("نوفمبر", "تشرين الثاني"),
            ("ديسمبر", "كانون الأول"),
        ),
        start=1,
    )
    for name in names
}
_ARABIC_DATE = re.compile(r"^(\d{1,2})\s+(.+?)\s+(\d{4})$")


def iso_date(value: str) -> str:
    """``value`` as ISO 8601 (a date, or a datetime when a time is given); "" when unknown."""
    value = unicodedata.normalize("NFKC", value).strip()
    value = "".join(str(unicodedata.digit(ch)) if ch.isdigit() else ch for ch in value)  # ٢٠١٩ -> 2019
    if not value:
        return ""
    try:
        parsed = datetime.fromisoformat(value)
        return parsed.date().isoformat() if len(value) <= 10 else parsed.isoformat()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).isoformat()  # e-mail and RSS dates: "Mon, 08 Oct 2018 13:40:35 GMT"
    except (TypeError, ValueError, IndexError):
        pass
    arabic = _ARABIC_DATE.match(value)
    if arabic and arabic.group(2) in _ARABIC_MONTHS:
        value = f"{arabic.group(3)}/{_ARABIC_MONTHS[arabic.group(2)]}/{arabic.group(1)}"
    for form in _DATE_FORMATS:
        try:
            return datetime.strptime(value, form).date().isoformat()
        except ValueError:
            continue
    return ""
