"""Names across scripts: Haftar ↔ حفتر, Sarraj ↔ السراج, Pompeo ↔ بومبيو, Tripoli ↔ طرابلس.

A word is reduced to a *skeleton*: its consonants mapped to sound classes shared by both
scripts (ب and b, p; ت ط ث and t, th; ج غ and j, g, gh; …) and the vowels it writes
(Latin a e i o u w y; Arabic ا و ي, ع ء, a final ة). Arabic leaves short vowels unwritten,
so two words match when their consonants are the same and every vowel the Arabic spelling
writes stands where the Latin spelling has a vowel of that kind too. Latin spellings that can be heard
several ways (``ch`` as تش, ش or ك; ``c`` as ك or س) give several skeletons.

Matches are looked up in a vocabulary (the terms of an index), so a question's name is
only ever matched to spellings that occur in the articles. A longer Arabic spelling may
carry one more final consonant (Tripoli ↔ طرابلس, Tarabulus).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence

from index.text.normalise import normalise, term
from index.text.scripts import is_arabic, is_latin

MIN_CONSONANTS = 2  # a name with fewer consonants is too ambiguous to look up
MAX_VARIANTS = 32
SIDES = ("arabic", "latin")  # the vocabulary's terms that may spell a Latin name, and an Arabic one

# Consonants map to upper-case sound classes; vowels stay as written (Latin a e i o u w y,
# Arabic ا و ي ع ء and a final ه/ة), so a skeleton's vowels can be compared by quality.
_ARABIC_CLASSES = {
    "ب": "B",
    "ت": "T",
    "ط": "T",
    "ث": "T",
    "ج": "G",
    "غ": "G",
    "ق": "K",
    "ك": "K",
    "د": "D",
    "ض": "D",
    "ذ": "D",
    "س": "S",
    "ص": "S",
    "ز": "Z",
    "ظ": "Z",
    "ش": "X",
    "ف": "F",
    "ل": "L",
    "م": "M",
    "ن": "N",
    "ر": "R",
    "ح": "H",
    "خ": "H",
    "ه": "H",
    "ا": "ا",
    "و": "و",
    "ي": "ي",
    "ع": "ع",
    "ء": "ء",
}
# Which Latin vowels an Arabic vowel letter may write; ع and ء may also write none.
_VOWEL_QUALITY = {"ا": "aeou", "ي": "ieya", "و": "ouw", "ه": "ae"}  # ديفيد David, ترامب Trump
_SILENT = "عء"
# Latin letter groups, longest first, each with the classes it may be heard as.
_LATIN_GROUPS: list[tuple[str, tuple[str, ...]]] = [
    ("sch", ("X",)),
    ("tch", ("TX",)),
    ("sh", ("X",)),
    ("ch", ("TX", "X", "K")),
    ("kh", ("H", "K")),
    ("gh", ("G",)),
    ("ph", ("F",)),
    ("th", ("T",)),
    ("dh", ("D",)),
    ("ck", ("K",)),
    ("dj", ("G",)),
    ("b", ("B",)),
    ("p", ("B",)),
    ("t", ("T",)),
    ("d", ("D",)),
    ("j", ("G",)),
    ("g", ("G",)),
    ("k", ("K",)),
    ("q", ("K",)),
    ("c", ("K", "S")),
    ("x", ("KS",)),
    ("s", ("S",)),
    ("z", ("Z",)),
    ("f", ("F",)),
    ("v", ("F",)),
    ("l", ("L",)),
    ("m", ("M",)),
    ("n", ("N",)),
    ("r", ("R",)),
    ("h", ("H",)),
] + [(vowel, (vowel,)) for vowel in "aeiouwy"]


def _is_consonant(symbol: str) -> bool:
    return "A" <= symbol <= "Z"


def _tidy(symbols: str) -> str:
    """Collapse doubled consonants (Sarraj) and drop an H after a final vowel (Sarah)."""
    out: list[str] = []
    for symbol in symbols:
        if not (out and out[-1] == symbol and _is_consonant(symbol)):
            out.append(symbol)
    if len(out) > 1 and out[-1] == "H" and not _is_consonant(out[-2]):
        out.pop()
    return "".join(out)


def arabic_skeleton(word: str) -> str:
    """The skeleton of an Arabic word (normalised, without its ال): حفتر -> HFTR, كوتس -> KوTS."""
    word = normalise(word)
    symbols = "".join(_ARABIC_CLASSES.get(ch, "") for ch in word)
    if word.endswith("ه") and len(symbols) > 1:
        symbols = symbols[:-1] + "ه"  # ة and a final ه are heard as a vowel: سلامة -> Salama
    return _tidy(symbols)


def latin_skeletons(word: str) -> set[str]:
    """The skeletons a Latin word may be heard as: Richard -> {RiTXaRD, RiXaRD, RiKaRD}."""
    word = normalise(word)
    options: list[tuple[str, ...]] = []
    at = 0
    while at < len(word):
        for letters, classes in _LATIN_GROUPS:
            if word.startswith(letters, at):
                following = word[at + len(letters) : at + len(letters) + 1]
                if letters == "c" and following in ("e", "i", "y"):
                    classes = ("S", "K")
                elif letters == "s" and not following:
                    classes = ("S", "Z")  # a final s is often heard as z: Panthers -> بانثرز
                elif letters == "g" and word[at - 1 : at] == "n":
                    classes = ("G", "")  # Washington -> واشنطن
                options.append(classes)
                at += len(letters)
                break
        else:
            at += 1  # a digit or a letter outside the table carries no sound here
    skeletons = set()
    for combination in itertools.islice(itertools.product(*options), MAX_VARIANTS):
        skeletons.add(_tidy("".join(combination)))
    return skeletons


def consonants(skeleton: str) -> str:
    return "".join(symbol for symbol in skeleton if _is_consonant(symbol))


def _vowel_gaps(skeleton: str) -> dict[int, str]:
    """The vowels a skeleton writes in each gap (0 = before the first consonant)."""
    gaps: dict[int, str] = {}
    consonant = 0
    for symbol in skeleton:
        if _is_consonant(symbol):
            consonant += 1
        else:
            gaps[consonant] = gaps.get(consonant, "") + symbol
    return gaps


def match_quality(arabic: str, latin: str) -> float:
    """How much of the Latin spelling's vowels the Arabic one writes, in (0, 1]; 0 when they do not match."""
    if not skeletons_match(arabic, latin):
        return 0.0
    latin_gaps = _vowel_gaps(latin)
    written = sum(1 for gap, letters in _vowel_gaps(arabic).items() if gap in latin_gaps and letters.strip(_SILENT))
    quality = (1 + written) / (1 + len(latin_gaps))
    return quality * (0.8 if consonants(arabic) != consonants(latin) else 1.0)


