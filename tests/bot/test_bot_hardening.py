"""The bot under hostile conditions (issue 13): no token in its logs at DEBUG, /add of a very long link,
and a stop while hundreds of questions are queued."""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest
from bot_harness import ADMIN_ID, READER_ID, bot_settings, hashing_embedder, index_settings
from fake_telegram import private_chat, user

from bot.main import NOISY_LOGGERS, configure_logging
from bot.messages import URL_SHOWN, short_url
from index.engine import Engine
from index.storage.vector_base import VectorStoreSettings

# 6. the token is never logged -----------------------------------------------------------------------


@pytest.fixture
def root_log() -> Iterator[io.StringIO]:
    """Everything logged through the root logger during the test, at DEBUG; the logging set-up is
    restored afterwards (configure_logging changes levels and filters of the root's handlers)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    handlers = {existing: (existing.level, list(existing.filters)) for existing in root.handlers}
    levels = {name: logging.getLogger(name).level for name in ("", *NOISY_LOGGERS)}
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # as basicConfig sets it in ``python -m bot``, where the root has no handler yet
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for existing, (level, filters) in handlers.items():
            existing.setLevel(level)
            existing.filters[:] = filters
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def test_the_token_never_reaches_the_log_at_debug(fake, engine, shared_index, start_bot, root_log):
    configure_logging(bot_settings(fake, engine, shared_index[0], log_level="DEBUG"))
    bot = start_bot(engine, log_level="DEBUG")
    fake.send_text(private_chat(READER_ID), user(READER_ID), "Who met Haftar?")
    fake.wait_for("sendMessage", chat_id=READER_ID)
    logging.getLogger("test").debug("a request to %s/getMe failed", fake.base_url + fake.token)
    bot.stop()
    log = root_log.getvalue()
    assert "telegram" in log and "getUpdates" in log  # the libraries did log their requests at DEBUG
    secret = fake.token.split(":", 1)[1]
    assert secret not in log, [line for line in log.splitlines() if secret in line][:3]
    assert "a request to" in log  # redacted, not dropped


def test_the_qdrant_api_key_never_reaches_the_log(fake, engine, shared_index, root_log):
    settings = bot_settings(fake, engine, shared_index[0], log_level="DEBUG")
    vectors = VectorStoreSettings(store="qdrant", qdrant_url="https://qdrant.example", qdrant_api_key="qk-s3cr3t-42")
    configure_logging(replace(settings, index=replace(settings.index, vectors=vectors)))
    logging.getLogger("test").warning("request with api-key qk-s3cr3t-42 refused")
    log = root_log.getvalue()
    assert "request with api-key" in log and "qk-s3cr3t-42" not in log


# 8. /add of a very long link ------------------------------------------------------------------------


def test_add_of_a_four_thousand_character_link_ends_with_a_valid_status(fake, engine, start_bot):
    start_bot(engine)
    url = "http://127.0.0.1/news/" + "a" * 4000
    fake.send_text(private_chat(ADMIN_ID), user(ADMIN_ID), f"/add {url}")
    [status] = fake.wait_for("sendMessage", chat_id=ADMIN_ID)
    [edit] = fake.wait_for("editMessageText", chat_id=ADMIN_ID, message_id=status.result["message_id"], ok=None)
    assert edit.ok, edit.description  # Telegram accepted the final status: it no longer says "Fetching …"
    assert edit.result["text"].startswith("I could not add http://127.0.0.1/news/aaa")
    assert len(status.result["text"]) < 400 and len(edit.result["text"]) < 600


def test_a_long_link_is_shortened_in_the_middle():
    url = "https://news.example.com/" + "a" * 5000 + "/end"
    shown = short_url(url)
    assert len(shown) == URL_SHOWN and shown.startswith("https://news.example.com/aaa") and shown.endswith("aa/end")
    assert "…" in shown and short_url("https://example.com/short") == "https://example.com/short"


# 9. a stop under load --------------------------------------------------------------------------------


class SlowEngine(Engine):
    """The engine, but each answer takes a quarter of a second more, as the real model's can."""

    def ask(self, question):
        time.sleep(0.25)
        return super().ask(question)


def test_a_stop_with_hundreds_of_questions_queued_ends_within_ten_seconds(fake, shared_index, start_bot):
    engine = SlowEngine(index_settings(shared_index[1]), embedder=hashing_embedder())
    bot = start_bot(engine, rate_limit_per_chat=1000, rate_limit_per_user=1000)
    questions = 400
    for number in range(questions):
        reader = 5000 + number
        fake.send_text(private_chat(reader), user(reader), f"Who met Haftar? ({number})")
    fake.wait_for("sendMessage", count=3, timeout=30)  # answering is under way
    stopping = threading.Thread(target=bot.stop, kwargs={"timeout": 60})
    started = time.monotonic()
    stopping.start()
    stopping.join(60)
    seconds = time.monotonic() - started
    answered = len(fake.calls_of("sendMessage"))
    engine.close()
    assert not stopping.is_alive()
    assert seconds < 10, f"the bot took {seconds:.1f} s to stop ({answered} of {questions} questions answered)"
    assert answered < questions  # the queued questions were dropped, not answered first
