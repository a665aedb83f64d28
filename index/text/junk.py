"""Lines of an article that must never be quoted as an answer, though they stay in its text.

``junk_reason(line)`` names what a line is when it is not article prose: a photo caption, a byline,
a dateline on its own, a source line, a related-link headline, a subheading, a promotion, a
separator or a truncated fragment; ``None`` for prose. ``junk_spans(text)`` applies it to every line
of an article, with what only the whole text shows: the line that follows (a subheading is followed
by a paragraph), the article's script (an English caption inside an Arabic article) and runs of
headlines under "اقرأ أيضا:" or "Related:".
"""

from __future__ import annotations

import re
from functools import lru_cache

from index.text.normalise import is_stopword, normalise, term

CAPTION = "caption"
OTHER_LANGUAGE = "caption in another language"
BYLINE = "byline"
DATELINE = "dateline"
SOURCE_LINE = "source line"
RELATED = "related link"
SUBHEADING = "subheading"
PROMOTION = "promotion"
SEPARATOR = "separator"
FRAGMENT = "fragment"

MIN_WORDS = 4  # fewer words than this is a fragment, not a sentence
MAX_HEADLINE_WORDS = 15  # an unpunctuated line up to this long reads as a headline
MAX_CONJUNCTION_HEADLINE_WORDS = 6  # ... or up to this long if it starts with و/ف like prose
MAX_QUESTION_HEADING_WORDS = 8  # "هل يساعد المجلس الرئاسي أو حكومة الوفاق؟" above a paragraph
MAX_BYLINE_WORDS = 6
MAX_CAPTION_WORDS = 40

_AGENCIES = (
    r"reuters|ap|afp|getty(?:\s*images)?|epa|anadolu|xinhua|dpa|ansa|cnn|bbc|al\s*jazeera|associated\s+press"
    r"|رويترز|الجزيرة(?:\s+نت)?|الأناضول|الاناضول|فرانس\s*برس|ا\s*ف\s*ب|أ\s*ف\s*ب|أسوشيتد\s+برس|اسوشيتد\s+برس"
    r"|سكاي\s+نيوز(?:\s+عربية)?|بي\s+بي\s+سي|د\s*ب\s*أ|واس|وام|سبوتنيك|شينخوا|غيتي|الفرنسية|الأوروبية|الألمانية"
    r"|وكالات|مواقع\s+التواصل|مواقع\s+التواصل\s+الاجتماعي|تويتر|فيسبوك|إكس|أرشيف|أرشيفية|ارشيف|ارشيفية"
    r"|photo|file|archive|handout|twitter|social\s+media"
)
_CREDIT_END = re.compile(rf"\(\s*(?:[^()]{{0,30}}[/-]\s*)?(?:{_AGENCIES})(?:\s*[/-][^()]{{0,30}})?\s*\)\s*$", re.I)
_CAPTION_START = re.compile(r"^\s*(?:\(\s*(?:photo|صورة|فيديو)\s*\)|الصورة\s*:|صورة\s*:|photo\s*:|image\s*:)", re.I)
_CAPTION_END = re.compile(r"[-–—]\s*(?:أرشيف|ارشيف|أرشيفية|file|archive)\s*\)?\s*$|\(\s*(?:photo|getty)\s*\)\s*$", re.I)
_GETTY_CAPTION = re.compile(
    r"[-–—]\s*[-–—]?\s*[A-Z][A-Z .,'-]+\s+[-–—]\s+[A-Z]+ \d{1,2}\s*:"
)  # "- TRIPOLI, LIBYA - OCTOBER 14:"
_PHOTO_WORDS = re.compile(r"(?<!\w)(?:صورة|صور|الصورة|بالصورة|photo|pictured|picture)(?!\w)", re.I)
_RELATED_START = re.compile(
    r"^\s*(?:بالصور|بالفيديو|فيديو|شاهد|اقرأ\s+أيضا|اقرأ\s+ايضا|اقرأ\s+المزيد|للمزيد|المزيد|ذات\s+صلة|مواضيع\s+ذات\s+صلة"
    r"|اخبار\s+ذات\s+صلة|أخبار\s+ذات\s+صلة|read\s+more|related|see\s+also|watch|more\s+on\s+this|also\s+read)\s*[:：-]",
    re.I,
)
_RELATED_HEADER = re.compile(
    r"^\s*(?:اقرأ\s+أيضا|اقرأ\s+ايضا|للمزيد|ذات\s+صلة|مواضيع\s+ذات\s+صلة|read\s+more|related|see\s+also)\s*[:：]?\s*$",
    re.I,
)
_SOURCE = re.compile(r"^\s*(?:المصدر|مصدر|source|sources)\s*[:：]\s*\S.{0,40}$", re.I)
_BYLINE = re.compile(r"^\s*(?:(?i:by)\s+[A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*){0,3}|بقلم\s*:?.{0,40}|كتب\s*:.{0,40})\s*$")
_NAME_DASH_CITY = re.compile(r"^[^\W\d_][^\d.!?؟:()]{1,40}?\s*[-–—]\s*[^\W\d_][^\d.!?؟:()]{0,25}$")
_DATELINE = re.compile(
    rf"^[^\W\d_][^\d.!?؟:]{{0,40}}?(?:\(\s*(?:{_AGENCIES})\s*\))?\s*[-–—]+\s*(?:{_AGENCIES})?\s*$"
    rf"|^[^\W\d_][^\d.!?؟:]{{0,40}}?\(\s*(?:{_AGENCIES})\s*\)\s*[-–—]*\s*$",
    re.I,
)
_PROMOTION = re.compile(
    r"تسلم\s+إشعارات|تحميل\s+(?:أحدث\s+نسخة|تطبيق)|حمّل\s+تطبيق|حمل\s+تطبيق|اشترك\s+في|تابعونا|اضغط\s+هنا|انقر\s+هنا"
    r"|sign\s+up\s+for|subscribe\s+to|follow\s+us\s+on|click\s+here|download\s+the\s+app",
    re.I,
)
_TRUNCATED_END = re.compile(r"(?:\(\s*(?:\.\s*){2,}\)|\(\s*…\s*\)|…|\.{3,}|إلخ\s*\.*\)?|الخ\s*\.*\)?|etc\.?\))\s*$")
_FINAL_PUNCTUATION = re.compile(r"[.!?؟…:؛;\"'»”’)\]]\s*$")
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
_LETTER = re.compile(r"[^\W\d_]")
_ARABIC = re.compile("[\u0621-\u064a]")
_LATIN = re.compile("[A-Za-z]")
_CONJUNCTION_START = re.compile(r"^\s*[\"'«“(]?\s*[وف][^\W\d_]{2,}")
_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u0640]")  # Arabic diacritics and tatweel
_BRACKETS = {"(": ")", "[": "]", "{": "}"}  # not quotes: news text mixes « with " freely
_PULL_QUOTE = re.compile(r"^[\"“«][^\"“”«»]+[\"”»]$")
MAX_RELATED_WORDS = 25


