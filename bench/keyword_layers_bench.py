"""A layered keyword index against a whole one (index/search/keyword_layers.py): the scores a question gets and what
they cost. Writes, from a generation's keyword index (the base) and new rows (the paragraphs of a JSONL file's
articles, repeated until ``--rows``), a layered index (the base shared, a delta) and the whole index of the same rows,
then times ``KeywordIndex.scores`` for the index benchmark's questions (and scale_bench's ``unseen.json``) on both
and prints the largest difference.

    nice -n 10 .venv/bin/python bench/keyword_layers_bench.py var/scale/100000/index/CURRENT \
        var/scale/100000/add.jsonl --rows 3000
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

import index.search.keyword_layers as keyword_layers  # noqa: E402
from bench.index_bench import QUESTIONS  # noqa: E402
from index.search.keyword_writer import PreviousTerms, write_keyword_index  # noqa: E402
from index.search.keywords import FOLDER, KeywordIndex  # noqa: E402


def _new_rows(articles: Path, count: int) -> list[str]:
    paragraphs = []
    for line in articles.read_text(encoding="utf-8").splitlines():
        article = json.loads(line)
        paragraphs += [f"{article['title']}\n{part}" for part in article["text"].split("\n") if part.strip()]
    return list(itertools.islice(itertools.cycle(paragraphs), count))


def _timed(keywords: KeywordIndex, slots: list) -> tuple[np.ndarray, float]:
    keywords.scores(slots)  # pages in
    started = time.perf_counter()
    for _ in range(5):
        scores = keywords.scores(slots)
    return scores, (time.perf_counter() - started) / 5 * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("generation", type=Path)
    parser.add_argument("articles", type=Path)
    parser.add_argument("--rows", type=int, default=3000)
    args = parser.parse_args()
    fresh = _new_rows(args.articles, args.rows)
    with tempfile.TemporaryDirectory(dir=PROJECT / "var") as work:
        root = Path(work)
        previous = PreviousTerms(args.generation.resolve() / FOLDER)
        rows = np.concatenate([np.arange(previous.rows), np.full(len(fresh), -1)])
        started = time.perf_counter()
        write_keyword_index(root / "layered", rows, iter(fresh), previous)
        print(f"layered write {time.perf_counter() - started:6.2f} s ({previous.rows:,} + {len(fresh):,} rows)")
        keyword_layers.LAYER_MIN_ROWS = sys.maxsize  # the same rows written whole
        started = time.perf_counter()
        write_keyword_index(root / "whole", rows, iter(fresh), previous)
        print(f"whole write   {time.perf_counter() - started:6.2f} s")
        layered, whole = KeywordIndex(root / "layered"), KeywordIndex(root / "whole")
        assert layered._layers is not None and whole._layers is None
        times: dict[str, list[float]] = {"layered": [], "whole": []}
        worst = 0.0
        unseen = args.articles.parent / "unseen.json"  # scale_bench's questions of words no article holds
        questions = QUESTIONS + (json.loads(unseen.read_text(encoding="utf-8")) if unseen.is_file() else [])
        for question in questions:
            slots = whole.slots(question)
            ours, layered_ms = _timed(layered, slots)
            expected, whole_ms = _timed(whole, slots)
            worst = max(worst, float(np.abs(ours - expected).max()))
            times["layered"].append(layered_ms)
            times["whole"].append(whole_ms)
        for name, values in times.items():
            print(f"scores {name:8s} median {statistics.median(values):6.2f} ms   max {max(values):6.2f} ms")
        print(f"largest score difference over {len(questions)} questions: {worst:.2e}")
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
