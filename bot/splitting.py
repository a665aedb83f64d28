"""Split Telegram HTML into messages that each fit Telegram's length limit.

Telegram counts a message's length in UTF-16 code units of its text after the HTML is
parsed: tags count nothing and ``&amp;`` counts one. A long message is cut at the best
boundary that fits — between sources (a blank line), then between lines, then between
sentences, then between words — and never inside a tag, an entity or a word (a single
word longer than a whole message is the only thing ever cut). Tags and bidi isolates
open at a cut are closed at the end of one part and reopened at the start of the next,
so every part is balanced HTML on its own.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

TELEGRAM_MAX_LENGTH = 4096
ISOLATE_OPENERS = frozenset("\u2066\u2067\u2068")  # LRI, RLI, FSI
PDI = "\u2069"  # closes the innermost isolate
_INVISIBLE = {ord(char): None for char in (*ISOLATE_OPENERS, PDI)}

_TOKEN = re.compile(r"<[^<>]*>|&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});|.", re.DOTALL)
_ANY_TAG = re.compile(r"<[^<>]*>")
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(?:\s[^<>]*)?>\Z")
_SENTENCE_ENDS = frozenset(".!?؟…。")
_CLOSERS = frozenset("\"'”’»)]\u2069")
_BREAKING_SPACES = frozenset(" \t\n\r")

# Priority of a boundary, and how full a part must be before a boundary of that kind is used.
_SOURCE, _LINE, _SENTENCE, _WORD = 4, 3, 2, 1
_MIN_FILL = {_SOURCE: 0.3, _LINE: 0.5, _SENTENCE: 0.5, _WORD: 0.0}


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts."""
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class _Atom:
    raw: str  # as written in the HTML
    kind: str  # "open", "close" or "char"
    text: str = ""  # the decoded character(s) of a "char" atom
    name: str = ""  # the tag name of an "open" or "close" atom

    @property
    def units(self) -> int:
        return utf16_length(self.text)


def _atoms(html_text: str) -> list[_Atom]:
    atoms = []
    for match in _TOKEN.finditer(html_text):
        raw = match.group()
        if raw.startswith("<") and len(raw) > 1:
            tag = _TAG.match(raw)
            if tag is None:
                raise ValueError(f"split_message got a malformed tag {raw!r}; escape '<' in text as '&lt;'.")
            atoms.append(_Atom(raw, "close" if tag.group(1) else "open", name=tag.group(2).lower()))
        elif raw.startswith("&") and len(raw) > 1:
            atoms.append(_Atom(raw, "char", html.unescape(raw)))
        else:
            atoms.append(_Atom(raw, "char", raw))
    return atoms


def _plain(html_text: str) -> str:
    """The text Telegram shows: tags removed, entities decoded."""
    return html.unescape(_ANY_TAG.sub("", html_text))


def telegram_length(html_text: str) -> int:
    """How long Telegram considers a message given in HTML parse mode."""
    return utf16_length(_plain(html_text))


def _after(stack: list[_Atom], atom: _Atom) -> list[_Atom]:
    """The open tags and isolates after ``atom``."""
    if atom.kind == "open" or atom.text in ISOLATE_OPENERS:
        return [*stack, atom]
    if atom.kind == "close":
        if not stack or stack[-1].kind != "open" or stack[-1].name != atom.name:
            raise ValueError(f"split_message got an unbalanced </{atom.name}>; every tag must be closed in order.")
        return stack[:-1]
    if atom.text == PDI and stack and stack[-1].kind == "char":
        return stack[:-1]
    return stack


def _closes_top(stack: list[_Atom], atom: _Atom) -> bool:
    """Whether ``atom`` closes the innermost open tag or isolate (so it costs nothing to include)."""
    if not stack:
        return False
    top = stack[-1]
    return (atom.kind == "close" and top.kind == "open") or (atom.text == PDI and top.kind == "char")


def _isolates(stack: list[_Atom]) -> int:
    return sum(1 for atom in stack if atom.kind == "char")


def _closing(stack: list[_Atom]) -> str:
    return "".join(f"</{atom.name}>" if atom.kind == "open" else PDI for atom in reversed(stack))


@dataclass
class _Boundary:
    index: int  # a part may end before atoms[index]
    fill: int  # units of the part if it ended here, closing isolates included
    stack: list[_Atom]


