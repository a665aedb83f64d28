"""Checking a model's answer against the passages it was given, sentence by sentence, before anything is sent.

A sentence (the text up to its ``[n]`` markers) passes when:

* it cites at least one passage, and only passages that were given ([7] of 3 passages fails);
* it is in the question's script (Arabic, or Latin);
* every number it states, and every month or weekday it names, is in a passage it cites (values and ids, so
  Arabic-Indic and Western digits, "November" and "نوفمبر" are alike; an article's date counts);
* every name in it is in a passage it cites: the same word (Arabic prefixes and light suffixes aside, "Libyan"
  for "Libya"), or the same name in the other script by the project's name matcher (Haftar ↔ حفتر). Names are
  the people, organisations and places the span finder sees (capitalised runs, Arabic names after a title or
  in a list, known places), and every word that spells a name of any given passage (so a name moved to the
  wrong passage is caught). Titles and institution words ("Minister", "الوزير") are not names here: they are
  translated, not transliterated.

A sentence that fails is dropped with its reasons; the caller decides what is left to send.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from index.llm.facts import calendar_label, calendar_names, date_facts, number_values
from index.llm.prompt import Passage
from index.text.answer_types import AnswerType
from index.text.chunking import split_sentences
from index.text.names import NameMatcher
from index.text.normalise import is_stopword, light_stem, normalise, term, words
from index.text.scripts import Script, is_arabic, script_of
from index.text.typed_spans import SpanFinder

_MARKERS = re.compile(r"(?:\s*\[\s*\d+(?:\s*[,،]\s*\d+)*\s*\])+")
_TRAILING = re.compile(r"[\s]*[.!?؟…。]*[\"'”’»)]*")
_LEADING = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
# An Arabic word with its article (الوفد، الأميركي) in a name span is mostly a common noun or an adjective of
# origin, translated rather than transliterated; a family name so written (السراج) is caught when a passage has it.
_ARABIC_DEFINITE = re.compile("^[وفبل]?ال")


# Words of names that are translated, not transliterated: titles, ranks and institutions.
def _folded(text: str) -> frozenset[str]:
    return frozenset(normalise(word) for word in text.split())


_ARABIC_TITLES = _folded(
    "الرئيس رئيس الجنرال اللواء العميد العقيد المشير الفريق السفير سفير السيد السيدة الوزير وزير الوزيرة وزيرة"
    " الملك الأمير الشيخ الدكتور المبعوث مبعوث القائد قائد الزعيم زعيم المتحدث متحدث الناطق ناطق المستشار مستشار"
    " النائب نائب المدير مدير الأمين أمين مساعد"
)
_NOT_NAMES = _ARABIC_TITLES | _folded(
    "mr mrs ms dr prof sir general gen brig col lt maj capt adm field marshal president vice prime minister"
    " ministry secretary deputy adviser advisor envoy ambassador spokesman spokeswoman spokesperson commander"
    " chief head king queen prince princess sheikh emir sultan senator governor mayor leader chairman director"
    " national security foreign interior defence defense affairs council government army forces force navy air"
    " party union league agency committee court house parliament assembly republic kingdom state states"
    " united nations department office bank company corporation oil news university special"
    " north south east west northern southern eastern western central libyan arab international"
    " مسؤول مسؤولة حكومة وزارة مجلس جيش قوات حزب مكتب هيئة بعثة منظمة جامعة إدارة مركز لجنة دولة جهاز مؤسسة"
    " al el bin ibn bint abu de di da du van von der la le"  # particles: the name is the word after them
)
_COMPOUND_NAME = re.compile(
    r"(?<![^\W_])(عبد|ابو|ابي)\s+([^\W\d_]+)|(?<![^\W_])([^\W\d_]+)\s+(الله|الرحمن|الدين)(?![^\W_])"
)  # Arabic names of two words that Latin spells as one: عبد الله Abdullah, صنع الله Sanalla
_AR_TOKEN = re.compile(r"[^\W\d_]+|[^\w\s]")
NAMES_AFTER_A_TITLE = 3  # Arabic words read as a name after a title: السفير ريتشارد نورلاند
_NOT_AFTER_A_NAME = _folded("يوم أمس غدا صباح مساء ليلة فجر عام سنة شهر أسبوع")  # a name ends before these


@dataclass(frozen=True)
class Unit:
    """One sentence of the model's answer: its text without the markers, and the passage numbers it cites."""

    text: str
    citations: tuple[int, ...]


