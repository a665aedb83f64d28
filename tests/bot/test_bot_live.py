"""Live sources in the bot, end to end: /add, /latest, the scheduled refresh and /reindex from a
sources file, with the real bot, the fake Telegram server and article pages and feeds served by
a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from bot_harness import ADMIN_ID, READER_ID, GatedEmbedder, built_engine, write_articles
from fake_telegram import private_chat, user

from bot import messages
from index.collect import Collector
from index.sources.fetching import FetchSettings
from index.storage.catalog import newest_articles
from tests.local_http import ENGLISH, LocalServer, rss, serving, story

ADMIN_CHAT, ADMIN = private_chat(ADMIN_ID, "Admin"), user(ADMIN_ID, "Admin")
READER_CHAT, READER = private_chat(READER_ID), user(READER_ID)
PORT_STRIKE = (
    '<a href="https://harbour.example/news/port-strike">Port strike halts grain exports</a> — Harbour Times, 2024-03-05'
)
ALLOW_LOOPBACK = FetchSettings(allow_private=True, timeout_seconds=5.0, retry_delay_seconds=0.01)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serving() as local:
        yield local


def send(fake, chat: dict, sender: dict, text: str) -> dict:
    """Send a text; the bot's next message in that chat (its parameters, and the message as sent)."""
    count = len(fake.calls_of("sendMessage", chat_id=chat["id"])) + 1
    fake.send_text(chat, sender, text)
    call = fake.wait_for("sendMessage", chat_id=chat["id"], count=count)[count - 1]
    return {**call.params, "message": call.result}


def edited(fake, status: dict, timeout: float = 10.0) -> str:
    """The text a status message was first edited to."""
    message = status["message"]
    [edit] = fake.wait_for(
        "editMessageText", chat_id=message["chat"]["id"], message_id=message["message_id"], timeout=timeout
    )
    return edit.params["text"]


def feed_of(server: LocalServer, numbers: range | tuple[int, ...], etag: str) -> str:
    items = [{"title": f"S{n}", "link": server.route(f"/s{n}", story(n)), "guid": f"g{n}"} for n in numbers]
    return server.route("/rss", rss("City wire", items), content_type="application/rss+xml", etag=etag)


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition never held")
        time.sleep(0.05)


# ---------------------------------------------------------------- /add


def test_an_admin_adds_an_article_by_its_link_and_it_is_answered(
    fake, tmp_path: Path, server: LocalServer, start_bot
) -> None:
    articles = write_articles(tmp_path / "articles")
    engine = built_engine(tmp_path / "index", articles)
    start_bot(engine, articles, fetch=ALLOW_LOOPBACK)
    url = server.route("/en/port-strike", ENGLISH)

    status = send(fake, ADMIN_CHAT, ADMIN, f"/add {url}")
    assert status["text"] == f"Fetching {url} …"
    assert edited(fake, status) == f"Added to the index: {PORT_STRIKE}"
    assert engine.stats().articles == 4

    answer = send(fake, READER_CHAT, READER, "Why did dock workers halt grain exports?")["text"]
    assert "Port strike halts grain exports</a> — Harbour Times, 2024-03-05" in answer
    again = send(fake, ADMIN_CHAT, ADMIN, f"/add {url}")
    assert edited(fake, again) == f"Already in the index, unchanged: {PORT_STRIKE}"
    engine.close()


def test_a_missing_page_is_reported_in_one_line(fake, tmp_path: Path, server: LocalServer, start_bot) -> None:
    articles = write_articles(tmp_path / "articles")
    engine = built_engine(tmp_path / "index", articles)
    start_bot(engine, articles, fetch=ALLOW_LOOPBACK)
    url = server.url("/no-such-story")
    status = send(fake, ADMIN_CHAT, ADMIN, f"/add {url}")
    assert edited(fake, status) == f"I could not add {url}: the server answered 404 Not Found."
    assert engine.stats().articles == 3
    engine.close()


def test_without_permission_a_private_address_is_refused_before_any_request(
    fake, engine, server: LocalServer, start_bot
) -> None:
    start_bot(engine)  # FETCH_ALLOW_PRIVATE is not set
    url = server.route("/en/port-strike", ENGLISH)
    status = send(fake, ADMIN_CHAT, ADMIN, f"/add {url}")
    assert edited(fake, status) == (
        f"I could not add {url}: refused: 127.0.0.1 resolves to a private address (set FETCH_ALLOW_PRIVATE=1 to allow)."
    )
    assert server.hits == []