def skeletons_match(arabic: str, latin: str) -> bool:
    """Whether an Arabic skeleton may be a spelling of a Latin one.

    The consonants must be equal, and every vowel letter the Arabic writes needs a Latin
    vowel of a fitting quality in the same gap (ا for a/e/o/u, ي for i/e/y/a, و for o/u/w).
    A name with another local form (Tripoli, طرابلس Tarabulus) may instead have one more
    final Arabic consonant after four or more; its vowels need only be there.
    """
    arabic_consonants, latin_consonants = consonants(arabic), consonants(latin)
    exonym = arabic_consonants != latin_consonants
    if exonym and not (len(latin_consonants) >= 4 and arabic_consonants[:-1] == latin_consonants):
        return False
    latin_gaps = _vowel_gaps(latin)
    limit = len(latin_consonants)
    for gap, letters in _vowel_gaps(arabic).items():
        if gap > limit or (gap == limit and len(arabic_consonants) > limit):
            continue  # past the Latin spelling: Tripoli | س
        heard = latin_gaps.get(gap, "")
        for letter in letters:
            if letter in _SILENT:
                continue
            if not heard or not (exonym or any(vowel in heard for vowel in _VOWEL_QUALITY[letter])):
                return False
    return True


def name_entries(word: str) -> list[tuple[str, str, str]]:
    """(side, consonant key, skeleton) under which a vocabulary term is looked up, side "arabic" or
    "latin": an Arabic term under its consonants, and without the last of five or more (Tarabulus
    for Tripoli); a Latin term under the consonants of each way it may be heard."""
    if not word or word.isdigit():
        return []
    if is_arabic(word):
        skeleton = arabic_skeleton(word)
        key = consonants(skeleton)
        if len(key) < MIN_CONSONANTS:
            return []
        keys = (key, key[:-1]) if len(key) >= 5 else (key,)
        return [("arabic", found, skeleton) for found in keys]
    if is_latin(word) and word.isalpha():
        return [
            ("latin", consonants(skeleton), skeleton)
            for skeleton in latin_skeletons(word)
            if len(consonants(skeleton)) >= MIN_CONSONANTS
        ]
    return []


