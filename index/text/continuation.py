"""Whether a sentence continues the list or answer of the sentence before it.

"who met Haftar?" is answered by a sentence naming three members of the delegation and the
next one, "كما ضم أيضا العميد ستيفن ديميليانو …", naming the fourth. ``continues(first, second)``
says whether ``second`` carries on ``first``: it opens with an addition ("كما ضم أيضا", "وكذلك",
"In addition", "also" among its first words), or ``first`` ends with a colon or opens a list
("ضم", "وهم", "included", "consisted of") and ``second`` is an item of it (a bullet, a number,
an ordinal, or in Arabic و before a title: "والسفير …").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.text.folding import fold_phrase

ALSO_WITHIN_WORDS = 4  # "The delegation also included …": "also" among the first words
WORD_END = r"(?![^\W_])"


def _cues(phrases: str) -> str:
    """A regex alternation of ``|``-separated phrases, folded like the text they are matched in."""
    return "|".join(re.escape(fold_phrase(phrase)) for phrase in phrases.split("|"))


_ADDITION_CUES = _cues(
    "كما ضم أيضا|كما ضمت أيضا|كما ضم|كما ضمت|كما يضم|كما تضم|وضم|وضمت|ويضم|وتضم|كما شمل|كما شملت|وشمل|وشملت"
    "|وكذلك|كذلك|إضافة إلى|بالإضافة إلى|بالاضافة الى|اضافة الى|فضلا عن|علاوة على|ومن بينهم|ومنهم|كما شارك"
    "|وشارك أيضا|إلى جانب|الى جانب"
    "|also|and also|as well as|in addition|additionally|moreover|furthermore|besides|along with|alongside|plus"
    "|the others were|others included|among them|they were joined by"
)
_NEW_TOPIC_CUES = _cues(
    "من ناحية أخرى|من جهة أخرى|في المقابل|في سياق آخر|على صعيد آخر|وفي سياق منفصل|on the other hand|meanwhile"
    "|however|separately|in other news|elsewhere"
)
_ENUMERATION_CUES = _cues(
    "ضم|ضمت|يضم|تضم|هم|هما|هي|من بينهم|تكون|تكونت|يتكون|تتكون|تألف|تألفت|يتألف|شمل|شملت|يشمل|تشمل"
    "|included|include|includes|including|consisted of|consists of|comprised|comprises|composed of"
    "|made up of|were|are|namely|the following|التالية|التالي|كالتالي|الآتية|الآتي"
)
_ADDITION = re.compile(rf"^(?:{_ADDITION_CUES}){WORD_END}")
_ARABIC_ALSO_NEAR_START = re.compile(rf"^كما(?:\s+\S+){{0,3}}\s+(?:ايضا|كذلك){WORD_END}")
_NEW_TOPIC = re.compile(rf"^(?:{_NEW_TOPIC_CUES}){WORD_END}")
_ENUMERATION_INTRO = re.compile(rf"(?<![^\W_])[وف]?(?:{_ENUMERATION_CUES}){WORD_END}")
_ORDINALS = _cues("أولا|ثانيا|ثالثا|رابعا|خامسا|أخيرا|first|second|third|fourth|fifth|finally|lastly")
_TITLES = _cues(
    "السفير|العميد|اللواء|العقيد|الجنرال|المشير|الوزير|الرئيس|السيد|السيدة|الدكتور|المبعوث|مسؤول|مسؤولة"
    "|المسؤول|المسؤولة|نائب|مستشار|المستشار"
)
_ITEM_START = re.compile(
    rf"^(?:[-–—•*·▪◦]\s*|\(?\d{{1,2}}\s*[.)\-]\s*|(?:{_ORDINALS}){WORD_END}|و(?:{_TITLES}){WORD_END})"
)
_OPENING_MARKS = "\"'«“‘([ "


@dataclass(frozen=True)
class Continuation:
    """Whether the second sentence continues the first, and why (a short English phrase), or why not."""

    continues: bool
    reason: str

    def __bool__(self) -> bool:
        return self.continues


def continues(first: str, second: str) -> Continuation:
    """Whether ``second`` continues the list or answer given in ``first`` (the sentence before it)."""
    head = fold_phrase(second).lstrip(_OPENING_MARKS)
    if not head:
        return Continuation(False, "the second sentence is empty")
    if _NEW_TOPIC.match(head):
        return Continuation(False, "the second sentence turns to another subject")
    cue = _ADDITION.match(head) or _ARABIC_ALSO_NEAR_START.match(head)
    if cue:
        return Continuation(True, f"the second sentence adds to the first: {cue.group()!r}")
    if "also" in head.split()[:ALSO_WITHIN_WORDS]:
        return Continuation(True, "the second sentence adds to the first: 'also'")
    tail = first.rstrip().rstrip("\"'»”’)]").rstrip()
    if tail.endswith((":", "：")):
        return Continuation(True, "the first sentence ends with a colon")
    item = _ITEM_START.match(head)
    if item and _ENUMERATION_INTRO.search(fold_phrase(first)):
        return Continuation(
            True, f"the second sentence is an item of the list the first opens: {item.group().strip()!r}"
        )
    if item and _ITEM_START.match(fold_phrase(first).lstrip(_OPENING_MARKS)) and not item.group().startswith("و"):
        return Continuation(True, "both sentences are items of one list")
    return Continuation(False, "no sign that the second sentence continues the first")
