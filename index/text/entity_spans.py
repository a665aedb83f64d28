"""Where people, organisations and places are named in a sentence, in English and Arabic.

English names are runs of capitalised words ("Brig. Gen. Steven deMiliano", "Department of
Energy"); Arabic has no capitals, so a name is found after a title ("السفير الأميركي لدى ليبيا
ريتشارد نورلاند"), in an enumeration ("ضم …", "وهم …"), or because the caller knows it (an index's
names). Places are known names (countries and large cities), capitalised words after in/at/from,
and Arabic words after a place word ("بمدينة درنة", "العاصمة طرابلس"). Offsets are into the
original sentence (``Folded.original``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from index.text.folding import Folded, fold, fold_phrase, folded_words
from index.text.normalise import ENGLISH_STOPWORDS, is_stopword
from index.text.places import Places

Span = tuple[int, int]
_AR_PREFIX = re.compile("^(?:[وف]?[بلك]|[وف])(?=...)")


class PhraseMatcher:
    """Finds known phrases (one or more words) in folded text, allowing Arabic و ف ب ل ك before them."""

    def __init__(self, phrases: Iterable[str]) -> None:
        self._by_first: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        for phrase in phrases:
            tokens = tuple(fold_phrase(phrase).split())
            if tokens:
                self._by_first[tokens[0]].append(tokens)
        for candidates in self._by_first.values():
            candidates.sort(key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._by_first)

    def find(self, folded: Folded, *, capitalised_latin: bool = False) -> list[Span]:
        """Original spans of the phrases in ``folded`` (Latin ones only where written with a capital, if asked)."""
        found: list[Span] = []
        tokens = folded.words()
        for index, (start, _end, word) in enumerate(tokens):
            for first, skip in _first_word_forms(word):
                for phrase in self._by_first.get(first, ()):
                    following = [token[2] for token in tokens[index + 1 : index + len(phrase)]]
                    if following != list(phrase[1:]):
                        continue
                    span = folded.span(start + skip, tokens[index + len(phrase) - 1][1])
                    if capitalised_latin and word.isascii() and not folded.original[span[0]].isupper():
                        continue
                    found.append(span)
                    break
                else:
                    continue
                break
        return found


def _first_word_forms(word: str) -> list[tuple[str, int]]:
    """A word and its forms without an Arabic prefix, with how many folded letters each drops."""
    forms = [(word, 0)]
    prefix = _AR_PREFIX.match(word)
    if prefix:
        forms.append((word[prefix.end() :], prefix.end()))
    if word.startswith("لل") and len(word) > 4:
        forms.append(("ال" + word[2:], 1))  # للقاهرة -> القاهرة
    return forms


# English ---------------------------------------------------------------------------------------
_CAP = r"(?:[A-ZÀ-ÖØ-Þ][\w'’.-]*|(?:al|el|as|ash|at|az|ad)-[A-Z][\w'’-]*|(?:de|di|da|du|van|von|mc|mac)[A-Z][\w'’-]*)"
_CONNECTORS = r"(?:of|for|the|de|bin|ibn|bint|abu|al|el|von|van|der|da|du|la|le)"
_CAP_RUN = re.compile(rf"(?<![\w'’-]){_CAP}(?:\s+(?:{_CONNECTORS}\s+)*{_CAP})*")
_TITLES_EN = folded_words(
    "mr mrs ms dr prof gen general brig col lt maj capt adm sgt president ambassador minister secretary senator"
    " sen rep gov governor king prince sheikh field marshal envoy chief commander"
)
_CALENDAR_EN = folded_words(
    "january february march april may june july august september october november december monday tuesday"
    " wednesday thursday friday saturday sunday"
)
_OPENERS_EN = folded_words(
    "however meanwhile officials according after before earlier later last yesterday since because although while"
    " despite amid following until unless instead therefore thus"
)
_IN_PLACE = re.compile(r"(?:^|\s)(?:in|at|near|outside|inside)\s+(?:the\s+)?$", re.I)
_PLACE_PREPOSITIONS = re.compile(
    r"(?:^|\s)(?:in|at|from|near|outside|into|to|across|around|inside|towards?|via|of)\s+(?:the\s+)?$", re.I
)
_REGION_EN = re.compile(r"(?:eastern|western|northern|southern|central|north|south|east|west)(?:ern)?\s+$", re.I)


def _capitalised_runs(text: str) -> list[Span]:
    """Runs of capitalised words, cut after a word that ends a sentence, without leading function words."""
    runs: list[Span] = []
    for match in _CAP_RUN.finditer(text):
        piece: list[tuple[int, int]] = []
        for word in re.finditer(r"\S+", match.group()):
            piece.append((match.start() + word.start(), match.start() + word.end()))
            token = word.group()
            if token.endswith(".") and not _is_abbreviation(token):
                runs += _trimmed_run(text, piece)
                piece = []
        runs += _trimmed_run(text, piece)
    return runs


def _is_abbreviation(token: str) -> bool:
    bare = token.rstrip(".")
    return len(bare) == 1 or "." in bare or bare.lower() in _TITLES_EN


def _trimmed_run(text: str, piece: list[tuple[int, int]]) -> list[Span]:
    while piece and _is_function_word(text[piece[0][0] : piece[0][1]]):
        piece = piece[1:]
    while piece and _is_function_word(text[piece[-1][0] : piece[-1][1]]):
        piece = piece[:-1]  # a connector left at the end
    if not piece:
        return []
    start, end = piece[0][0], piece[-1][1]
    last = text[piece[-1][0] : end]
    if not _is_abbreviation(last):
        end -= len(last) - len(re.sub(r"(?:['’]s?|[.,'’])+$", "", last))
    return [(start, end)] if start < end else []


def _is_function_word(token: str) -> bool:
    word = token.lower().strip(".,'’")
    return word in ENGLISH_STOPWORDS or word in _OPENERS_EN


def _is_calendar_or_title(text: str) -> bool:
    return all(word.lower().strip(".") in _CALENDAR_EN | _TITLES_EN for word in text.split())


# Arabic ----------------------------------------------------------------------------------------
_AR_TITLES = folded_words(
    "الرئيس الجنرال اللواء العميد العقيد المشير الفريق السفير السيد السيدة الوزير الوزيرة الملك الأمير الشيخ"
    " الدكتور المبعوث القائد الزعيم المتحدث الناطق المستشار الباحث الصحفي النائب المهندس المدير الأمين العاهل"
    " المقدم الرائد النقيب رئيس رئيسة وزير وزيرة مبعوث نائب قائد زعيم مستشار مدير متحدث ناطق أمين مساعد سفير"
    " مسؤول مسؤولة"
)
_AR_INSTITUTIONS = folded_words(
    "حكومة وزارة مجلس جيش قوات حزب مكتب هيئة بعثة منظمة جامعة إدارة مركز لجنة دولة جهاز مؤسسة مديرية قيادة"
)
_AR_NAME_JOINERS = folded_words("عبد أبو أبي بن ابن بنت آل")
_AR_ENUMERATION = re.compile(
    r"(?<![^\W_])(?:[وف]?(?:ضم|ضمت|يضم|تضم|ضما)|وهم|وهما|من\s+بينهم|بينهم|هم\s*:)(?![^\W_])\s*:?"
)
_AR_PLACE_WORDS = folded_words(
    "مدينة بلدة عاصمة منطقة ولاية محافظة إقليم حي ميناء مينائي قرية مطار ساحة شارع مخيم جزيرة واحة مدن"
)
_AR_REGION = re.compile(r"(?:شرق|شرقي|غرب|غربي|شمال|شمالي|جنوب|جنوبي|وسط)\s+$")
_PUNCT_BETWEEN = re.compile(r"[^\w\s]")
MAX_ENUMERATION_WORDS = 40
_AR_ALSO = folded_words("أيضا كذلك")


def _gap_has_punctuation(text: str, end: int, start: int) -> bool:
    return bool(_PUNCT_BETWEEN.search(text[end:start]))


def _arabic_title_spans(folded: Folded) -> list[Span]:
    text, tokens, spans = folded.text, folded.words(), []
    for index, (start, end, word) in enumerate(tokens):
        bare = word[1:] if word[:1] in "وبل" and word[1:] in _AR_TITLES else word
        if bare not in _AR_TITLES:
            continue
        skip = len(word) - len(bare)
        last, j = end, index + 1

        def next_ok(k: int) -> bool:
            return k < len(tokens) and not _gap_has_punctuation(text, tokens[k - 1][1], tokens[k][0])

        complements = 0
        while next_ok(j) and complements < 5:  # الأميركي، لدى ليبيا، باسم الجيش، حكومة الوفاق
            w = tokens[j][2]
            pair = w in {"لدي", "باسم"} or (
                w in _AR_INSTITUTIONS and j + 1 < len(tokens) and tokens[j + 1][2][:2] == "ال"
            )
            if w.startswith(("ال", "لل")) and not is_stopword(w):
                j += 1
            elif pair and next_ok(j + 1):
                j += 2
            else:
                break
            complements += 1
            last = tokens[j - 1][1]
        names = 0
        while next_ok(j) and names < 2:
            w = tokens[j][2]
            if w in _AR_NAME_JOINERS and next_ok(j + 1):
                j += 2
            elif not w.startswith("ال") and not is_stopword(w) and not w.isdigit() and w not in _AR_TITLES:
                j += 1
            else:
                break
            names += 1
            last = tokens[j - 1][1]
        if names == 1 and next_ok(j) and tokens[j][2].startswith("ال") and not is_stopword(tokens[j][2]):
            after_end = next_ok(j + 1) is False or is_stopword(tokens[j + 1][2])
            if tokens[j][2].endswith("ي") or after_end:  # a family name: فايز السراج، أحمد المسماري
                last = tokens[j][1]
        if last > end or bare.startswith("ال"):
            spans.append(folded.span(start + skip, last))
    return spans


def _arabic_enumeration_spans(folded: Folded) -> list[Span]:
    """The list after ضم / وهم / من بينهم, up to the end of the sentence or a comma before a function word."""
    text, spans = folded.text, []
    for match in _AR_ENUMERATION.finditer(text):
        stop = re.compile(r"[.;؛!?؟]").search(text, match.end())
        end = stop.start() if stop else len(text)
        words = list(re.finditer(r"\S+", text[match.end() : end]))[:MAX_ENUMERATION_WORDS]
        while words and words[0].group() in _AR_ALSO:
            words = words[1:]
        for k in range(1, len(words)):
            if words[k - 1].group().endswith(("،", ",")) and is_stopword(words[k].group().strip("،,")):
                words = words[:k]
                break
        if words:
            last = words[-1]
            spans.append(
                folded.span(match.end() + words[0].start(), match.end() + last.start() + len(last.group().rstrip("،,")))
            )
    return spans


# Public ----------------------------------------------------------------------------------------


def person_spans(folded: Folded, names: PhraseMatcher, places: Places) -> list[Span]:
    """Spans naming a person or an organisation."""
    original = folded.original
    spans = names.find(folded)
    for start, end in _capitalised_runs(original):
        run = original[start:end]
        before = original[:start].rstrip(" \"'“«(")
        at_sentence_start = not before or before[-1] in ".!?"
        if _is_calendar_or_title(run) or run in places or _IN_PLACE.search(original[:start]):
            continue
        if at_sentence_start and " " not in run and (start, end) not in spans:
            continue  # one capitalised word opening the sentence may be any word
        spans.append((start, end))
    spans += _arabic_title_spans(folded)
    spans += _arabic_enumeration_spans(folded)
    return spans


def names_someone(span_text: str) -> bool:
    """Whether a person span holds a name, not only a title and what it is of ("مسؤولة الشرق الأوسط", the
    Middle East official): a word that is no title, institution or function word and has no article."""
    for word in fold(span_text).text.split():
        word = word.strip(".,،:;\"'()«»")
        if not word or word.isdigit() or is_stopword(word):
            continue
        if word.isascii():
            if word[:1].isalpha() and not _is_calendar_or_title(word):
                return True
            continue
        bare = word[1:] if word[:1] in "وبل" and word[1:] in _AR_TITLES | _AR_INSTITUTIONS else word
        if bare not in _AR_TITLES and bare not in _AR_INSTITUTIONS and not bare.startswith(("ال", "لل")):
            return True
    return False


def place_spans(folded: Folded, place_names: PhraseMatcher) -> list[Span]:
    """Spans naming a place; ``place_names`` is a PhraseMatcher over known places (see ``Places``)."""
    original, text = folded.original, folded.text
    spans = []
    for start, end in place_names.find(folded, capitalised_latin=True):
        region = (_REGION_EN if original[start].isascii() else _AR_REGION).search(original[:start])
        spans.append((region.start() if region else start, end))
    for start, end in _capitalised_runs(original):
        run = original[start:end]
        if _PLACE_PREPOSITIONS.search(original[:start]) and not _is_calendar_or_title(run.split()[0]):
            spans.append((start, end))
    tokens = folded.words()
    for index, (start, end, word) in enumerate(tokens):
        skip = _place_word_prefix(word)
        if skip is None:
            continue
        last = end
        for k in range(index + 1, min(index + 3, len(tokens))):
            w = tokens[k][2]
            if _gap_has_punctuation(text, tokens[k - 1][1], tokens[k][0]) or is_stopword(w) or w.isdigit():
                break
            if _place_word_prefix(w) is not None:
                break  # the next place word starts its own span: حي المغار | بمدينة درنة
            last = tokens[k][1]
        if last > end:
            spans.append(folded.span(start + skip, last))
    return spans


def _place_word_prefix(word: str) -> int | None:
    """How many letters of prefix stand before a place word (بمدينة -> 1, العاصمة -> 0), or None."""
    for skip in range(3):
        if skip and not re.fullmatch("[وف]?[بل]?", word[:skip]):
            break
        core = word[skip:]
        if core in _AR_PLACE_WORDS or (core.startswith("ال") and core[2:] in _AR_PLACE_WORDS):
            return skip
    return None
