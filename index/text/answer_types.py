"""The kind of answer a question expects, in English and Arabic.

``expected_answer("من التقى حفتر؟")`` is a PERSON question, ``"How many soldiers were killed?"`` a
NUMBER question about soldiers. The question word is looked for where a reader would: at the start
(after و/ف or "and"), after a preposition ("by whom", "in which year", "بقيادة من"), at the end
("led by whom?", "التقى حفتر من؟"), or after "tell me"/"do you know". A من that follows a noun or
a verb inside the question is the preposition "from", not "who" ("ما الذي طلبه الوفد من حفتر؟").
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from index.text.normalise import normalise, strip_prefix, words


class AnswerType(enum.StrEnum):
    PERSON = "person"  # a person or an organisation
    DATE = "date"
    NUMBER = "number"
    PLACE = "place"
    REASON = "reason"
    OPEN = "open"  # what/which/how (manner), yes/no questions


@dataclass(frozen=True)
class ExpectedAnswer:
    """An answer type, the unit a NUMBER question names ("soldiers", "الجنود", "money"), the question words matched."""

    type: AnswerType
    unit: str | None = None
    cues: tuple[str, ...] = ()


def _fold_all(*groups: str) -> frozenset[str]:
    return frozenset(normalise(word) for group in groups for word in group.split())


# Head nouns that decide what "what/which/ما/أي + noun" asks for (Arabic without ال).
_NOUN_TYPES: dict[AnswerType, frozenset[str]] = {
    AnswerType.DATE: _fold_all(
        "year years date day month time decade century period era when",
        "عام سنة يوم شهر تاريخ وقت موعد توقيت قرن ساعة",
    ),
    AnswerType.PLACE: _fold_all(
        "city country town region province place capital state village area location district port base"
        " continent island neighbourhood neighborhood governorate",
        "مدينة بلد دولة منطقة مكان عاصمة بلدة قرية ولاية محافظة إقليم موقع ميناء حي مطار قارة جزيرة",
    ),
    AnswerType.PERSON: _fold_all(
        "person man woman people organisation organization group company party official leader general"
        " minister president ambassador agency body militia envoy commander spokesman spokesperson king"
        " prince team member members side",
        "شخص رجل امرأة جهة منظمة جماعة حزب شركة مسؤول قائد رئيس وزير سفير زعيم طرف هيئة مؤسسة تنظيم فصيل"
        " مبعوث جنرال شخصية شخصيات ملك أمير متحدث ناطق أعضاء عضو",
    ),
    AnswerType.NUMBER: _fold_all(
        "number amount percentage percent proportion share population toll total cost price size age",
        "عدد مقدار حجم نسبة قيمة كمية عمر مدة تكلفة سعر حصيلة مساحة مسافة طول",
    ),
    AnswerType.REASON: _fold_all(
        "reason reasons cause causes motive motives purpose why",
        "سبب أسباب دافع دوافع هدف غرض داعي دواعي مبرر ذريعة",
    ),
}
# Measure nouns whose unit is a class rather than the next word.
_MEASURE_UNITS = {
    **dict.fromkeys(_fold_all("percentage percent proportion share نسبة"), "percent"),
    **dict.fromkeys(_fold_all("cost price قيمة تكلفة سعر ثمن"), "money"),
    **dict.fromkeys(_fold_all("age عمر"), "age"),
    **dict.fromkeys(_fold_all("مدة طول"), "duration"),
}
_COUNT_NOUNS = _fold_all("عدد مقدار حجم كمية حصيلة number amount")  # "عدد X": the unit is X
_EN_FILLER = _fold_all("is was are were the a an did does do has have had exactly precisely of kind")
_AR_FILLER = _fold_all("هو هي هم هما هن الذي التي الذين كان كانت يكون تكون")
_EN_AUX = _fold_all("is are was were do does did has have had can could will would should may might")
_EN_PREPOSITIONS = _fold_all("by to for from with in at on of about since until till after before during into")
_EN_ASKING = _fold_all("know known tell ask asked explain wonder say me us show find clear")
_EN_HOW_NUMBER = {"many": None, "much": None, "long": "duration", "old": "age", "far": "distance"}
_EN_HOW_SIZE = _fold_all("big large tall high often deep wide heavy fast small")
_EN_MONEY_VERBS = _fold_all("cost costs pay paid spend spent worth earn earned raise raised")
_EN_REASON_VERBS = _fold_all("caused prompted led motivated drove triggered made")
_EN_WH = _fold_all("who whom whose when where why how what which")
_EN_STOP = _fold_all(
    "is was are were be been the a an did does do has have had will would can could should of in on at to for by"
    " from with that this these those it its they he she we you i killed"
)

_AR_PREFIXES = ("و", "ف")
_CLAUSE_MARK = re.compile("[،,:؛;]")
_AR_WH = _fold_all("من متى أين لماذا لم كم ما ماذا أي أية كيف هل ممن لمن عمن بمن")
_AR_PREPOSITIONS = _fold_all("مع إلى على عن بواسطة بقيادة برئاسة قبل لدى عند بحق ضد بين حساب")
_AR_NOT_WHO_NEXT = _fold_all("أين أي أية أجل خلال بين حيث جانب جهة ضمن بعد")  # "من أين": "from where"
_AR_REASON_VERBS = _fold_all("دفع أدى تسبب دعا حمل")
_AR_UNIT_STOP = _fold_all("من في على الى إلى عن قتل قتلوا بلغ يبلغ تبلغ بلغت")
_AR_MEASURE_WORDS = _fold_all("مرة سنة ساعة دقيقة مليون ألف مليار كيلومتر كلم ميل برميل دولار يورو دينار جنيه طن متر")


def expected_answer(question: str) -> ExpectedAnswer:
    """The answer type ``question`` expects, with a unit for NUMBER questions and the question words matched."""
    tokens = words(question)
    if not tokens:
        return ExpectedAnswer(AnswerType.OPEN)
    if any(_is_arabic_word(token) for token in tokens[:3]) or not any(token.isascii() for token in tokens):
        clause_starts = {len(words(question[: match.end()])) for match in _CLAUSE_MARK.finditer(question)}
        found = _arabic(tokens, clause_starts)
    else:
        found = _english(tokens)
    return found or ExpectedAnswer(AnswerType.OPEN)


def _is_arabic_word(token: str) -> bool:
    return any("\u0621" <= ch <= "\u064a" for ch in token)


def _noun_type(noun: str) -> AnswerType | None:
    for answer_type, nouns in _NOUN_TYPES.items():
        if noun in nouns or strip_prefix(noun) in nouns:
            return answer_type
    return None


# English ---------------------------------------------------------------------------------------


def _english(tokens: list[str]) -> ExpectedAnswer | None:
    for at, token in enumerate(tokens):
        if token not in _EN_WH:
            continue
        before = tokens[at - 1] if at else ""
        leading = at == 0 or all(word in {"and", "so", "but", "then", "also", "please", "or"} for word in tokens[:at])
        embedded = before in _EN_PREPOSITIONS or before in _EN_ASKING or before in {"and", "or"}
        if leading or embedded or at == len(tokens) - 1 or token == "whom":
            found = _english_phrase(tokens, at)
            if found:
                return found
    if tokens[0] in {"name", "list", "identify"}:  # "Name the members of the delegation"
        found = _english_phrase(["what", *tokens[1:]], 0)
        if found and found.type is not AnswerType.OPEN:
            return found
        return ExpectedAnswer(AnswerType.PERSON, cues=(tokens[0],))
    return None


def _english_phrase(tokens: list[str], at: int) -> ExpectedAnswer | None:
    token, rest = tokens[at], tokens[at + 1 :]
    nxt = rest[0] if rest else ""
    if token in {"who", "whom", "whose"}:
        return ExpectedAnswer(AnswerType.PERSON, cues=(token,))
    if token == "when":
        return ExpectedAnswer(AnswerType.DATE, cues=(token,))
    if token == "where":
        return ExpectedAnswer(AnswerType.PLACE, cues=(token,))
    if token == "why":
        return ExpectedAnswer(AnswerType.REASON, cues=(token,))
    if token == "how":
        if nxt in _EN_HOW_NUMBER:
            unit = _EN_HOW_NUMBER[nxt] or _english_unit(rest[1:], money=nxt == "much")
            return ExpectedAnswer(AnswerType.NUMBER, unit, (token, nxt))
        if nxt in _EN_HOW_SIZE:
            return ExpectedAnswer(AnswerType.NUMBER, None, (token, nxt))
        return ExpectedAnswer(AnswerType.OPEN, cues=(token,))
    # what / which + head noun
    if rest and rest[0] in _EN_REASON_VERBS | {"caused", "cause"}:
        return ExpectedAnswer(AnswerType.REASON, cues=(token, rest[0]))
    if nxt in _EN_AUX and nxt not in {"is", "was", "are", "were"}:
        return ExpectedAnswer(AnswerType.OPEN, cues=(token,))  # "what did the president say": a subject follows
    content = 0
    for index, word in enumerate(rest[:6]):
        if word in _EN_FILLER:
            continue
        content += 1
        if word == "name" and "of" in rest[index + 1 : index + 2]:
            following = [w for w in rest[index + 2 : index + 5] if w not in _EN_FILLER]
            kind = _noun_type(following[0]) if following else None
            found_type = AnswerType.PLACE if kind is AnswerType.PLACE else AnswerType.PERSON
            return ExpectedAnswer(found_type, cues=(token, word))
        kind = _noun_type(word)
        if kind is not None and rest[index + 1 : index + 2] == ["s"]:
            kind = None  # "the ambassador's message": the head noun comes later
        if kind is None:
            if content < 2:
                continue  # one modifier: "the death toll", "the exact date"
            break
        if kind is AnswerType.NUMBER:
            unit = _MEASURE_UNITS.get(word)
            if unit is None and word in _COUNT_NOUNS:
                after = [w for w in rest[index + 1 : index + 4] if w not in _EN_FILLER]
                unit = after[0] if after else None
            return ExpectedAnswer(kind, unit, (token, word))
        return ExpectedAnswer(kind, cues=(token, word))
    return ExpectedAnswer(AnswerType.OPEN, cues=(token,))


def _english_unit(rest: list[str], *, money: bool) -> str | None:
    """The counted noun after "how many/much": "soldiers" in "how many Egyptian soldiers died"."""
    while rest and rest[0] in {"of", "the"}:
        rest = rest[1:]
    nouns: list[str] = []
    for word in rest[:3]:
        if word in _EN_STOP or word in _EN_AUX:
            break
        if money and word in _EN_MONEY_VERBS:
            return "money"
        nouns.append(word)
    if not nouns:
        return "money" if money and any(word in _EN_MONEY_VERBS for word in rest) else None
    if len(nouns) > 1 and nouns[1].endswith("s") and not nouns[0].endswith("s"):
        return nouns[1]  # an adjective before the plural noun
    return nouns[0]


# Arabic ----------------------------------------------------------------------------------------


def _arabic_word(token: str) -> str:
    """A question word without و/ف before it: ومن -> من, فكم -> كم."""
    if token not in _AR_WH and token[:1] in _AR_PREFIXES and token[1:] in _AR_WH:
        return token[1:]
    return token


def _arabic(tokens: list[str], clause_starts: set[int]) -> ExpectedAnswer | None:
    bare = [_arabic_word(token) for token in tokens]
    for at, word in enumerate(bare):
        if word not in _AR_WH:
            continue
        rest = bare[at + 1 :]
        if word == "من":
            before = bare[at - 1] if at and at not in clause_starts else ""
            pronoun = (not before and (not rest or rest[0] not in _AR_NOT_WHO_NEXT)) or not rest
            pronoun = pronoun or before in _AR_PREPOSITIONS or (rest[0] in _fold_all("هو هي هم الذي التي الذين"))
            if not before and rest and rest[0] in _fold_all("أين أي أية"):
                continue  # "من أين" / "من أي بلد": the next word asks
            if not before and rest[:1] == ["اجل"]:
                return ExpectedAnswer(AnswerType.REASON, cues=("من", "اجل"))
            if pronoun:
                return ExpectedAnswer(AnswerType.PERSON, cues=("من",))
            continue
        if word in {"ممن", "لمن", "عمن", "بمن"}:
            return ExpectedAnswer(AnswerType.PERSON, cues=(word,))
        if word == "متي":
            return ExpectedAnswer(AnswerType.DATE, cues=(word,))
        if word == "اين":
            return ExpectedAnswer(AnswerType.PLACE, cues=(word,))
        if word == "لماذا":
            return ExpectedAnswer(AnswerType.REASON, cues=(word,))
        if word == "لم":
            if at == 0 and rest and (rest[0][:1] not in "يتن" or rest[0] == "تم"):
                return ExpectedAnswer(AnswerType.REASON, cues=(word,))
            continue  # لم + imperfect verb: the negation "did not"
        if word == "كم":
            return _arabic_number(rest, cues=("كم",))
        if word in {"ما", "ماذا", "اي", "ايه"}:
            return _arabic_what(word, rest)
        if word in {"كيف", "هل"}:
            return ExpectedAnswer(AnswerType.OPEN, cues=(word,))
    return None


def _arabic_number(rest: list[str], cues: tuple[str, ...]) -> ExpectedAnswer:
    for index, word in enumerate(rest[:3]):
        noun = strip_prefix(word)
        if noun in _MEASURE_UNITS:
            return ExpectedAnswer(AnswerType.NUMBER, _MEASURE_UNITS[noun], (*cues, word))
        if noun in _COUNT_NOUNS:
            unit = next((w for w in rest[index + 1 : index + 3] if w not in _AR_FILLER and w != "من"), None)
            return ExpectedAnswer(AnswerType.NUMBER, unit, (*cues, word))
    if rest[:1] == ["من"] and len(rest) > 1:  # "كم من الجنود", "كم من الوقت"
        return ExpectedAnswer(AnswerType.NUMBER, "duration" if rest[1] == "الوقت" else rest[1], cues)
    if rest and rest[0] not in _AR_UNIT_STOP:
        word = rest[0]
        if (word.endswith("ا") and len(word) >= 4) or word in _AR_MEASURE_WORDS or word.endswith("ه"):
            return ExpectedAnswer(AnswerType.NUMBER, word, cues)  # the counted noun: كم دولارا، كم مرة
    return ExpectedAnswer(AnswerType.NUMBER, None, cues)


def _arabic_what(word: str, rest: list[str]) -> ExpectedAnswer:
    cues: tuple[str, ...] = (word,)
    for index, token in enumerate(rest[:4]):
        if token in _AR_FILLER:
            if rest[index + 1 : index + 2] and rest[index + 1] in _AR_REASON_VERBS:
                return ExpectedAnswer(AnswerType.REASON, cues=(*cues, rest[index + 1]))
            continue
        noun = strip_prefix(token)
        if noun == "اسم":
            following = [w for w in rest[index + 1 : index + 3] if w not in _AR_FILLER]
            kind = _noun_type(following[0]) if following else None
            found_type = AnswerType.PLACE if kind is AnswerType.PLACE else AnswerType.PERSON
            return ExpectedAnswer(found_type, cues=(*cues, token))
        kind = _noun_type(noun)
        if kind is AnswerType.NUMBER:
            return _arabic_number(rest[index:], cues)
        if kind is not None:
            return ExpectedAnswer(kind, cues=(*cues, token))
        break
    return ExpectedAnswer(AnswerType.OPEN, cues=cues)
