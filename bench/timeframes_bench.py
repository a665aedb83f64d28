"""Time expressions in questions: the hand-written ``index.text.timeframes`` against dateparser.

    .venv/bin/python bench/timeframes_bench.py [--compare OLD_TIMEFRAMES.py] [--repeat N]

Scores each implementation on the case list of ``tests/test_timeframes.py`` (questions naming a time, with the
expected first and last day; questions naming none, some with numbers that look like years), then prints the
median microseconds per question, and the import time and resident memory that importing dateparser adds.

Implementations:
  hand-written   index.text.timeframes.question_timeframe
  dateparser     dateparser.search.search_dates finds the words (English and Arabic), DateDataParser tells their
                 period (day, week, month, year), which becomes the range
  combined       the hand-written table of relative spans first, dateparser for calendar dates
  --compare      another version of the module, e.g. ``git show REV:index/text/timeframes.py > /tmp/old.py``

dateparser is not a dependency of the project: ``.venv/bin/pip install dateparser`` to run this.
Nothing here is a test; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

if TYPE_CHECKING:
    from index.text.timeframes import Timeframe

Finder = Callable[[str, dt.date], "Timeframe | None"]


def _span(day: dt.date, period: str) -> tuple[dt.date, dt.date]:
    if period == "week":
        monday = day - dt.timedelta(days=day.weekday())
        return monday, monday + dt.timedelta(days=6)
    if period == "month":
        following = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
        return day.replace(day=1), following - dt.timedelta(days=1)
    if period == "year":
        return dt.date(day.year, 1, 1), dt.date(day.year, 12, 31)
    return day, day


class DateparserFinder:
    """The best use of dateparser found for questions: search the words, then parse them for their period."""

    def __init__(self) -> None:
        from dateparser.date import DateDataParser
        from dateparser.search import search_dates

        self._search = search_dates
        self._parsers: dict[dt.date, DateDataParser] = {}
        self._parser_type = DateDataParser

    def _settings(self, today: dt.date) -> dict:
        return {"RELATIVE_BASE": dt.datetime(today.year, today.month, today.day), "PREFER_DATES_FROM": "past"}

    def __call__(self, question: str, today: dt.date) -> Timeframe | None:
        from index.text.digits import to_ascii_digits
        from index.text.timeframes import Timeframe

        text = to_ascii_digits(question)
        found = self._search(text, languages=["en", "ar"], settings=self._settings(today))
        if not found:
            return None
        words = found[0][0]
        if today not in self._parsers:
            self._parsers[today] = self._parser_type(languages=["en", "ar"], settings=self._settings(today))
        data = self._parsers[today].get_date_data(words)
        if data.date_obj is None:
            return None
        start, end = _span(data.date_obj.date(), data.period or "day")
        return Timeframe(start.isoformat(), end.isoformat(), words)


def combined(dateparser_finder: DateparserFinder) -> Finder:
    from index.text.timeframes import relative_timeframe

    def find(question: str, today: dt.date) -> Timeframe | None:
        return relative_timeframe(question, today) or dateparser_finder(question, today)

    return find


def _load(path: Path) -> Finder:
    spec = importlib.util.spec_from_file_location("compared_timeframes", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module.question_timeframe


def score(find: Finder) -> tuple[int, int, list[str]]:
    """(questions naming a time given the right range, questions naming none given none, the misses)."""
    from tests.test_timeframes import NAMED, NOT_NAMED, TODAY

    named, not_named, misses = 0, 0, []
    for question, start, end in NAMED:
        found = find(question, TODAY)
        if found and (found.start, found.end) == (start, end):
            named += 1
        else:
            misses.append(f"{question!r}: {found and (found.start, found.end)}, wanted {(start, end)}")
    for question in NOT_NAMED:
        found = find(question, TODAY)
        if found is None:
            not_named += 1
        else:
            misses.append(f"{question!r}: {(found.start, found.end)} from {found.words!r}, wanted none")
    return named, not_named, misses


def microseconds_per_question(find: Finder, repeat: int) -> float:
    """The median over the questions of each one's mean time in µs (run after ``score``, so warm)."""
    from tests.test_timeframes import NAMED, NOT_NAMED, TODAY

    per_question = []
    for question in [question for question, _, _ in NAMED] + NOT_NAMED:
        started = time.perf_counter()
        for _ in range(repeat):
            find(question, TODAY)
        per_question.append((time.perf_counter() - started) / repeat * 1e6)
    return statistics.median(per_question)


_COST = """
import time
def rss():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return int(fields["VmRSS"].split()[0]) / 1024
import index  # as the bot and the CLI have (index.text.timeframes comes with it)
before = rss()
started = time.perf_counter()
from dateparser.search import search_dates
imported = time.perf_counter() - started
after_import = rss()
started = time.perf_counter()
search_dates("what happened in 2018 أمس", languages=["en", "ar"])
first = time.perf_counter() - started
print(imported * 1e3, after_import - before, first * 1e3, rss() - before)
"""


def dateparser_cost() -> list[float]:
    """In a process that has imported ``index``: (ms to import dateparser, MB of RSS it adds, ms of its first
    English and Arabic search, MB of RSS added once it is done); medians of 3 fresh processes."""
    runs = []
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", _COST], cwd=PROJECT, capture_output=True, text=True, check=True)
        runs.append([float(value) for value in done.stdout.split()])
    return [statistics.median(run[column] for run in runs) for column in range(4)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", type=Path, help="another version of index/text/timeframes.py to score")
    parser.add_argument("--repeat", type=int, default=20, help="calls per question when timing (default 20)")
    args = parser.parse_args()
    from index.text.timeframes import question_timeframe
    from tests.test_timeframes import NAMED, NOT_NAMED, TODAY

    finders: dict[str, Finder] = {"hand-written": question_timeframe}
    if args.compare:
        finders[f"compared ({args.compare.name})"] = _load(args.compare)
    try:
        dateparser_finder = DateparserFinder()
    except ImportError:
        print("dateparser is not installed: scoring the hand-written module only")
    else:
        finders["dateparser"] = dateparser_finder
        finders["combined"] = combined(dateparser_finder)

    print(f"cases: {len(NAMED)} questions naming a time, {len(NOT_NAMED)} naming none; today is {TODAY}")
    print(f"{'implementation':<34}{'named':>8}{'none':>8}{'share':>8}{'median µs':>11}")
    misses_by_name = {}
    for name, find in finders.items():
        named, not_named, misses = score(find)
        median = microseconds_per_question(find, args.repeat)
        right = named + not_named
        print(
            f"{name:<34}{named:>5}/{len(NAMED)}{not_named:>5}/{len(NOT_NAMED)}"
            f"{right / (len(NAMED) + len(NOT_NAMED)):>8.3f}{median:>11.1f}"
        )
        misses_by_name[name] = misses
    for name, misses in misses_by_name.items():
        if misses:
            print(f"\nmissed by {name} ({len(misses)}):")
            for miss in misses:
                print(f"  {miss}")
    if "dateparser" in finders:
        imported, at_import, first, loaded = dateparser_cost()
        print(
            f"\ndateparser in a process that has imported index (median of 3): import {imported:.0f} ms, "
            f"RSS +{at_import:.1f} MB; first search (English and Arabic) {first:.0f} ms, RSS +{loaded:.1f} MB in all"
        )


if __name__ == "__main__":
    main()
