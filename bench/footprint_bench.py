"""Memory and time of the bot's work with the default (torch-free) encoder, and the size of the plain install.

    .venv/bin/python bench/footprint_bench.py [--shared ../shared] [--python PYTHON] [--skip-install]
                                              [--skip-throughput] [--rounds N] [--skip-bot] [--encoders NAME ...]

Each measurement runs in a fresh process, with MALLOC_MMAP_THRESHOLD_=131072 as in the Procfile,
over the 87 Libya articles plus examples/articles (88 articles):

- build: ``python -m index build`` of the 88 articles (what a dyno does at each start);
- bot: a process importing the bot's modules that (a) answers 50 English and Arabic questions
  (the first one includes loading the model and the index), then (b) rebuilds the 88 articles
  (``/reindex``), then (c) refreshes with 20 more articles from the Arabic news sample;
- ask: ``python -m index ask`` once, in a fresh process;
- install: ``pip install .`` into a fresh virtual environment (no torch), and its size;
- throughput: the same ~300 chunks embedded by the numpy encoder (one BLAS thread; "numpy, 2 BLAS
  threads" on request), the ONNX encoder and the sentence-transformers path (two threads each),
  alternating runs; ``--encoders`` picks some of them, ``--skip-bot`` leaves out the bot's phases.

Peak RSS is the process's high-water mark (ru_maxrss), printed after each phase. ``--python``
runs the processes with another interpreter (e.g. the plain install's). Nothing here is a test;
the numbers depend on how busy the machine is.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent

QUESTIONS = [
    "Who met Haftar?",
    "What worries Washington about Russia in Libya?",
    "Who is David Mack?",
    "Who is Hisham Ashmawy and where was he arrested?",
    "When did Haftar announce the capture of Derna?",
    "Why did Haftar go to Paris in April?",
    "What did the parties agree on at the Paris meeting?",
    "When are the elections in Libya supposed to take place?",
    "Who attacked the electoral commission in Tripoli?",
    "How many people were killed in the attack on the election commission?",
    "Who is Ibrahim Jadhran?",
    "What happened to the oil crescent ports in June?",
    "Who controls the oil export terminals after June 2018?",
    "Why was oil production suspended in eastern Libya?",
    "What did Mogherini say in Tripoli?",
    "Who is Khaled al-Mishri?",
    "What did Aguila Saleh say about Haftar?",
    "Where were the Coptic remains found?",
    "What happened in Sebha in September?",
    "Who leads the Government of National Accord?",
    "Which tribe supports the army in Derna?",
    "What is the strategic importance of Derna?",
    "Who was killed in the car bomb in Benghazi?",
    "What did Gargash say about Derna?",
    "Where are the talks on unifying the Libyan army held?",
    "من التقى حفتر؟",
    "ما الذي يقلق واشنطن من روسيا في ليبيا؟",
    "من هو هشام عشماوي؟",
    "أين قبض على هشام عشماوي؟",
    "متى أعلن حفتر السيطرة على درنة؟",
    "لماذا سافر حفتر إلى فرنسا؟",
    "متى عاد حفتر إلى بنغازي؟",
    "ما هو اتفاق باريس بشأن ليبيا؟",
    "متى موعد الانتخابات الرئاسية والبرلمانية في ليبيا؟",
    "كم عدد قتلى الهجوم على مفوضية الانتخابات؟",
    "من هو إبراهيم الجضران؟",
    "من سيطر على الهلال النفطي؟",
    "لماذا توقف تصدير النفط في شرق ليبيا؟",
    "ماذا قالت موغيريني في طرابلس؟",
    "من هو خالد المشري؟",
    "ماذا قال عقيلة صالح عن حكومة السراج؟",
    "ما هي التهم الموجهة إلى حفتر في فرنسا؟",
    "أين انفجرت السيارة المفخخة في سبها؟",
    "من هو المتحدث باسم الجيش الليبي؟",
    "ما هي القبيلة التي دعمت الجيش في معركة درنة؟",
    "من قتل زعيم القاعدة في درنة؟",
    "ماذا قال قرقاش عن تحرير درنة؟",
    "أين تعقد جولات توحيد الجيش الليبي؟",
    "من اختطف عضو المجلس الرئاسي في طرابلس؟",
    "هل ليبيا جاهزة لانتخابات حرة ونزيهة؟",
]

BOT_CHILD = """
import json, resource, statistics, sys, time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
started, cpu_started = time.perf_counter(), time.process_time()
from index import Engine, IndexSettings, hold_malloc_mmap_threshold
hold_malloc_mmap_threshold()  # as bot.main does
import bot.app, bot.handlers, telegram.ext  # the bot's own imports
sources, refresh_file, questions = sys.argv[1:3], sys.argv[3], json.loads(sys.argv[4])

