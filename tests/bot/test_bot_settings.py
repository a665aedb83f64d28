"""Settings are read once from the environment (and .env); a bad one is named in one sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import BotSettingsError
from bot.settings import DEFAULT_API_BASE_URL, BotSettings, read_environment

TOKEN = "123456:ABC-def_ghi"


def test_defaults_mean_the_terminal_chat_over_the_example_articles():
    settings = BotSettings.from_env({})
    assert settings.mode == "terminal"
    assert settings.articles == ("examples/articles",)
    assert settings.api_base_url == DEFAULT_API_BASE_URL == "https://api.telegram.org/bot"
    assert settings.api_base_file_url == "https://api.telegram.org/file/bot"
    assert settings.admin_ids == frozenset() and settings.operator_chat_id is None
    assert (settings.port, settings.log_level) == (8080, "INFO")
    assert settings.index.max_question_chars == 500


def test_every_setting_is_read():
    settings = BotSettings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": f" {TOKEN} ",
            "ADMIN_IDS": "12345, 67890,",
            "INDEX_DIR": "/data/index",
            "EMBEDDING_MODEL": "test:hashing",
            "ARTICLES": "examples/articles, /data/more.jsonl",
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
            "WEBHOOK_URL": "https://bot.example.com/telegram/hook",
            "WEBHOOK_SECRET": "s3cret-_x",
            "PORT": "5000",
            "LOG_LEVEL": "debug",
            "OPERATOR_CHAT_ID": "-1001234",
            "RATE_LIMIT_PER_USER": "3",
            "RATE_LIMIT_PER_CHAT": "0",
            "MAX_QUESTION_CHARS": "300",
        }
    )
    assert settings.token == TOKEN and settings.mode == "webhook"
    assert settings.admin_ids == {12345, 67890}
    assert settings.index.index_dir == Path("/data/index") and settings.index.embedding_model == "test:hashing"
    assert settings.articles == ("examples/articles", "/data/more.jsonl")
    assert settings.api_base_file_url == "http://127.0.0.1:8081/file/bot"
    assert settings.webhook_path == "telegram/hook" and settings.webhook_secret == "s3cret-_x"
    assert (settings.port, settings.log_level, settings.operator_chat_id) == (5000, "DEBUG", -1001234)
    assert (settings.rate_limit_per_user, settings.rate_limit_per_chat) == (3, 0)
    assert settings.index.max_question_chars == 300


def test_a_token_without_webhook_means_long_polling():
    assert BotSettings.from_env({"TELEGRAM_BOT_TOKEN": TOKEN}).mode == "polling"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"WEBHOOK_URL": "https://x.example.com/h", "WEBHOOK_SECRET": "s"},
            "TELEGRAM_BOT_TOKEN is missing: webhook mode",
        ),
        ({"TELEGRAM_BOT_TOKEN": "123456"}, "TELEGRAM_BOT_TOKEN does not look like a bot token"),
        (
            {"ADMIN_IDS": "12,bob"},
            "ADMIN_IDS must list Telegram user ids as whole numbers separated by commas (e.g. ADMIN_IDS=12345,67890), "
            "but 'bob' is not one.",
        ),
        ({"ADMIN_IDS": "-5"}, "ADMIN_IDS must list Telegram user ids"),
        ({"TELEGRAM_API_BASE_URL": "api.telegram.org"}, "TELEGRAM_API_BASE_URL must be an http:// or https:// address"),
        ({"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_URL": "ftp://x"}, "WEBHOOK_URL must be an http:// or https:// address"),
        (
            {"TELEGRAM_BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://x.example.com/h", "WEBHOOK_SECRET": "has space"},
            "WEBHOOK_SECRET must be 1 to 256",
        ),
        ({"PORT": "70000"}, "PORT must be between 1 and 65535, not 70000."),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'LOUD'."),
        ({"OPERATOR_CHAT_ID": "@me"}, "OPERATOR_CHAT_ID must be a Telegram chat id"),
        ({"RATE_LIMIT_PER_CHAT": "many"}, "RATE_LIMIT_PER_CHAT must be a whole number, not 'many'."),
        ({"MAX_QUESTION_CHARS": "5"}, "MAX_QUESTION_CHARS must be between"),
        ({"CHUNK_TOKENS": "x"}, "CHUNK_TOKENS must be a whole number"),
    ],
)
def test_a_bad_setting_is_named_in_one_sentence(env, message):
    with pytest.raises(BotSettingsError) as caught:
        BotSettings.from_env(env)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value) and str(caught.value).endswith(".")


def test_a_dotenv_file_fills_in_but_never_overrides_the_real_environment(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# comment\nTELEGRAM_BOT_TOKEN=111:from-file\nADMIN_IDS=1,2\nexport PORT=9000\n", encoding="utf-8"
    )
    env = read_environment({"TELEGRAM_BOT_TOKEN": TOKEN, "PATH": "/bin"}, dotenv)
    assert env["TELEGRAM_BOT_TOKEN"] == TOKEN and env["ADMIN_IDS"] == "1,2" and env["PORT"] == "9000"
    assert read_environment({"A": "b"}, tmp_path / "missing.env") == {"A": "b"}


def test_env_example_documents_every_setting_with_valid_values():
    from tests.conftest import SETTINGS_VARIABLES

    root = Path(__file__).resolve().parents[2]
    lines = (root / ".env.example").read_text(encoding="utf-8").splitlines()
    names = [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]
    assert sorted(names) == sorted(SETTINGS_VARIABLES)
    for index, line in enumerate(lines):
        if line and not line.startswith("#"):
            previous = next(
                prior for prior in reversed(lines[:index]) if not prior or prior.startswith("#") or "=" in prior
            )
            assert previous.startswith("#") or "=" in previous, f"{line} has no comment"
    settings = BotSettings.from_env(read_environment({}, root / ".env.example"))
    assert settings.mode == "terminal" and settings.articles == ("examples/articles",)


def test_the_procfile_runs_the_worker_and_the_web_process():
    root = Path(__file__).resolve().parents[2]
    assert (root / "Procfile").read_text().splitlines() == [
        "worker: MALLOC_MMAP_THRESHOLD_=131072 python -m bot",
        "web: MALLOC_MMAP_THRESHOLD_=131072 python -m bot",
    ]
