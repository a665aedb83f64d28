"""Spans of a sentence that can answer a typed question: numbers (with their unit), dates, reasons,
people and organisations, places; in Arabic and English.

``SpanFinder(names=..., places=load_places()).find(sentence, AnswerType.NUMBER)`` lists
``TypedSpan(start, end, type, unit)`` with character offsets into ``sentence`` as written
(diacritics, tatweel and Arabic-Indic digits are folded for matching only). ``new_spans`` keeps the
spans that say something the question does not, and ``unit_matches`` compares a question's unit
("soldiers", "الجنود", "money") with a number span's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from index.text.answer_types import AnswerType
from index.text.entity_spans import PhraseMatcher, person_spans, place_spans
from index.text.folding import Folded, fold, fold_phrase, folded_words
from index.text.normalise import ENGLISH_STOPWORDS, is_stopword, light_stem, strip_prefix, term, words
from index.text.places import Places


class TypedSpan(NamedTuple):
    """A typed span of a sentence; ``unit`` is the (folded) word after a number, or a unit class."""

    start: int
    end: int
    type: AnswerType
    unit: str | None = None


B, E = r"(?<![^\W_])", r"(?![^\W_])"  # word boundaries on folded text


def _alternation(*groups: str) -> str:
    phrases = sorted({fold_phrase(p) for group in groups for p in group.split("|")}, key=len, reverse=True)
    return "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in phrases)


# Numbers ---------------------------------------------------------------------------------------
_DIGITS = r"\d{1,3}(?:[,٬]\d{3})+(?:[.٫]\d+)?|\d+(?:[.,٫]\d+)?"
_SCALES = _alternation(
    "hundred|thousand|million|billion|trillion|bn",
    "مئة|مائة|ألف|آلاف|ألفا|مليون|ملايين|مليونا|مليار|مليارات|مليارا|بليون|تريليون|ترليون",
)
_EN_NUMBER_WORDS = _alternation(
    "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen"
    "|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million|billion"
    "|dozen|dozens|hundreds|thousands|millions|billions"
)
_AR_NUMBER_WORDS = _alternation(
    "واحد|واحدة|اثنان|اثنين|اثنتان|اثنتين|اثنا|اثني|اثنتا|اثنتي|ثلاث|ثلاثة|أربع|أربعة|خمس|خمسة|ست|ستة|سبع|سبعة"
    "|ثمان|ثماني|ثمانية|تسع|تسعة|عشر|عشرة|عشرات|عشرون|عشرين|ثلاثون|ثلاثين|أربعون|أربعين|خمسون|خمسين|ستون|ستين"
    "|سبعون|سبعين|ثمانون|ثمانين|تسعون|تسعين|مئة|مائة|مئات|مئتان|مئتين|مئتي|مائتان|مائتين|مائتي|ثلاثمئة|ثلاثمائة"
    "|أربعمئة|أربعمائة|خمسمئة|خمسمائة|ستمئة|ستمائة|سبعمئة|سبعمائة|ثمانمئة|ثمانمائة|تسعمئة|تسعمائة|ألف|ألفا|آلاف"
    "|ألفان|ألفين|ألوف|مليون|مليونا|ملايين|مليونان|مليونين|مليار|مليارا|مليارات|ملياران|مليارين"
)
_PERCENT = r"\s*[%٪]|\s+per\s*cent" + E + r"|\s+في\s+الم(?:ا)?يه" + E + r"|\s*بالم(?:ا)?يه" + E
_NUMBER = re.compile(
    rf"(?P<currency>[$€£]\s?)?(?<![\d.,])(?P<digits>{_DIGITS})(?!\d)(?P<scale>\s*(?:{_SCALES}){E})?"
    rf"|{B}(?P<en>(?:{_EN_NUMBER_WORDS})(?:(?:\s+and\s+|[\s-]+)(?:{_EN_NUMBER_WORDS}))*){E}"
    rf"|{B}[وفبلك]?(?P<ar>(?:{_AR_NUMBER_WORDS})(?:\s+و?(?:ال)?(?:{_AR_NUMBER_WORDS}))*){E}"
)
_PERCENT_AFTER = re.compile(rf"(?:{_PERCENT})")
_UNIT_SKIP = frozenset(["of", "من"])

# Dates -----------------------------------------------------------------------------------------
_MONTHS_EN = "january|february|march|april|may|june|july|august|september|october|november|december"
_MONTHS_EN_SHORT = "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
_MONTHS_AR = (
    "يناير|فبراير|مارس|أبريل|إبريل|ابريل|مايو|يونيو|يونيه|يوليو|يوليه|أغسطس|اغسطس|سبتمبر|أكتوبر|نوفمبر|ديسمبر"
    "|كانون الثاني|شباط|آذار|نيسان|أيار|حزيران|تموز|آب|أيلول|تشرين الأول|تشرين الثاني|كانون الأول"
)
_AMBIGUOUS_MONTHS = folded_words("may march mar jan dec sep oct آب مارس")
_MONTH = rf"(?:{_alternation(_MONTHS_EN, _MONTHS_AR)}|(?:{_MONTHS_EN_SHORT})\.?)"
_MONTH_PAIR = rf"[وفب]?(?P<month>{_MONTH}){E}(?:\s*[/-]\s*{_MONTH}{E})?"
_WEEKDAYS = _alternation(
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday",
    "الأحد|الاثنين|الإثنين|الثلاثاء|الأربعاء|الخميس|الجمعة|السبت",
)
_DAY_PARTS = _alternation("يوم|مساء|صباح|فجر|ليلة|ظهر|عصر|صبيحة|اليوم|فجر اليوم|مساء اليوم|صباح اليوم")
_ORDINAL = r"(?:st|nd|rd|th)?"
_DATE = re.compile(
    rf"{B}(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}[/.]\d{{1,2}}[/.](?:\d{{4}}|\d{{2}})){E}"
    rf"|{B}(?:\d{{1,2}}{_ORDINAL}\s+(?:of\s+)?)?{_MONTH_PAIR}(?:\s*\d{{1,2}}{_ORDINAL}{E})?(?:\s*,?\s*(?:عام\s+|سنه\s+)?\d{{4}}{E})?"
    rf"|{B}(?:the\s+)?(?:(?:early|mid|late)[\s-]+)?(?:1[89]|20|')?\d0['’]?s{E}"
    rf"|{B}(?:the\s+)?(?:twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties){E}"
    rf"|{B}[وفب]?(?:(?:اواخر|اوايل|مطلع|منتصف|بدايه|نهايه)\s+)?ال(?:عشرين|ثلاثين|اربعين|خمسين|ستين|سبعين|ثمانين|تسعين)"
    rf"(?:يات|ات)(?:\s+من\s+القرن\s+(?:الماضي|العشرين|المنصرم))?{E}"
    rf"|{B}[وفب]?(?:ال|لل)قرن\s+(?:الماضي|الحالي|الجاري|المنصرم|الحادي\s+والعشرين|العشرين|\d{{1,2}}"
    rf"|(?:الاول|الثاني|الثالث|الرابع|الخامس|السادس|السابع|الثامن|التاسع|العاشر)(?:\s+عشر)?){E}"
    rf"|{B}(?:the\s+)?(?:\d{{1,2}}{_ORDINAL}|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth"
    rf"|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth"
    rf"|twenty-first|last|past|previous|next)\s+century{E}"
    rf"|{B}[وب]?(?:(?:{_DAY_PARTS})\s+)?(?P<weekday>{_WEEKDAYS})(?:\s+(?:morning|afternoon|evening|night)){{0,1}}{E}"
    rf"|{B}(?:yesterday|today|tomorrow|tonight|(?:last|next|this|earlier\s+this|later\s+this)\s+(?:week|month|year"
    rf"|weekend|spring|summer|autumn|fall|winter)|(?:\d+|a|an|two|three|four|five|six|seven|eight|nine|ten|few|several)"
    rf"\s+(?:days|weeks|months|years|day|week|month|year)\s+ago){E}"
    rf"|{B}[وفب]?(?:امس|البارحه|غدا|(?:العام|الشهر|الاسبوع|السنه|الاسابيع|الايام|الاشهر|الشهور)\s+(?:الماضي|الماضيه"
    rf"|المقبل|المقبله|الحالي|الحاليه|الجاري|الجاريه|القادم|القادمه|المنصرم|المنصرمه))"
    rf"|{B}(?:هذا\s+العام|هذه\s+السنه|هذا\s+الشهر|هذا\s+الاسبوع){E}"
    rf"|{B}\d{{1,2}}:\d{{2}}(?:\s*(?:am|pm|a\.m\.|p\.m\.))?"
)
_YEAR = re.compile(r"(?<![\d.,/:-])(?P<year>1[89]\d\d|20\d\d|2100)(?![\d%٪]|[.,٫]\d)")
_YEAR_CUES = folded_words(
    "عام العام سنة السنة في منذ حتى قبل بعد مواليد خلال مطلع أواخر أوائل منتصف نهاية بداية ربيع صيف خريف شتاء"
    " in since until till by of before after during from to early late mid spring summer autumn winter around"
)
_MONTH_CONTEXT = folded_words(
    "in since until by early late mid last next this during before after from of شهر في منذ حتى خلال مطلع"
    " أواخر أوائل منتصف نهاية بداية"
)
_NOT_WEEKDAY_BEFORE = frozenset(["بين", "كلا", "هذين", "هذان"])

# Reasons ---------------------------------------------------------------------------------------
_REASON_CUES_EN = (
    r"because(?:\s+of)?|due\s+to|as\s+a\s+result\s+of|owing\s+to|thanks\s+to|in\s+order\s+(?:to|that)|so\s+that"
    r"|so\s+as\s+to|on\s+the\s+grounds\s+that|for\s+fear\s+(?:of|that)|in\s+protest\s+(?:at|against|over)"
    r"|in\s+response\s+to|in\s+retaliation\s+for|given\s+that|in\s+light\s+of|for\s+the\s+purpose\s+of"
    r"|with\s+the\s+aim\s+of|(?P<since>since)"
)
_REASON_CUES_AR = _alternation(
    "لأن|لأنه|لأنها|لأنهم|لأنهما|لأنني|لأننا|بسبب|جراء|من جراء|جرّاء|نتيجة|بنتيجة|بفعل|نظرا|من أجل"
    "|لأجل|كي|لكي|حيث إن|حيث أن|حيث إنه|حيث أنه|على خلفية|بهدف|بغية|بدعوى|بتهمة|بتهم|بحجة|بذريعة|بداعي|لأسباب"
    "|بفضل|تحسبا|خشية|خوفا من|احتجاجا|ردا على|سعيا|إثر|على إثر"
)
_REASON = re.compile(rf"{B}(?:{_REASON_CUES_EN}){E}|{B}(?P<ar>(?:{_REASON_CUES_AR}){E}|وذلك\s+ل(?=[^\W\d_]))")
_CLAUSE_END = re.compile(r"[.;؛!?؟,،:\"«»“”]")
MAX_REASON_WORDS = 30
_SINCE_TEMPORAL_NEXT = folded_words(
    "then last early late mid start beginning end "
    + _MONTHS_EN.replace("|", " ")
    + " "
    + _MONTHS_EN_SHORT.replace("|", " ")
)


class SpanFinder:
    """Finds typed spans; ``names`` (e.g. an index's person names) and ``places`` improve PERSON and PLACE."""

    def __init__(self, *, names: Iterable[str] = (), places: Places | None = None) -> None:
        self.names = PhraseMatcher(names)
        self.places = places or Places(frozenset(), frozenset())
        self.place_names = PhraseMatcher([*self.places.english, *self.places.arabic])

    def find(self, sentence: str, answer_type: AnswerType) -> list[TypedSpan]:
        """Spans of ``answer_type`` in ``sentence``, in order (none for OPEN)."""
        folded = fold(sentence)
        if answer_type is AnswerType.NUMBER:
            dates = _date_spans(folded)
            return [span for span in _number_spans(folded) if not any(_inside(span, date) for date in dates)]
        if answer_type is AnswerType.DATE:
            return _merged(_date_spans(folded), sentence)
        if answer_type is AnswerType.REASON:
            return _reason_spans(folded)
        if answer_type is AnswerType.PERSON:
            found = person_spans(folded, self.names, self.places)
        elif answer_type is AnswerType.PLACE:
            found = place_spans(folded, self.place_names)
        else:
            return []
        return _merged([TypedSpan(start, end, answer_type) for start, end in found], sentence, adjacent=False)


def find_spans(
    sentence: str, answer_type: AnswerType, *, names: Iterable[str] = (), places: Places | None = None
) -> list[TypedSpan]:
    """Spans of ``answer_type`` in ``sentence`` (builds a SpanFinder; keep one when calling often)."""
    return SpanFinder(names=names, places=places).find(sentence, answer_type)


def new_spans(
    spans: Sequence[TypedSpan], sentence: str, question: str, *, question_terms: Iterable[str] = ()
) -> list[TypedSpan]:
    """The spans whose words are not all in ``question`` (or in ``question_terms``, e.g. a name's other spellings)."""
    asked = {_comparable(word) for word in words(question)} | {_comparable(w) for t in question_terms for w in words(t)}
    kept = []
    for span in spans:
        span_words = words(sentence[span[0] : span[1]])
        content = [word for word in span_words if not is_stopword(word)] or span_words
        if any(_comparable(word) not in asked for word in content):
            kept.append(span)
    return kept


def _comparable(word: str) -> str:
    return light_stem(term(word))


_UNIT_CLASSES = {
    "money": "money dollar dollars usd euro euros pound pounds dinar dinars riyal riyals dirham dirhams $ € £"
    " دولار دولارا دولارات يورو دينار دينارا جنيه جنيها ريال درهم أموال مال",
    "percent": "percent percentage % ٪ بالمئة نسبة",
    "duration": "duration day days week weeks month months year years hour hours minute minutes يوم يوما أيام"
    " أسبوع أسبوعا أسابيع شهر شهرا أشهر شهور عام عاما أعوام سنة سنوات ساعة ساعات دقيقة دقائق",
    "age": "age old year years عام عاما أعوام سنة سنوات",
    "distance": "distance km kilometres kilometers kilometre kilometer miles mile metres meters كيلومتر كيلومترا كلم"
    " ميل متر مترا",
}
_UNIT_CLASS_WORDS = {name: frozenset(fold_phrase(w) for w in group.split()) for name, group in _UNIT_CLASSES.items()}


def unit_matches(question_unit: str | None, span_unit: str | None) -> bool:
    """Whether a number span's unit is the unit the question asks about (same word, stem or unit class)."""
    if not question_unit or not span_unit:
        return False
    asked, found = fold_phrase(question_unit), fold_phrase(span_unit)
    if asked in _UNIT_CLASS_WORDS:
        return found in _UNIT_CLASS_WORDS[asked] or found == asked
    if any(asked in group and found in group for name, group in _UNIT_CLASS_WORDS.items() if name != "age"):
        return True
    return _unit_stem(asked) == _unit_stem(found)


def _unit_stem(word: str) -> str:
    word = strip_prefix(word)
    if word.isascii():
        return word[:-2] if word.endswith("es") and len(word) > 4 else word.rstrip("s")
    return light_stem(word[:-1] if word.endswith("ا") and len(word) > 3 else word)


# Finders ---------------------------------------------------------------------------------------


def _number_spans(folded: Folded) -> list[TypedSpan]:
    text, spans = folded.text, []
    for match in _NUMBER.finditer(text):
        group = "digits" if match.group("digits") else "en" if match.group("en") else "ar"
        start, end = match.start("currency") if match.group("currency") else match.start(group), match.end()
        unit: str | None = "money" if match.group("currency") else None
        percent = _PERCENT_AFTER.match(text, end)
        if percent:
            end, unit = percent.end(), "percent"
        elif unit is None:
            end, unit = _unit_after(text, end)
        spans.append(TypedSpan(*folded.span(start, end), AnswerType.NUMBER, unit))
    return spans


_NEXT_WORD = re.compile(r"\s*([^\W\d_]+)")


def _unit_after(text: str, end: int) -> tuple[int, str | None]:
    """The counted noun right after a number: "30 جنديا", "hundreds of soldiers"; (end, None) if none."""
    at = end
    for _ in range(2):
        match = _NEXT_WORD.match(text, at)
        if not match:
            return end, None
        word = match.group(1)
        if word in _UNIT_SKIP and at == end:
            at = match.end()
            continue
        if is_stopword(word) or word in ENGLISH_STOPWORDS or fold_phrase(word) in _MONTH_WORDS:
            return end, None
        return match.end(), word
    return end, None


_MONTH_WORDS = frozenset(fold_phrase(w) for w in (_MONTHS_EN + "|" + _MONTHS_AR).replace(" ", "|").split("|"))


def _date_spans(folded: Folded) -> list[TypedSpan]:
    text, found = folded.text, []
    for match in _DATE.finditer(text):
        if match.group("month") and not _month_in_context(text, match):
            continue
        if match.group("weekday") and _word_before(text, match.start("weekday")) in _NOT_WEEKDAY_BEFORE:
            continue
        found.append((match.start(), match.end()))
    for match in _YEAR.finditer(text):
        if any(start <= match.start() < end for start, end in found):
            continue
        before = _word_before(text, match.start())
        after = _NEXT_WORD.match(text, match.end())
        counted = after and not is_stopword(after.group(1)) and after.group(1) not in ENGLISH_STOPWORDS
        if before in _YEAR_CUES or before in _MONTH_WORDS or not counted:
            found.append((match.start(), match.end()))
    found.sort()
    return [TypedSpan(*folded.span(start, end), AnswerType.DATE) for start, end in _drop_nested(found)]


def _month_in_context(text: str, match: re.Match[str]) -> bool:
    month = match.group("month").rstrip(".")
    if month not in _AMBIGUOUS_MONTHS and month not in _MONTHS_EN_SHORT.split("|"):
        return True
    return bool(re.search(r"\d|/", match.group())) or _word_before(text, match.start("month")) in _MONTH_CONTEXT


def _word_before(text: str, at: int) -> str:
    match = re.search(r"([^\W_]+)[^\w]*$", text[max(0, at - 40) : at])
    return match.group(1) if match else ""


def _reason_spans(folded: Folded) -> list[TypedSpan]:
    text, spans = folded.text, []
    for match in _REASON.finditer(text):
        if match.group("since") and not _causal_since(text, match):
            continue
        original = folded.span(match.start(), match.end())
        if "اثر" in match.group() and "أ" in folded.original[original[0] : original[1]]:
            continue  # أثر "effect", not إثر "following"
        end = _CLAUSE_END.search(text, match.end())
        stop = end.start() if end else len(text)
        word_ends = [m.end() for m in re.finditer(r"\S+", text[match.end() : stop])]
        if len(word_ends) > MAX_REASON_WORDS:
            stop = match.end() + word_ends[MAX_REASON_WORDS - 1]
        if stop > match.end() and text[match.end() : stop].strip():
            spans.append(TypedSpan(*folded.span(match.start(), len(text[:stop].rstrip())), AnswerType.REASON))
    return spans


def _causal_since(text: str, match: re.Match[str]) -> bool:
    """ "since" gives a reason at a clause start and not before a time ("since 2011", "since then")."""
    before = text[: match.start()].rstrip()
    if before and before[-1] not in ",;:—-":
        return False
    after = _NEXT_WORD.match(text, match.end())
    return after is not None and after.group(1) not in _SINCE_TEMPORAL_NEXT


def _inside(span: TypedSpan, outer: TypedSpan) -> bool:
    return outer.start <= span.start and span.end <= outer.end


def _drop_nested(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    kept: list[tuple[int, int]] = []
    for start, end in sorted(spans, key=lambda s: (s[0], -s[1])):
        if kept and start < kept[-1][1]:
            kept[-1] = (kept[-1][0], max(kept[-1][1], end))
        else:
            kept.append((start, end))
    return kept


def _merged(spans: list[TypedSpan], sentence: str, *, adjacent: bool = True) -> list[TypedSpan]:
    """Spans of one type joined where they overlap (or, if ``adjacent``, only spaces and commas separate them)."""
    merged: list[TypedSpan] = []
    for span in sorted(spans):
        gap = sentence[merged[-1].end : span.start] if merged else "x"
        if merged and (span.start <= merged[-1].end or (adjacent and not gap.strip(" ,،"))):
            last = merged[-1]
            merged[-1] = last._replace(end=max(last.end, span.end))
        else:
            merged.append(span)
    return merged