def junk_reason(line: str, *, next_line: str | None = None, article_is_arabic: bool | None = None) -> str | None:
    """What ``line`` is if it is not prose an answer may quote (a reason string), else None.

    ``next_line`` (the next non-empty line, if known) lets an unpunctuated short line count as a
    subheading; ``article_is_arabic`` lets a Latin-script line inside an Arabic article count as a caption.
    """
    text = _MARKS.sub("", line).strip()
    if not text:
        return None
    if not _LETTER.search(text):
        return SEPARATOR
    words = _WORD.findall(text)
    if _RELATED_START.match(text) or _RELATED_HEADER.match(text):
        return RELATED
    if _SOURCE.match(text):
        return SOURCE_LINE
    if _PROMOTION.search(text):
        return PROMOTION
    if _CAPTION_START.match(text) or _CAPTION_END.search(text) or _GETTY_CAPTION.search(text):
        return CAPTION
    if _CREDIT_END.search(text) and len(words) <= MAX_CAPTION_WORDS:
        return CAPTION
    if article_is_arabic and _is_latin_line(text):
        return OTHER_LANGUAGE
    if len(words) <= MAX_BYLINE_WORDS and not _FINAL_PUNCTUATION.search(text):
        if _DATELINE.match(text) and re.search(rf"(?:{_AGENCIES})|[-–—]\s*$", text, re.I):
            return DATELINE
        if _BYLINE.match(text) or _NAME_DASH_CITY.match(text):
            return BYLINE
    if (_TRUNCATED_END.search(text) or _unbalanced(text)) and len(words) <= MAX_CAPTION_WORDS:
        return FRAGMENT  # a whole paragraph with a stray bracket or a trailing "…" is still prose
    unpunctuated = not _FINAL_PUNCTUATION.search(text)
    if unpunctuated and _PHOTO_WORDS.search(text) and len(words) <= 2 * MAX_HEADLINE_WORDS:
        return CAPTION  # "ونشرت القوات صورة العشماوي بعد القبض عليه"
    if len(words) < MIN_WORDS:
        heading = next_line and _reads_as_paragraph(next_line) and not text.endswith(".")
        return SUBHEADING if heading else FRAGMENT
    if unpunctuated and _headline_length(text, len(words)):
        return SUBHEADING
    if unpunctuated and is_stopword(term(normalise(words[-1]))):
        return FRAGMENT  # cut off after "وذلك", "أن", "the"
    if _PULL_QUOTE.match(text) and len(words) <= MAX_HEADLINE_WORDS:
        return SUBHEADING  # a quote set apart as a heading
    if _is_short_question(text, words) and next_line is not None and _reads_as_paragraph(next_line):
        return SUBHEADING
    return None


