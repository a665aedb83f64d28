"""Text normalisation and keyword tokens for Arabic and Latin scripts.

``normalise`` folds the spellings a reader treats as the same word: Arabic diacritics and
tatweel go, alef and hamza forms become bare alef (or their carrier), ى becomes ي and ة
becomes ه, Arabic-Indic digits become ASCII digits, Latin letters are case-folded and
lose their accents. ``keyword_terms`` then cuts text into the terms of the keyword index:
Arabic words lose a light prefix (و ف ب ك ل with or without ال), and common function
words of both languages are dropped.
"""

from __future__ import annotations

import re
import unicodedata

from index.text.scripts import is_arabic

_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")  # harakat, Quranic marks, tatweel
_FOLD = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ٲ": "ا",
        "ٳ": "ا",
        "ى": "ي",
        "ی": "ي",
        "ې": "ي",
        "ئ": "ي",
        "ؤ": "و",
        "ة": "ه",
        "ۀ": "ه",
        "ە": "ه",
        "ک": "ك",
        "گ": "ك",
        "ڤ": "ف",
        "پ": "ب",
        "چ": "ج",
        "\u200c": " ",
        "\u200d": "",
        "\u200f": "",
        "\u200e": "",
        **{chr(0x0660 + d): str(d) for d in range(10)},  # ٠١٢…
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # ۰۱۲…
    }
)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)

# Light prefixes, longest first: conjunction, preposition, article. A prefix is taken off
# only when at least MIN_STEM letters remain, so short words keep their first letter.
_PREFIXES = ("وبال", "وكال", "فبال", "وال", "فال", "بال", "كال", "ولل", "فلل", "لل", "ال", "و")
MIN_STEM = 3

_ARABIC_STOPWORDS = [
    "من",
    "في",
    "على",
    "الى",
    "إلى",
    "عن",
    "مع",
    "هل",
    "ما",
    "ماذا",
    "متى",
    "اين",
    "أين",
    "كيف",
    "كم",
    "لماذا",
    "لم",
    "لن",
    "لا",
    "أي",
    "اي",
    "اية",
    "أية",
    "اى",
    "هو",
    "هي",
    "هم",
    "هن",
    "انا",
    "نحن",
    "انت",
    "انتم",
    "هذا",
    "هذه",
    "ذلك",
    "تلك",
    "هؤلاء",
    "الذي",
    "التي",
    "الذين",
    "اللذان",
    "اللتان",
    "اللواتي",
    "كان",
    "كانت",
    "يكون",
    "تكون",
    "كانوا",
    "قد",
    "لقد",
    "ثم",
    "او",
    "أو",
    "أم",
    "ام",
    "بل",
    "لكن",
    "ان",
    "أن",
    "إن",
    "انه",
    "أنه",
    "انها",
    "أنها",
    "كل",
    "بعض",
    "غير",
    "بين",
    "عند",
    "عندما",
    "حتى",
    "اذا",
    "إذا",
    "منذ",
    "خلال",
    "حول",
    "قبل",
    "بعد",
    "ضد",
    "دون",
    "تحت",
    "فوق",
    "لدى",
    "لها",
    "له",
    "لهم",
    "به",
    "بها",
    "فيه",
    "فيها",
    "عليه",
    "عليها",
    "منه",
    "منها",
    "عنه",
    "عنها",
    "وهو",
    "وهي",
    "وقد",
    "وكان",
    "وكانت",
    "ولا",
    "وما",
    "ومن",
    "وفي",
    "وعلى",
    "ايضا",
    "أيضا",
    "فقط",
    "تم",
    "التى",
    "الى",
]
ENGLISH_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "at",
        "by",
        "for",
        "with",
        "about",
        "against",
        "between",
        "into",
        "through",
        "during",
        "before",
        "after",
        "above",
        "below",
        "to",
        "from",
        "up",
        "down",
        "in",
        "out",
        "on",
        "off",
        "over",
        "under",
        "again",
        "further",
        "then",
        "once",
        "here",
        "there",
        "when",
        "where",
        "why",
        "how",
        "all",
        "any",
        "both",
        "each",
        "few",
        "more",
        "most",
        "other",
        "some",
        "such",
        "no",
        "nor",
        "not",
        "only",
        "own",
        "same",
        "so",
        "than",
        "too",
        "very",
        "can",
        "will",
        "just",
        "should",
        "now",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "have",
        "has",
        "had",
        "having",
        "do",
        "does",
        "did",
        "doing",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "this",
        "that",
        "these",
        "those",
        "am",
        "i",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "he",
        "him",
        "his",
        "she",
        "her",
        "it",
        "its",
        "they",
        "them",
        "their",
        "would",
        "could",
        "also",
        "as",
        "many",
        "much",
        "one",
        "ones",
    ]
)


def normalise(text: str) -> str:
    """``text`` with Arabic spelling variants folded, Latin case and accents folded, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text)
    text = _DIACRITICS.sub("", text).translate(_FOLD).casefold()
    if any("\u00c0" <= ch <= "\u024f" for ch in text):  # accented Latin: é -> e
        text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return " ".join(text.split())


def strip_prefix(word: str) -> str:
    """An Arabic word without its light prefix (و ف ب ك ل, ال): والسراج -> سراج, بطرابلس stays."""
    for prefix in _PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= MIN_STEM:
            return word[len(prefix) :]
    return word


_SUFFIXES = ("ات", "ون", "ين", "ان", "يه", "ها", "هم", "ه", "ي")  # plurals, duals, ية, pronouns, nisba


def light_stem(word: str) -> str:
    """An Arabic term without a light suffix (روسيا and روسي -> روس); other words unchanged.

    Used to group the forms of a word that occur in an index, never as the indexed term."""
    if not is_arabic(word):
        return word
    if word.endswith("ا") and len(word) - 1 >= MIN_STEM:
        word = word[:-1]
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
            return word[: -len(suffix)]
    return word


def words(text: str) -> list[str]:
    """The normalised words of ``text``, in order (stop words included, no prefix handling)."""
    return _WORD.findall(normalise(text))


def term(word: str) -> str:
    """The keyword-index term of one normalised word."""
    return strip_prefix(word) if is_arabic(word) else word


def is_stopword(word: str) -> bool:
    return word in ARABIC_STOPWORDS or word in ENGLISH_STOPWORDS


def keyword_terms(text: str) -> list[str]:
    """The terms of ``text`` for the keyword index: normalised, light-stemmed, without function words."""
    return [term(word) for word in words(text) if not is_stopword(word) and (len(word) > 1 or word.isdigit())]


ARABIC_STOPWORDS = frozenset(normalise(word) for word in _ARABIC_STOPWORDS)
