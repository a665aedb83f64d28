"""Which script a word or a text is written in: Arabic or Latin.

Two granularities, each with its own rule:

* a *word* (a normalised keyword term) is Arabic when it holds an Arabic letter, Latin when it
  holds a lower-case a-z letter (terms are case-folded), and is a *term of a script* for the
  lexicon only when it is all letters (numbers belong to no script);
* a *text* (a sentence, a chunk, a question) is in the script most of its letters are in,
  counting every character of the Arabic block (U+0600–U+06FF) and ASCII letters.
"""

from __future__ import annotations

import re
from typing import Literal

Script = Literal["arabic", "latin"]

_ARABIC_LETTER = re.compile("[\u0621-\u064a\u066e-\u06d3]")
_LATIN_LETTER = re.compile("[a-z]")


def is_arabic(word: str) -> bool:
    """Whether a normalised word holds an Arabic letter."""
    return bool(_ARABIC_LETTER.search(word))


def is_latin(word: str) -> bool:
    """Whether a normalised (case-folded) word holds a Latin letter."""
    return bool(_LATIN_LETTER.search(word))


def script_of_term(term: str) -> Script | None:
    """ "arabic", "latin", or None for numbers and other scripts."""
    if is_arabic(term):
        return "arabic"
    if is_latin(term) and term.isalpha():
        return "latin"
    return None


def letter_counts(text: str) -> tuple[int, int]:
    """(Arabic, Latin) characters of a text: the Arabic block, and ASCII letters."""
    arabic = latin = 0
    for ch in text:
        if "\u0600" <= ch <= "\u06ff":
            arabic += 1
        elif ch.isascii() and ch.isalpha():
            latin += 1
    return arabic, latin


def script_of(text: str) -> Script:
    """ "arabic" or "latin": the script most of the letters of a text are in (Latin when it has none)."""
    arabic, latin = letter_counts(text)
    return "arabic" if arabic >= latin and arabic else "latin"


def foreign_share(text: str, script: Script) -> float:
    """The share of the letters of ``text`` (Arabic or Latin) that are not in ``script``."""
    arabic, latin = letter_counts(text)
    if arabic + latin == 0:
        return 0.0
    return (latin if script == "arabic" else arabic) / (arabic + latin)
