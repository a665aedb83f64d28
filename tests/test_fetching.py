"""Fetching pages and feeds from real HTTP servers on 127.0.0.1."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from index.sources.feeds import html_to_text, looks_like_feed, parse_date
from index.sources.fetching import Fetcher, FetchSettings
from index.sources.netguard import AddressGuard, Downloader, DownloadError, PinnedTransport, is_private_address
from tests.local_http import ARABIC, ENGLISH, NO_TEXT, LocalServer, atom, page, rss, serving, story


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serving() as local:
        yield local


def settings(**overrides: object) -> FetchSettings:
    """Fast settings for local servers; every test but the refusal ones allows 127.0.0.1 explicitly."""
    values: dict[str, object] = {"allow_private": True, "timeout_seconds": 5.0, "retry_delay_seconds": 0.01}
    values.update(overrides)
    return FetchSettings(**values)


def reasons(report) -> list[str]:
    return [problem.reason for problem in report.problems]


# ---------------------------------------------------------------- pages


def test_english_page_with_metadata(server: LocalServer) -> None:
    url = server.route("/en/port-strike", ENGLISH)
    report = Fetcher(settings()).fetch([url])
    assert report.problems == [] and report.requests == 1 and report.unchanged == 0
    [article] = report.articles
    assert article.id == article.url == "https://harbour.example/news/port-strike"
    assert article.title == "Port strike halts grain exports"
    assert article.source == "Harbour Times"
    assert article.author == "Jane Doe"
    assert article.published.startswith("2024-03-05")
    assert "halting grain exports" in article.text and "All rights reserved" not in article.text
    assert article.origin == url
    assert server.hits_for("/en/port-strike")[0]["user-agent"].startswith("article-qa-bot/")


def test_arabic_page_without_date_or_canonical(server: LocalServer) -> None:
    url = server.route("/ar/wheat", ARABIC)
    [article] = Fetcher(settings()).fetch([url]).articles
    assert article.id == article.url == url
    assert article.title == "ارتفاع أسعار القمح في الأسواق العالمية"
    assert article.source == "أخبار الخليج"
    assert article.published == ""
    assert "البحر الأسود" in article.text


def test_redirect_is_followed_and_counted(server: LocalServer) -> None:
    server.route("/old", status=301, headers={"Location": "/ar/wheat"})
    server.route("/ar/wheat", ARABIC)
    report = Fetcher(settings()).fetch([server.url("/old")])
    [article] = report.articles
    assert article.url == server.url("/ar/wheat") and article.origin == server.url("/old")
    assert report.requests == 2


def test_timeout_is_a_problem_and_quick(server: LocalServer) -> None:
    slow = server.route("/slow", ENGLISH, delay=1.5)
    ok = server.route("/en", ENGLISH)
    started = time.monotonic()
    report = Fetcher(settings(timeout_seconds=0.3, retries=0)).fetch([slow, ok])
    assert time.monotonic() - started < 1.2
    assert len(report.articles) == 1
    [problem] = report.problems
    assert problem.origin == slow and "timed out after 0.3 seconds" in problem.reason


def test_body_that_trickles_past_the_timeout_is_cut_off(server: LocalServer) -> None:
    url = server.route("/drip", ENGLISH, drip=0.05)  # ~20 pieces, ~1 s in all
    started = time.monotonic()
    report = Fetcher(settings(timeout_seconds=0.3, retries=0)).fetch([url])
    assert time.monotonic() - started < 0.9
    assert "timed out" in reasons(report)[0]


@pytest.mark.parametrize("status", [404, 410])
def test_missing_page(server: LocalServer, status: int) -> None:
    url = server.route("/gone", b"gone", status=status)
    report = Fetcher(settings()).fetch([url])
    assert report.articles == [] and report.requests == 1  # no retries for a 4xx
    assert reasons(report) == [f"the server answered {status} {httpx.codes.get_reason_phrase(status)}."]


def test_server_errors_are_retried(server: LocalServer) -> None:
    flaky = server.route("/flaky", ENGLISH, fail_first=2)
    broken = server.route("/broken", b"oops", status=500)
    report = Fetcher(settings(retries=2)).fetch([flaky, broken])
    assert len(report.articles) == 1 and report.requests == 6
    assert reasons(report) == ["the server answered 500 Internal Server Error (gave up after 3 attempts)."]


@pytest.mark.parametrize("send_length", [True, False])
def test_page_over_max_bytes(server: LocalServer, send_length: bool) -> None:
    huge = page("Huge", ["word " * 20_000])
    url = server.route("/huge", huge, send_length=send_length)
    report = Fetcher(settings(max_bytes=10_000)).fetch([url])
    assert report.articles == [] and reasons(report) == ["it is larger than 10000 bytes."]


def test_page_without_main_text(server: LocalServer) -> None:
    url = server.route("/menu", NO_TEXT)
    assert reasons(Fetcher(settings()).fetch([url])) == ["no article text found."]


@pytest.mark.parametrize("content_type", ["image/png", "application/pdf", "application/json"])
def test_content_that_is_not_html(server: LocalServer, content_type: str) -> None:
    url = server.route("/file", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, content_type=content_type)
    [reason] = reasons(Fetcher(settings()).fetch([url]))
    assert reason == f"its content type {content_type} is neither HTML nor an RSS/Atom feed."


def test_plain_text_without_markup_is_not_a_page(server: LocalServer) -> None:
    url = server.route("/notes.txt", b"just some notes " * 20, content_type="text/plain")
    assert "neither HTML nor a feed" in reasons(Fetcher(settings()).fetch([url]))[0]


def test_same_canonical_url_twice_gives_one_article(server: LocalServer) -> None:
    one = server.route("/a", ENGLISH)
    two = server.route("/b", ENGLISH)
    report = Fetcher(settings()).fetch([one, two, one])
    assert len(report.articles) == 1 and report.requests == 2


def test_concurrency_is_bounded(server: LocalServer) -> None:
    urls = [server.route(f"/s{n}", story(n), delay=0.05) for n in range(12)]
    report = Fetcher(settings(concurrency=3)).fetch(urls)
    assert len(report.articles) == 12 and report.problems == []
    assert 1 < server.max_in_flight <= 3


# ---------------------------------------------------------------- feeds


def test_rss_feed_entries_are_fetched(server: LocalServer) -> None:
    items = [
        {"title": "Port strike", "link": server.route("/en", ENGLISH), "pubDate": "Tue, 05 Mar 2024 08:30:00 GMT"},
        {
            "title": "القمح",
            "link": server.route("/ar", ARABIC),
            "pubDate": "Wed, 06 Mar 2024 09:00:00 +0300",
            "author": "desk@example.com (سارة)",
        },
    ]
    feed = server.route("/rss", rss("Mixed wire", items), content_type="application/rss+xml")
    report = Fetcher(settings()).fetch([feed])
    assert report.problems == [] and report.requests == 3
    by_title = {a.title: a for a in report.articles}
    arabic = by_title["ارتفاع أسعار القمح في الأسواق العالمية"]
    assert arabic.published == "2024-03-06T09:00:00+03:00"  # the page has no date; the feed's is used
    assert arabic.origin == feed and arabic.source == "أخبار الخليج"
    assert by_title["Port strike halts grain exports"].published.startswith("2024-03-05")


def test_atom_feed_with_broken_entries_goes_on(server: LocalServer) -> None:
    entries = [
        {"id": "urn:1", "title": "Story one", "link": server.route("/s1", story(1))},
        {"id": "urn:2", "title": "Lost story"},
        {"id": "urn:3"},
        {"id": "urn:4", "title": "Story four", "link": server.route("/s4", story(4))},
    ]
    feed = server.route("/atom", atom("City desk", entries), content_type="application/atom+xml")
    report = Fetcher(settings()).fetch([feed])
    assert sorted(a.title for a in report.articles) == ["Story number 1", "Story number 4"]
    assert [(p.origin, p.reason) for p in report.problems] == [
        (f"{feed} (entry 2)", "the feed's entry 'Lost story' has no web link."),
        (f"{feed} (entry 3)", "the feed's entry 3 has no web link."),
    ]


def test_entry_whose_page_is_missing_falls_back_to_the_feed(server: LocalServer) -> None:
    summary = "<p>The <b>bridge</b> reopened on Friday after repairs.</p><p>Traffic is expected to return.</p>"
    entries = [
        {
            "id": "urn:a",
            "title": "Bridge reopens",
            "link": server.url("/missing"),
            "summary": summary,
            "updated": "2024-04-02T07:00:00Z",
            "author": "Omar",
        },
        {"id": "urn:b", "title": "Nothing to say", "link": server.url("/also-missing")},
    ]
    feed = server.route("/atom", atom("Roads", entries), content_type="application/atom+xml")
    report = Fetcher(settings()).fetch([feed])
    [article] = report.articles
    assert article.id == article.url == server.url("/missing")
    assert article.text == "The bridge reopened on Friday after repairs.\nTraffic is expected to return."
    assert (article.title, article.author, article.source) == ("Bridge reopens", "Omar", "Roads")
    assert article.published == "2024-04-02T07:00:00+00:00" and article.origin == feed
    [problem] = report.problems
    assert problem.origin == server.url("/also-missing")
    assert problem.reason == (
        "the page of feed entry 'Nothing to say' failed (the server answered 404 Not Found) "
        "and the feed has no text for it."
    )


def test_feed_served_as_html_is_recognised(server: LocalServer) -> None:
    items = [{"title": "One", "link": server.route("/s1", story(1))}]
    feed = server.route("/feed", rss("Wire", items), content_type="text/html; charset=utf-8")
    assert [a.title for a in Fetcher(settings()).fetch([feed]).articles] == ["Story number 1"]


@pytest.mark.parametrize("body", [b"this is not a feed at all", b'{"items": []}', b""])
def test_feed_that_does_not_parse(server: LocalServer, body: bytes) -> None:
    url = server.route("/bad.xml", body, content_type="application/rss+xml")
    report = Fetcher(settings()).fetch([url])
    assert report.articles == [] and len(report.problems) == 1
    assert reasons(report)[0].startswith("it could not be parsed as an RSS or Atom feed")


def test_truncated_feed_keeps_what_can_be_read(server: LocalServer) -> None:
    link = server.route("/s1", story(1))
    body = f"<rss><channel><title>Cut</title><item><title>One</title><link>{link}</link></item><item><ti".encode()
    report = Fetcher(settings()).fetch([server.route("/cut.xml", body, content_type="application/rss+xml")])
    assert [a.title for a in report.articles] == ["Story number 1"]


# ---------------------------------------------------------------- refreshing


def test_unchanged_feed_is_not_downloaded_again(server: LocalServer, tmp_path: Path) -> None:
    items = [{"title": f"S{n}", "link": server.route(f"/s{n}", story(n))} for n in (1, 2)]
    feed = server.route("/rss", rss("Wire", items), content_type="application/rss+xml", etag='"v1"')
    state = tmp_path / "state" / "fetch.json"
    first = Fetcher(settings(), state_path=state).fetch([feed])
    assert len(first.articles) == 2 and first.requests == 3
    server.hits.clear()
    second = Fetcher(settings(), state_path=state).fetch([feed])
    assert (second.articles, second.unchanged, second.problems, second.requests) == ([], 2, [], 1)
    assert [path for path, _ in server.hits] == ["/rss"]
    assert server.hits[0][1]["if-none-match"] == '"v1"'
    assert json.loads(state.read_text())["version"] == 2
    assert [p.name for p in state.parent.iterdir()] == ["fetch.json"]  # no temp files left behind


def test_refresh_fetches_only_new_entries(server: LocalServer, tmp_path: Path) -> None:
    items = [{"title": f"S{n}", "link": server.route(f"/s{n}", story(n)), "guid": f"g{n}"} for n in range(3)]
    feed = server.route("/rss", rss("Wire", items), content_type="application/rss+xml", etag='"v1"')
    state = tmp_path / "fetch.json"
    fetcher = Fetcher(settings(), state_path=state)
    assert len(fetcher.fetch([feed]).articles) == 3
    items += [{"title": f"S{n}", "link": server.route(f"/s{n}", story(n)), "guid": f"g{n}"} for n in (3, 4)]
    server.route("/rss", rss("Wire", items), content_type="application/rss+xml", etag='"v2"')
    server.hits.clear()
    report = fetcher.fetch([feed])
    assert sorted(a.title for a in report.articles) == ["Story number 3", "Story number 4"]
    assert (report.unchanged, report.requests) == (3, 3)
    assert sorted(path for path, _ in server.hits) == ["/rss", "/s3", "/s4"]


def test_unchanged_page_by_etag_and_by_content_hash(server: LocalServer, tmp_path: Path) -> None:
    tagged = server.route("/tagged", story(1), etag='"abc"')
    untagged = server.route("/untagged", story(2))
    fetcher = Fetcher(settings(), state_path=tmp_path / "fetch.json")
    assert len(fetcher.fetch([tagged, untagged]).articles) == 2
    again = fetcher.fetch([tagged, untagged])
    assert (again.articles, again.unchanged, again.requests) == ([], 2, 2)
    server.route("/untagged", story(22))
    changed = fetcher.fetch([tagged, untagged])
    assert [a.title for a in changed.articles] == ["Story number 22"] and changed.unchanged == 1


def test_failed_entry_is_retried_on_the_next_refresh(server: LocalServer, tmp_path: Path) -> None:
    items = [{"title": "Late", "link": server.url("/late")}]
    feed = server.route("/rss", rss("Wire", items), content_type="application/rss+xml", etag='"v1"')
    fetcher = Fetcher(settings(), state_path=tmp_path / "fetch.json")
    assert len(fetcher.fetch([feed]).problems) == 1
    server.route("/late", story(7))
    report = fetcher.fetch([feed])
    assert [a.title for a in report.articles] == ["Story number 7"] and report.requests == 2


def test_unreadable_state_file_is_ignored(server: LocalServer, tmp_path: Path) -> None:
    state = tmp_path / "fetch.json"
    state.write_text("{not json", encoding="utf-8")
    report = Fetcher(settings(), state_path=state).fetch([server.route("/en", ENGLISH)])
    assert len(report.articles) == 1
    assert server.url("/en") in json.loads(state.read_text())["urls"]


# ---------------------------------------------------------------- the private-address guard


def test_private_address_is_refused_before_any_request(server: LocalServer) -> None:
    urls = [server.route("/en", ENGLISH), f"http://localhost:{server.httpd.server_port}/en"]
    report = Fetcher(FetchSettings(allow_private=False)).fetch(urls)
    assert report.articles == [] and report.requests == 0 and server.hits == []
    assert reasons(report) == [
        "refused: 127.0.0.1 resolves to a private address (set FETCH_ALLOW_PRIVATE=1 to allow).",
        "refused: localhost resolves to a private address (set FETCH_ALLOW_PRIVATE=1 to allow).",
    ]


def test_redirect_from_public_host_to_loopback_is_refused(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    real_getaddrinfo = socket.getaddrinfo

    def fake_getaddrinfo(host: str, port: object, *args: object, **kwargs: object) -> list:
        if host == "news.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("93.184.216.34", 80))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    seen: list[str] = []
    target = server.route("/en", ENGLISH)

    def public_site(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path == "/story":
            return httpx.Response(200, content=ENGLISH, headers={"Content-Type": "text/html"})
        if request.url.path == "/moved":
            return httpx.Response(302, headers={"Location": "/story"})
        return httpx.Response(302, headers={"Location": target})

    fetcher = Fetcher(FetchSettings(allow_private=False), transport=httpx.MockTransport(public_site))
    report = fetcher.fetch(["http://news.example/sneaky", "http://news.example/moved"])
    assert reasons(report) == ["refused: 127.0.0.1 resolves to a private address (set FETCH_ALLOW_PRIVATE=1 to allow)."]
    assert [a.title for a in report.articles] == ["Port strike halts grain exports"]
    assert server.hits == [] and report.requests == 3
    assert sorted(seen) == ["http://news.example/moved", "http://news.example/sneaky", "http://news.example/story"]


def test_host_that_does_not_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(*args: object, **kwargs: object) -> list:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    report = Fetcher(FetchSettings(allow_private=False)).fetch(["https://nowhere.invalid/x"])
    assert reasons(report)[0].startswith("the host nowhere.invalid could not be resolved")
    assert report.requests == 0


def test_only_valid_http_and_https_urls() -> None:
    report = Fetcher(settings()).fetch(
        ["ftp://files.example/a", "file:///etc/passwd", "news.example/a", "https://", "http://[::1"]
    )
    assert reasons(report) == [
        "only http and https URLs can be fetched, not ftp.",
        "only http and https URLs can be fetched, not file.",
        "it is not a web address (it does not start with http:// or https://).",
        "the URL has no host.",
        "it is not a valid URL (Invalid port: ':1').",
    ]
    assert report.requests == 0


def test_redirect_loops_and_bad_locations(server: LocalServer) -> None:
    loop = server.route("/loop", status=302, headers={"Location": "/loop"})
    bad = server.route("/bad", status=302, headers={"Location": "http://[::1"})
    report = Fetcher(settings()).fetch([loop, bad])
    assert reasons(report) == [
        "it redirected more than 10 times.",
        "it redirected to an invalid URL (Invalid port: ':1').",
    ]


@pytest.mark.parametrize(
    ("address", "private"),
    [
        ("10.0.0.1", True),
        ("172.16.5.4", True),
        ("192.168.1.1", True),
        ("127.0.0.1", True),
        ("169.254.1.1", True),
        ("100.64.0.1", True),  # carrier-grade NAT
        ("0.0.0.0", True),
        ("224.0.0.1", True),
        ("240.0.0.1", True),
        ("255.255.255.255", True),
        ("::1", True),
        ("::", True),
        ("fe80::1", True),
        ("fe80::1%eth0", True),
        ("fc00::1", True),
        ("ff02::1", True),
        ("::ffff:127.0.0.1", True),
        ("::ffff:10.1.2.3", True),
        ("2002:c0a8:0101::1", True),  # 6to4 wrapping 192.168.1.1
        ("8.8.8.8", False),
        ("1.1.1.1", False),
        ("93.184.216.34", False),
        ("2606:4700:4700::1111", False),
        ("::ffff:8.8.8.8", False),
    ],
)
def test_address_classifier(address: str, private: bool) -> None:
    assert is_private_address(address) is private


# ---------------------------------------------------------------- helpers


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Tue, 05 Mar 2024 08:30:00 GMT", "2024-03-05T08:30:00+00:00"),
        ("Wed, 06 Mar 2024 09:00:00 +0300", "2024-03-06T09:00:00+03:00"),
        ("2024-03-05T08:30:00Z", "2024-03-05T08:30:00+00:00"),
        ("2024-03-05", "2024-03-05"),
        (time.struct_time((2024, 3, 5, 8, 30, 0, 1, 65, 0)), "2024-03-05T08:30:00+00:00"),
        ("yesterday-ish", ""),
        ("2024-13-45", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_parse_date(value: object, expected: str) -> None:
    assert parse_date(value) == expected


def test_feed_sniffing_and_html_to_text() -> None:
    assert looks_like_feed("text/html", b'<?xml version="1.0"?>\n<rss version="2.0"><channel>')
    assert looks_like_feed("application/atom+xml", b"")
    assert not looks_like_feed("text/html", b"<!doctype html><html><body>an <rss> tag in prose</body></html>")
    assert html_to_text("<p>a &amp; b</p><script>x()</script><div>c\n  d</div>") == "a & b\nc d"


def test_state_that_cannot_be_saved_is_reported_not_raised(server: LocalServer, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    report = Fetcher(settings(), state_path=blocker / "fetch.json").fetch([server.route("/en", ENGLISH)])
    assert len(report.articles) == 1
    [problem] = report.problems
    assert problem.origin == str(blocker / "fetch.json") and "could not be saved" in problem.reason


def test_dns_rebinding_cannot_switch_the_vetted_address(server: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A resolver that answers a public address first and 127.0.0.1 afterwards (DNS rebinding): the
    connection goes to the public address the guard vetted, never to the loopback server."""
    real_getaddrinfo = socket.getaddrinfo
    real_create_connection = socket.create_connection
    answers = iter(["93.184.216.34"])
    connected: list[tuple[str, int]] = []

    def rebinding_resolver(host: object, port: object, *args: object, **kwargs: object) -> list:
        if host == "rebind.example":
            address = next(answers, "127.0.0.1")
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, int(port or 0)))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    def outside_is_unreachable(address: tuple[str, int], *args: object, **kwargs: object) -> socket.socket:
        """create_connection as the socket module does it (resolving names), but only to 127.0.0.1."""
        host, port = address[:2]
        target = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0][4][0]
        connected.append((target, port))
        if target != "127.0.0.1":
            raise ConnectionRefusedError("no connections outside 127.0.0.1 in tests")
        return real_create_connection((target, port), *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_resolver)
    monkeypatch.setattr(socket, "create_connection", outside_is_unreachable)
    server.route("/secret", ENGLISH)
    port = server.httpd.server_port
    report = Fetcher(FetchSettings(allow_private=False, retries=0)).fetch([f"http://rebind.example:{port}/secret"])
    assert server.hits == [] and report.articles == []
    assert connected == [("93.184.216.34", port)]
    [reason] = reasons(report)
    assert reason.startswith("the request to rebind.example failed")


