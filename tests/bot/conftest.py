"""Fixtures of the bot's tests: a clean environment, the fake Telegram server, small indexes, a running bot."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bot_harness import (
    BOT_VARIABLES,
    RunningBot,
    bot_settings,
    built_engine,
    hashing_embedder,
    index_settings,
    write_articles,
)
from fake_telegram import FakeTelegram

from index.engine import Engine


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's bot settings."""
    for name in BOT_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def no_real_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection to a host other than this machine fails loudly: only Telegram's stand-in is reachable."""
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if sock.family in (socket.AF_INET, socket.AF_INET6) and host not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"a test tried to reach {address!r}; only 127.0.0.1 is allowed")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    """The fake Telegram Bot API server; every call the bot makes must have been valid."""
    with FakeTelegram(lifetime=120) as server:
        yield server
    refused = [f"{call.method}: {call.description}" for call in server.calls if not call.ok and call.status != 409]
    assert not refused, f"Telegram would have refused: {refused}"


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
        bot = RunningBot(settings, engine, **(run_options or {})).start()
        running.append(bot)
        return bot

    yield start
    for bot in running:
        bot.stop()
