"""Time a first fetch, an unchanged refresh and a refresh with new pages, against a local server.

    .venv/bin/python bench/refresh_bench.py --articles 1000 --new 100

The server on 127.0.0.1 serves N generated English/Arabic article pages (with ETag and
Last-Modified) and an RSS feed listing them. Each line printed is one phase: seconds, HTTP
requests, articles returned, unchanged, problems.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import random
import sys
import tempfile
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from index.sources.fetching import Fetcher, FetchReport, FetchSettings

ENGLISH = [
    "The city council approved a new budget for public transport on {day}.",
    "Officials said the plan would add {n} buses and extend night services across the river.",
    "Shop owners in the old market welcomed the decision but asked for more parking.",
    "The ministry of health reported {n} new cases of seasonal flu in the northern districts.",
    "Farmers warned that the late rains could cut the wheat harvest by a tenth.",
    "A spokesperson for the port authority said exports rose for the third month in a row.",
    "Teachers will receive training in digital tools before the school year begins.",
    "The central bank kept interest rates unchanged, citing slowing inflation.",
]
ARABIC = [
    "وافق المجلس البلدي على ميزانية جديدة للنقل العام يوم {day}.",
    "وقال مسؤولون إن الخطة ستضيف {n} حافلة وتمدد خدمات الليل عبر النهر.",
    "رحب أصحاب المحال في السوق القديم بالقرار لكنهم طالبوا بمزيد من المواقف.",
    "أعلنت وزارة الصحة تسجيل {n} إصابة جديدة بالإنفلونزا الموسمية في المناطق الشمالية.",
    "حذر المزارعون من أن تأخر الأمطار قد يخفض محصول القمح بمقدار العشر.",
    "قال متحدث باسم سلطة الميناء إن الصادرات ارتفعت للشهر الثالث على التوالي.",
    "سيتلقى المعلمون تدريباً على الأدوات الرقمية قبل بدء العام الدراسي.",
    "أبقى البنك المركزي أسعار الفائدة دون تغيير مشيراً إلى تباطؤ التضخم.",
]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def article_page(i: int) -> bytes:
    """A generated article page: even numbers English, odd numbers Arabic."""
    rng = random.Random(i)
    arabic = i % 2 == 1
    lines = ARABIC if arabic else ENGLISH
    paragraphs = [
        " ".join(rng.choice(lines).format(day=rng.choice(DAYS), n=rng.randint(2, 900)) for _ in range(3))
        for _ in range(rng.randint(3, 6))
    ]
    title = f"{'تقرير رقم' if arabic else 'Report number'} {i}"
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f'<!doctype html><html lang="{"ar" if arabic else "en"}"><head><meta charset="utf-8">'
        f'<title>{title}</title><meta property="og:site_name" content="Bench News">'
        f'<meta property="article:published_time" content="2024-03-{1 + i % 28:02d}T08:00:00Z">'
        f'</head><body><nav><a href="/">Home</a></nav><article><h1>{title}</h1>{body}</article>'
        f"<footer>Bench News</footer></body></html>"
    ).encode()


class BenchServer:
    """Serves /a/<i> for i < count and /feed.xml listing them all, with validators."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.started = formatdate(usegmt=True)
        bench = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body are separate writes

            def do_GET(self) -> None:
                body, ctype = bench.body(self.path)
                if body is None:
                    self.send_error(404)
                    return
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", bench.started)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def body(self, path: str) -> tuple[bytes | None, str]:
        if path == "/feed.xml":
            items = "".join(
                f"<item><title>Item {i}</title><link>{self.url(f'/a/{i}')}</link><guid>bench-{i}</guid>"
                f"<pubDate>{formatdate(1_709_280_000 + i * 60, usegmt=True)}</pubDate></item>"
                for i in reversed(range(self.count))
            )
            feed = (
                '<?xml version="1.0" encoding="utf-8"?>'
                f'<rss version="2.0"><channel><title>Bench</title>{items}</channel></rss>'
            )
            return feed.encode("utf-8"), "application/rss+xml"
        if path.startswith("/a/") and path[3:].isdigit() and int(path[3:]) < self.count:
            return article_page(int(path[3:])), "text/html; charset=utf-8"
        return None, ""


def run(name: str, fetcher: Fetcher, urls: list[str]) -> FetchReport:
    started = time.perf_counter()
    report = fetcher.fetch(urls)
    seconds = time.perf_counter() - started
    print(
        f"{name:<24} {seconds:8.2f} {report.requests:9d} {len(report.articles):9d} "
        f"{report.unchanged:10d} {len(report.problems):9d}",
        flush=True,
    )
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--new", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=FetchSettings().concurrency)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    server = BenchServer(args.articles)
    threading.Thread(target=server.httpd.serve_forever, daemon=True).start()
    settings = FetchSettings(allow_private=True, concurrency=args.concurrency)
    feed = [server.url("/feed.xml")]
    pages = [server.url(f"/a/{i}") for i in range(args.articles)]
    try:
        with tempfile.TemporaryDirectory() as folder:
            state = Path(folder) / "fetch-state.json"
            fetcher = Fetcher(settings, state_path=state)
            print(f"articles {args.articles}  new {args.new}  concurrency {args.concurrency}")
            print(f"{'phase':<24} {'seconds':>8} {'requests':>9} {'articles':>9} {'unchanged':>10} {'problems':>9}")
            run("first fetch (feed)", fetcher, feed)
            run("refresh feed, unchanged", fetcher, feed)
            run("refresh pages, unchanged", fetcher, pages)
            server.count = args.articles + args.new
            run(f"feed with {args.new} new", fetcher, feed)
            print(f"state file bytes {state.stat().st_size}")
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


if __name__ == "__main__":
    main()
