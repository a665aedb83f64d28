"""Peak memory and time of ``python -m index build`` over hostile local inputs (issue 13, point 2).

Each case is written to a temporary folder and built in its own process with the test encoder
(EMBEDDING_MODEL=test:hashing) and the default LOAD_MAX_* limits; the peak resident memory of
that process (``ru_maxrss`` from ``wait4``) and the wall time are printed, with the problem lines
the build printed. The 1 GB decompression case is the one with a target: at most 300 MB.

    .venv/bin/python bench/hostile_inputs_bench.py            # every case
    .venv/bin/python bench/hostile_inputs_bench.py gzip-1gb   # cases whose name contains the word
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
GOOD = "Dock workers at the country's largest port walked out on Monday, halting grain exports.\n"
MB = 1_000_000


def _gzip_of(path: Path, piece: bytes, total_bytes: int, between: Callable[[int], bytes] | None = None) -> None:
    """A .jsonl.gz whose content is ``piece`` repeated to ``total_bytes`` (``between(n)`` after the n-th block)."""
    block = piece * max(1, (1 << 20) // len(piece))
    with gzip.open(path, "wb", compresslevel=9) as handle:
        written = n = 0
        while written < total_bytes:
            handle.write(block)
            written += len(block)
            if between is not None:
                extra = between(n)
                handle.write(extra)
                written += len(extra)
            n += 1


def gzip_1gb_same_line(folder: Path) -> Path:
    """~1 GB of one short record repeated: given up after 10,000 lines in a row that give no article."""
    _gzip_of(folder / "same.jsonl.gz", (json.dumps({"id": "x", "text": "Port strike."}) + "\n").encode(), 1_000 * MB)
    return folder


def gzip_1gb_short_records(folder: Path) -> Path:
    """~1 GB of short records, each repeated 5,000 times (duplicates, each a problem, most only counted):
    never 10,000 barren lines in a row, so it is read up to LOAD_MAX_DECOMPRESSED_BYTES (500 MB)."""
    words = GOOD.split()

    def record(n: int) -> bytes:
        text = " ".join(words[(n * 7 + k * 3) % len(words)] + str((n * 31 + k) % 97) for k in range(8))
        return (json.dumps({"id": f"r{n}", "text": text}) + "\n").encode()

    path = folder / "short.jsonl.gz"
    with gzip.open(path, "wb", compresslevel=9) as handle:
        written = n = 0
        while written < 1_000 * MB:
            block = record(n) * 5_000
            handle.write(block)
            written += len(block)
            n += 1
    return folder


def gzip_2gb_spaces(folder: Path) -> Path:
    """~2 GB of spaces and no newline (beside a good article): one line too long, read past in pieces up to the cap."""
    _gzip_of(folder / "spaces.jsonl.gz", b" " * 4096, 2_000 * MB)
    (folder / "good.txt").write_text("Port strike\n" + GOOD, encoding="utf-8")
    return folder


def jsonl_200mb_single_record(folder: Path) -> Path:
    """One 200 MB record in a plain .jsonl, then a good one: the long line is skipped unread."""
    with (folder / "huge.jsonl").open("wb") as handle:
        handle.write(b'{"id": "huge", "text": "')
        chunk = b"word " * 200_000
        for _ in range(200):
            handle.write(chunk)
        handle.write(b'"}\n')
        handle.write((json.dumps({"id": "good", "text": GOOD}) + "\n").encode())
    return folder


def fifo_and_dev_zero(folder: Path) -> Path:
    """A FIFO named fifo.txt and zero.txt -> /dev/zero beside a good article."""
    (folder / "good.txt").write_text("Port strike\n" + GOOD, encoding="utf-8")
    os.mkfifo(folder / "fifo.txt")
    (folder / "zero.txt").symlink_to("/dev/zero")
    return folder


CASES: dict[str, Callable[[Path], Path]] = {
    "gzip-1gb-same-line": gzip_1gb_same_line,
    "gzip-1gb-short-records": gzip_1gb_short_records,
    "gzip-2gb-spaces": gzip_2gb_spaces,
    "jsonl-200mb-record": jsonl_200mb_single_record,
    "fifo-and-dev-zero": fifo_and_dev_zero,
}


def build(folder: Path, work: Path) -> tuple[int, float, float, list[str], str]:
    """Run ``python -m index build folder``: exit code, peak RSS in MB, seconds, problem lines, summary."""
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(work),
        "INDEX_DIR": str(work / "index"),
        "EMBEDDING_MODEL": "test:hashing",
        "PYTHONPATH": str(PROJECT),
    }
    out, err = work / "stdout.txt", work / "stderr.txt"
    started = time.perf_counter()
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "index", "build", str(folder)], stdout=stdout, stderr=stderr, env=environment
        )
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    problems = [line for line in err.read_text(errors="replace").splitlines() if line.startswith(("skipped", "error"))]
    return process.returncode, usage.ru_maxrss / 1024, seconds, problems, out.read_text().strip()


def main(words: list[str]) -> None:
    chosen = {name: make for name, make in CASES.items() if not words or any(word in name for word in words)}
    print(f"python -m index build, EMBEDDING_MODEL=test:hashing, default LOAD_MAX_* limits; {len(chosen)} cases")
    for name, make in chosen.items():
        with tempfile.TemporaryDirectory(prefix="hostile-") as temporary:
            work = Path(temporary)
            folder = work / "articles"
            folder.mkdir()
            started = time.perf_counter()
            make(folder)
            on_disk = sum(p.stat().st_size for p in folder.iterdir() if p.is_file() and not p.is_symlink())
            made = time.perf_counter() - started
            code, peak_mb, seconds, problems, summary = build(folder, work)
        print(f"\n{name}: {make.__doc__.strip().splitlines()[0]}")
        print(f"  input {on_disk / MB:,.1f} MB on disk (written in {made:.1f} s)")
        print(f"  build: exit {code}, {seconds:.1f} s, peak RSS {peak_mb:,.0f} MB")
        print(f"  {summary.splitlines()[-1] if summary else '(no summary)'}")
        shown = problems if len(problems) <= 4 else [*problems[:2], f"… {len(problems) - 4} more …", *problems[-2:]]
        for line in shown:
            print(f"  {line.replace(str(folder) + '/', '')[:240]}")


if __name__ == "__main__":
    main(sys.argv[1:])
