"""Load benchmark of the Telegram bot (a script, not a test).

The real bot (python-telegram-bot Application, real HTTP) runs against the fake Telegram
server of the tests; 200 questions from 20 private chats arrive at once, and the script
prints answers per second, the median and 95th percentile time to answer, and the peak
memory of the process (bot, index and fake server together).

    .venv/bin/python bench/load_bench.py                      # hashing encoder, flood limits on
    .venv/bin/python bench/load_bench.py --embedder bundled   # the bundled multilingual model
    .venv/bin/python bench/load_bench.py --flood-limits off   # without Telegram's 30 messages/s

With the flood limits on (as deployed), PTB's AIORateLimiter holds the bot's messages to
Telegram's 30 a second (the "typing" indicators go out at once), so a burst of 200 answers
takes about seven seconds whatever the encoder.
"""

from __future__ import annotations

import argparse
import logging
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "bot"))  # the bot's test harness
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project, for `index`

from bot_harness import RunningBot, bot_settings
from fake_telegram import FakeTelegram, private_chat, user
from telegram.ext import BaseRateLimiter

from index.encoders.base import HashingEmbedder
from index.engine import Engine
from index.settings import IndexSettings

ROOT = Path(__file__).resolve().parents[1]

QUESTIONS = [
    "who met Haftar?",
    "من التقى حفتر؟",
    "Why did Washington move to stop Haftar's offensive on Tripoli?",
    "ما الذي أزعج واشنطن في النشاط العسكري الروسي؟",
    "What did the US delegation discuss with Haftar?",
    "ماذا قال السفير الأميركي السابق ديفيد ماك؟",
    "Which Russian forces are in eastern Libya?",
    "هل يدعم الإمارات حفتر؟",
    "Who is Richard Norland?",
    "ما موقف الخارجية الأميركية من الاقتتال في ليبيا؟",
]


class NoFloodLimits(BaseRateLimiter):
    """Passes every request straight through: measures the bot itself, not Telegram's limits."""

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args) -> Any:
        return await callback(*args, **kwargs)


def _answers(fake: FakeTelegram) -> list[float]:
    """Arrival times of finished answers: the last part of an answer carries the "passages" button."""
    return sorted(call.at for call in fake.calls_of("sendMessage") if call.ok and "reply_markup" in call.params)


def run(embedder_name: str, flood_limits: bool, chats: int, questions: int, articles: list[str]) -> None:
    with tempfile.TemporaryDirectory() as folder, FakeTelegram(lifetime=900) as fake:
        model = "test:hashing" if embedder_name == "hashing" else IndexSettings.embedding_model
        settings = IndexSettings(index_dir=Path(folder) / "index", embedding_model=model)
        engine = Engine(settings, embedder=HashingEmbedder() if embedder_name == "hashing" else None)
        started = time.perf_counter()
        report = engine.build(articles)
        print(f"index: {report.summary()} ({time.perf_counter() - started:.1f} s with the model load)")
        engine.ask(QUESTIONS[0])  # warm up: the first question opens the index

        options = {} if flood_limits else {"flood_limiter": NoFloodLimits()}
        bot_config = bot_settings(fake, engine, Path(articles[0]), rate_limit_per_user=0, rate_limit_per_chat=0)
        with RunningBot(bot_config, engine, app_options=options):
            sent_at = time.monotonic()
            for number in range(questions):
                chat_id = 10_000 + number % chats
                fake.send_text(private_chat(chat_id), user(chat_id), QUESTIONS[number % len(QUESTIONS)])
            deadline = sent_at + 600
            while len(_answers(fake)) < questions and time.monotonic() < deadline:
                time.sleep(0.05)
        times = [at - sent_at for at in _answers(fake)]
        engine.close()

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if len(times) < questions:
        print(f"only {len(times)} of {questions} questions were answered within the time limit")
    if not times:
        return
    p95 = statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]
    print(
        f"{len(times)} answers to {questions} questions from {chats} chats, encoder {embedder_name}, "
        f"flood limits {'on' if flood_limits else 'off'}:\n"
        f"  answers per second: {len(times) / max(times):.1f}\n"
        f"  time to answer: median {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"last {max(times) * 1000:.0f} ms\n"
        f"  peak memory of the process: {peak_mb:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder", choices=["hashing", "bundled"], default="hashing")
    parser.add_argument("--flood-limits", choices=["on", "off"], default="on")
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--articles", nargs="+", default=[str(ROOT / "examples" / "articles")])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    run(args.embedder, args.flood_limits == "on", args.chats, args.questions, args.articles)


if __name__ == "__main__":
    main()
