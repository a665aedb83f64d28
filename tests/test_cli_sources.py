"""``python -m index build/add`` with URLs, feeds and sources files, against a server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import NEWS, write_articles
from tests.local_http import ENGLISH, LocalServer, rss, serving, story
from tests.test_cli import run


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serving() as local:
        yield local


def test_build_from_a_sources_file_then_add_a_url(tmp_path: Path, server: LocalServer) -> None:
    write_articles(tmp_path / "articles", NEWS)
    items = [{"title": f"S{n}", "link": server.route(f"/s{n}", story(n))} for n in (1, 2)]
    feed = server.route("/rss", rss("Wire", items), content_type="application/rss+xml", etag='"v1"')
    sources = tmp_path / "news.sources"
    sources.write_text(f"articles\n{feed}\n", encoding="utf-8")

    built = run(["build", "--sources", sources], tmp_path, FETCH_ALLOW_PRIVATE="1")
    assert built.returncode == 0, built.stderr
    assert "5 articles" in built.stdout and "5 added" in built.stdout
    assert (tmp_path / "index" / "fetch-state.json").is_file()

    added = run(["add", server.route("/en", ENGLISH), "--sources", sources], tmp_path, FETCH_ALLOW_PRIVATE="1")
    assert added.returncode == 0, added.stderr
    assert "6 articles" in added.stdout and "1 added" in added.stdout and "5 unchanged" in added.stdout


def test_without_permission_a_local_url_is_refused_in_one_line(tmp_path: Path, server: LocalServer) -> None:
    folder = write_articles(tmp_path / "articles", NEWS)
    url = server.route("/en", ENGLISH)
    built = run(["build", folder, url], tmp_path)
    assert built.returncode == 0 and "3 articles" in built.stdout
    assert f"skipped {url}: refused: 127.0.0.1 resolves to a private address" in built.stderr
    assert server.hits == []


def test_build_needs_a_source(tmp_path: Path) -> None:
    result = run(["build"], tmp_path)
    assert result.returncode == 2 and "build needs at least one source, or --sources FILE" in result.stderr
    missing = run(["build", "--sources", tmp_path / "missing.sources"], tmp_path)
    assert missing.returncode == 1 and missing.stderr.startswith("error: The sources file ")
