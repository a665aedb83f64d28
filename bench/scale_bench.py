"""Scale benchmark (issue 16): build, add, search, first question and shared memory at N chunks, and the
recall of approximate FAISS structures on real e5 vectors.

    # N chunks from the news sample, hashing encoder (the encoder is not what is measured):
    nice -n 10 .venv/bin/python bench/scale_bench.py index --chunks 20000 [--work DIR] [--reuse]
    # only adding 100 articles to the index ``index`` built (on a copy of it: it stays as it is):
    nice -n 10 .venv/bin/python bench/scale_bench.py add --chunks 20000 [--repeat 3] [--profile FILE]
    # removing (or changing) one article, an old one or one just added (of the delta), on a copy:
    nice -n 10 .venv/bin/python bench/scale_bench.py remove --chunks 20000 [--recent] [--change] [--repeat 3]
    # real e5 vectors of the sample's chunks (slow: the bundled model on the CPU), then FAISS recall:
    nice -n 10 .venv/bin/python bench/scale_bench.py embed --out var/scale-e5
    nice -n 10 .venv/bin/python bench/scale_bench.py recall --vectors var/scale-e5 [--synthetic 100000,1000000]

``index`` writes the sample (``../shared/bench``) repeated until it gives N chunks: copy 0 is the sample as
it is, every later copy has each word swapped for another word of the same script (a seeded permutation of
the sample's words per copy), so copies are neither near-duplicates nor the same terms in other rows. The
vocabulary stays the sample's (a real corpus's would grow). It then times, each in its own process: the
build (wall time and peak RSS), adding 100 articles, and two searching processes: the first question of a
new process, search p50/p95, and each process's memory from /proc/PID/smaps_rollup (private against shared
pages: what a second process adds). Prints numbers; nothing here is a test.

Adding 100 articles runs on a copy of the index's current generation (``WORK/add-copy``, removed afterwards), so
the index stays as built and ``--reuse`` measures the same add again; ``add`` times only that, ``--repeat`` times,
with the add's own report (how long embedding took) and, with ``--profile``, a cProfile of the last run.
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import random
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

STARTED = time.perf_counter()
PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))
from bench.index_bench import QUESTIONS  # noqa: E402  (the same questions as the index benchmark)

SAMPLES = [
    PROJECT.parent / "shared/bench/news-ar-5000.jsonl.gz",
    PROJECT.parent / "shared/bench/news-en-bbc-500.jsonl.gz",
]
WORD = re.compile(r"\w+")
HASHING = "test:hashing"


def read_sample(paths: list[Path]) -> list[dict]:
    records = []
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            records += [json.loads(line) for line in lines if line.strip()]
    return records


def word_mappings(records: list[dict], copy: int) -> dict[str, str]:
    """Each word of the sample -> another word of the same script, a permutation seeded by ``copy``."""
    by_script: dict[bool, set[str]] = {True: set(), False: set()}
    for record in records:
        for word in WORD.findall(record["title"] + " " + record["text"]):
            if word.isalpha():
                by_script["\u0600" <= word[0] <= "\u06ff"].add(word)
    mapping: dict[str, str] = {}
    for script, found in by_script.items():
        words = sorted(found)
        shuffled = words[:]
        random.Random(f"{copy}-{script}").shuffle(shuffled)
        mapping.update(zip(words, shuffled))
    return mapping


def copies(records: list[dict]) -> Iterator[dict]:
    """The sample, then its copies with words swapped, without end."""
    copy = 0
    while True:
        mapping = word_mappings(records, copy) if copy else {}

        def swap(text: str, mapping: dict[str, str] = mapping) -> str:
            return WORD.sub(lambda found: mapping.get(found.group(), found.group()), text) if mapping else text

        for record in records:
            yield {
                **record,
                "id": f"{record['id']}~{copy}" if copy else record["id"],
                "url": f"{record['url']}?copy={copy}" if copy and record.get("url") else record.get("url", ""),
                "title": swap(record["title"]),
                "text": swap(record["text"]),
            }
        copy += 1


def chunk_counts(records: list[dict], settings) -> dict[str, int]:
    """Chunks each sample article gives with the hashing encoder (the same for its copies: a word for a word)."""
    from index.builder import encoder_passages
    from index.encoders.base import HashingEmbedder
    from index.records import Article

    embedder = HashingEmbedder()
    fields = ("id", "title", "text", "source", "url", "published", "author")
    return {
        record["id"]: len(encoder_passages(Article(**{f: record.get(f) or "" for f in fields}), embedder, settings))
        for record in records
    }


def write_articles(work: Path, chunks: int) -> tuple[Path, Path, list[str], int]:
    """base.jsonl with about ``chunks`` chunks, add.jsonl with the next 100 articles; titles of unseen ones."""
    from index.settings import IndexSettings

    records = read_sample(SAMPLES)
    counts = chunk_counts(records, IndexSettings())
    base, add = work / "base.jsonl", work / "add.jsonl"
    total, unseen = 0, []
    stream = copies(records)
    with open(base, "w", encoding="utf-8") as out:
        for record in stream:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            total += counts[record["id"].split("~")[0]]
            if total >= chunks:
                break
    with open(add, "w", encoding="utf-8") as out:
        for _, record in zip(range(100), stream):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    unseen = [record["title"] for _, record in zip(range(40), stream)]
    return base, add, unseen, total


def timed_child(command: list[str], env: dict[str, str], log: Path) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of a child process, its output and errors appended to ``log``; exits when it
    fails."""
    started = time.perf_counter()
    with open(log, "a", encoding="utf-8") as errors:
        child = subprocess.Popen(command, env=env, stdout=errors, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
    if status:
        sys.exit(f"{' '.join(command)} failed ({status}); see {log}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def memory(pid: int) -> dict[str, float]:
    """MB of a process's pages by kind, from /proc/PID/smaps_rollup."""
    found = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        found[name] = int(value.split()[0]) / 1024
    private = found.get("Private_Clean", 0) + found.get("Private_Dirty", 0)
    shared = found.get("Shared_Clean", 0) + found.get("Shared_Dirty", 0)
    return {"rss": found.get("Rss", 0), "pss": found.get("Pss", 0), "private": private, "shared": shared}


def run_index(args: argparse.Namespace) -> None:
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "INDEX_DIR": str(work / "index"), "EMBEDDING_MODEL": HASHING, "PYTHONPATH": str(PROJECT)}
    base, add = work / "base.jsonl", work / "add.jsonl"
    if args.reuse and (work / "unseen.json").is_file():
        unseen = json.loads((work / "unseen.json").read_text(encoding="utf-8"))
    else:
        base, add, unseen, estimated = write_articles(work, args.chunks)
        (work / "unseen.json").write_text(json.dumps(unseen, ensure_ascii=False), encoding="utf-8")
        print(f"articles written for   {estimated:9,d} chunks")
    if not (args.reuse and (work / "index" / "CURRENT").exists()):
        seconds, peak = timed_child([sys.executable, "-m", "index", "build", str(base)], env, work / "build.log")
        print(f"build                  {seconds:9.1f} s    peak {peak:7.0f} MB")
    generation = _current(work / "index")
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    print(f"chunks                 {manifest['counts']['chunks']:9,d}    ({manifest['counts']['articles']:,} articles)")
    size = sum(path.stat().st_size for path in generation.rglob("*") if path.is_file())
    print(f"disk per generation    {size / 2**20:9.0f} MB")
    questions = QUESTIONS + unseen
    first = _serve(env, questions)
    second = _serve(env, questions, alongside=first)
    for process in (first, second):
        assert process.stdin is not None
        process.stdin.write("quit\n")
        process.stdin.flush()
        process.wait()
    if args.add:
        time_add(work, env)


def time_add(work: Path, env: dict[str, str], profile: Path | None = None) -> None:
    """Add WORK/add.jsonl to a copy of WORK/index's current generation, timed in a child process."""
    time_update(work, env, [], ["add", str(work / "add.jsonl")], "add 100 articles", profile)


def time_update(
    work: Path, env: dict[str, str], before: list[list[str]], timed: list[str], label: str, profile: Path | None = None
) -> None:
    """On a copy of WORK/index's current generation, run the ``python -m index`` commands ``before`` (not timed),
    then ``timed`` in a child process, timed; prints its time, peak memory and the MB its generation wrote."""
    import shutil

    copy = work / f"add-copy-{os.getpid()}"  # one a process: several benchmarks may add to one index at once
    shutil.rmtree(copy, ignore_errors=True)
    generation = _current(work / "index")
    shutil.copytree(generation, copy / generation.name)
    (copy / "CURRENT").symlink_to(generation.name)
    command = [sys.executable, "-m", "index", *timed]
    if profile:
        command[1:1] = ["-m", "cProfile", "-o", str(profile)]
    try:
        for step in before:
            subprocess.run([sys.executable, "-m", "index", *step], env={**env, "INDEX_DIR": str(copy)}, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        os.sync()  # the copy's writes reach the disk before the update is timed (else they compete with its own)
        seconds, peak = timed_child(command, {**env, "INDEX_DIR": str(copy)}, work / "build.log")
        written = written_mb(_current(copy))
    finally:
        shutil.rmtree(copy, ignore_errors=True)
    print(f"{label:22s} {seconds:9.1f} s    peak {peak:7.0f} MB    wrote {written:7.1f} MB", flush=True)


def middle_line(path: Path) -> str:
    """The middle line of a file, read as a stream: this process's memory counts in the timed child's peak (a child
    forked from it starts with its pages), so it never holds the 1.7 GB of articles at 1M."""
    with path.open(encoding="utf-8") as lines:
        count = sum(1 for _ in lines)
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if number == count // 2:
                return line
    raise ValueError(f"{path} is empty")


def run_remove(args: argparse.Namespace) -> None:
    """Remove (or, with ``--change``, change) one article on a copy of the index: a recent one (added just before,
    with WORK/add.jsonl: an article of the delta) or an old one (of the base, half way through it)."""
    work, env = args.work, _built_index_env(args)
    before = [["add", str(work / "add.jsonl")]] if args.recent else []
    source = work / ("add.jsonl" if args.recent else "base.jsonl")
    article = json.loads(middle_line(source))
    if args.change:
        article["text"] += " وأضاف المتحدث أن الاجتماع سيعقد غدا."
        changed = work / "changed.jsonl"
        changed.write_text(json.dumps(article, ensure_ascii=False) + "\n", encoding="utf-8")
        timed, what = ["add", str(changed)], "change"
    else:
        timed, what = ["remove", article["id"]], "remove"
    label = f"{what} a{' recent' if args.recent else 'n old'} article"
    for run in range(args.repeat):
        time_update(work, env, before, timed, label, args.profile if run == args.repeat - 1 else None)


def written_mb(generation: Path) -> float:
    """MB of the generation's own files (those shared by hard link with another generation left out)."""
    files = [path.stat() for path in generation.rglob("*") if path.is_file()]
    return sum(stat.st_size for stat in files if stat.st_nlink == 1) / 1e6


def _built_index_env(args: argparse.Namespace) -> dict[str, str]:
    """The environment of ``python -m index`` on the index ``index`` built in WORK; exits when there is none."""
    work = args.work
    if not (work / "index" / "CURRENT").exists() or not (work / "add.jsonl").is_file():
        sys.exit(f"no index in {work}: run `scale_bench.py index --chunks {args.chunks}` first")
    return {**os.environ, "INDEX_DIR": str(work / "index"), "EMBEDDING_MODEL": HASHING, "PYTHONPATH": str(PROJECT)}


def run_add(args: argparse.Namespace) -> None:
    work, env = args.work, _built_index_env(args)
    for run in range(args.repeat):
        time_add(work, env, args.profile if run == args.repeat - 1 else None)


def _current(index_dir: Path) -> Path:
    from index.storage.generations import current_generation

    generation = current_generation(index_dir)
    assert generation is not None, index_dir
    return generation


def _serve(env: dict[str, str], questions: list[str], alongside: subprocess.Popen | None = None) -> subprocess.Popen:
    """A searching process: its first question, then search timings; its memory (and the other's) printed."""
    process = subprocess.Popen(
        [sys.executable, __file__, "serve"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert process.stdin is not None and process.stdout is not None
    first = json.loads(process.stdout.readline())
    label = "second process" if alongside else "first process"
    print(
        f"{label}: first question {first['open'] + first['ask']:6.2f} s "
        f"(open {first['open']:.2f} s, ask {first['ask']:.2f} s; imports {first['imports']:.2f} s, "
        f"{first['since_start']:.2f} s since the process started)"
    )
    process.stdin.write(json.dumps(questions, ensure_ascii=False) + "\n")
    process.stdin.flush()
    timings = json.loads(process.stdout.readline())
    for name, values in timings.items():
        values.sort()
        median, p95 = 1000 * statistics.median(values), 1000 * values[int(0.95 * (len(values) - 1))]
        print(f"  {name:8s} median {median:7.1f} ms   p95 {p95:7.1f} ms   ({len(values)} questions)")
    for who, pid in (("this", process.pid), ("the first", alongside.pid if alongside else None)):
        if pid:
            found = memory(pid)
            print(
                f"  memory of {who:9s}  RSS {found['rss']:6.0f} MB   private {found['private']:6.0f} MB   "
                f"shared {found['shared']:6.0f} MB   PSS {found['pss']:6.0f} MB"
            )
    return process


def serve() -> None:
    """The child of ``_serve``: times its first question, then the questions it is given; waits for quit."""
    from index import Engine, IndexSettings

    imports = time.perf_counter()
    engine = Engine(IndexSettings.from_env())
    engine.index_problem()  # opens the index
    opened = time.perf_counter()
    engine.ask(QUESTIONS[1])
    asked = time.perf_counter()
    print(
        json.dumps(
            {
                "imports": imports - STARTED,
                "open": opened - imports,
                "ask": asked - opened,
                "since_start": asked - STARTED,
            }
        ),
        flush=True,
    )
    questions = json.loads(sys.stdin.readline())
    timings: dict[str, list[float]] = {"search": [], "ask": []}
    for name, call in (("search", lambda q: engine.search(q, 5)), ("ask", engine.ask)):
        for question in questions:
            started = time.perf_counter()
            call(question)
            timings[name].append(time.perf_counter() - started)
    print(json.dumps(timings), flush=True)
    sys.stdin.readline()


def run_embed(args: argparse.Namespace) -> None:
    """e5 vectors (the bundled model) of every chunk of the sample as the builder makes them, in parts of
    2,000 (a stopped run resumes), and query vectors of XQuAD English and TyDi Arabic questions."""
    from index.builder import encoder_passages
    from index.encoders.sentence_transformer import load_embedder
    from index.records import Article
    from index.settings import IndexSettings

    settings = IndexSettings.from_env()
    embedder = load_embedder(settings)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    fields = ("id", "title", "text", "source", "url", "published", "author")
    articles = [Article(**{f: r.get(f) or "" for f in fields}) for r in read_sample(SAMPLES)]
    passages = [passage for article in articles for passage in encoder_passages(article, embedder, settings)]
    passages = passages[: args.limit] if args.limit else passages
    print(f"{len(passages):,} passages of {len(articles):,} articles ({embedder.model_id})", flush=True)
    questions = _eval_questions("xquad-dev.en.json", 250) + _eval_questions("tydiqa-goldp-dev.ar.json", 250)
    np = _numpy()
    np.save(out / "queries.npy", embedder.embed_queries(questions).astype(np.float32))
    step = 2_000
    for number, start in enumerate(range(0, len(passages), step)):
        part = out / f"part-{number:03d}.npy"
        if part.is_file():
            continue
        began = time.perf_counter()
        np.save(part, embedder.embed_passages(passages[start : start + step]).astype(np.float32))
        rate = len(passages[start : start + step]) / (time.perf_counter() - began)
        print(f"  {min(start + step, len(passages)):7,d} embedded   {rate:5.1f} passages/s", flush=True)
    parts = sorted(out.glob("part-*.npy"))
    np.save(out / "vectors.npy", np.concatenate([np.load(part) for part in parts]))
    print(f"saved {out / 'vectors.npy'} and {out / 'queries.npy'} ({len(questions)} questions)")


TIE = 1e-4  # a row found scoring within this of exact search's k-th best counts as found (near-duplicates)


def run_recall(args: argparse.Namespace) -> None:
    """Recall@10 and @100 against exact search, search time and build time of approximate FAISS structures.

    Recall counts a row found when it scores at least exact search's k-th best (less ``TIE``): the news sample
    holds republished stories whose chunks have the same vector, and which of two equal rows exact search lists
    is arbitrary. The share of exact search's rows found is printed beside it ("rows")."""
    import faiss

    np = _numpy()
    real = np.concatenate([_vectors(path) for path in args.vectors])
    queries = np.load(args.queries).astype(np.float32)
    rng = np.random.default_rng(0)
    real = real[rng.permutation(len(real))]
    print(f"{len(real):,} real vectors ({real.shape[1]} dimensions), {len(queries)} query vectors")
    faiss.omp_set_num_threads(1)  # one question at a time, as the bot searches
    for size in args.sizes:
        vectors = real[:size] if size <= len(real) else _synthetic(real, size, rng, args.mix, args.noise)
        kind = "real" if size <= len(real) else f"synthetic from {len(real):,} real"
        exact = faiss.IndexFlatIP(vectors.shape[1])
        exact.add(vectors)
        flat_ms, (scores, truth) = _timed_search(exact, queries, 100)
        print(
            f"\n{size:,} vectors ({kind}): Flat {flat_ms:.1f} ms a question; the queries' cosine to their 1st, "
            f"10th and 100th nearest: {np.median(scores[:, 0]):.3f}, {np.median(scores[:, 9]):.3f}, "
            f"{np.median(scores[:, 99]):.3f} (medians)"
        )
        for factory, knob, values in _candidates(size):
            if args.only and not factory.startswith(args.only):
                continue
            faiss.omp_set_num_threads(os.cpu_count() or 1)
            began = time.perf_counter()
            index = faiss.index_factory(vectors.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
            index.train(vectors)
            index.add(vectors)
            built = time.perf_counter() - began
            faiss.omp_set_num_threads(1)
            for value in values:
                _set_knob(index, knob, value)
                ms, (found_scores, found) = _timed_search(index, queries, 100)
                at10 = np.mean([len(set(f[:10]) & set(t[:10])) / 10 for f, t in zip(found, truth)])
                tied10 = np.mean(np.sum(found_scores[:, :10] >= scores[:, 9:10] - TIE, axis=1) / 10)
                tied100 = np.mean(np.sum(found_scores >= scores[:, 99:100] - TIE, axis=1) / 100)
                print(
                    f"  {factory:14s} {knob} {value:4d}   recall@10 {tied10:.3f} (rows {at10:.3f})  "
                    f"@100 {tied100:.3f}   {ms:6.2f} ms a question   (built in {built:.0f} s)"
                )


def _vectors(path: Path):
    np = _numpy()
    if path.is_dir():
        path = path / "vectors.npy" if (path / "vectors.npy").is_file() else path / "embeddings.npy"
    return np.load(path, mmap_mode="r").astype(np.float32)


def _synthetic(real, size: int, rng, mix: float, noise_share: float):
    """``size`` vectors like the real ones: each a real vector moved up to ``mix`` of the way towards another
    real one, plus noise (``noise_share`` of the real vectors' spread per dimension), normalised. Not real
    data: the recall measured on them is an estimate."""
    np = _numpy()
    base = real[rng.integers(0, len(real), size)]
    other = real[rng.integers(0, len(real), size)]
    share = rng.uniform(0.0, mix, (size, 1)).astype(np.float32)
    noise = rng.standard_normal(base.shape, dtype=np.float32) * (noise_share * real.std(axis=0))
    mixed = base + share * (other - base) + noise
    return mixed / np.linalg.norm(mixed, axis=1, keepdims=True)


def _candidates(size: int) -> list[tuple[str, str, list[int]]]:
    lists = 1 << max(6, round(math.log2(4 * math.sqrt(size))))  # about 4 sqrt(N) lists, a power of two
    return [
        ("HNSW32", "efSearch", [64, 128, 256, 512]),
        (f"IVF{lists},Flat", "nprobe", [16, 32, 64, 128, 256]),
    ]


def _set_knob(index, knob: str, value: int) -> None:
    import faiss

    if knob == "efSearch":
        faiss.downcast_index(index).hnsw.efSearch = value
    else:
        faiss.extract_index_ivf(index).nprobe = value


def _timed_search(index, queries, k: int):
    """(median ms of one question, (scores, rows) of every query)."""
    np = _numpy()
    found, times = [], []
    for query in queries:
        began = time.perf_counter()
        found.append(index.search(query[None, :], k))
        times.append(time.perf_counter() - began)
    return 1000 * statistics.median(times), (
        np.concatenate([f[0] for f in found]),
        np.concatenate([f[1] for f in found]),
    )


def _eval_questions(name: str, count: int) -> list[str]:
    data = json.loads((PROJECT.parent / "shared/eval" / name).read_text(encoding="utf-8"))["data"]
    found = [qa["question"] for article in data for paragraph in article["paragraphs"] for qa in paragraph["qas"]]
    return found[:count]


def _numpy():
    import numpy

    return numpy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    index = commands.add_parser("index", help="build N chunks with the hashing encoder and time what follows")
    index.add_argument("--chunks", type=int, default=20_000)
    index.add_argument("--work", type=Path, default=PROJECT / "var" / "scale")
    index.add_argument("--reuse", action="store_true", help="keep the articles and index already in --work")
    index.add_argument("--no-add", dest="add", action="store_false", help="skip adding 100 articles")
    add = commands.add_parser("add", help="only time adding 100 articles to the index `index` built (on a copy)")
    add.add_argument("--chunks", type=int, default=20_000)
    add.add_argument("--work", type=Path, default=PROJECT / "var" / "scale")
    add.add_argument("--repeat", type=int, default=1, help="time the add this many times")
    add.add_argument("--profile", type=Path, help="write a cProfile of the (last) add here")
    embed = commands.add_parser("embed", help="e5 vectors of the sample's chunks and of eval questions")
    embed.add_argument("--out", type=Path, default=PROJECT / "var" / "scale-e5")
    embed.add_argument("--limit", type=int, default=0, help="at most this many chunks (0: all)")
    recall = commands.add_parser("recall", help="approximate FAISS structures against exact search")
    recall.add_argument(
        "--vectors",
        type=Path,
        nargs="+",
        default=[PROJECT / "var" / "scale-e5"],
        help="vectors.npy files, embed's folders or index generations (embeddings.npy)",
    )
    recall.add_argument("--queries", type=Path, default=PROJECT / "var" / "scale-e5" / "queries.npy")
    recall.add_argument("--only", default="", help="only the structures whose factory starts so (HNSW, IVF)")
    recall.add_argument("--mix", type=float, default=0.5, help="synthetic vectors: how far towards another")
    recall.add_argument("--noise", type=float, default=0.1, help="synthetic vectors: noise, share of the spread")
    recall.add_argument("--sizes", type=lambda text: [int(n) for n in text.split(",")], default=[20_000])
    remove = commands.add_parser("remove", help="time removing (or changing) one article of the index (on a copy)")
    remove.add_argument("--chunks", type=int, default=20_000)
    remove.add_argument("--work", type=Path, default=PROJECT / "var" / "scale")
    remove.add_argument("--repeat", type=int, default=1, help="time it this many times")
    remove.add_argument("--profile", type=Path, help="write a cProfile of the (last) run here")
    remove.add_argument("--recent", action="store_true", help="an article added just before (of the delta)")
    remove.add_argument("--change", action="store_true", help="change the article's text instead of removing it")
    commands.add_parser("serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.command == "serve":
        serve()
    elif args.command == "recall":
        run_recall(args)
    elif args.command == "embed":
        run_embed(args)
    elif args.command in ("index", "add", "remove"):
        args.work = args.work / str(args.chunks) if args.work == PROJECT / "var" / "scale" else args.work
        {"index": run_index, "add": run_add, "remove": run_remove}[args.command](args)


if __name__ == "__main__":
    main()
