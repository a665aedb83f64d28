"""Run the real bot against the fake Telegram server, and the little articles the tests ask about."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from fake_telegram import FakeTelegram

from bot.app import build_application
from bot.building import BUILD_THREAD_NAME
from bot.main import serve
from bot.settings import BotSettings
from index.encoders.base import HashingEmbedder
from index.engine import Engine
from index.settings import IndexSettings

ADMIN_ID = 4242
READER_ID = 1001
NOT_IN_ARTICLES = "quantum chromodynamics lattice"

ARTICLES = {
    "us-haftar-meeting.jsonl": {
        "id": "us-haftar-meeting",
        "title": "US delegation meets Haftar over Russian role in Libya",
        "source": "Example Wire",
        "url": "https://news.example.com/2019/11/us-haftar-meeting",
        "published": "2019-11-25T09:30:00Z",
        "author": "A. Reporter",
        "text": (
            "A senior US delegation met General Khalifa Haftar on Sunday to press for a ceasefire in Tripoli.\n\n"
            "The delegation included deputy national security adviser Victoria Coates and ambassador Richard Norland. "
            "The officials voiced concern about Russian mercenaries fighting alongside Haftar's forces.\n\n"
            "Haftar's spokesman said the talks were frank and that the offensive on the capital would continue."
        ),
    },
    "aljazeera-russia-libya.jsonl": {
        "id": "aljazeera-russia-libya",
        "title": "روسيا كلمة السر في ليبيا",
        "source": "الجزيرة",
        "url": "https://www.aljazeera.net/news/example-russia-libya",
        "published": "2019-11-20",
        "author": "",
        "text": (
            "التقى وفد أميركي رفيع الجنرال خليفة حفتر لبحث وقف إطلاق النار في طرابلس.\n\n"
            "وعبر المسؤولون الأميركيون عن قلق واشنطن البالغ إزاء استغلال روسيا النزاع على حساب الشعب الليبي.\n\n"
            "وقال مصدر دبلوماسي إن النشاط العسكري الروسي في شرق ليبيا أصبح مصدر إزعاج كبير."
        ),
    },
    "football-cup.jsonl": {
        "id": "football-cup",
        "title": "Benghazi club lifts the national football cup",
        "source": "Sports Desk",
        "url": "https://sports.example.com/cup-final",
        "published": "2019-10-02",
        "author": "",
        "text": "The Benghazi football club won the national cup final with two late goals in front of a full stadium.",
    },
}

NEW_ARTICLE = {
    "id": "sabha-solar-farm",
    "title": "Solar farm opens near Sabha",
    "source": "Energy Weekly",
    "url": "https://energy.example.com/sabha-solar",
    "published": "2019-12-01",
    "author": "",
    "text": "A new solar farm near Sabha started feeding the southern grid with forty megawatts of electricity.",
}


def write_article(folder: Path, name: str, article: dict) -> Path:
    path = folder / name
    path.write_text(json.dumps(article, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def write_articles(folder: Path, articles: dict[str, dict] = ARTICLES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, article in articles.items():
        write_article(folder, name, article)
    return folder


def long_article(words: int = 430) -> dict:
    """One long run-on sentence (commas, no full stop) so a single cited sentence is thousands of characters."""
    clauses = [
        "the desalination plant in Misrata pumped water to the coastal towns",
        "engineers from Tripoli and Benghazi repaired the intake pipes",
        "محطة تحلية المياه في مصراتة ضخت المياه إلى المدن الساحلية",
        "the desalination plant in Misrata kept running through the summer heat",
    ]
    text_words: list[str] = []
    index = 0
    while len(text_words) < words:
        text_words.extend((clauses[index % len(clauses)] + ",").split())
        index += 1
    return {
        "id": "misrata-desalination",
        "title": "Misrata desalination plant <report> & review",
        "source": "Water & Power",
        "url": "https://water.example.com/misrata?plant=1&year=2019",
        "published": "2019-09-14",
        "author": "",
        "text": " ".join(text_words[:words]) + ".",
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def index_settings(folder: Path, **overrides: Any) -> IndexSettings:
    return IndexSettings(
        index_dir=folder, embedding_model="test:hashing", model_cache_dir=folder / "models", **overrides
    )


def hashing_embedder(**options: Any) -> HashingEmbedder:
    """The deterministic encoder, with enough buckets that unrelated words rarely collide."""
    return HashingEmbedder(**{"dimension": 1024, **options})


class GatedEmbedder(HashingEmbedder):
    """The hashing encoder, but passage encoding in the bot's build thread waits until the test opens
    the gate, so a test can ask questions while a rebuild is certainly still running."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**{"dimension": 1024, **options})
        self.gate = threading.Event()
        self.gate.set()
        self.build_waiting = threading.Event()

    def embed_passages(self, texts):
        if threading.current_thread().name == BUILD_THREAD_NAME and not self.gate.is_set():
            self.build_waiting.set()
            if not self.gate.wait(timeout=30):
                raise TimeoutError("the test never opened the gate")
        return super().embed_passages(texts)


def built_engine(
    index_dir: Path, articles_dir: Path, embedder: HashingEmbedder | None = None, **overrides: Any
) -> Engine:
    engine = Engine(index_settings(index_dir, **overrides), embedder=embedder or hashing_embedder())
    engine.update([str(articles_dir)], replace_all=True)
    return engine


def bot_settings(fake: FakeTelegram, engine: Engine, articles_dir: Path, **overrides: Any) -> BotSettings:
    settings = BotSettings(
        token=fake.token,
        admin_ids=frozenset({ADMIN_ID}),
        index=engine.settings,
        articles=(str(articles_dir),),
        api_base_url=fake.base_url,
        rate_limit_per_user=100,
        rate_limit_per_chat=100,
        progress_interval=0.2,
    )
    return replace(settings, **overrides)


class RunningBot:
    """The real Application, run by ``bot.main.serve`` (as ``python -m bot`` runs it) in a thread of its own."""

    def __init__(
        self, settings: BotSettings, engine: Engine, app_options: dict | None = None, **run_options: Any
    ) -> None:
        self.settings = settings
        self.application = build_application(settings, engine, **(app_options or {}))
        self.run_options = {"stop_signals": None, **run_options}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bot-under-test", daemon=True)

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        try:
            serve(self.application, self.settings, **self.run_options)
        except BaseException as exc:  # re-raised in the test's thread by start() or stop()
            self.error = exc

    def start(self, timeout: float = 10.0) -> RunningBot:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.application.running:
            if self.error is not None or not self._thread.is_alive():
                raise RuntimeError(f"the bot did not start: {self.error!r}") from self.error
            if time.monotonic() > deadline:
                raise TimeoutError(f"the bot did not start within {timeout} s")
            time.sleep(0.01)
        # ``running`` turns True early in Application.start(); one more trip through the loop lets
        # start() return, so a stop_running() from stop() reaches run_forever() and is not lost.
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.01), self.loop).result(timeout)
        return self

    def stop(self, timeout: float = 20.0) -> None:
        if self.loop is not None and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.application.stop_running)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"the bot did not stop within {timeout} s")
        if self.error is not None:
            raise self.error

    def __enter__(self) -> RunningBot:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