def rss():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20

def report(phase, **extra):
    global started, cpu_started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    print(json.dumps({"phase": phase, "seconds": seconds, "cpu": cpu, "rss": rss(), "peak": peak, **extra}), flush=True)
    started, cpu_started = time.perf_counter(), time.process_time()

pool = ThreadPoolExecutor(6)  # like asyncio.to_thread: each question and build on one of a few threads

def ask_all(engine, asked):
    times, cpu = [], []
    for question in asked:
        begun, cpu_begun = time.perf_counter(), time.process_time()
        pool.submit(engine.ask, question).result()
        times.append(time.perf_counter() - begun)
        cpu.append(time.process_time() - cpu_begun)
    return times, cpu

report("imports")
settings = IndexSettings.from_env()
engine = Engine(settings)
times, cpu = ask_all(engine, questions)
median, median_cpu = statistics.median(times[1:]), statistics.median(cpu[1:])
report("answer", first=times[0], first_cpu=cpu[0], median=median, median_cpu=median_cpu)
fresh = Engine(replace(settings, index_dir=Path(str(settings.index_dir) + "-fresh")), embedder=engine.embedder)
built = pool.submit(fresh.update, sources, replace_all=True).result()
fresh.close()
report("build", articles=built.articles, chunks=built.chunks, embedded=built.embedded_chunks)
built = pool.submit(engine.update, sources, replace_all=True).result()
report("rebuild", articles=built.articles, chunks=built.chunks, embedded=built.embedded_chunks)
refreshed = pool.submit(engine.update, [*sources, refresh_file]).result()
report("refresh", articles=refreshed.articles, added=refreshed.added, embedded=refreshed.embedded_chunks)
later, cpu = ask_all(engine, questions[:10])
report("answer after", median=statistics.median(later), median_cpu=statistics.median(cpu))
print(json.dumps({"torch": "torch" in sys.modules, "model": engine.embedder.model_id}), flush=True)
"""

THROUGHPUT_CHILD = """
import json, os, sys, time
kind, passages = sys.argv[1], json.loads(open(sys.argv[2], encoding="utf-8").read())
from index.settings import BUNDLED_MODEL, IndexSettings
settings = IndexSettings.from_env()
if kind == "numpy":
    from index.encoders.numpy_e5 import NumpyE5Embedder
    encoder = NumpyE5Embedder(settings.batch_size, threads=int(os.environ["OPENBLAS_NUM_THREADS"]))
elif kind == "onnx":
    from index.encoders.onnx_e5 import OnnxE5Embedder
    encoder = OnnxE5Embedder(settings.model_cache_dir, settings.batch_size, threads=2)
else:
    import torch
    torch.set_num_threads(2)
    from index.encoders.sentence_transformer import SentenceTransformerEmbedder
    encoder = SentenceTransformerEmbedder(BUNDLED_MODEL, settings.model_cache_dir, settings.batch_size)