def test_add_is_for_admins_unless_everyone_may_and_needs_a_web_address(fake, engine, tmp_path: Path, start_bot) -> None:
    start_bot(engine)
    assert send(fake, READER_CHAT, READER, "/add https://news.example/story")["text"] == messages.NOT_ADMIN_ADD
    assert send(fake, ADMIN_CHAT, ADMIN, "/add")["text"] == messages.ADD_USAGE
    status = send(fake, ADMIN_CHAT, ADMIN, "/add /etc/hostname")
    assert edited(fake, status) == (
        "I could not add /etc/hostname: it is not a web address (it does not start with http:// or https://)."
    )


def test_when_everyone_may_add_a_reader_adds_an_article(fake, tmp_path: Path, server: LocalServer, start_bot) -> None:
    articles = write_articles(tmp_path / "articles")
    engine = built_engine(tmp_path / "index", articles)
    start_bot(engine, articles, fetch=ALLOW_LOOPBACK, add_allowed="everyone")
    help_text = send(fake, READER_CHAT, READER, "/help")["text"]
    assert "/add — Add an article by its link\n" in help_text
    status = send(fake, READER_CHAT, READER, f"/add {server.route('/en', ENGLISH)}")
    assert edited(fake, status) == f"Added to the index: {PORT_STRIKE}"
    engine.close()


# ---------------------------------------------------------------- /latest


def test_latest_lists_the_newest_articles_with_outlet_date_and_link(fake, engine, start_bot) -> None:
    start_bot(engine)
    text = send(fake, READER_CHAT, READER, "/latest")["text"]
    assert text.splitlines() == [
        "<b>Newest articles</b>",
        '1. <a href="https://news.example.com/2019/11/us-haftar-meeting">US delegation meets Haftar over Russian role '
        "in Libya</a> — Example Wire, 2019-11-25",
        '2. <a href="https://www.aljazeera.net/news/example-russia-libya">\u2067روسيا كلمة السر في ليبيا\u2069</a> — '
        "\u2067الجزيرة\u2069, 2019-11-20",
        '3. <a href="https://sports.example.com/cup-final">Benghazi club lifts the national football cup</a> — '
        "Sports Desk, 2019-10-02",
    ]


def test_latest_without_an_index(fake, tmp_path: Path, start_bot) -> None:
    from bot_harness import hashing_embedder, index_settings

    from index.engine import Engine

    engine = Engine(index_settings(tmp_path / "empty-index"), embedder=hashing_embedder())
    empty = tmp_path / "none"
    empty.mkdir()
    start_bot(engine, empty)
    assert send(fake, READER_CHAT, READER, "/latest")["text"] == messages.NO_LATEST


# ---------------------------------------------------------------- the scheduled refresh and /reindex


def live_index(tmp_path: Path, server: LocalServer, embedder=None):
    """A sources file listing the little articles' folder and a feed of two stories, and an index of it."""
    write_articles(tmp_path / "conf" / "articles")
    feed = feed_of(server, (1, 2), etag='"v1"')
    sources = tmp_path / "conf" / "news.sources"
    sources.write_text(f"articles   # the archive\n{feed}\n", encoding="utf-8")
    engine = built_engine(tmp_path / "index", tmp_path / "conf" / "articles", embedder)
    engine.collector = Collector(engine.index_dir, ALLOW_LOOPBACK)  # the bot's engine fetches with these settings
    engine.update([str(sources)], replace_all=True)
    assert engine.stats().articles == 5
    return engine, sources


def test_the_scheduled_refresh_picks_up_a_new_feed_entry(fake, tmp_path: Path, server: LocalServer, start_bot) -> None:
    engine, sources = live_index(tmp_path, server)
    start_bot(engine, sources, fetch=ALLOW_LOOPBACK, refresh_interval=0.2)
    feed_of(server, (1, 2, 3), etag='"v2"')
    wait_until(lambda: "Story number 3" in [a.title for a in newest_articles(engine.index_dir, 10)])
    assert engine.stats().articles == 6
    answer = send(fake, READER_CHAT, READER, "What did Story 3 report about the city council on day 3?")["text"]
    assert "Story number 3" in answer
    engine.close()


