"""Crash safety: SIGKILL `python -m index add` at many moments of its write, and check the index after each.

    python bench/kill_during_write_bench.py [--kills 24] [--articles 300]

With the test encoder (EMBEDDING_MODEL=test:hashing, so the run takes seconds), an index of
``--articles`` generated articles is built; then, ``--kills`` times, an `add` of 50 more articles is
started and killed with SIGKILL after a delay spread evenly over the time a whole `add` takes. After
each kill, `stats` must open the index and report either the old or the new article count (never a
mix, never an error), and a following `add` must succeed. Prints one line per kill and a summary.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def write_articles(path: Path, start: int, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        for n in range(start, start + count):
            words = " ".join(f"word{(n * 7 + i) % 997} topic{n % 13}" for i in range(120))
            out.write(json.dumps({"id": f"a{n}", "title": f"Article {n}", "text": f"Story {n}. {words}."}) + "\n")


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "index", *args], env=env, capture_output=True, text=True, cwd=PROJECT)


def article_count(index_dir: Path, env: dict[str, str]) -> int | None:
    done = run(["--index-dir", str(index_dir), "stats"], env)
    found = re.match(r"(\d+) articles", done.stdout)
    return int(found.group(1)) if done.returncode == 0 and found else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=24)
    parser.add_argument("--articles", type=int, default=300)
    args = parser.parse_args()
    env = {**os.environ, "EMBEDDING_MODEL": "test:hashing"}
    work = Path(tempfile.mkdtemp(prefix="kill-bench-"))
    index_dir = work / "index"
    base, extra = work / "base.jsonl", work / "extra.jsonl"
    write_articles(base, 0, args.articles)
    if run(["--index-dir", str(index_dir), "build", str(base)], env).returncode != 0:
        print("the first build failed", file=sys.stderr)
        return 1
    started = time.monotonic()
    total = args.articles
    write_articles(extra, 10_000, 50)
    timing_dir = work / "timing"
    run(["--index-dir", str(timing_dir), "build", str(base)], env)
    started = time.monotonic()
    run(["--index-dir", str(timing_dir), "add", str(extra)], env)
    whole = time.monotonic() - started
    print(f"an add of 50 articles to {total} takes {whole:.2f} s; killing at {args.kills} moments across it")
    intact = 0
    for kill in range(args.kills):
        batch = work / f"extra-{kill}.jsonl"
        write_articles(batch, 20_000 + 100 * kill, 50)
        delay = whole * (kill + 0.5) / args.kills
        process = subprocess.Popen(
            [sys.executable, "-m", "index", "--index-dir", str(index_dir), "add", str(batch)],
            env=env, cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        after_kill = article_count(index_dir, env)
        whole_state = after_kill in (total, total + 50)
        total = after_kill if whole_state and after_kill is not None else total
        follow_up = work / f"follow-{kill}.jsonl"
        write_articles(follow_up, 50_000 + 100 * kill, 1)
        added = run(["--index-dir", str(index_dir), "add", str(follow_up)], env).returncode == 0
        after_add = article_count(index_dir, env)
        ok = whole_state and added and after_add == total + 1
        total = after_add if after_add is not None else total
        intact += ok
        print(f"kill {kill + 1:2d} at {delay:5.2f} s: index {'whole' if whole_state else 'BROKEN'} "
              f"({after_kill} articles), next add {'ok' if added else 'FAILED'}")  # fmt: skip
    print(f"{intact} of {args.kills} kills left a whole index that the next add extended")
    return 0 if intact == args.kills else 1


if __name__ == "__main__":
    sys.exit(main())