encoder.embed_passages(passages[:16])  # warm up
wall, cpu = time.perf_counter(), time.process_time()
encoder.embed_passages(passages)
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}))
"""


def environment(work: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("EMBEDDING_MODEL", "EMBED_BATCH_SIZE", "INDEX_DIR")
    }
    return {
        **env,
        "INDEX_DIR": str(work / "index"),
        "PYTHONPATH": str(PROJECT),
        "MALLOC_MMAP_THRESHOLD_": "131072",
        **extra,
    }


def run(command: list[str], env: dict[str, str], work: Path) -> tuple[str, float, float, float]:
    """Run a child to completion; returns its output, wall time, peak RSS in MB (its own, from wait4), CPU time."""
    output, errors = work / "child.out", work / "child.err"
    started = time.perf_counter()
    with open(output, "w") as out, open(errors, "w") as err:
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=PROJECT)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command[:4])} failed:\n{errors.read_text()[-3000:]}")
    return output.read_text(), seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def twenty_more_articles(shared: Path, work: Path) -> Path:
    target = work / "refresh" / "news-ar-20.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(shared / "bench" / "news-ar-5000.jsonl.gz", "rt", encoding="utf-8") as lines:
        target.write_text("".join(next(lines) for _ in range(20)), encoding="utf-8")
    return target


def measure_bot(python: str, shared: Path, work: Path) -> list[tuple[str, str, str, str]]:
    sources = [str(shared / "corpus" / "libya-haftar-ar-87.jsonl"), str(PROJECT / "examples" / "articles")]
    rows = []
    env = environment(work)
    _, seconds, peak, cpu = run([python, "-m", "index", "build", *sources], env, work)
    rows.append(
        ("python -m index build (88 articles)", f"{seconds:.1f} s ({cpu:.0f} CPU)", f"{peak:.0f}", "fresh process")
    )
    refresh = twenty_more_articles(shared, work)
    output, _, _, _ = run([python, "-c", BOT_CHILD, *sources, str(refresh), json.dumps(QUESTIONS)], env, work)
    results = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    phases = {result["phase"]: result for result in results if "phase" in result}
    answer = phases["answer"]

    def row(what: str, phase: dict, notes: str) -> tuple[str, str, str, str]:
        return (what, f"{phase['seconds']:.1f} s ({phase['cpu']:.0f} CPU)", f"{phase['peak']:.0f}", notes)

    rows.append(row("bot: imports", phases["imports"], f"RSS {phases['imports']['rss']:.0f} MB after"))
    first = f"first {answer['first'] * 1000:,.0f} ms ({answer['first_cpu'] * 1000:,.0f} CPU) incl. loading"
    median = f"median {answer['median'] * 1000:,.0f} ms ({answer['median_cpu'] * 1000:,.0f} CPU)"
    rows.append(row(f"bot (a): {len(QUESTIONS)} questions", answer, f"{first}; {median}"))
    for phase, what in (
        ("build", "bot (b): build 88 articles, empty index"),
        ("rebuild", "bot (b'): /reindex, 88 articles"),
    ):
        done = phases[phase]
        rows.append(
            row(what, done, f"{done['articles']} articles, {done['chunks']} chunks, {done['embedded']} embedded")
        )
    done = phases["refresh"]
    rows.append(
        row("bot (c): refresh, +20 articles", done, f"{done['added']} added, {done['embedded']} chunks embedded")
    )
    after = phases["answer after"]
    median = f"median {after['median'] * 1000:,.0f} ms ({after['median_cpu'] * 1000:,.0f} CPU)"
    rows.append(row("bot: the first 10 questions again", after, f"{median}; peak of the process"))
    tail = results[-1]
    rows.append(("bot: torch imported?", "", "", f"{tail['torch']} ({tail['model']})"))
    _, seconds, peak, cpu = run([python, "-m", "index", "ask", QUESTIONS[0]], env, work)
    rows.append(("(d) python -m index ask, once", f"{seconds:.1f} s ({cpu:.1f} CPU)", f"{peak:.0f}", "fresh process"))
    return rows


def measure_install(work: Path) -> list[tuple[str, str, str, str]]:
    venv = work / "plain-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    source = work / "source"  # a copy: building in place would leave build/ in the project
    ignore = shutil.ignore_patterns(".venv", ".git", "var", "build", "*.egg-info", "__pycache__", ".*_cache")
    shutil.copytree(PROJECT, source, ignore=ignore)
    started = time.perf_counter()
    installed = subprocess.run([*pip, str(source)], cwd=work, capture_output=True, text=True)
    if installed.returncode != 0:
        raise SystemExit(f"pip install . failed:\n{installed.stderr[-3000:]}")
    seconds = time.perf_counter() - started
    site = next((venv / "lib").glob("python*/site-packages"))
    tooling = ("pip", "setuptools", "_distutils_hack", "distutils")  # the venv's own, not the project's
    sizes = {entry.name: _size(entry) for entry in site.iterdir() if entry.name.split("-")[0] not in tooling}
    total = sum(sizes.values())
    largest = ", ".join(f"{name} {size / 2**20:.0f}" for name, size in sorted(sizes.items(), key=lambda i: -i[1])[:8])
    probe = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import importlib.util as u; print(u.find_spec('torch') is None)"],
        capture_output=True,
        text=True,
    )
    return [
        (
            "plain install (pip install .)",
            f"{seconds:.0f} s",
            f"{total / 2**20:.0f} MB",
            f"site-packages without pip/setuptools; no torch: {probe.stdout.strip()}",
        ),
        ("  largest (MB)", "", "", largest),
    ]


def _size(path: Path) -> int:
    if path.is_file() or path.is_symlink():
        return path.lstat().st_size
    return sum(entry.lstat().st_size for entry in path.rglob("*") if entry.is_file() and not entry.is_symlink())


# name: (encoder, batch size, BLAS threads of the numpy encoder; onnxruntime and torch take two threads)
THROUGHPUT_KINDS = {
    "numpy": ("numpy", 8, 1),
    "numpy, 2 BLAS threads": ("numpy", 8, 2),
    "onnx": ("onnx", 8, 1),
    "torch": ("torch", 8, 1),
    "torch, batch 32": ("torch", 32, 1),
}


def measure_throughput(
    python: str, shared: Path, work: Path, rounds: int, names: list[str]
) -> list[tuple[str, str, str, str]]:
    sys.path.insert(0, str(PROJECT))
    from index.builder import encoder_passages
    from index.encoders.numpy_e5 import NumpyE5Embedder
    from index.settings import IndexSettings
    from index.sources.loaders import load_articles

    settings = IndexSettings.from_env()
    articles = load_articles([shared / "corpus" / "libya-haftar-ar-87.jsonl"]).articles
    counter = NumpyE5Embedder()  # chunking only counts tokens
    passages = [p for article in articles for p in encoder_passages(article, counter, settings)][:300]
    del counter
    file = work / "passages.json"
    file.write_text(json.dumps(passages, ensure_ascii=False), encoding="utf-8")
    kinds = {name: THROUGHPUT_KINDS[name] for name in names}
    results: dict[str, list[dict]] = {kind: [] for kind in kinds}
    for _ in range(rounds):
        for kind, (encoder, batch, blas) in kinds.items():
            env = environment(work, EMBED_BATCH_SIZE=str(batch), OPENBLAS_NUM_THREADS=str(blas))
            output, _, peak, _ = run([python, "-c", THROUGHPUT_CHILD, encoder, str(file)], env, work)
            results[kind].append({**json.loads(output.splitlines()[-1]), "peak": peak})
    rows = []
    rates = {}
    for kind, runs in results.items():
        rates[kind] = max(len(passages) / r["wall"] for r in runs)
        cpu = min(r["cpu"] for r in runs)
        walls = ", ".join(f"{len(passages) / r['wall']:.1f}" for r in runs)
        rows.append(
            (
                f"build throughput, {kind}",
                f"{rates[kind]:.1f} chunks/s",
                f"{max(r['peak'] for r in runs):.0f}",
                f"runs {walls} chunks/s; {cpu / len(passages) * 1000:.0f} ms CPU a chunk",
            )
        )
    best_torch = max((rate for kind, rate in rates.items() if kind.startswith("torch")), default=0.0)
    for kind in ("numpy", "onnx"):
        if kind in rates and best_torch:
            rows.append((f"  {kind} / best torch", f"{rates[kind] / best_torch:.2f}x", "", f"{len(passages)} chunks"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=PROJECT.parent / "shared")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the measured processes")
    parser.add_argument("--skip-install", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--rounds", type=int, default=2, help="throughput runs of each encoder")
    parser.add_argument(
        "--encoders",
        nargs="+",
        choices=list(THROUGHPUT_KINDS),
        default=[name for name in THROUGHPUT_KINDS if "BLAS" not in name],
        help="the throughput of these",
    )
    parser.add_argument("--skip-bot", action="store_true", help="only the throughput and the install")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="footprint-bench-"))
    try:
        rows = [] if args.skip_bot else measure_bot(args.python, args.shared, work)
        if not args.skip_throughput:
            rows += measure_throughput(args.python, args.shared, work, args.rounds, args.encoders)
        if not args.skip_install:
            rows += measure_install(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'what':<42} {'time (CPU s)':>18} {'peak MB':>8}  notes")
    for what, seconds, peak, notes in rows:
        print(f"{what:<42} {seconds:>18} {peak:>8}  {notes}")
    print(f"load average {os.getloadavg()[0]:.1f} on {len(os.sched_getaffinity(0))} cores at the end")


if __name__ == "__main__":
    main()
