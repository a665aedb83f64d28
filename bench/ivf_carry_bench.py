"""What a removal costs on an IVF index, trained again or filled from the previous trained index (issue 16;
index/storage/ivf_carry.py).

    nice -n 10 .venv/bin/python bench/ivf_carry_bench.py remove --work var/scale/100000-ivf --articles 1 100 \
        [--code PATH]   # `python -m index remove` on a copy of the index, timed (--code: another checkout)
    nice -n 10 .venv/bin/python bench/ivf_carry_bench.py synthetic --rows 300000 --factory IVF2048,Flat

``remove`` copies the index's current generation to a temporary index folder (as scale_bench.py's add does),
removes that many of its articles (chosen with a fixed seed) in a child process with FAISS_FACTORY set to the
generation's factory, and prints the time, the peak memory and the bytes the new generation wrote (its files not
shared by hard link). ``synthetic`` makes ``--rows`` vectors of 384 dimensions from the real e5 vectors
(scale_bench.py's ``_synthetic``; ``--vectors GENERATION`` reads a generation's embeddings.npy instead), builds
the IVF index of them, removes 100 articles' rows (runs of 2-5 rows, about 360), and times training and filling a
new index against filling the previous trained one; then the recall@10 of both against exact search on the real
questions' vectors."""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from bench.scale_bench import HASHING, TIE, _current, _synthetic, _vectors, written_mb  # noqa: E402


def run_remove(args: argparse.Namespace) -> None:
    from index.storage import generations
    from index.storage.article_store import ArticleStore

    args.work = args.work.resolve()  # the child runs in ``code``
    generation = _current(args.work / "index")
    factory = generations.read_manifest(generation)["vectors"]["factory"]
    with ArticleStore(generation / generations.STORE) as store:
        ids = sorted(store.ids())
    code = (args.code or PROJECT).resolve()
    print(f"{generation.name}: {len(ids):,} articles, {factory}; code in {code}")
    for count in args.articles:
        for run in range(args.repeat):
            chosen = random.Random(count * 100 + run).sample(ids, count)
            with tempfile.TemporaryDirectory(dir=args.work) as temporary:
                copy = Path(temporary) / "index"
                shutil.copytree(generation, copy / generation.name)
                os.sync()  # the copy's writes reach the disk before the removal is timed
                (copy / "CURRENT").symlink_to(generation.name)
                env = {
                    **os.environ,
                    "INDEX_DIR": str(copy),
                    "EMBEDDING_MODEL": HASHING,
                    "FAISS_FACTORY": factory,
                    "PYTHONPATH": str(code),
                }
                command = [sys.executable, "-m", "index", "remove", *chosen]
                seconds, peak = _timed(command, env, args.work / "build.log", code)
                new = _current(copy)
                written = written_mb(new)
                vectors = sum((new / name).stat().st_size for name in (generations.VECTORS, generations.EMBEDDINGS))
            print(
                f"remove {count:4d} articles   {seconds:6.1f} s   peak {peak:6.0f} MB   wrote {written:6.1f} MB "
                f"(vectors {vectors / 1e6:.1f} MB)"
            )


def _timed(command: list[str], env: dict[str, str], log: Path, code: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of a child process run in ``code`` (``-m index`` imports from there)."""
    import subprocess

    started = time.perf_counter()
    with open(log, "a", encoding="utf-8") as errors:
        child = subprocess.Popen(command, env=env, cwd=code, stdout=errors, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
    if status:
        sys.exit(f"{' '.join(command[:4])} ... failed ({status}); see {log}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def run_synthetic(args: argparse.Namespace) -> None:
    import faiss
    import numpy as np

    from index.storage import generations
    from index.storage.faiss_vectors import build_faiss_index, save_faiss_index, tune_for_recall
    from index.storage.ivf_carry import PreviousVectors, carried_ivf

    rng = np.random.default_rng(0)
    real = _vectors(args.vectors)
    real = real[rng.permutation(len(real))]
    queries = np.load(args.queries).astype(np.float32)
    old = _synthetic(real, args.rows, rng, 0.5, 0.1) if args.rows > len(real) else real[: args.rows]
    old = np.ascontiguousarray(old, dtype=np.float32)
    print(f"{len(old):,} vectors of {old.shape[1]} dimensions from {len(real):,} real ones; {len(queries)} questions")
    sizes = rng.integers(2, 6, size=len(old) // 2)  # articles of 2-5 rows, in row order
    starts = np.concatenate([[0], np.cumsum(sizes)])
    articles = int(np.searchsorted(starts, len(old), side="right")) - 1
    removed = np.zeros(len(old), dtype=bool)
    for article in rng.choice(articles, size=args.remove, replace=False):
        removed[starts[article] : starts[article + 1]] = True
    old_row_of = np.flatnonzero(~removed).astype(np.int64)
    vectors = old[old_row_of]
    print(f"remove {args.remove} articles: {int(removed.sum())} rows; {len(vectors):,} rows stay")

    with tempfile.TemporaryDirectory() as temporary:
        previous = Path(temporary)
        began = time.perf_counter()
        save_faiss_index(build_faiss_index(old, args.factory), previous / generations.VECTORS)
        print(f"previous index built      {time.perf_counter() - began:7.1f} s")
        record = {"store": "faiss", "file": generations.VECTORS, "factory": args.factory}
        (previous / generations.MANIFEST).write_text(json.dumps({"vectors": record}))
        began = time.perf_counter()
        trained = build_faiss_index(vectors, args.factory)
        print(f"train + fill (before)     {time.perf_counter() - began:7.1f} s")
        began = time.perf_counter()
        carried = carried_ivf(PreviousVectors(previous, old_row_of), vectors, args.factory)
        print(f"carried over (after)      {time.perf_counter() - began:7.1f} s")
        assert carried is not None

    if queries.shape[1] != vectors.shape[1]:
        return  # vectors of another encoder (a generation's): no questions to measure recall with
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    faiss.omp_set_num_threads(1)
    truth_scores, truth = exact.search(queries, 10)
    for name, index in (("trained again", trained), ("carried over", carried)):
        tune_for_recall(index)
        scores, found = index.search(queries, 10)
        rows = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth)])
        tied = np.mean(np.sum(scores >= truth_scores[:, 9:10] - TIE, axis=1) / 10)
        print(f"{name:14s} nprobe {index.nprobe}: recall@10 {tied:.3f} (rows {rows:.3f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    remove = commands.add_parser("remove")
    remove.add_argument("--work", type=Path, default=PROJECT / "var" / "scale" / "100000-ivf")
    remove.add_argument("--articles", type=int, nargs="+", default=[1, 100])
    remove.add_argument("--repeat", type=int, default=2)
    remove.add_argument("--code", type=Path, help="the checkout whose `python -m index` runs (default: this one)")
    synthetic = commands.add_parser("synthetic")
    synthetic.add_argument("--rows", type=int, default=300_000)
    synthetic.add_argument("--factory", default="IVF2048,Flat")
    synthetic.add_argument("--remove", type=int, default=100, help="articles removed")
    synthetic.add_argument("--vectors", type=Path, default=PROJECT / "var" / "scale-e5")
    synthetic.add_argument("--queries", type=Path, default=PROJECT / "var" / "scale-e5" / "queries.npy")
    args = parser.parse_args()
    {"remove": run_remove, "synthetic": run_synthetic}[args.command](args)


if __name__ == "__main__":
    main()
