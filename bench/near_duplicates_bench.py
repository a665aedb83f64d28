"""Benchmark near-duplicate grouping (index/text/near_duplicates.py) on generated articles.

    .venv/bin/python bench/near_duplicates_bench.py [--count 10000] [--exhaustive-limit 2000]
        [--corpus ../shared/bench/news-ar-5000.jsonl.gz]

Two generated sets of ``--count`` articles of 250 words: near-identical ones (one wire story, each copy
with its own dateline and three words changed) and distinct ones (each drawn at random from a common
vocabulary). For each it prints the seconds spent computing signatures and grouping them, and the number
of stories found. The grouping of the first ``--exhaustive-limit`` articles of each set (and of
``--corpus`` when given) is checked against an exhaustive grouping that compares every article with every
earlier one. Prints plain numbers; nothing here is a test.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from index.text.near_duplicates import DuplicateFinder, signature
from index.tuning import RANKING

WORDS = 250


def vocabulary(size: int = 20_000, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    letters = "ابتثجحخدذرسشصضطظعغفقكلمنهوي"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 8))) for _ in range(size)]


def near_identical(count: int, words: list[str], seed: int = 2) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    base = [rng.choice(words) for _ in range(WORDS)]
    articles = []
    for number in range(count):
        copy = list(base)
        for _ in range(3):
            copy[rng.randrange(WORDS)] = rng.choice(words)
        articles.append((f"copy-{number}", f"outlet {number} (wire) - " + " ".join(copy)))
    return articles


def distinct(count: int, words: list[str], seed: int = 3) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [(f"article-{number}", " ".join(rng.choice(words) for _ in range(WORDS))) for number in range(count)]


def corpus(path: Path) -> list[tuple[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    return [(str(record.get("id", number)), record.get("text", "")) for number, record in enumerate(records)]


def exhaustive(items: list[tuple[str, np.ndarray]]) -> dict[str, str]:
    """The grouping by comparing each article with every earlier one: the best resemblance at or above
    the threshold gives the story (what the finder approximates)."""
    ids = [article_id for article_id, _ in items]
    matrix = np.stack([sig for _, sig in items])
    stories: dict[str, str] = {}
    for position, article_id in enumerate(ids):
        best = article_id
        if position:
            scores = (matrix[:position] == matrix[position]).mean(axis=1)
            top = int(np.argmax(scores[::-1]))  # the latest of the best, as the finder breaks ties
            if scores[position - 1 - top] >= RANKING.story_threshold:
                best = stories[ids[position - 1 - top]]
        stories[article_id] = best
    return stories


def run(name: str, articles: list[tuple[str, str]], exhaustive_limit: int) -> None:
    started = time.perf_counter()
    signatures = [(article_id, signature(text)) for article_id, text in articles]
    signed = time.perf_counter()
    finder = DuplicateFinder()
    stories = finder.add_all(signatures)
    grouped = time.perf_counter()
    comparisons = getattr(finder, "comparisons", None)
    print(
        f"{name}: {len(articles)} articles, {len(set(stories.values()))} stories; "
        f"signatures {signed - started:.1f} s, grouping {grouped - signed:.1f} s, total {grouped - started:.1f} s"
        + (f"; {comparisons} signature comparisons" if comparisons is not None else "")
    )
    if exhaustive_limit:
        head = signatures[:exhaustive_limit]
        reference = exhaustive(head)
        finder = DuplicateFinder()
        found = finder.add_all(head)
        same = sum(found[article_id] == reference[article_id] for article_id, _ in head)
        print(f"  agrees with the exhaustive grouping on {same} of {len(head)} articles")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--exhaustive-limit", type=int, default=2_000)
    parser.add_argument("--corpus", type=Path, help="a .jsonl or .jsonl.gz of real articles to check as well")
    parser.add_argument("--only", choices=("near-identical", "distinct"), help="run one generated set only")
    args = parser.parse_args()
    words = vocabulary()
    if args.only != "distinct":
        run("near-identical", near_identical(args.count, words), args.exhaustive_limit)
    if args.only != "near-identical":
        run("distinct", distinct(args.count, words), args.exhaustive_limit)
    if args.corpus:
        run(args.corpus.name, corpus(args.corpus), args.exhaustive_limit)


if __name__ == "__main__":
    main()
