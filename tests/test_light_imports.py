"""A process that only answers questions loads no fetching or page-parsing library (issue 16: each one is
private memory in every bot or worker process on a host). httpx, lxml, readability and feedparser are
imported by what fetches URLs, reads HTML or calls an LLM, at its first use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
FETCHING_LIBRARIES = ("httpx", "lxml", "readability", "feedparser")

SEARCHING = """
import sys
import index
from index import Engine, HashingEmbedder, IndexSettings

engine = Engine(IndexSettings(index_dir=sys.argv[1]), embedder=HashingEmbedder())
assert engine.index_problem() is None
assert engine.search("olive oil prices", 3)
assert engine.ask("Who met Haftar in Benghazi?").citations
engine.stats()
print(" ".join(name for name in sys.argv[2:] if name in sys.modules))
"""


def loaded_in_a_new_process(script: str, *arguments: str) -> list[str]:
    """The fetching libraries that ``script`` (which prints the names it finds loaded) leaves imported."""
    done = subprocess.run(
        [sys.executable, "-c", script, *arguments, *FETCHING_LIBRARIES],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_opening_an_index_and_answering_imports_no_fetching_library(hashing_engine, news_folder):
    engine = hashing_engine()
    engine.update([news_folder], replace_all=True)
    engine.close()
    assert loaded_in_a_new_process(SEARCHING, str(engine.index_dir)) == []


def test_the_check_sees_a_fetching_library_once_something_fetches(hashing_engine, news_folder):
    engine = hashing_engine()
    engine.update([news_folder], replace_all=True)
    engine.close()
    fetching = SEARCHING.replace("engine.stats()", "engine.collector.fetcher")
    assert loaded_in_a_new_process(fetching, str(engine.index_dir)) == ["httpx", "lxml", "readability", "feedparser"]


def test_the_bot_loads_no_page_parser_until_it_fetches():
    script = "import sys, bot.main, bot.app\nprint(' '.join(n for n in sys.argv[1:] if n in sys.modules))"
    assert loaded_in_a_new_process(script) == ["httpx"]  # python-telegram-bot's own HTTP client
