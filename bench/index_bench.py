"""Benchmark the index on a news sample: build throughput against the bare encoder, query latency, memory.

    .venv/bin/python bench/index_bench.py ../shared/bench/news-ar-5000.jsonl.gz [--limit N]

Prints plain numbers. Nothing here is a test; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

QUESTIONS = [
    "who met Haftar?",
    "من التقى حفتر؟",
    "What did the UN envoy say about elections in Libya?",
    "ما هي أسعار النفط اليوم؟",
    "who won the football match?",
    "كم عدد ضحايا الهجوم؟",
    "What happened in Syria last week?",
    "ماذا قال الرئيس الأمريكي عن إيران؟",
    "How did the stock market react?",
    "أين عقدت القمة العربية؟",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", type=Path)
    parser.add_argument("--limit", type=int, default=0, help="use only the first N articles (0: all)")
    args = parser.parse_args()

    import gzip

    from index import Engine, IndexSettings
    from index.builder import encoder_passages
    from index.sources.loaders import load_articles

    work = Path(tempfile.mkdtemp(prefix="index-bench-"))
    source = args.articles
    if args.limit:
        source = work / "sample.jsonl"
        opener = gzip.open if args.articles.suffix == ".gz" else open
        with opener(args.articles, "rt", encoding="utf-8") as lines, open(source, "w", encoding="utf-8") as out:
            for number, line in enumerate(lines):
                if number >= args.limit:
                    break
                out.write(line)
    settings = IndexSettings.from_env()
    settings = IndexSettings(**{**settings.__dict__, "index_dir": work / "index"})
    engine = Engine(settings)
    started = time.perf_counter()
    embedder = engine.embedder
    print(f"model load            {time.perf_counter() - started:8.2f} s   ({embedder.model_id})")

    articles = load_articles([source]).articles
    passages = [passage for article in articles for passage in encoder_passages(article, embedder, settings)]
    embedder.embed_passages(passages[:64])  # warm up, so neither timed run pays for first calls
    started = time.perf_counter()
    for start in range(0, len(passages), 256):
        embedder.embed_passages(passages[start : start + 256])
    bare_seconds = time.perf_counter() - started
    bare = len(passages) / bare_seconds

    stages: dict[str, list[float]] = {}  # stage -> [first report, last report]

    def record(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        stages.setdefault(stage, [now, now])[1] = now

    started = time.perf_counter()
    report = engine.update([source], replace_all=True, progress=record)
    build_seconds = time.perf_counter() - started
    lexicon = engine.stats().manifest.get("lexicon", {})
    print(f"articles / chunks     {report.articles:8d} / {report.chunks}")
    print(
        f"build                 {build_seconds:8.2f} s   {report.chunks / build_seconds:7.1f} chunks/s"
        " (load, chunk, embed, write, lexicon)"
    )
    if "lexicon" in stages:
        first, last = stages["lexicon"]
        print(f"  of which lexicon    {last - first:8.2f} s   ({lexicon.get('embedded', 0)} terms embedded)")
    print(
        f"bare encoder          {bare_seconds:8.2f} s   {bare:7.1f} chunks/s"
        f" (same {len(passages)} passages, timed first)"
    )
    print(f"pipeline / bare       {report.chunks / build_seconds / bare:8.2f}")

    questions = QUESTIONS + _unseen_titles(args.articles, skip=args.limit or 0, count=40)
    engine.ask("warm up")  # load everything once
    # "first time": no passage of the answer has been seen by this process; "again": all have.
    for name, call, labels in (
        ("ask", engine.ask, ("first time", "again")),
        ("search", lambda q: engine.search(q, 5), ("",)),
    ):
        for label in labels:
            timings = []
            for question in questions:
                started = time.perf_counter()
                call(question)
                timings.append(time.perf_counter() - started)
            timings.sort()
            median, p95 = 1000 * statistics.median(timings), 1000 * timings[int(0.95 * (len(timings) - 1))]
            print(f"{name:6s} {label:10s}  median {median:7.1f} ms   p95 {p95:7.1f} ms   ({len(timings)} questions)")

    environment = {**os.environ, "INDEX_DIR": str(settings.index_dir), "PYTHONPATH": str(PROJECT)}
    measured = (
        subprocess.run(
            ["/usr/bin/time", "-f", "%M", sys.executable, "-m", "index", "ask", QUESTIONS[1]],
            capture_output=True,
            text=True,
            env=environment,
        )
        if Path("/usr/bin/time").exists()
        else None
    )
    if measured is not None and measured.returncode == 0:
        peak_kb = int(measured.stderr.strip().splitlines()[-1])
        print(f"peak memory of ask    {peak_kb / 1024:8.0f} MB (one `python -m index ask` process)")
    else:
        import resource

        child = subprocess.run(
            [sys.executable, "-m", "index", "ask", QUESTIONS[1]], capture_output=True, env=environment
        )
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"peak memory of ask    {peak:8.0f} MB (one `python -m index ask` process, exit {child.returncode})")
    on_disk = sum(p.stat().st_size for p in settings.index_dir.rglob("*") if p.is_file())
    print(f"index on disk         {on_disk / 2**20:8.1f} MB")


def _unseen_titles(path: Path, skip: int, count: int) -> list[str]:
    """Titles of articles that are not in the index, as realistic questions nobody has asked yet."""
    import gzip
    import json

    opener = gzip.open if path.suffix == ".gz" else open
    titles = []
    with opener(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if number >= skip:
                titles.append(json.loads(line)["title"])
            if len(titles) == count:
                break
    return titles


if __name__ == "__main__":
    main()
