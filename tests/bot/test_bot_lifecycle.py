"""Start-up and shutdown: ``python -m bot`` in both modes, a missing index, a stop during a rebuild."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from bot_harness import (
    ADMIN_ID,
    NEW_ARTICLE,
    READER_ID,
    GatedEmbedder,
    built_engine,
    free_port,
    index_settings,
    write_article,
    write_articles,
)
from fake_telegram import private_chat, user

from bot import messages
from index.encoders.base import HashingEmbedder
from index.engine import Engine

ROOT = Path(__file__).resolve().parents[2]
SECRET = "lifecycle-secret"


def start_process(tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / "bot.log"
    base = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "LOG_LEVEL": "INFO"}
    with open(log, "w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot"],
            cwd=tmp_path,
            env={**base, **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    return process, log


def wait_for_log(process: subprocess.Popen, log: Path, text: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"never logged {text!r}:\n{log.read_text()}")
        time.sleep(0.05)


def terminate(process: subprocess.Popen, log: Path) -> str:
    process.send_signal(signal.SIGTERM)
    try:
        assert process.wait(timeout=20) == 0, log.read_text()
    finally:
        process.kill()
    output = log.read_text()
    assert "Traceback" not in output, output
    return output


def test_python_m_bot_builds_a_missing_index_polls_answers_and_stops_on_sigterm(fake, tmp_path):
    articles = write_articles(tmp_path / "articles")
    process, log = start_process(
        tmp_path,
        {
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "EMBEDDING_MODEL": "test:hashing",
            "INDEX_DIR": str(tmp_path / "index"),
            "ARTICLES": str(articles),
        },
    )
    fake.send_text(private_chat(READER_ID), user(READER_ID), "Who met Haftar?")
    [answer] = fake.wait_for("sendMessage", chat_id=READER_ID, timeout=30)
    assert "Sources" in answer.result["text"]
    output = terminate(process, log)
    assert "building it from" in output and "Built the index: 3 articles" in output
    assert fake.token not in output  # request URLs hold the token; they are not logged


def test_python_m_bot_serves_a_webhook_and_stops_on_sigterm(fake, tmp_path):
    articles = write_articles(tmp_path / "articles")
    engine = Engine(index_settings(tmp_path / "index"), embedder=HashingEmbedder())  # as test:hashing
    engine.update([str(articles)], replace_all=True)
    port = free_port()
    process, log = start_process(
        tmp_path,
        {
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_BASE_URL": fake.base_url,
            "EMBEDDING_MODEL": "test:hashing",
            "INDEX_DIR": str(tmp_path / "index"),
            "ARTICLES": str(articles),
            "PORT": str(port),
            "WEBHOOK_URL": f"http://127.0.0.1:{port}/hook",
            "WEBHOOK_SECRET": SECRET,
        },
    )
    wait_for_log(process, log, "the bot is ready")
    assert fake.webhook["secret_token"] == SECRET
    fake.send_text(private_chat(READER_ID), user(READER_ID), "Who met Haftar?")
    [answer] = fake.wait_for("sendMessage", chat_id=READER_ID, timeout=30)
    assert "Sources" in answer.result["text"] and fake.deliveries == [200]
    terminate(process, log)


def test_in_webhook_mode_a_missing_index_is_built_after_the_port_is_bound(fake, tmp_path, start_bot):
    articles = write_articles(tmp_path / "articles")
    embedder = GatedEmbedder()
    embedder.gate.clear()
    engine = Engine(index_settings(tmp_path / "index"), embedder=embedder)
    port = free_port()
    start_bot(
        engine,
        articles,
        webhook_url=f"http://127.0.0.1:{port}/hook",
        webhook_secret=SECRET,
        port=port,
        run_options={"listen": "127.0.0.1"},
    )
    assert embedder.build_waiting.wait(10), "the missing index was never built"
    fake.send_text(private_chat(READER_ID), user(READER_ID), "Who met Haftar?")  # served while the build runs
    [early] = fake.wait_for("sendMessage", chat_id=READER_ID)
    assert early.result["text"] == messages.INDEX_BUILDING
    embedder.gate.set()
    deadline = time.monotonic() + 10
    while not engine.has_index() and time.monotonic() < deadline:
        time.sleep(0.02)
    fake.send_text(private_chat(READER_ID), user(READER_ID), "Who met Haftar?")
    assert "Sources" in fake.wait_for("sendMessage", chat_id=READER_ID, count=2)[1].result["text"]
    engine.close()


def test_stopping_during_a_rebuild_cancels_it_and_keeps_the_old_index(fake, tmp_path, start_bot):
    articles = write_articles(tmp_path / "articles")
    embedder = GatedEmbedder()
    engine = built_engine(tmp_path / "index", articles, embedder)
    bot = start_bot(engine, articles)
    write_article(articles, "sabha-solar.jsonl", NEW_ARTICLE)
    embedder.gate.clear()
    fake.send_text(private_chat(ADMIN_ID), user(ADMIN_ID), "/reindex")
    [status] = fake.wait_for("sendMessage", chat_id=ADMIN_ID)
    assert embedder.build_waiting.wait(10)

    stopping = threading.Thread(target=bot.stop)  # what SIGTERM does
    stopping.start()
    time.sleep(0.3)
    embedder.gate.set()  # the build reaches its next progress report, and stops there
    stopping.join(20)
    assert not stopping.is_alive()
    edits = fake.calls_of("editMessageText", chat_id=ADMIN_ID, message_id=status.result["message_id"])
    assert edits[-1].result["text"].startswith("The rebuild was cancelled because the bot is shutting down")
    assert engine.stats().articles == 3
    assert not [path.name for path in (tmp_path / "index").iterdir() if path.name.startswith(".staging")]
    engine.close()
