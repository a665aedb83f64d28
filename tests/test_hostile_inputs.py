"""Hostile local inputs (issue 13): bounded reads, files that are not files, junk articles, bad ids
and URLs, and the inputs that used to end in a traceback. Each is one line of problem, and the rest loads."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
import tracemalloc
from pathlib import Path

import pytest

from index.records import LoadProblem
from index.sources.loaders import LoadResult, load_articles
from tests.conftest import PROJECT

GOOD = {"id": "good", "title": "Port strike", "text": "Dock workers walked out on Monday, halting grain exports."}
SMALL = {"max_article_chars": 20_000, "max_decompressed_bytes": 100_000, "max_line_bytes": 100_000}


def limits(**overrides: int):
    from index.sources.loaders import LoadLimits

    return LoadLimits(**{**SMALL, **overrides})


def jsonl(*records: dict | str) -> bytes:
    lines = (r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records)
    return "".join(line + "\n" for line in lines).encode("utf-8")


def write(path: Path, content: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def reasons(result: LoadResult) -> list[str]:
    return [problem.reason for problem in result.problems]


def load_measured(paths: list[Path], **overrides: int) -> tuple[LoadResult, int]:
    """Load with the small limits; also the peak of memory allocated while loading, in bytes."""
    chosen = limits(**overrides)
    tracemalloc.start()
    try:
        result = load_articles(paths, chosen)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def load_in_child(paths: list[Path], seconds: float = 20.0) -> dict:
    """Load with the default limits in a child process capped at 1 GB of address space and ``seconds``,
    so that an input that hangs or swallows memory fails the test instead of the machine."""
    script = (
        "import json, resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from index.sources.loaders import load_articles\n"
        "result = load_articles(sys.argv[1:])\n"
        "print(json.dumps({'ids': [a.id for a in result.articles],"
        " 'problems': [[p.origin, p.reason] for p in result.problems]}))\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", script, *map(str, paths)],
            capture_output=True,
            text=True,
            timeout=seconds,
            cwd=PROJECT,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"loading did not finish within {seconds:g} s")
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


# ---------------------------------------------------------------- point 2: bounded reads


def test_gzip_stream_stops_at_the_decompressed_cap(tmp_path: Path) -> None:
    """1 MB of distinct short records behind a 100 KB cap: the lines before the cap load, one problem says why."""
    records = [{"id": f"n{n}", "text": f"Story {n} about the harbour."} for n in range(20_000)]
    data = jsonl(*records)
    assert len(data) > 1_000_000
    path = write(tmp_path / "many.jsonl.gz", gzip.compress(data))
    result, peak = load_measured([path])
    assert 1_000 < len(result.articles) < 3_000
    assert [(p.origin, p.reason) for p in result.problems] == [
        (
            str(path),
            "stopped after 100,000 bytes of decompressed text (LOAD_MAX_DECOMPRESSED_BYTES); "
            "the lines before were loaded: split the file or raise the limit",
        )
    ]
    assert peak < 4_000_000  # the articles kept, not the megabyte of text


def test_gzip_of_one_repeated_line_stops_early_with_few_problems(tmp_path: Path) -> None:
    """The same record a hundred thousand times (gzip makes that tiny): one article, a bounded number of
    problems, and the file is given up after a run of lines that give nothing."""
    line = json.dumps(GOOD) + "\n"
    path = write(tmp_path / "same.jsonl.gz", gzip.compress(line.encode() * 100_000))
    result, peak = load_measured([path], max_decompressed_bytes=100_000_000)
    assert [a.id for a in result.articles] == ["good"]
    assert len(result.problems) <= 52
    assert result.problems[0].reason.startswith("duplicate id 'good'")
    assert "more lines of this file were skipped" in result.problems[-2].reason
    assert result.problems[-1].reason.startswith("stopped reading: 10,000 lines in a row gave no article")
    assert peak < 2_000_000


def test_gzip_of_spaces_without_a_newline(tmp_path: Path) -> None:
    """A line of spaces with no end: skipped at the line limit, never held whole."""
    path = write(tmp_path / "spaces.jsonl.gz", gzip.compress(b" " * 1_000_000))
    result, peak = load_measured([path], max_decompressed_bytes=10_000_000)
    assert result.articles == []
    assert [(p.origin, p.reason) for p in result.problems] == [
        (f"{path}:1", "is longer than 100,000 bytes (LOAD_MAX_LINE_BYTES): shorten the article or raise the limit")
    ]
    assert peak < 1_000_000


def test_single_record_longer_than_the_line_limit(tmp_path: Path) -> None:
    huge = {"id": "huge", "text": "word " * 200_000}
    path = write(tmp_path / "huge.jsonl", jsonl(huge, GOOD))
    result, peak = load_measured([path])
    assert [a.id for a in result.articles] == ["good"]
    assert [(p.origin, p.reason) for p in result.problems] == [
        (f"{path}:1", "is longer than 100,000 bytes (LOAD_MAX_LINE_BYTES): shorten the article or raise the limit")
    ]
    assert peak < 1_000_000


def test_article_longer_than_the_article_limit(tmp_path: Path) -> None:
    long_text = "Harbour news. " * 2_000  # 28,000 characters
    txt = write(tmp_path / "long.txt", "Title\n" + long_text)
    big = write(tmp_path / "big.md", "# Title\n" + long_text * 10)  # 280 KB: more bytes than 20,000 characters take
    lines = write(tmp_path / "long.jsonl", jsonl({"id": "long", "text": long_text}, GOOD))
    result, _ = load_measured([txt, big, lines])
    assert [a.id for a in result.articles] == ["good"]
    assert [(p.origin, p.reason) for p in result.problems] == [
        (str(txt), "is longer than 20,000 characters (LOAD_MAX_ARTICLE_CHARS): split the article or raise the limit"),
        (
            str(big),
            "is larger than 80,000 bytes, more than an article of 20,000 characters (LOAD_MAX_ARTICLE_CHARS) "
            "can take: split the article or raise the limit",
        ),
        (
            f"{lines}:1",
            "has a text longer than 20,000 characters (LOAD_MAX_ARTICLE_CHARS): split the article or raise the limit",
        ),
    ]


def test_fifo_in_a_folder_is_skipped_without_opening_it(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    write(folder / "good.txt", "Good\nDock workers walked out on Monday.\n")
    fifo = folder / "fifo.txt"
    os.mkfifo(fifo)
    release = threading.Timer(25, _release_fifo, [fifo])  # a reader blocked on the FIFO (the old code) is let go
    release.start()
    try:
        loaded = load_in_child([folder])
    finally:
        release.cancel()
    assert loaded["ids"] == ["good"]
    assert loaded["problems"] == [[str(fifo), "is not a regular file (a FIFO); only regular files are loaded"]]


def _release_fifo(fifo: Path) -> None:
    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass


def test_symlink_to_dev_zero_is_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    write(folder / "good.txt", "Good\nDock workers walked out on Monday.\n")
    (folder / "zero.txt").symlink_to("/dev/zero")
    (folder / "zero.jsonl").symlink_to("/dev/zero")
    loaded = load_in_child([folder, Path("/dev/null")])
    assert loaded["ids"] == ["good"]
    device = "is not a regular file (a character device); only regular files are loaded"
    assert loaded["problems"] == [
        [str(folder / "zero.jsonl"), device],
        [str(folder / "zero.txt"), device],
        ["/dev/null", device],
    ]


def test_limits_are_read_once_from_the_environment() -> None:
    from index.settings import IndexSettings

    settings = IndexSettings.from_env(
        {"LOAD_MAX_ARTICLE_CHARS": "5000", "LOAD_MAX_DECOMPRESSED_BYTES": "2000000", "LOAD_MAX_LINE_BYTES": "300000"}
    )
    assert settings.load_limits == limits(
        max_article_chars=5_000, max_decompressed_bytes=2_000_000, max_line_bytes=300_000
    )
    assert IndexSettings.from_env({}).load_limits == IndexSettings().load_limits
    from index.errors import SettingsError

    with pytest.raises(SettingsError, match="LOAD_MAX_LINE_BYTES must be between"):
        IndexSettings.from_env({"LOAD_MAX_LINE_BYTES": "10"})


# ---------------------------------------------------------------- point 5: one line, not a traceback


def test_lone_surrogate_in_jsonl_text_is_replaced(tmp_path: Path) -> None:
    path = write(tmp_path / "surrogate.jsonl", '{"id": "s", "title": "T \\ud800", "text": "Before \\udc00 after."}\n')
    [article] = load_articles([path]).articles
    assert article.text == "Before \ufffd after." and article.title == "T \ufffd"
    assert article.content_hash  # encodes every field as UTF-8: raised UnicodeEncodeError before


def test_deeply_nested_json_line_is_one_problem(tmp_path: Path) -> None:
    path = write(tmp_path / "nested.jsonl", jsonl("[" * 100_000, GOOD))
    result = load_articles([path])
    assert [a.id for a in result.articles] == ["good"]
    assert [(p.origin, p.reason) for p in result.problems] == [
        (f"{path}:1", "nests JSON too deeply to read; write one flat JSON object per line")
    ]


def test_file_name_with_a_byte_that_is_not_utf8(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (Path(os.fsdecode(bytes(folder) + b"/caf\xff.txt"))).write_text("Cafe\nDock workers walked out.\n")
    [article] = load_articles([folder]).articles
    assert article.id == "caf\ufffd" and article.origin == str(folder / "caf\ufffd.txt")
    article.origin.encode("utf-8")
    assert article.content_hash


def test_symlink_loop_in_a_folder_is_one_problem(tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    write(folder / "good.txt", "Good\nDock workers walked out on Monday.\n")
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    (folder / "a.md").symlink_to(folder / "b.md")
    (folder / "b.md").symlink_to(folder / "a.md")
    result = load_articles([folder])
    assert [a.id for a in result.articles] == ["good"]
    loop = "is a symbolic link that leads back to itself; fix or remove the link"
    assert [(p.origin, p.reason) for p in result.problems] == [
        (str(folder / "a.md"), loop),
        (str(folder / "b.md"), loop),
        (str(folder / "loop.txt"), loop),
    ]
    assert reasons(load_articles([folder / "loop.txt"])) == [loop]


def test_build_goes_on_past_bad_articles(tmp_path: Path) -> None:
    """``python -m index build`` over a folder of every hostile kind: one line each, and the good article built."""
    folder = tmp_path / "articles"
    write(folder / "good.txt", "Good\nDock workers walked out on Monday, halting grain exports.\n")
    write(
        folder / "lines.jsonl",
        jsonl('{"id": "s", "text": "Text \\ud800"}', "[" * 100_000, '{"id": "u", "text": "\\udfff"}'),
    )
    write(folder / "nul.md", b"\x00" * 5_000)
    os.mkfifo(folder / "fifo.txt")
    (folder / "zero.txt").symlink_to("/dev/zero")
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    (Path(os.fsdecode(bytes(folder) + b"/caf\xff.txt"))).write_text("Cafe\nThe cafe reopened on Monday.\n")
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "INDEX_DIR": str(tmp_path / "index"),
        "EMBEDDING_MODEL": "test:hashing",
        "PYTHONPATH": str(PROJECT),
    }
    release = threading.Timer(50, _release_fifo, [folder / "fifo.txt"])
    release.start()
    try:
        done = subprocess.run(
            [sys.executable, "-c", _LIMITED_CLI, "build", str(folder)],
            capture_output=True,
            text=True,
            env=environment,
            cwd=PROJECT,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the build did not finish within 60 s")
    finally:
        release.cancel()
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert "3 articles" in done.stdout  # good, caf\ufffd, and the line with the lone surrogate
    skipped = [line for line in done.stderr.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == 6, done.stderr  # nested line, surrogate-only text, NULs, FIFO, /dev/zero, loop


_LIMITED_CLI = (  # python -m index, with at most 2 GB of address space
    "import resource, runpy, sys\n"
    "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
    "sys.argv[0] = 'index'\n"
    "runpy.run_module('index', run_name='__main__', alter_sys=True)\n"
)


# ---------------------------------------------------------------- point 10: junk is not an article


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("nul.md", b"\x00" * 5_000),
        ("zero-width.md", ("\u200b\u200c\u200d\u2060\ufeff" * 200).encode()),
        ("images.md", b"# \n\n![](photo-1.jpg)\n![](photo-2.jpg)\n<img src='photo-3.jpg'>\n"),
        ("digits.txt", b"2024\n\n12345 67890\n"),
        ("controls.txt", b"\x01\x02\x03\n\x04\x05\x06 \x07\n"),
    ],
)
def test_files_without_letters_are_skipped(tmp_path: Path, name: str, content: bytes) -> None:
    path = write(tmp_path / name, content)
    result = load_articles([path])
    assert result.articles == []
    assert [(p.origin, p.reason) for p in result.problems] == [
        (str(path), "has no text with letters in it (only symbols, markup or invisible characters)")
    ]


def test_control_characters_are_removed_from_article_text(tmp_path: Path) -> None:
    path = write(
        tmp_path / "ctl.jsonl", jsonl({"id": "c", "title": "A\x00B", "text": "Dock\x00 workers\x07 left.\tOK"})
    )
    [article] = load_articles([path]).articles
    assert (article.title, article.text) == ("AB", "Dock workers left.\tOK")


@pytest.mark.parametrize(
    ("record_id", "reason"),
    [
        ({"nested": 1}, "has an object as 'id'; use a string or a whole number"),
        (["a"], "has a list as 'id'; use a string or a whole number"),
        (True, "has true or false as 'id'; use a string or a whole number"),
        (1.5, "has a decimal number as 'id'; use a string or a whole number"),
        ("   ", "has a blank 'id'; every line needs 'id' and 'text'"),
        ("a\x00b", "has control characters in its 'id'; use visible characters only"),
        ("line\nbreak", "has control characters in its 'id'; use visible characters only"),
    ],
)
def test_ids_that_are_not_plain_text_are_skipped(tmp_path: Path, record_id: object, reason: str) -> None:
    path = write(
        tmp_path / "ids.jsonl", jsonl({"id": record_id, "text": "Some text."}, GOOD, {"id": 42, "text": "Ok."})
    )
    result = load_articles([path])
    assert [a.id for a in result.articles] == ["good", "42"]
    assert [(p.origin, p.reason) for p in result.problems] == [(f"{path}:1", reason)]


def test_file_name_with_a_control_character_is_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "bad\nname.txt", "Title\nDock workers walked out.\n")
    result = load_articles([path])
    assert result.articles == []
    assert reasons(result) == ["has control characters in its name, which would be its id; rename the file"]


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/a b\nc",
        "javascript:alert(1)",
        "ftp://example.com/a",
        "https://example.com/\u202egnp.exe",
        "example.com/a",
        "https://",
    ],
)
def test_bad_urls_are_dropped_with_a_note(tmp_path: Path, url: str) -> None:
    path = write(tmp_path / "urls.jsonl", jsonl({"id": "u", "text": "Dock workers left.", "url": url}))
    md = write(tmp_path / "page.md", f"---\nurl: {url.splitlines()[0]}\n---\n# Title\n\nDock workers left.\n")
    result = load_articles([path, md])
    assert [(a.id, a.url) for a in result.articles] == [("u", ""), ("page", "")]
    assert len(result.problems) == 2
    problem = result.problems[0]
    assert problem.origin == f"{path}:1"
    assert problem.reason.startswith("has a 'url' that is not a web address (")
    assert problem.reason.endswith("); the article is kept without its link")
    assert str(problem).startswith(f"note on {path}:1: ")


@pytest.mark.parametrize(
    "url",
    ["https://example.com/news/a?b=1#c", "http://example.com", "https://ar.wikipedia.org/wiki/ليبيا", "HTTPS://X.ORG/"],
)
def test_good_urls_are_kept(tmp_path: Path, url: str) -> None:
    path = write(tmp_path / "urls.jsonl", jsonl({"id": "u", "text": "Dock workers left.", "url": url}))
    result = load_articles([path])
    assert result.problems == [] and result.articles[0].url == url


def test_load_problem_for_a_note_reads_as_a_note() -> None:
    assert str(LoadProblem("a.jsonl:3", "x", skipped=False)) == "note on a.jsonl:3: x"
    assert str(LoadProblem("a.jsonl:3", "x")) == "skipped a.jsonl:3: x"


def test_cli_build_reads_the_limits_from_the_environment(tmp_path: Path) -> None:
    """A 1 MB single-record line under LOAD_MAX_LINE_BYTES=100000: one line of problem, the rest built."""
    path = write(tmp_path / "big.jsonl", jsonl({"id": "huge", "text": "word " * 200_000}, GOOD))
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "INDEX_DIR": str(tmp_path / "index"),
        "EMBEDDING_MODEL": "test:hashing",
        "PYTHONPATH": str(PROJECT),
        "LOAD_MAX_LINE_BYTES": "100000",
    }
    done = subprocess.run(
        [sys.executable, "-m", "index", "build", str(path)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=PROJECT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "1 articles" in done.stdout or "1 article" in done.stdout
    reason = "is longer than 100,000 bytes (LOAD_MAX_LINE_BYTES): shorten the article or raise the limit"
    assert f"skipped {path}:1: {reason}" in done.stderr.splitlines()
