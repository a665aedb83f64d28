"""Every line ``index.text.junk`` flags in a set of articles, and every short or unpunctuated line it does not.

    .venv/bin/python bench/junk_review.py ../shared/corpus/libya-haftar-ar-87.jsonl examples/articles/*.txt \
        [--sample N] [--seed S]

Prints, for reading and labelling by hand: the flagged lines with their reason, the unflagged lines of at most
15 words or without a final punctuation mark, and N unflagged lines drawn at random. A .txt article is read as
the loader reads it (first line the title, a last line "المصدر : ..." naming the outlet), so its body is what is
checked. Nothing here is a test, and no article text is kept.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from index.text.junk import junk_spans

SHORT_WORDS = 15
_PUNCTUATED = re.compile(r"[.!?؟…:\"»”)]\s*$")


def articles(paths: list[str]) -> list[tuple[str, str]]:
    found = []
    for path in map(Path, paths):
        if path.suffix == ".jsonl":
            for line in path.read_text(encoding="utf-8").splitlines():
                record = json.loads(line)
                found.append((record["id"], record["text"]))
        else:
            lines = path.read_text(encoding="utf-8").splitlines()
            source_line = lines and lines[-1].startswith("المصدر")
            found.append((path.stem, "\n".join(lines[1 : -1 if source_line else None])))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--sample", type=int, default=100)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    flagged, unflagged = [], []
    for article_id, text in articles(args.paths):
        reasons = {(start, end): reason for start, end, reason in junk_spans(text)}
        for match in re.finditer(r"[^\n]+", text):
            line = match.group()
            if not line.strip():
                continue
            start = match.start() + len(line) - len(line.lstrip())
            key = (start, match.start() + len(line.rstrip()))
            if key in reasons:
                flagged.append((article_id, reasons[key], line.strip()))
            else:
                unflagged.append((article_id, line.strip()))
    print(f"FLAGGED {len(flagged)} lines")
    for article_id, reason, line in flagged:
        print(f"{article_id[:16]:16} {reason:28} | {line}")
    short = [(a, line) for a, line in unflagged if len(line.split()) <= SHORT_WORDS or not _PUNCTUATED.search(line)]
    print(f"\nNOT FLAGGED, SHORT OR UNPUNCTUATED {len(short)} of {len(unflagged)} lines")
    for article_id, line in short:
        print(f"{article_id[:16]:16} | {line}")
    sample = random.Random(args.seed).sample(unflagged, min(args.sample, len(unflagged)))
    print(f"\nNOT FLAGGED, A RANDOM SAMPLE OF {len(sample)}")
    for index, (article_id, line) in enumerate(sample):
        print(f"{index:3} {article_id[:16]:16} | {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
