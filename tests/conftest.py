"""Shared fixtures: a clean environment, small article folders, engines with the fake or the real encoder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from index import Engine, HashingEmbedder, IndexSettings

PROJECT = Path(__file__).resolve().parent.parent
EXAMPLE_ARTICLES = PROJECT / "examples" / "articles"

_OUR_VARIABLES = (
    "INDEX_DIR",
    "EMBEDDING_MODEL",
    "CHUNK_TOKENS",
    "CHUNK_OVERLAP_TOKENS",
    "FAISS_FACTORY",
    "EMBED_BATCH_SIZE",
    "MAX_QUESTION_CHARS",
    "ANSWER_THRESHOLD",
    "TELEGRAM_BOT_TOKEN",
    "ADMIN_IDS",
    "ARTICLES",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch):
    """No test depends on the developer's own settings."""
    for name in _OUR_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def model_cache_dir(tmp_path_factory) -> Path:
    """Where the bundled model is materialised: MODEL_CACHE_DIR when set (reused across runs)."""
    configured = os.environ.get("MODEL_CACHE_DIR")
    return Path(configured) if configured else tmp_path_factory.mktemp("model-cache")


@pytest.fixture(scope="session")
def bundled_embedder(model_cache_dir):
    """The real bundled multilingual encoder, loaded once per test session."""
    from index.encoders.sentence_transformer import load_embedder

    return load_embedder(IndexSettings(model_cache_dir=model_cache_dir))


def write_articles(folder: Path, articles: dict[str, str]) -> Path:
    """Write plain-text articles (first line the title) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in articles.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


NEWS = {
    "haftar-delegation": (
        "US delegation meets Haftar\n\n"
        "A United States delegation met General Khalifa Haftar in Benghazi on Sunday. "
        "The delegation included ambassador Richard Norland and Victoria Coates.\n\n"
        "They discussed a ceasefire around Tripoli and the role of Russian mercenaries.\n\n"
        "Source: Example Wire"
    ),
    "olive-harvest": (
        "Olive harvest starts early in Tunisia\n\n"
        "Farmers in Sfax began picking olives two weeks early this year because of the heat. "
        "Exporters expect record olive oil prices in Europe.\n\n"
        "Source: Farm News"
    ),
    "arabic-oil": (
        "إنتاج النفط الليبي يرتفع\n\n"
        "قالت المؤسسة الوطنية للنفط إن إنتاج النفط في ليبيا ارتفع إلى مليون برميل يوميا. "
        "وأضافت أن الموانئ الشرقية عادت إلى العمل بعد إغلاق طويل.\n\n"
        "المصدر : الجزيرة"
    ),
}


@pytest.fixture
def news_folder(tmp_path) -> Path:
    return write_articles(tmp_path / "articles", NEWS)


@pytest.fixture
def hashing_engine(tmp_path):
    """An engine with the deterministic fake encoder over a fresh index directory."""
    engines = []

    def make(index_dir: Path | None = None, embedder=None, **settings) -> Engine:
        engine = Engine(
            IndexSettings(index_dir=index_dir or tmp_path / "index", **settings),
            embedder=embedder or HashingEmbedder(),
        )
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.close()