class _Scan:
    """Walks forward from a part's start, remembering the last boundary of each priority."""

    def __init__(self, atoms: list[_Atom], start: int, carried: list[_Atom], limit: int) -> None:
        self.start, self.start_stack = start, carried
        self.boundaries: dict[int, _Boundary] = {}
        stack = list(carried)
        fill = sum(atom.units for atom in carried)
        last_chars = ""  # the last two characters that were not spaces
        previous = ""  # the character before the current one
        seen_text = False
        index = start
        while index < len(atoms):
            atom = atoms[index]
            after = _after(stack, atom)
            if atom.kind == "char" and fill + atom.units + _isolates(after) > limit:
                break
            fill += atom.units
            stack = after
            index += 1
            if atom.kind != "char":
                continue
            if atom.text not in _BREAKING_SPACES:
                last_chars = (last_chars + atom.text)[-2:]
                seen_text = seen_text or _visible(atom)
            elif seen_text:
                priority = self._priority(atom.text, previous, last_chars)
                self.boundaries[priority] = _Boundary(index, fill + _isolates(stack), stack)
            previous = atom.text
        self.end = index
        self.end_stack = stack

    @staticmethod
    def _priority(space: str, previous: str, last_chars: str) -> int:
        if space == "\n":
            return _SOURCE if previous == "\n" else _LINE
        last = last_chars[-1:]
        if last in _SENTENCE_ENDS or (last in _CLOSERS and last_chars[:1] in _SENTENCE_ENDS) or last == "]":
            return _SENTENCE
        return _WORD

    def best(self, limit: int) -> _Boundary | None:
        for level in (_SOURCE, _LINE, _SENTENCE, _WORD):
            usable = [boundary for priority, boundary in self.boundaries.items() if priority >= level]
            if usable:
                boundary = max(usable, key=lambda b: b.index)
                if boundary.fill >= _MIN_FILL[level] * limit:
                    return boundary
        return None


def _hard_cut(atoms: list[_Atom], scan: _Scan) -> _Boundary:
    """Cut a word longer than a message, but not between a letter and its combining marks."""
    index = scan.end
    while index - 1 > scan.start and atoms[index].kind == "char" and unicodedata.combining(atoms[index].text[:1]):
        index -= 1
    stack = list(scan.start_stack)
    for atom in atoms[scan.start : index]:
        stack = _after(stack, atom)
    return _Boundary(index, 0, stack)


def _visible(atom: _Atom) -> bool:
    return atom.kind == "char" and not atom.text.isspace() and atom.text not in ISOLATE_OPENERS and atom.text != PDI


def _trimmed(atoms: list[_Atom]) -> list[_Atom]:
    """Drop whitespace at both ends of a part's text, keeping every tag."""
    chars = [i for i, atom in enumerate(atoms) if atom.kind == "char" and not atom.text.isspace()]
    if not chars:
        return [atom for atom in atoms if atom.kind != "char"]
    first, last = chars[0], chars[-1]
    return [atom for i, atom in enumerate(atoms) if atom.kind != "char" or first <= i <= last]


def _render(carried: list[_Atom], body: list[_Atom], stack: list[_Atom]) -> str:
    return "".join(atom.raw for atom in carried) + "".join(atom.raw for atom in _trimmed(body)) + _closing(stack)


def _has_text(atoms: list[_Atom]) -> bool:
    return any(_visible(atom) for atom in atoms)


def _check_balanced(html_text: str) -> None:
    stack: list[_Atom] = []
    for atom in _atoms("".join(_ANY_TAG.findall(html_text))):
        stack = _after(stack, atom)
    if stack:
        raise ValueError(f"split_message got <{stack[-1].name}> without its closing tag; every tag must be closed.")


def split_message(html_text: str, limit: int = TELEGRAM_MAX_LENGTH) -> list[str]:
    """Balanced HTML parts of at most ``limit`` UTF-16 units of text each, in order."""
    if limit < 16:
        raise ValueError(f"split_message needs a limit of at least 16, not {limit}.")
    _check_balanced(html_text)
    plain = _plain(html_text)
    if utf16_length(plain) <= limit:
        return [html_text.strip()] if plain.translate(_INVISIBLE).strip() else []
    atoms = _atoms(html_text)
    parts: list[str] = []
    start = 0
    carried: list[_Atom] = []  # the tags still open where the next part starts
    while start < len(atoms):
        scan = _Scan(atoms, start, carried, limit)
        if scan.end == len(atoms):
            boundary = _Boundary(scan.end, 0, scan.end_stack)
        else:
            boundary = scan.best(limit) or _hard_cut(atoms, scan)
        end, stack = boundary.index, boundary.stack
        if end <= start:
            raise ValueError(f"split_message cannot fit any text in a limit of {limit}.")
        while end < len(atoms) and _closes_top(stack, atoms[end]):
            stack = _after(stack, atoms[end])
            end += 1
        body = atoms[start:end]
        if _has_text(body):
            parts.append(_render(carried, body, stack))
        start, carried = end, stack
    return parts