@dataclass(frozen=True)
class Check:
    """A sentence and why it fails (no problems: it passes)."""

    unit: Unit
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems


def split_units(reply: str, final: bool = True) -> tuple[list[Unit], int]:
    """The sentences of a reply, each ending with its markers, and how many characters they take. While the reply
    is still streaming (``final`` False), the last sentence is held back until text follows it (another marker or
    a full stop may come). When ``final``, text after the last marker is one more sentence, citing nothing."""
    units: list[Unit] = []
    consumed = 0
    for match in _MARKERS.finditer(reply):
        if match.start() < consumed:
            continue
        end = _TRAILING.match(reply, match.end())
        stop = end.end() if end else match.end()
        if not final and not reply[stop:].strip():
            break
        numbers = tuple(dict.fromkeys(int(n) for n in re.findall(r"\d+", match.group())))
        text = _clean(reply[consumed : match.start()] + reply[match.end() : stop])
        if text:
            units.append(Unit(text, numbers))
        elif units:  # markers alone after a sentence: "… Tripoli. [1] [2]"
            units[-1] = Unit(units[-1].text, tuple(dict.fromkeys(units[-1].citations + numbers)))
        consumed = stop
    if final and _clean(reply[consumed:]):
        units.append(Unit(_clean(reply[consumed:]), ()))
        consumed = len(reply)
    return units, consumed


def _clean(text: str) -> str:
    return _LEADING.sub("", " ".join(text.split())).strip()


@dataclass(frozen=True)
class _Evidence:
    """What one passage (with its heading) states, for checking."""

    terms: frozenset[str]
    matcher: NameMatcher
    numbers: frozenset
    calendar: frozenset[str]


def _variants(word: str) -> set[str]:
    """A name word and its bare forms: Haftar's -> haftar; Libyan -> libya; حفتر stays; الليبية -> ليبي."""
    folded = normalise(word)
    folded = re.sub(r"['’]s?$", "", folded)
    if is_arabic(folded):
        bare = term(folded)
        return {folded, bare, light_stem(bare)}
    forms = {folded}
    for suffix, replacement in (("s", ""), ("n", ""), ("ian", ""), ("i", ""), ("ese", "")):
        if folded.endswith(suffix) and len(folded) - len(suffix) >= 3:
            forms.add(folded[: -len(suffix)] + replacement)
    return forms


def _evidence(passage: Passage) -> _Evidence:
    text = f"{passage.title}\n{passage.source}\n{passage.text}"
    terms: set[str] = set()
    for word in words(text):
        terms |= _variants(word)
    compounds = {"".join(part for part in match.groups() if part) for match in _COMPOUND_NAME.finditer(normalise(text))}
    numbers, calendar = date_facts(passage.published)
    numbers |= set(number_values(text))
    calendar |= set(calendar_names(text))
    return _Evidence(frozenset(terms), NameMatcher(terms | compounds), frozenset(numbers), frozenset(calendar))


