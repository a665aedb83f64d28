"""What the fields of a loaded article may hold: valid Unicode without control characters, text
with letters in it, ids of visible characters, and web addresses that can be linked to."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

_SURROGATES = re.compile("[\ud800-\udfff]")  # left by JSON escapes such as "\ud800"; not encodable as UTF-8
_LINE_CONTROLS = re.compile("[\x0b\x0c\x85]")  # vertical tab, form feed, next line: line breaks
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\r]")  # C0 and C1 controls but tab and newline
_ANY_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_IMAGES = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)|<img\b[^>]*>", re.IGNORECASE)  # Markdown and HTML images
_URL_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})  # controls, invisible marks, spaces
_URL_REFUSED_CHARACTERS = frozenset('<>"')


def clean_text(value: str) -> str:
    """``value`` with lone surrogates replaced by U+FFFD and control characters removed (tab and
    newline stay; vertical tab and form feed become newlines)."""
    if not value:
        return value
    value = _SURROGATES.sub("\ufffd", value)
    return _CONTROLS.sub("", _LINE_CONTROLS.sub("\n", value))


def has_controls(value: str) -> bool:
    """Whether ``value`` holds any control character, tab and newline included."""
    return _ANY_CONTROL.search(value) is not None


def has_letters(text: str) -> bool:
    """Whether ``text`` has a letter outside image markup: NUL bytes, invisible characters, digits
    and pictures alone are not an article."""
    return any(character.isalpha() for character in _IMAGES.sub(" ", text))


def is_web_url(url: str) -> bool:
    """Whether ``url`` is an http(s) address with a host and without spaces, control characters,
    invisible marks or characters that break a link (``< > "``)."""
    if any(ch in _URL_REFUSED_CHARACTERS or unicodedata.category(ch) in _URL_REFUSED_CATEGORIES for ch in url):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. "http://[::1"
        return False
    return parts.scheme.lower() in ("http", "https") and bool(host)