@pytest.fixture
def tls_site(tmp_path: Path) -> Iterator[tuple[LocalServer, ssl.SSLContext, list[str]]]:
    """The local server behind TLS with a self-signed certificate for news.example; a client context
    that trusts it; and the server names (SNI) clients asked for."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=news.example",
         "-addext", "subjectAltName=DNS:news.example", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    asked: list[str] = []
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)
    server_side.sni_callback = lambda sock, name, context: asked.append(name or "") and None
    with serving() as local:
        local.httpd.socket = server_side.wrap_socket(local.httpd.socket, server_side=True)
        yield local, ssl.create_default_context(cafile=str(cert)), asked


def test_tls_names_the_host_while_connecting_to_the_vetted_address(
    tls_site: tuple[LocalServer, ssl.SSLContext, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection goes to the address resolved once (127.0.0.1 here, allowed), while the Host
    header, the TLS server name and the certificate check use the host name."""
    local, client_side, asked = tls_site
    real_getaddrinfo = socket.getaddrinfo
    lookups: list[str] = []

    def resolver(host: object, port: object, *args: object, **kwargs: object) -> list:
        if host in ("news.example", "other.example"):
            lookups.append(str(host))
            return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", int(port or 0)))]
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    local.route("/en", ENGLISH)
    port = local.httpd.server_port
    guard = AddressGuard(allow_private=True)
    transport = PinnedTransport(guard, httpx.Limits(max_connections=2), ssl_context=client_side)
    with httpx.Client(transport=transport, timeout=5.0) as client:
        downloader = Downloader(
            client, guard=guard, max_bytes=1_000_000, timeout_seconds=5.0, retries=0, retry_delay_seconds=0.0
        )
        download = downloader.get(f"https://news.example:{port}/en", {})
        assert download.status == 200 and download.body == ENGLISH
        assert local.hits_for("/en")[0]["host"] == f"news.example:{port}" and asked == ["news.example"]
        assert lookups == ["news.example"]  # resolved once; the connection used that answer
        with pytest.raises(DownloadError, match="CERTIFICATE_VERIFY_FAILED"):
            downloader.get(f"https://other.example:{port}/en", {})  # same address, wrong name: refused


def test_feed_entry_link_with_spaces_is_not_used(server: LocalServer) -> None:
    """A URL with whitespace or control characters would break every message citing it (issue 13, point 4);
    such a feed entry link is not fetched and not kept. (A page's canonical URL is percent-encoded as it is read.)"""
    items = [
        {"title": "Spaced", "link": "https://wire.example/a b", "description": "Dock workers. " * 9},
        {"title": "Fine", "link": server.route("/en", ENGLISH), "description": "Dock workers. " * 9},
    ]
    feed = server.route("/feed.xml", rss("Wire", items), content_type="application/rss+xml")
    report = Fetcher(settings()).fetch([feed])
    assert [a.title for a in report.articles] == ["Port strike halts grain exports"]
    assert reasons(report) == ["the feed's entry 'Spaced' has no web link."]
