"""Reading the sources file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from index.errors import SettingsError
from index.sources.sources_file import classify, read_sources_file
from tests.conftest import PROJECT


def test_sources_file_lines(tmp_path: Path) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    sources = folder / "sources.txt"
    sources.write_text(
        "\ufeff# news we follow\n"
        "\n"
        "https://www.aljazeera.net/aljazeerarss/a7c186be-1baa-4bd4-9d80-a84db769f779/73d0e1b4-532f-45ef-b135-bfdff8b8cab9\n"
        "   https://feeds.bbci.co.uk/news/world/rss.xml   # BBC World\n"
        "articles/\n"
        "../archive/2024.jsonl\n"
        "/srv/news/extra.json\n"
        "  # an indented comment\n"
        "https://example.com/story#section-2\n"
        "articles/\n"
        "file:///srv/news/my%20notes.txt\n",
        encoding="utf-8",
    )
    assert read_sources_file(sources) == [
        "https://www.aljazeera.net/aljazeerarss/a7c186be-1baa-4bd4-9d80-a84db769f779/73d0e1b4-532f-45ef-b135-bfdff8b8cab9",
        "https://feeds.bbci.co.uk/news/world/rss.xml",
        str(folder.resolve() / "articles"),
        str(tmp_path.resolve() / "archive" / "2024.jsonl"),
        "/srv/news/extra.json",
        "https://example.com/story#section-2",
        "file:///srv/news/my%20notes.txt",  # kept as written: expand_sources refuses it in one sentence
    ]


def test_relative_paths_follow_the_file_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sources.txt").write_text("مقالات/خبر.txt\n", encoding="utf-8")
    monkeypatch.chdir("/")
    assert read_sources_file(str(tmp_path / "sources.txt")) == [str(tmp_path.resolve() / "مقالات" / "خبر.txt")]


def test_empty_sources_file(tmp_path: Path) -> None:
    (tmp_path / "sources.txt").write_text("# nothing yet\n\n", encoding="utf-8")
    assert read_sources_file(tmp_path / "sources.txt") == []


def test_missing_sources_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"The sources file .*missing\.txt could not be read"):
        read_sources_file(tmp_path / "missing.txt")


def test_sources_file_that_is_not_utf8(tmp_path: Path) -> None:
    (tmp_path / "sources.txt").write_bytes("https://a.example/\n\xe9\n".encode("latin-1"))
    with pytest.raises(SettingsError, match="UTF-8"):
        read_sources_file(tmp_path / "sources.txt")


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("https://example.com/feed.xml", "url"),
        ("http://example.com/a", "url"),
        ("HTTPS://EXAMPLE.COM/A", "url"),
        ("ftp://example.com/a", "url"),  # fetched, and refused there with a reason
        ("file:///srv/news/a.txt", "path"),
        ("/srv/news/a.txt", "path"),
        ("articles/", "path"),
        ("./a.jsonl", "path"),
        ("C:\\news\\a.txt", "path"),
        ("example.com/feed", "path"),
        ("مقالات/خبر.txt", "path"),
    ],
)
def test_classify(source: str, kind: str) -> None:
    assert classify(source) == kind


def test_file_urls_are_refused_in_one_sentence(tmp_path: Path) -> None:
    """``python -m index add file:///etc/passwd`` said "file:/etc/passwd: does not exist" (issue 13, point 11)."""
    listed = tmp_path / "news.sources"
    listed.write_text("file:///srv/news/a.txt\n", encoding="utf-8")
    good = tmp_path / "good.txt"
    good.write_text("Port strike\nDock workers walked out on Monday.\n", encoding="utf-8")
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "INDEX_DIR": str(tmp_path / "index"),
        "EMBEDDING_MODEL": "test:hashing",
        "PYTHONPATH": str(PROJECT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "index", "add", str(good), "file:///etc/passwd", "--sources", str(listed)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=PROJECT,
        timeout=120,
    )
    problems = [line for line in done.stderr.splitlines() if line.startswith("skipped ")]
    assert problems == [
        "skipped file:///srv/news/a.txt: file:// URLs are not read; give the path itself (/srv/news/a.txt)",
        "skipped file:///etc/passwd: file:// URLs are not read; give the path itself (/etc/passwd)",
    ], done.stderr
    assert done.returncode == 0 and "1 added" in done.stdout
