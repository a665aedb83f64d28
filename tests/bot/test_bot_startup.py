"""``python -m bot`` as a person runs it: one clear line for a bad setting, the terminal chat without a token."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from bot_harness import write_articles

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:TEST-token_for-the-fake"


def run_bot(tmp_path: Path, env: dict[str, str], stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``python -m bot`` in an empty folder (so no .env is read) with only ``env`` set."""
    base = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=tmp_path,
        env={**base, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"WEBHOOK_URL": "https://bot.example.com/hook", "WEBHOOK_SECRET": "s3cret"}, "TELEGRAM_BOT_TOKEN is missing"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "ADMIN_IDS": "12345,alice"}, "ADMIN_IDS must list Telegram user ids"),
        ({"TELEGRAM_BOT_TOKEN": "not a token"}, "TELEGRAM_BOT_TOKEN does not look like a bot token"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://bot.example.com/hook"}, "WEBHOOK_SECRET must be"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "PORT": "eighty"}, "PORT must be a whole number"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "RATE_LIMIT_PER_USER": "-1"}, "RATE_LIMIT_PER_USER must be between 0"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "MAX_QUESTION_CHARS": "lots"}, "MAX_QUESTION_CHARS must be a whole number"),
    ],
)
def test_a_bad_setting_stops_the_bot_with_one_clear_line(tmp_path, env, named):
    result = run_bot(tmp_path, env, timeout=30)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {named}"), result.stderr
    assert "Traceback" not in result.stderr


def test_a_piped_question_without_a_token_gets_a_cited_answer_in_the_terminal(tmp_path):
    articles = write_articles(tmp_path / "articles")
    env = {"ARTICLES": str(articles), "INDEX_DIR": str(tmp_path / "index"), "EMBEDDING_MODEL": "test:hashing"}
    result = run_bot(tmp_path, env, stdin="Who met Haftar?\n\nwho won the football cup?\n")
    assert result.returncode == 0, result.stderr
    assert "[1]" in result.stdout and "\nSources:\n[1] " in result.stdout
    assert "US delegation meets Haftar over Russian role in Libya — Example Wire, 2019-11-25" in result.stdout
    assert "https://news.example.com/2019/11/us-haftar-meeting" in result.stdout
    assert "Benghazi club lifts the national football cup" in result.stdout
    assert "building one from" in result.stderr and "Traceback" not in result.stderr
    again = run_bot(tmp_path, env, stdin="Who met Haftar?\n")  # the index is there now: no rebuild
    assert again.returncode == 0 and "building" not in again.stderr
    assert again.stdout.split("\n\n")[0] == result.stdout.split("\n\n")[0]


def test_a_token_telegram_refuses_stops_the_bot_with_one_clear_line(tmp_path, fake):
    result = run_bot(
        tmp_path, {"TELEGRAM_BOT_TOKEN": "999:not-the-fakes-token", "TELEGRAM_API_BASE_URL": fake.base_url}
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "error: Telegram refused TELEGRAM_BOT_TOKEN; copy the token again from @BotFather."
    ]


def test_an_unreachable_bot_api_stops_the_bot_with_one_clear_line(tmp_path):
    from bot_harness import free_port

    url = f"http://127.0.0.1:{free_port()}/bot"
    result = run_bot(tmp_path, {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_BASE_URL": url})
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: cannot reach the Telegram Bot API at {url} (") and "Traceback" not in result.stderr
