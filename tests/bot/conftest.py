"""Fixtures of the bot's tests: small indexes and a running bot (the fake Telegram server is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bot_harness import (
    RunningBot,
    bot_settings,
    built_engine,
    hashing_embedder,
    index_settings,
    write_articles,
)
from fake_telegram import FakeTelegram

from index.collect import Collector
from index.engine import Engine


@pytest.fixture(scope="session")
def shared_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The three little articles, and an index of them built once for the session (read-only)."""
    root = tmp_path_factory.mktemp("shared")
    articles = write_articles(root / "articles")
    built_engine(root / "index", articles).close()
    return articles, root / "index"


@pytest.fixture
def engine(shared_index: tuple[Path, Path]) -> Iterator[Engine]:
    engine = Engine(index_settings(shared_index[1]), embedder=hashing_embedder())
    yield engine
    engine.close()


@pytest.fixture
def start_bot(fake: FakeTelegram, shared_index: tuple[Path, Path]) -> Iterator[Callable[..., RunningBot]]:
    """Start the real bot over HTTP against the fake server; stopped at the end of the test."""
    running: list[RunningBot] = []

    def start(
        engine: Engine, articles_dir: Path | None = None, run_options: dict | None = None, **overrides: object
    ) -> RunningBot:
        settings = bot_settings(fake, engine, articles_dir or shared_index[0], **overrides)
        engine.collector = Collector(engine.index_dir, settings.fetch)  # as bot.main makes the engine: settings.fetch
        bot = RunningBot(settings, engine, **(run_options or {})).start()
        running.append(bot)
        return bot

    yield start
    for bot in running:
        bot.stop()