class Verifier:
    """Checks the sentences of answers to one question against the passages the model was given."""

    def __init__(self, question: str, passages: Sequence[Passage], finder: SpanFinder) -> None:
        self.script: Script = script_of(question)
        self.passages = {passage.number: passage for passage in passages}
        self._evidence = {passage.number: _evidence(passage) for passage in passages}
        self._finder = finder
        known = {w for passage in passages for w in self._name_words(f"{passage.title}. {passage.text}")}
        self._known_names = frozenset(variant for word in known for variant in _variants(word))
        self._known_matcher = NameMatcher(self._known_names)

    def check(self, unit: Unit) -> Check:
        problems: list[str] = []
        if not unit.citations:
            problems.append("cites no passage")
        unknown = [n for n in unit.citations if n not in self._evidence]
        if unknown:
            problems.append(
                f"cites {''.join(f'[{n}]' for n in unknown)}, but only {len(self._evidence)} passages were given"
            )
        if script_of(unit.text) != self.script:
            problems.append(f"is not in the question's script ({self.script})")
        cited = [self._evidence[n] for n in unit.citations if n in self._evidence]
        if cited:
            problems += self._unsupported(unit, cited)
        return Check(unit, tuple(problems))

    def _unsupported(self, unit: Unit, cited: list[_Evidence]) -> list[str]:
        where = "the passage it cites" if len(cited) == 1 else "the passages it cites"
        problems = [
            f"the number {written} is not in {where}"
            for value, written in number_values(unit.text, checked_only=True).items()
            if not any(value in evidence.numbers for evidence in cited)
        ]
        problems += [
            f"{_calendar_shown(fact, written)} is not in {where}"
            for fact, written in calendar_names(unit.text).items()
            if not any(fact in evidence.calendar for evidence in cited)
        ]
        names = dict.fromkeys([*self._name_words(unit.text), *self._known_name_words(unit.text)])
        problems += [
            f"the name {name} is not in {where}"
            for name in names
            if not any(_has_name(name, evidence) for evidence in cited)
        ]
        return problems

    def _name_words(self, text: str) -> list[str]:
        """The words of the people, organisations and places in ``text``: the span finder's places, its people in
        Latin script (capitalised runs), and Arabic words right after a title."""
        found = [
            word
            for span in self._finder.find(text, AnswerType.PERSON)
            for word in _WORD.findall(text[span.start : span.end])
            if not is_arabic(word)
        ]
        for span in self._finder.find(text, AnswerType.PLACE):
            found += _WORD.findall(text[span.start : span.end])
        found += _arabic_titled_names(text)
        return [word for word in found if _is_name_word(word) and not _ARABIC_DEFINITE.match(normalise(word))]

    def _known_name_words(self, text: str) -> list[str]:
        """The words of ``text`` that spell a name of any given passage, in either script."""
        found = []
        for word in _WORD.findall(text):
            if not (_is_name_word(word) and (word[0].isupper() or is_arabic(word))):
                continue
            forms = _variants(word)
            if forms & self._known_names or any(_spells(form, self._known_matcher) for form in forms):
                found.append(word)
        return found


def _calendar_shown(fact: str, written: str) -> str:
    label = calendar_label(fact)
    return label if normalise(label) == written else f"{label} ({written})"


def _arabic_titled_names(text: str) -> list[str]:
    """Arabic words after a title (its complements الأميركي، المؤسسة skipped), up to a stop word or punctuation."""
    found: list[str] = []
    left = 0
    for token in _AR_TOKEN.findall(text):
        folded = normalise(token)
        if folded in _ARABIC_TITLES or term(folded) in _ARABIC_TITLES:
            left = NAMES_AFTER_A_TITLE
        elif not left or not is_arabic(folded) or is_stopword(folded) or term(folded) in _NOT_AFTER_A_NAME:
            left = 0
        elif not (_ARABIC_DEFINITE.match(folded) or folded in _NOT_NAMES):
            found.append(token)
            left -= 1
    return found


def _is_name_word(word: str) -> bool:
    folded = normalise(word)
    long_enough = len(folded) > (1 if is_arabic(folded) else 2)
    return long_enough and not is_stopword(folded) and folded not in _NOT_NAMES and term(folded) not in _NOT_NAMES


def _spells(form: str, matcher: NameMatcher) -> bool:
    """Whether ``form`` spells a word of the matcher's vocabulary in the other script."""
    return bool(matcher.latin_spellings(form) if is_arabic(form) else matcher.arabic_spellings(form))


def _has_name(name: str, evidence: _Evidence) -> bool:
    forms = _variants(name)
    return bool(forms & evidence.terms) or any(_spells(form, evidence.matcher) for form in forms)


def passed_text(checks: Iterable[Check]) -> str:
    """The sentences that passed, each with its markers, as one text (a draft while the model streams)."""
    return " ".join(f"{c.unit.text} {''.join(f'[{n}]' for n in c.unit.citations)}" for c in checks if c.passed)


def supporting_span(passage_text: str, claims: Sequence[str]) -> tuple[int, int] | None:
    """The sentence of a passage that shares the most words, names (in either script) and numbers with the
    ``claims`` (the answer sentences citing it), as (start, end) in ``passage_text``; None when none shares any."""
    claim_words = {
        variant
        for claim in claims
        for word in _WORD.findall(claim)
        if not is_stopword(normalise(word))
        for variant in _variants(word)
    }
    claim_numbers = {value for claim in claims for value in number_values(claim)}
    best, best_score = None, 0
    for start, end in split_sentences(passage_text):
        sentence = passage_text[start:end]
        terms = {variant for word in words(sentence) for variant in _variants(word)}
        matcher = NameMatcher(terms)
        score = len(claim_words & terms) + len(claim_numbers & set(number_values(sentence)))
        score += sum(1 for word in claim_words - terms if len(word) > 2 and _spells(word, matcher))
        if score > best_score:
            best, best_score = (start, end), score
    return best
