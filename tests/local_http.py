"""Pages, feeds and a real HTTP server on 127.0.0.1 that serves them, for the tests of live sources."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

# ---------------------------------------------------------------- pages and feeds


def page(
    title: str,
    paragraphs: list[str],
    *,
    lang: str = "en",
    site: str = "",
    author: str = "",
    date: str = "",
    canonical: str = "",
) -> bytes:
    """A news article page with the usual og:/meta tags, a menu and a footer."""
    meta = [f'<meta property="og:title" content="{escape(title)}">']
    if site:
        meta.append(f'<meta property="og:site_name" content="{escape(site)}">')
    if author:
        meta.append(f'<meta name="author" content="{escape(author)}">')
    if date:
        meta.append(f'<meta property="article:published_time" content="{date}">')
    if canonical:
        meta.append(f'<link rel="canonical" href="{canonical}">')
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f'{"".join(meta)}</head><body><nav><a href="/">Home</a> <a href="/world">World</a></nav>'
        f"<article><h1>{escape(title)}</h1>{body}</article><footer>All rights reserved</footer></body></html>"
    ).encode()


ENGLISH = page(
    "Port strike halts grain exports",
    [
        "Dock workers at the country's largest port walked out on Monday, halting grain exports "
        "for the second time this year.",
        "The union said the strike would continue until the government agreed to review wages, "
        "which have not risen since 2019 despite rising food and fuel prices.",
        "Traders warned that a long stoppage could push up wheat prices across the region.",
    ],
    site="Harbour Times",
    author="Jane Doe",
    date="2024-03-05T08:30:00+00:00",
    canonical="https://harbour.example/news/port-strike",
)

ARABIC = page(
    "ارتفاع أسعار القمح في الأسواق العالمية",
    [
        "ارتفعت أسعار القمح في الأسواق العالمية خلال الأسبوع الماضي بنسبة تجاوزت عشرة في المئة، "
        "وسط مخاوف من تراجع الإمدادات القادمة من منطقة البحر الأسود.",
        "وقال محللون إن موجة الجفاف التي ضربت عدداً من الدول المنتجة أدت إلى خفض توقعات المحاصيل.",
        "وتعد مصر من أكبر مستوردي القمح في العالم، وتعتمد على الواردات لتأمين الخبز المدعوم.",
    ],
    lang="ar",
    site="أخبار الخليج",
)

NO_TEXT = (
    b"<!doctype html><html><head><title>Menu</title></head><body><nav><a href='/a'>Home</a>"
    b"<a href='/b'>World</a></nav><footer>(c) 2024</footer></body></html>"
)


def story(n: int) -> bytes:
    return page(
        f"Story number {n}",
        [
            f"Story {n} reports that the city council met on day {n}. " * 3,
            "Residents asked questions about roads, schools and the new bus lines.",
        ],
    )


def rss(title: str, items: list[dict[str, str]]) -> bytes:
    parts = []
    for item in items:
        fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in item.items())
        parts.append(f"<item>{fields}</item>")
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
        f"<link>https://feeds.example/</link><description>News</description>{''.join(parts)}</channel></rss>"
    ).encode()


def atom(title: str, entries: list[dict[str, str]]) -> bytes:
    parts = []
    for e in entries:
        link = f'<link rel="alternate" href="{escape(e["link"])}"/>' if e.get("link") else ""
        name = f"<title>{escape(e['title'])}</title>" if e.get("title") else ""
        parts.append(
            f"<entry><id>{escape(e['id'])}</id>{name}{link}<updated>{e.get('updated', '2024-03-01T10:00:00Z')}"
            f"</updated><author><name>{escape(e.get('author', 'Desk'))}</name></author>"
            f'<summary type="html">{escape(e.get("summary", ""))}</summary></entry>'
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:feed</id><updated>2024-03-01T10:00:00Z</updated>"
        f"{''.join(parts)}</feed>"
    ).encode()


# ---------------------------------------------------------------- a local server


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str = ""
    delay: float = 0.0  # seconds before answering
    drip: float = 0.0  # seconds between 100-byte pieces of the body
    send_length: bool = True
    fail_first: int = 0  # answer 503 this many times before answering properly


class LocalServer:
    """A ThreadingHTTPServer on 127.0.0.1 that serves registered routes and records every request."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with outer.lock:
                    outer.hits.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                try:
                    outer.answer(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with outer.lock:
                        outer.in_flight -= 1

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def route(self, path: str, body: bytes = b"", **options: object) -> str:
        self.routes[path] = Route(body=body, **options)
        return self.url(path)

    def hits_for(self, path: str) -> list[dict[str, str]]:
        return [headers for hit, headers in self.hits if hit == path]

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        route = self.routes.get(handler.path)
        if route is None:
            handler.send_error(404, "Not Found")
            return
        if route.delay:
            time.sleep(route.delay)
        with self.lock:
            failing = route.fail_first > 0
            route.fail_first -= 1 if failing else 0
        if failing:
            handler.send_error(503, "Service Unavailable")
            return
        if route.etag and handler.headers.get("If-None-Match") == route.etag:
            handler.send_response(304)
            handler.send_header("ETag", route.etag)
            handler.end_headers()
            return
        handler.send_response(route.status)
        handler.send_header("Content-Type", route.content_type)
        if route.etag:
            handler.send_header("ETag", route.etag)
        if route.send_length:
            handler.send_header("Content-Length", str(len(route.body)))
        for name, value in route.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        if not route.drip:
            handler.wfile.write(route.body)
            return
        for start in range(0, len(route.body), 100):
            handler.wfile.write(route.body[start : start + 100])
            handler.wfile.flush()
            time.sleep(route.drip)


@contextmanager
def serving(lifetime: float = 60.0) -> Iterator[LocalServer]:
    """A LocalServer running in a thread; shut down on exit, or after ``lifetime`` seconds if a test is stuck."""
    local = LocalServer()
    thread = threading.Thread(target=local.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    guard = threading.Timer(lifetime, local.httpd.shutdown)  # never outlives a stuck test by much
    guard.daemon = True
    guard.start()
    try:
        yield local
    finally:
        guard.cancel()
        local.httpd.shutdown()
        local.httpd.server_close()
        thread.join(timeout=5)
