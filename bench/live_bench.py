"""Time refreshes of a live index through the whole pipeline, against a local server.

    .venv/bin/python bench/live_bench.py --articles 1000 --new 100 --embedder hashing
    MODEL_CACHE_DIR=/tmp/mcache .venv/bin/python bench/live_bench.py --embedder bundled

The server on 127.0.0.1 (bench/refresh_bench.py's) serves N generated English/Arabic article
pages with validators and an RSS feed listing them. Phases, each through Engine.update into
a real index (FAISS, SQLite, keyword index) in a temporary folder:

  build            a full build from the feed: every page fetched, extracted and embedded
  refresh (feed)   the feed unchanged: one conditional request, nothing embedded, no new index
  refresh (pages)  the same N articles listed as N page URLs: N conditional requests, all 304
  refresh (+new)   the feed now lists `--new` more articles: their pages fetched and embedded

Each line: seconds in all, fetching and extracting, and indexing; seconds in the encoder and
its share of the phase; HTTP requests the server answered; articles added and unchanged; chunks
embedded; sources that failed. Nothing here is a test; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, for `index`

from refresh_bench import BenchServer

from index.encoders.base import Embedder, HashingEmbedder
from index.engine import Engine
from index.settings import IndexSettings
from index.sources.fetching import FetchSettings


class TimedEmbedder(Embedder):
    """Another encoder, with the time spent encoding passages added up."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.model_id, self.dimension, self.max_tokens = inner.model_id, inner.dimension, inner.max_tokens
        self.answer_threshold = inner.answer_threshold
        self.seconds = 0.0
        self.passages = 0

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    @property
    def passage_overhead_tokens(self) -> int:
        return self.inner.passage_overhead_tokens

    def embed_queries(self, texts: Sequence[str]):
        return self.inner.embed_queries(texts)

    def embed_passages(self, texts: Sequence[str]):
        started = time.perf_counter()
        try:
            return self.inner.embed_passages(texts)
        finally:
            self.seconds += time.perf_counter() - started
            self.passages += len(texts)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)


class RequestCounter:
    """Counts the requests the server answers, redirects and 304s included."""

    def __init__(self, server: BenchServer) -> None:
        self.count = 0
        handler = server.httpd.RequestHandlerClass
        answer = handler.do_GET
        counter = self

        def do_get(request) -> None:
            counter.count += 1
            answer(request)

        handler.do_GET = do_get


class TimedEngine(Engine):
    """The engine, with the time spent writing the index (``apply``) added up."""

    applying = 0.0

    def apply(self, changes, progress=None):
        started = time.perf_counter()
        try:
            return super().apply(changes, progress)
        finally:
            self.applying += time.perf_counter() - started


def phase(
    name: str,
    engine: TimedEngine,
    embedder: TimedEmbedder,
    requests: RequestCounter,
    sources: list[str],
    full: bool,
) -> None:
    """One update of the index through the engine's write path, timed: fetching and extracting, then indexing."""
    encoder_before, requests_before, applying_before = embedder.seconds, requests.count, engine.applying
    started = time.perf_counter()
    report = engine.update(sources, replace_all=full)
    ended = time.perf_counter()
    fetched = ended - (engine.applying - applying_before)
    seconds, encoder = ended - started, embedder.seconds - encoder_before
    print(
        f"{name:<16} {seconds:8.2f} {fetched - started:8.2f} {ended - fetched:8.2f} {encoder:9.2f} "
        f"{100 * encoder / seconds:6.1f}% {requests.count - requests_before:9d} {report.added:6d} "
        f"{report.unchanged:10d} {report.embedded_chunks:9d} {len(report.problems):9d}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--new", type=int, default=100)
    parser.add_argument("--embedder", choices=("hashing", "bundled"), default="hashing")
    parser.add_argument("--concurrency", type=int, default=FetchSettings().concurrency)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    for handler in logging.getLogger().handlers:  # libraries that set their own loggers to DEBUG stay quiet too
        handler.setLevel(logging.WARNING)
    server = BenchServer(args.articles)
    requests = RequestCounter(server)
    threading.Thread(target=server.httpd.serve_forever, daemon=True).start()
    feed = [server.url("/feed.xml")]
    pages = [server.url(f"/a/{i}") for i in range(args.articles)]
    with tempfile.TemporaryDirectory(prefix="live-bench-") as folder:
        settings = IndexSettings(
            index_dir=Path(folder) / "index",
            model_cache_dir=Path(os.environ.get("MODEL_CACHE_DIR") or IndexSettings().model_cache_dir),
        )
        if args.embedder == "bundled":
            from index.encoders.sentence_transformer import load_embedder

            started = time.perf_counter()
            inner = load_embedder(settings)
            print(f"bundled model loaded in {time.perf_counter() - started:.1f} s")
        else:
            inner = HashingEmbedder(dimension=384)
        embedder = TimedEmbedder(inner)
        fetch = FetchSettings(allow_private=True, concurrency=args.concurrency)
        engine = TimedEngine(settings, embedder=embedder, fetch_settings=fetch)
        print(f"articles {args.articles}  new {args.new}  embedder {embedder.model_id}  concurrency {args.concurrency}")
        print(
            f"{'phase':<16} {'seconds':>8} {'fetch s':>8} {'index s':>8} {'encoder s':>9} {'share':>7} "
            f"{'requests':>9} {'added':>6} {'unchanged':>10} {'embedded':>9} {'problems':>9}"
        )
        try:
            phase("build", engine, embedder, requests, feed, full=True)
            phase("refresh (feed)", engine, embedder, requests, feed, full=False)
            phase("refresh (pages)", engine, embedder, requests, pages, full=False)
            server.count = args.articles + args.new
            phase(f"refresh (+{args.new})", engine, embedder, requests, feed, full=False)
        finally:
            engine.close()
            server.httpd.shutdown()
            server.httpd.server_close()


if __name__ == "__main__":
    main()