def _is_short_question(text: str, words: list[str]) -> bool:
    return text.endswith(("?", "؟", "!")) and len(words) <= MAX_QUESTION_HEADING_WORDS


@lru_cache(maxsize=512)
def junk_spans(text: str) -> tuple[tuple[int, int, str], ...]:
    """``(start, end, reason)`` for every junk line of an article's ``text`` (offsets into ``text``).

    Remembered for the last texts seen: a question reads each of its passages three times (re-ranking,
    candidates, the sentences that continue an answer)."""
    lines = [(match.start(), match.end(), match.group()) for match in re.finditer(r"[^\n]+", text)]
    lines = [(start, end, line) for start, end, line in lines if line.strip()]
    arabic = len(_ARABIC.findall(text)) > len(_LATIN.findall(text))
    reasons: list[str | None] = []
    in_related_list = False
    for index, (_start, _end, line) in enumerate(lines):
        next_line = lines[index + 1][2] if index + 1 < len(lines) else None
        reason = junk_reason(line, next_line=next_line, article_is_arabic=arabic)
        if in_related_list and reason in (None, SUBHEADING, CAPTION) and _could_be_headline(line):
            reason = RELATED  # a headline in the list under "اقرأ أيضا:"
        in_related_list = reason == RELATED and (in_related_list or line.rstrip().endswith((":", "：")))
        if reason == SUBHEADING and _is_headline_run(lines, index):
            reason = RELATED  # several headlines in a row are links to other stories, not one subheading
        reasons.append(reason)
    for index, (_start, _end, line) in enumerate(lines):  # "ما هي الجماعات المسلحة في مصر؟" heading a link list
        neighbours = reasons[max(0, index - 1) : index] + reasons[index + 1 : index + 2]
        if reasons[index] is None and RELATED in neighbours and _is_short_question(line.strip(), _WORD.findall(line)):
            reasons[index] = RELATED
    spans: list[tuple[int, int, str]] = []
    for (start, _end, line), reason in zip(lines, reasons):
        if reason:
            left = len(line) - len(line.lstrip())
            spans.append((start + left, start + len(line.rstrip()), reason))
    return tuple(spans)


def _could_be_headline(line: str) -> bool:
    text = line.strip()
    ends_like_prose = bool(re.search(r"[.!?؟…:؛;]\s*$", text))
    return not ends_like_prose and len(_WORD.findall(text)) <= MAX_RELATED_WORDS


def _headline_length(text: str, word_count: int) -> bool:
    limit = MAX_CONJUNCTION_HEADLINE_WORDS if _CONJUNCTION_START.match(text) else MAX_HEADLINE_WORDS
    return word_count <= limit


def _is_headline_run(lines: list[tuple[int, int, str]], index: int) -> bool:
    def headline(k: int) -> bool:
        if not 0 <= k < len(lines):
            return False
        text = lines[k][2].strip()
        return not _FINAL_PUNCTUATION.search(text) and _headline_length(text, len(_WORD.findall(text)))

    return headline(index - 1) or headline(index + 1)


def _reads_as_paragraph(line: str) -> bool:
    return len(_WORD.findall(line)) >= 2 * MIN_WORDS or bool(_FINAL_PUNCTUATION.search(line.strip()))


def _is_latin_line(text: str) -> bool:
    latin, arabic = len(_LATIN.findall(text)), len(_ARABIC.findall(text))
    return latin >= 20 and latin > 3 * arabic


def _unbalanced(text: str) -> bool:
    """Whether a bracket opens without closing (or closes without opening) in ``text``."""
    depth = dict.fromkeys(_BRACKETS, 0)
    closers = {close: open_ for open_, close in _BRACKETS.items()}
    for char in text:
        if char in _BRACKETS:
            depth[char] += 1
        elif char in closers:
            depth[closers[char]] -= 1
            if depth[closers[char]] < 0:
                return True
    return any(depth.values())
