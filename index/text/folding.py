"""Text folded like ``normalise`` but with a map back to the original characters.

Span finders match patterns on the folded text (no diacritics, one alef, ه for ة, lower-case
Latin, ASCII digits) and report offsets into the text as written. Unlike ``normalise``,
whitespace is kept one for one, so folded words keep their neighbours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from index.text.normalise import normalise

_WORD = re.compile(r"[^\W_]+")


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    return " " if char.isspace() else normalise(char)


@dataclass(frozen=True)
class Folded:
    """``text`` folded; ``origin[i]`` is the index in ``original`` of folded character ``i``."""

    original: str
    text: str
    origin: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original offsets of the folded span ``[start, end)``."""
        if end <= start:
            at = self.origin[start] if start < len(self.origin) else len(self.original)
            return at, at
        return self.origin[start], self.origin[end - 1] + 1

    def words(self) -> list[tuple[int, int, str]]:
        """The folded words with their folded offsets."""
        return [(match.start(), match.end(), match.group()) for match in _WORD.finditer(self.text)]


def fold(text: str) -> Folded:
    """``text`` folded character by character, with the map back to ``text``."""
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char)
        pieces.append(folded)
        origin.extend([index] * len(folded))
    return Folded(text, "".join(pieces), tuple(origin))


def fold_phrase(text: str) -> str:
    """A phrase folded the same way, for building patterns (whitespace collapsed)."""
    return " ".join(fold(text).text.split())


def folded_words(words: str) -> frozenset[str]:
    """The folded forms of the space-separated ``words`` (word lists in patterns and tables)."""
    return frozenset(fold_phrase(word) for word in words.split())