def test_reindex_rebuilds_from_a_sources_file_with_a_folder_and_a_feed(
    fake, tmp_path: Path, server: LocalServer, start_bot
) -> None:
    engine, sources = live_index(tmp_path, server)
    start_bot(engine, sources, fetch=ALLOW_LOOPBACK)
    feed_of(server, (2, 3), etag='"v2"')  # story 1 left the feed; it stays in the index
    status = send(fake, ADMIN_CHAT, ADMIN, "/reindex")
    assert status["text"] == f"Rebuilding the index from {sources}… I keep answering from the current index meanwhile."
    deadline = time.monotonic() + 10
    while not any(c.params["text"].startswith("Rebuilt the index") for c in fake.calls_of("editMessageText")):
        assert time.monotonic() < deadline, "the rebuild never reported"
        time.sleep(0.05)
    done = next(c.params["text"] for c in fake.calls_of("editMessageText") if c.params["text"].startswith("Rebuilt"))
    assert "6 articles" in done and "1 added" in done and "5 unchanged" in done and "0 removed" in done
    engine.close()


def test_one_index_job_at_a_time_while_questions_are_answered(
    fake, tmp_path: Path, server: LocalServer, start_bot
) -> None:
    embedder = GatedEmbedder()
    engine, sources = live_index(tmp_path, server, embedder)
    start_bot(engine, sources, fetch=ALLOW_LOOPBACK, refresh_interval=0.2)
    embedder.gate.clear()
    feed_of(server, (1, 2, 3), etag='"v2"')
    assert embedder.build_waiting.wait(10), "the refresh never started encoding"

    busy = send(fake, ADMIN_CHAT, ADMIN, "/reindex")["text"]
    assert busy == "A refresh of the index from its sources is running; try again in a minute, when it has ended."
    url = server.route("/en", ENGLISH)
    status = send(fake, ADMIN_CHAT, ADMIN, f"/add {url}")  # waits for the refresh
    assert status["text"] == f"Fetching {url} once the running refresh of the index has ended …"
    assert "Sources" in send(fake, READER_CHAT, READER, "Who met Haftar?")["text"]
    time.sleep(0.3)
    assert fake.calls_of("editMessageText", chat_id=ADMIN_ID) == [] and not embedder.gate.is_set()

    embedder.gate.set()
    assert edited(fake, status) == f"Added to the index: {PORT_STRIKE}"
    assert engine.stats().articles == 7  # the refresh's story 3, then the added page
    engine.close()


# ---------------------------------------------------------------- settings


def test_live_settings_are_read_from_the_environment(tmp_path: Path) -> None:
    from bot.settings import BotSettings

    sources = tmp_path / "news.sources"
    sources.write_text("https://feeds.example/rss\n", encoding="utf-8")
    settings = BotSettings.from_env(
        {
            "ARTICLES": f"{sources}, examples/articles",
            "REFRESH_MINUTES": "15",
            "ADD_ALLOWED": "Everyone",
            "FETCH_ALLOW_PRIVATE": "1",
            "FETCH_TIMEOUT_SECONDS": "4",
            "FETCH_CONCURRENCY": "2",
        }
    )
    assert settings.articles == (str(sources), "examples/articles")
    assert (settings.refresh_interval, settings.add_allowed) == (900.0, "everyone")
    assert (settings.fetch.allow_private, settings.fetch.timeout_seconds, settings.fetch.concurrency) == (True, 4.0, 2)
    assert settings.may_add(None) and settings.may_add(1)
    defaults = BotSettings.from_env({"ADMIN_IDS": "7"})
    assert (defaults.refresh_interval, defaults.add_allowed, defaults.fetch.allow_private) == (0.0, "admins", False)
    assert defaults.may_add(7) and not defaults.may_add(8) and not defaults.may_add(None)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"ARTICLES": "config/missing.sources"},
            "ARTICLES names the sources file config/missing.sources, which does not exist;",
        ),
        ({"REFRESH_MINUTES": "-1"}, "REFRESH_MINUTES must be between 0 and 10080, not -1."),
        ({"ADD_ALLOWED": "friends"}, "ADD_ALLOWED must be admins or everyone, not 'friends'."),
        ({"FETCH_ALLOW_PRIVATE": "perhaps"}, "FETCH_ALLOW_PRIVATE must be 1 (on) or 0 (off), not 'perhaps'."),
        ({"FETCH_RETRIES": "many"}, "FETCH_RETRIES must be a whole number, not 'many'."),
    ],
)
def test_a_bad_live_setting_is_named_in_one_sentence(env: dict[str, str], message: str) -> None:
    from bot.errors import BotSettingsError
    from bot.settings import BotSettings

    with pytest.raises(BotSettingsError) as caught:
        BotSettings.from_env(env)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)
