"""Building and refreshing an index from URLs, feeds, folders and sources files, against real
HTTP servers on 127.0.0.1 and the counting fake encoder."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from index.collect import ADDED_SOURCES, FETCH_STATE, Collector, expand_sources
from index.encoders.base import HashingEmbedder
from index.engine import Engine
from index.errors import SettingsError
from index.records import Article
from index.settings import IndexSettings
from index.sources.fetching import Fetcher, FetchSettings
from index.storage import generations
from index.storage.catalog import IndexedHashes, newest_articles
from tests.conftest import NEWS, write_articles
from tests.local_http import ARABIC, ENGLISH, LocalServer, rss, serving, story


class RecordingEmbedder(HashingEmbedder):
    """The hashing encoder, keeping every passage it was asked to encode."""

    def __init__(self) -> None:
        super().__init__()
        self.passages: list[str] = []

    def embed_passages(self, texts: Sequence[str]):
        self.passages.extend(texts)
        return super().embed_passages(texts)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serving() as local:
        yield local


def fetch_settings(**overrides: object) -> FetchSettings:
    """Fast settings; 127.0.0.1 is allowed explicitly (the refusal test leaves it out)."""
    values: dict[str, object] = {"allow_private": True, "timeout_seconds": 5.0, "retry_delay_seconds": 0.01}
    return FetchSettings(**{**values, **overrides})


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Engine, Collector, RecordingEmbedder]]:
    embedder = RecordingEmbedder()
    engine = Engine(IndexSettings(index_dir=tmp_path / "index"), embedder=embedder, fetch_settings=fetch_settings())
    yield engine, engine.collector, embedder
    engine.close()


def feed_of(server: LocalServer, numbers: Sequence[int], etag: str = "") -> str:
    items = [{"title": f"S{n}", "link": server.route(f"/s{n}", story(n)), "guid": f"g{n}"} for n in numbers]
    return server.route("/rss", rss("City wire", items), content_type="application/rss+xml", etag=etag)


def titles(engine: Engine) -> list[str]:
    return sorted(article.title for article in newest_articles(engine.index_dir, 1000))


# ---------------------------------------------------------------- refreshing


def test_a_refresh_that_finds_two_new_feed_entries_embeds_only_those_two(live, server: LocalServer) -> None:
    engine, collector, embedder = live
    feed = feed_of(server, range(3), etag='"v1"')
    first = engine.update([feed], replace_all=True)
    assert (first.added, first.articles, first.problems) == (3, 3, [])
    embedder.passages.clear()
    calls_before, texts_before = embedder.calls, embedder.texts_embedded

    feed_of(server, range(5), etag='"v2"')
    server.hits.clear()
    report = engine.update([feed], replace_all=False)

    assert (report.added, report.changed, report.unchanged, report.articles) == (2, 0, 3, 5)
    assert sorted(path for path, _ in server.hits) == ["/rss", "/s3", "/s4"]
    # one batch of chunks, then their new sentences with each prompt (sentence_vectors.py)
    assert embedder.texts_embedded - texts_before == report.embedded_chunks + 2 * report.embedded_sentences
    assert report.embedded_chunks > 0 and report.embedded_sentences > 0
    assert embedder.calls - calls_before == 3
    assert all(re.search(r"Story (number )?[34]\b", text) for text in embedder.passages)
    assert "Story number 4" in titles(engine)


def test_a_refresh_with_nothing_new_writes_no_new_index(live, server: LocalServer) -> None:
    engine, collector, embedder = live
    feed = feed_of(server, range(2), etag='"v1"')
    engine.update([feed], replace_all=True)
    generation = generations.current_generation(engine.index_dir)
    texts = embedder.texts_embedded
    server.hits.clear()
    report = engine.update([feed], replace_all=False)
    assert (report.added, report.unchanged, report.articles, report.embedded_chunks) == (0, 2, 2, 0)
    assert [path for path, _ in server.hits] == ["/rss"] and server.hits[0][1]["if-none-match"] == '"v1"'
    assert generations.current_generation(engine.index_dir) == generation and embedder.texts_embedded == texts
    assert json.loads((engine.index_dir / FETCH_STATE).read_text())["version"] == 2


def test_a_changed_page_is_re_embedded_and_the_rest_kept(live, server: LocalServer) -> None:
    engine, collector, embedder = live
    pages = [server.route("/en", ENGLISH), server.route("/ar", ARABIC), server.route("/s1", story(1))]
    engine.update(pages, replace_all=True)
    server.route("/s1", story(11))
    embedder.passages.clear()
    report = engine.update(pages, replace_all=False)
    assert (report.added, report.changed, report.unchanged) == (0, 1, 2)
    assert embedder.passages and all(re.search(r"Story (number )?11\b", text) for text in embedder.passages)
    assert "Story number 1" not in titles(engine)


# ---------------------------------------------------------------- full rebuilds


def test_a_full_rebuild_from_a_sources_file_mixing_a_folder_and_a_feed(
    live, server: LocalServer, tmp_path: Path
) -> None:
    engine, collector, embedder = live
    folder = write_articles(tmp_path / "conf" / "articles", NEWS)
    feed = feed_of(server, (1, 2), etag='"v1"')
    sources = tmp_path / "conf" / "news.sources"
    sources.write_text(f"# local archive\narticles/\n\n{feed}   # the city wire\n", encoding="utf-8")

    built = engine.update([], replace_all=True, sources_files=[sources])
    assert (built.added, built.articles, built.problems) == (5, 5, [])
    assert {"Story number 1", "Olive harvest starts early in Tunisia"} <= set(titles(engine))

    # Again: the feed answers 304 and the folder is unchanged, yet nothing is dropped or embedded.
    texts = embedder.texts_embedded
    server.hits.clear()
    again = engine.update([], replace_all=True, sources_files=[sources])
    assert (again.added, again.unchanged, again.removed, again.articles) == (0, 5, 0, 5)
    assert embedder.texts_embedded == texts and [path for path, _ in server.hits] == ["/rss"]

    # The folder is no longer listed: its articles go, the feed's stay.
    sources.write_text(f"{feed}\n", encoding="utf-8")
    fewer = engine.update([], replace_all=True, sources_files=[sources])
    assert (fewer.removed, fewer.articles) == (3, 2) and titles(engine) == ["Story number 1", "Story number 2"]
    assert folder.exists()


def test_a_full_rebuild_keeps_feed_articles_that_left_the_feed(live, server: LocalServer) -> None:
    engine, collector, _ = live
    feed = feed_of(server, (1, 2, 3))
    engine.update([feed], replace_all=True)
    feed_of(server, (3, 4))  # 1 and 2 scrolled off the feed
    report = engine.update([feed], replace_all=True)
    assert (report.added, report.removed, report.articles) == (1, 0, 4)


def test_articles_the_index_lost_are_fetched_again_even_if_the_state_says_unchanged(
    live, server: LocalServer, tmp_path: Path
) -> None:
    engine, collector, _ = live
    folder = write_articles(tmp_path / "articles", NEWS)
    feed = feed_of(server, (1, 2), etag='"v1"')
    engine.update([str(folder), feed], replace_all=True)
    dropped = engine.update([str(folder)], replace_all=True)  # the feed is no longer listed
    assert (dropped.removed, dropped.articles) == (2, 3)
    server.hits.clear()
    back = engine.update([str(folder), feed], replace_all=True)
    assert (back.added, back.articles) == (2, 5)
    assert "if-none-match" not in server.hits_for("/rss")[0]  # the state was not trusted


def test_urls_and_folders_given_directly_and_sources_files_by_suffix(live, server: LocalServer, tmp_path: Path) -> None:
    engine, collector, _ = live
    folder = write_articles(tmp_path / "articles", NEWS)
    listed = tmp_path / "more.sources"
    listed.write_text(server.route("/ar", ARABIC) + "\n", encoding="utf-8")
    report = engine.update([str(folder), server.route("/en", ENGLISH), str(listed)], replace_all=True)
    assert (report.added, report.problems) == (5, [])
    assert "Port strike halts grain exports" in titles(engine)


def test_bad_sources_are_one_line_each_and_the_rest_is_indexed(live, server: LocalServer, tmp_path: Path) -> None:
    engine, collector, _ = live
    good = server.route("/en", ENGLISH)
    report = engine.update([good, server.url("/gone"), str(tmp_path / "nowhere")], replace_all=True)
    assert report.added == 1
    assert [str(problem) for problem in report.problems] == [
        f"skipped {tmp_path / 'nowhere'}: does not exist; check the path",
        f"skipped {server.url('/gone')}: the server answered 404 Not Found.",
    ]


def test_private_addresses_are_refused_unless_allowed(tmp_path: Path, server: LocalServer) -> None:
    engine = Engine(IndexSettings(index_dir=tmp_path / "index"), embedder=HashingEmbedder())
    folder = write_articles(tmp_path / "articles", NEWS)
    refused = engine.update([str(folder), server.route("/en", ENGLISH)], replace_all=True)
    assert refused.articles == 3 and server.hits == []
    assert [problem.reason for problem in refused.problems] == [
        "refused: 127.0.0.1 resolves to a private address (set FETCH_ALLOW_PRIVATE=1 to allow)."
    ]
    engine.close()


# ---------------------------------------------------------------- adding one URL


def test_add_url_indexes_one_article_and_remembers_it(live, server: LocalServer, tmp_path: Path) -> None:
    engine, collector, _ = live
    engine.update([str(write_articles(tmp_path / "articles", NEWS))], replace_all=True)
    url = server.route("/en", ENGLISH)
    added = engine.add_url(url)
    assert [a.title for a in added.new] == ["Port strike halts grain exports"] and added.report.added == 1
    assert (tmp_path / "index" / ADDED_SOURCES).read_text().count(url) == 1
    again = engine.add_url(url)
    assert again.new == [] and [a.source for a in again.unchanged] == ["Harbour Times"]
    assert (tmp_path / "index" / ADDED_SOURCES).read_text().count(url) == 1
    rebuilt = engine.update([str(tmp_path / "articles")], replace_all=True, sources_files=[collector.added_file])
    assert rebuilt.articles == 4  # a rebuild that names the added file keeps the article


@pytest.mark.parametrize("source", ["/etc/hostname", "file:///etc/hostname", "examples/articles"])
def test_add_url_refuses_local_paths(live, source: str) -> None:
    engine, collector, _ = live
    added = engine.add_url(source)
    assert added.new == [] and not engine.has_index()
    assert added.problems[0].reason == "it is not a web address (it does not start with http:// or https://)."


# ---------------------------------------------------------------- pieces


def test_expand_sources(tmp_path: Path) -> None:
    inner = tmp_path / "inner.sources"
    inner.write_text("x.txt\n", encoding="utf-8")
    outer = tmp_path / "outer.sources"
    outer.write_text("https://a.example/feed\narticles\ninner.sources\n", encoding="utf-8")
    listed = expand_sources(["https://b.example/x", "", "local.jsonl", str(outer), "https://a.example/feed"])
    assert listed.urls == ("https://b.example/x", "https://a.example/feed")
    assert listed.paths == ("local.jsonl", str(tmp_path / "articles"))
    assert [(p.origin, p.reason) for p in listed.problems] == [
        (str(inner), f"is a sources file listed in the sources file {outer}; list its lines there instead")
    ]
    with pytest.raises(SettingsError, match="could not be read"):
        expand_sources([], [tmp_path / "missing.txt"])


def test_the_state_file_is_trusted_only_for_what_the_index_holds(server: LocalServer, tmp_path: Path) -> None:
    url = server.route("/s1", story(1), etag='"e1"')
    fetcher = Fetcher(fetch_settings(), state_path=tmp_path / "state.json")
    [article] = fetcher.fetch([url]).articles
    assert fetcher.fetch([url]).unchanged_ids == [article.id]  # no index to ask: the state decides
    assert fetcher.fetch([url], known={article.id: article.content_hash}).unchanged_ids == [article.id]
    assert server.hits[-1][1]["if-none-match"] == '"e1"'
    assert [a.id for a in fetcher.fetch([url], known={}).articles] == [article.id]
    assert "if-none-match" not in server.hits[-1][1]
    assert [a.id for a in fetcher.fetch([url], known={article.id: "another hash"}).articles] == [article.id]


def test_newest_articles_by_date_then_undated_by_indexing_order(tmp_path: Path) -> None:
    engine = Engine(IndexSettings(index_dir=tmp_path / "index"), embedder=HashingEmbedder())
    text = "The harbour reopened after the storm and the ferries sailed again on time."
    dated = {
        "a": "2024-03-05T08:30:00+00:00",
        "b": "2024-03-05T10:00:00+03:00",
        "c": "2024-03-06",
        "d": "",
        "e": "2023-12-31T23:00:00Z",
        "f": "",
    }
    engine.add_articles([Article(id=key, title=key, text=text, published=when) for key, when in dated.items()])
    assert [a.id for a in newest_articles(engine.index_dir, 10)] == ["c", "a", "b", "e", "f", "d"]
    assert [a.id for a in newest_articles(engine.index_dir, 2)] == ["c", "a"]
    assert newest_articles(tmp_path / "no-index") == [] and dict(IndexedHashes(tmp_path / "no-index")) == {}
    engine.close()


def test_indexed_hashes_are_read_for_the_ids_asked(tmp_path) -> None:
    """The collector's view of what the index holds: the hashes of the ids it asks for, in one query a block
    (not every article of the index), none for an id the index lacks, and nothing from a damaged store."""
    engine = Engine(IndexSettings(index_dir=tmp_path / "index"), embedder=HashingEmbedder())
    articles = [Article(id=f"a{i}", title=f"t{i}", text=f"The ferry number {i} sailed on time.") for i in range(5)]
    engine.add_articles(articles)
    with IndexedHashes(engine.index_dir) as known:
        known.read(["a1", "a3", "missing"])
        assert known.get("a1") == articles[1].content_hash and known["a3"] == articles[3].content_hash
        assert known.get("missing") is None and "missing" not in known and "a4" in known
        assert dict(known) == {a.id: a.content_hash for a in articles}
    store = generations.current_generation(engine.index_dir) / generations.STORE
    engine.close()
    store.write_bytes(b"not a database" * 100)
    with IndexedHashes(engine.index_dir) as known:
        assert known.get("a1") is None and dict(known) == {}


def test_fetch_settings_from_the_environment() -> None:
    assert FetchSettings.from_env({}) == FetchSettings()
    settings = FetchSettings.from_env(
        {
            "FETCH_ALLOW_PRIVATE": "1",
            "FETCH_TIMEOUT_SECONDS": "2.5",
            "FETCH_MAX_BYTES": "20000",
            "FETCH_CONCURRENCY": "8",
            "FETCH_RETRIES": "0",
            "FETCH_USER_AGENT": " me/1 ",
        }
    )
    assert (settings.allow_private, settings.timeout_seconds, settings.max_bytes) == (True, 2.5, 20000)
    assert (settings.concurrency, settings.retries, settings.user_agent) == (8, 0, "me/1")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FETCH_ALLOW_PRIVATE": "maybe"}, "FETCH_ALLOW_PRIVATE must be 1 (on) or 0 (off), not 'maybe'."),
        ({"FETCH_TIMEOUT_SECONDS": "soon"}, "FETCH_TIMEOUT_SECONDS must be a number, not 'soon'."),
        ({"FETCH_CONCURRENCY": "0"}, "FETCH_CONCURRENCY must be between 1 and 64, not 0."),
        ({"FETCH_MAX_BYTES": "1.5"}, "FETCH_MAX_BYTES must be a whole number, not '1.5'."),
    ],
)
def test_bad_fetch_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        FetchSettings.from_env(env)
    assert str(caught.value) == message


def test_the_example_sources_file_lists_the_example_articles() -> None:
    from tests.conftest import EXAMPLE_ARTICLES, PROJECT

    listed = expand_sources([str(PROJECT / "examples" / "news.sources")])
    assert listed == type(listed)(paths=(str(EXAMPLE_ARTICLES),), urls=())