class NameMatcher:
    """Finds the spellings, in the other script, of a name among a vocabulary's terms.

    The vocabulary's terms are grouped by consonant key here, in memory; ``search/lookups.py``
    looks them up in the same groups computed at build time instead."""

    def __init__(self, vocabulary: Iterable[str]) -> None:
        self._tables: dict[str, dict[str, list[tuple[str, str]]]] = {side: defaultdict(list) for side in SIDES}
        for word in vocabulary:
            for side, key, skeleton in name_entries(word):
                self._tables[side][key].append((word, skeleton))

    @property
    def has_latin(self) -> bool:
        """Whether any Latin term of the vocabulary may spell a name."""
        return bool(self._tables["latin"])

    def candidates(self, side: str, key: str) -> Sequence[tuple[str, str]]:
        """(term, skeleton) of the vocabulary's terms of ``side`` found under the consonant ``key``."""
        return self._tables[side].get(key, ())

    def arabic_spellings(self, latin_word: str) -> list[str]:
        """Arabic terms of the vocabulary that may spell ``latin_word``: Haftar -> [حفتر]."""
        return [found for found, _ in self.arabic_spellings_weighted(latin_word)]

    def latin_spellings(self, arabic_word: str) -> list[str]:
        """Latin terms of the vocabulary that may spell ``arabic_word``: حفتر -> [haftar]."""
        return [found for found, _ in self.latin_spellings_weighted(arabic_word)]

    def arabic_spellings_weighted(self, latin_word: str) -> list[tuple[str, float]]:
        """(term, weight) of the Arabic spellings, best first; the weight is relative to the
        best match, and spellings far below it (fewer of the name's vowels) are left out."""
        qualities: dict[str, float] = {}
        for latin in latin_skeletons(term(normalise(latin_word))):
            key = consonants(latin)
            if len(key) < MIN_CONSONANTS:
                continue
            for candidate, arabic in self.candidates("arabic", key):
                quality = match_quality(arabic, latin)
                if quality > qualities.get(candidate, 0.0):
                    qualities[candidate] = quality
        return _relative(qualities)

    def latin_spellings_weighted(self, arabic_word: str) -> list[tuple[str, float]]:
        """(term, weight) of the Latin spellings, best first, as for arabic_spellings_weighted."""
        arabic = arabic_skeleton(term(normalise(arabic_word)))
        key = consonants(arabic)
        if len(key) < MIN_CONSONANTS or (len(key) == MIN_CONSONANTS and arabic == key):
            return []  # too short: two consonants need a written vowel to go on
        qualities: dict[str, float] = {}
        for probe in (key, key[:-1]) if len(key) >= 5 else (key,):
            for candidate, latin in self.candidates("latin", probe):
                quality = match_quality(arabic, latin)
                if quality > qualities.get(candidate, 0.0):
                    qualities[candidate] = quality
        return _relative(qualities)


def _relative(qualities: dict[str, float], keep: float = 0.5) -> list[tuple[str, float]]:
    if not qualities:
        return []
    best = max(qualities.values())
    ranked = sorted(
        ((name, quality / best) for name, quality in qualities.items()), key=lambda item: (-item[1], item[0])
    )
    return [(name, round(weight, 3)) for name, weight in ranked if weight >= keep]
