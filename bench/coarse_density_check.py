"""How far the coarse densities of a large build (``hubness.EXACT_ROWS``) are from exact ones, and what that does
to search: two generations of the same articles, one built before the coarse search existed (exact densities),
one after, compared row by row and by the top 10 chunks of the scale benchmark's questions.

    .venv/bin/python bench/coarse_density_check.py EXACT_INDEX_DIR COARSE_INDEX_DIR [UNSEEN_JSON]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from bench.index_bench import QUESTIONS  # noqa: E402
from index import Engine, HashingEmbedder, IndexSettings  # noqa: E402


def generation(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").readlink()


def main() -> None:
    exact_dir, coarse_dir = Path(sys.argv[1]), Path(sys.argv[2])
    questions = QUESTIONS + (json.loads(Path(sys.argv[3]).read_text(encoding="utf-8")) if len(sys.argv) > 3 else [])
    exact = np.load(generation(exact_dir) / "hubness.npy")
    coarse = np.load(generation(coarse_dir) / "hubness.npy")
    difference = np.abs(coarse - exact)
    print(f"rows {len(exact):,}: |coarse - exact| mean {difference.mean():.4f}, 99th percentile "
          f"{np.quantile(difference, 0.99):.4f}, max {difference.max():.4f}; correlation "
          f"{np.corrcoef(coarse, exact)[0, 1]:.4f}; exact densities' spread (std) {exact.std():.4f}")  # fmt: skip
    overlaps, same_first = [], 0
    settings = [IndexSettings(index_dir=folder, embedding_model="test:hashing") for folder in (exact_dir, coarse_dir)]
    engines = [Engine(each, HashingEmbedder()) for each in settings]
    for question in questions:
        a, b = ([hit.chunk_id for hit in engine.search(question, 10)] for engine in engines)
        overlaps.append(len(set(a) & set(b)) / max(len(a), 1))
        same_first += bool(a and b and a[0] == b[0])
    print(f"{len(questions)} questions: top-10 overlap {np.mean(overlaps):.3f} (lowest {min(overlaps):.1f}), "
          f"same first chunk {same_first}/{len(questions)}")  # fmt: skip


if __name__ == "__main__":
    main()
