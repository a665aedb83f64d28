"""Where a build's memory goes (issue 16): a build in this process, with the resident memory before, during (the
highest, sampled every 20 ms) and after each of its steps, and the process's peak at the end.

    EMBEDDING_MODEL=test:hashing INDEX_DIR=/tmp/phases nice -n 10 .venv/bin/python bench/build_memory.py \
        var/scale/100000/base.jsonl     # the articles `scale_bench.py index --chunks 100000` wrote

The steps are the builder's functions, wrapped here; RSS counts the pages of memory-mapped files the build
touches too. Prints numbers; nothing here is a test.
"""

from __future__ import annotations

import resource
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import index.builder as builder
import index.collect as collect
import index.sources.loaders as loaders

LOADING = [  # the CLI's build loads the files first, as here: Collector.collect and, within it, the load
    (collect.Collector, "collect"),
    (loaders, "load_articles"),
    (loaders, "load_into"),  # a build's load, into a spool file (index/storage/article_spool.py)
]
STEPS = [
    "_plan",
    "chunk_and_embed",
    "group_stories",
    "carried_vectors",
    "write_store",
    "_write_sentence_vectors",
    "write_vectors",
    "neighbourhood_density",
    "write_keyword_index",
    "build_lexicon",
]
STARTED = time.monotonic()
highest = [0.0]


def resident_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def sample() -> None:
    while True:
        highest[0] = max(highest[0], resident_mb())
        time.sleep(0.02)


def timed(name: str, owner: object = builder):
    step = getattr(owner, name)

    def wrapper(*args, **kwargs):
        before = highest[0] = resident_mb()
        started = time.monotonic()
        result = step(*args, **kwargs)
        print(
            f"{time.monotonic() - STARTED:7.1f} s  {name:24s} before {before:6.0f} MB   highest {highest[0]:6.0f} MB"
            f"   after {resident_mb():6.0f} MB   ({time.monotonic() - started:.1f} s)",
            flush=True,
        )
        return result

    return wrapper


def main() -> None:
    for name in STEPS:
        setattr(builder, name, timed(name))
    for owner, name in LOADING:
        if hasattr(owner, name):
            setattr(owner, name, timed(name, owner))
    threading.Thread(target=sample, daemon=True).start()
    from index.cli import main as index_main

    sys.argv = ["index", "build", *sys.argv[1:]]
    print(f"started at {resident_mb():.0f} MB", flush=True)
    try:
        index_main()
    finally:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{time.monotonic() - STARTED:7.1f} s  peak {peak:.0f} MB", flush=True)


if __name__ == "__main__":
    main()
