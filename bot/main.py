"""``python -m bot``: the Telegram bot (long polling, or a webhook with WEBHOOK_URL), or the
terminal chat when no token is configured.

Failures a person can fix (a bad setting, a refused token, an index built with another
model) end the process with one line on standard error and a non-zero status, never a
traceback.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Mapping
from typing import Any

from telegram import Bot
from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application

from index import ArticleIndexError, Engine, ProgressBars, hold_malloc_mmap_threshold

from . import redaction
from .errors import BotError, BotSettingsError
from .settings import BotSettings, read_environment

_LOG = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "callback_query"]


NOISY_LOGGERS = ("httpx", "httpcore", "apscheduler", "sentence_transformers", "transformers", "faiss")


def configure_logging(settings: BotSettings) -> None:
    """Log at LOG_LEVEL to standard error, with the token, the webhook secret and the Qdrant API key redacted from
    every record."""
    logging.basicConfig(level=settings.log_level_number, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    root.setLevel(settings.log_level_number)
    for handler in root.handlers:  # libraries that set their own loggers to DEBUG stay quiet too
        handler.setLevel(settings.log_level_number)
    # python-telegram-bot logs the Bot API URL (it holds the token) at DEBUG; so would httpx every request
    redaction.install(
        redaction.SecretRedactor(
            redaction.token_secrets(settings.token, settings.webhook_secret, settings.index.vectors.qdrant_api_key)
        ),
        root.handlers,
    )
    # httpx would log every URL; the model libraries log their loading steps
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, settings.log_level_number))


def serve(application: Application, settings: BotSettings, **run_options: Any) -> None:
    """Run the bot until a stop signal: a webhook on 0.0.0.0:PORT when WEBHOOK_URL is set, else long polling."""
    if settings.mode == "webhook":
        options = {"listen": "0.0.0.0", **run_options}
        application.run_webhook(
            port=settings.port,
            url_path=settings.webhook_path,
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
            **options,
        )
    else:
        application.run_polling(allowed_updates=ALLOWED_UPDATES, **run_options)


async def _check_telegram(settings: BotSettings) -> None:
    """Ask Telegram who the bot is: a refused token or an unreachable API fails here, in one line."""
    async with Bot(settings.token, base_url=settings.api_base_url, base_file_url=settings.api_base_file_url) as bot:
        _LOG.info("Telegram knows this bot as @%s.", bot.username)


def _run_bot(settings: BotSettings, engine: Engine) -> int:
    from .app import build_application

    asyncio.run(_check_telegram(settings))
    problem = engine.index_problem() if settings.mode == "polling" and engine.has_index() else None
    if settings.mode == "polling" and (not engine.has_index() or problem):
        why = f"{problem} Rebuilding it" if problem else f"No index in {settings.index.index_dir} yet; building it"
        _LOG.info("%s from %s first.", why, ", ".join(settings.articles))
        with ProgressBars(sys.stderr) as progress:
            report = engine.update(settings.articles, replace_all=True, progress=progress)
        _LOG.info("Built the index: %s", report.summary())
    # In webhook mode the index is built (if missing) and the model loaded after the port is bound.
    serve(build_application(settings, engine), settings)
    return 0


def _run(settings: BotSettings, engine: Engine) -> int:
    if settings.mode == "terminal":
        from .llm_answers import answerer_for
        from .terminal import run_terminal_chat

        llm = answerer_for(settings.llm)  # None unless LLM_BASE_URL is set
        return run_terminal_chat(engine, settings.articles, sys.stdin, sys.stdout, sys.stderr, llm)
    return _run_bot(settings, engine)


def main(environ: Mapping[str, str] | None = None) -> int:
    """Read the settings, then run the bot or the terminal chat; returns the exit status."""
    hold_malloc_mmap_threshold()  # before the model and the index take memory
    try:
        settings = BotSettings.from_env(read_environment(environ))
    except BotSettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)
    engine = Engine(settings.index, fetch_settings=settings.fetch)
    try:
        return _run(settings, engine)
    except (ArticleIndexError, BotError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except InvalidToken:
        print("error: Telegram refused TELEGRAM_BOT_TOKEN; copy the token again from @BotFather.", file=sys.stderr)
    except NetworkError as exc:
        print(
            f"error: cannot reach the Telegram Bot API at {settings.api_base_url} ({exc}); check the network "
            "or TELEGRAM_API_BASE_URL.",
            file=sys.stderr,
        )
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
    finally:
        engine.close()
    return 1
