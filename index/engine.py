"""The one object the front ends talk to: ask, search, update, add_url, remove, stats.

Thread-safe: questions may be asked from several threads while one build runs in
another; a build writes a new index beside the old one and swaps it in when complete,
so questions keep being answered from the old index until then. An index rebuilt by
another process (the command line) is picked up at the next question.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.answer.compose import Reading, compose_answer, read_sentences
from index.answer.reader import ReaderModel
from index.answer.reranking import correct_language_gap, rerank_by_sentences
from index.answer.similarity import SentenceVectors
from index.answer.stories import annotate, collapse_copies, restrict_to
from index.builder import apply_changes, check_chunking, check_model
from index.collect import Added, Collector
from index.encoders.base import Embedder
from index.errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError, QuestionError
from index.records import Answer, Article, BuildReport, Changes, IndexStats, LoadProblem, SearchHit
from index.search.keywords import Slot
from index.search.retrieval import OpenIndex
from index.settings import IndexSettings
from index.sources.fetch_settings import FetchSettings
from index.sources.sources_file import classify
from index.storage import catalog, generations
from index.text.places import load_places
from index.text.timeframes import Timeframe, question_timeframe
from index.text.typed_spans import SpanFinder
from index.tuning import RANKING

if TYPE_CHECKING:
    import httpx

    from index.llm.answering import Draft, LlmAnswer, LlmAnswerer

Progress = Callable[[str, int, int], None]  # (stage, done, total), e.g. ("embedding", 640, 1200)


@dataclass(frozen=True)
class _Ranking:
    """What the ranking pipeline found for one question."""

    question: str  # as checked: whitespace collapsed
    query_vector: np.ndarray
    slots: list[Slot]  # the question's keyword slots (words, names across scripts, translations)
    hits: list[SearchHit]  # best first
    hybrid_scores: dict[int, float]  # chunk id -> hybrid search score, before re-ranking
    copies: dict[str, list[Article]]  # story id -> the articles republishing it
    timeframe: Timeframe | None
    timeframe_matched: bool

    @property
    def question_words(self) -> list[tuple[frozenset[str], float]]:
        """The question's words as (index terms standing for the word, its weight)."""
        return [(slot.terms, slot.reference) for slot in self.slots]


class Engine:
    """Ask questions of an article index, and build or update it."""

    def __init__(
        self,
        settings: IndexSettings,
        embedder: Embedder | None = None,
        fetch_settings: FetchSettings | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        """``embedder`` defaults to the model named by the settings, loaded on first use;
        ``fetch_settings`` and ``transport`` are how URL sources are fetched."""
        self.settings = settings
        self.today: Callable[[], dt.date] = dt.date.today  # "last week" in questions is relative to this
        self.index_dir = Path(settings.index_dir)
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self._open: OpenIndex | None = None
        self._open_lock = threading.Lock()
        self.collector = Collector(self.index_dir, fetch_settings or FetchSettings(), transport, settings.load_limits)
        self._finder: SpanFinder | None = None  # typed spans (names, places, figures) of answer sentences
        self._sentence_vectors: SentenceVectors | None = None  # remembered sentence and word vectors, across questions

    @property
    def embedder(self) -> Embedder:
        """The encoder, loaded on first use (this can take seconds)."""
        if self._embedder is None:
            with self._embedder_lock:
                if self._embedder is None:
                    from index.encoders.sentence_transformer import load_embedder

                    self._embedder = load_embedder(self.settings)
        return self._embedder

    def has_index(self) -> bool:
        """Whether an index exists in ``settings.index_dir``."""
        return generations.current_generation(self.index_dir) is not None

    def index_problem(self) -> str | None:
        """Why the index cannot answer (none built, another model, an older format, damaged), or None:
        the front ends rebuild it then. Loads the encoder, which the check needs."""
        try:
            self._index()
        except (IndexNotFoundError, IndexMismatchError, IndexCorruptError) as exc:
            return str(exc)
        return None

    def _index(self) -> OpenIndex:
        """The current generation, opened (and checked against the encoder) once."""
        generation = generations.require_generation(self.index_dir)
        opened = self._open
        if opened is not None and opened.generation == generation:
            return opened
        with self._open_lock:
            if self._open is None or self._open.generation != generation:
                manifest = generations.read_manifest(generation)
                check_model(manifest, self.embedder, self.index_dir)
                if not index_format_is_current(manifest):
                    raise IndexMismatchError(
                        f"The index in {self.index_dir} was written by an older version of this program; rebuild it "
                        "with `python -m index build ARTICLES...` (unchanged articles keep their vectors)."
                    )
                fresh = OpenIndex(generation, self.settings.vectors)
                self._sentences().use(fresh.sentences)
                self._open = fresh  # the old one is left to the garbage collector: a reader may still use it
            return self._open

    def check_question(self, question: str) -> str:
        question = " ".join(question.split())
        if not question:
            raise QuestionError("The question is empty; ask something about the articles, e.g. “who met Haftar?”.")
        limit = self.settings.max_question_chars
        if len(question) > limit:
            raise QuestionError(f"The question is {len(question)} characters long; please keep it under {limit}.")
        return question

    def search(self, question: str, k: int = 5) -> list[SearchHit]:
        """The k best chunks for the question, best first: the ranking ``ask`` answers from."""
        return self._rank(question, k).hits[:k]

    def ask(self, question: str) -> Answer:
        """A cited answer; raises QuestionError for an empty or over-long question,
        IndexNotFoundError when nothing has been built, IndexMismatchError when the index
        was built with another model."""
        return self.ask_and_search(question, RANKING.search_depth)[0]

    def ask_and_search(
        self, question: str, k: int = RANKING.search_depth, exclude: frozenset[str] = frozenset()
    ) -> tuple[Answer, list[SearchHit]]:
        """The answer and the k best chunks it was chosen from, in one retrieval (for evaluations);
        ``exclude``: article ids searched as if they were not in the index (an eval's removed paragraph)."""
        ranked = self._rank(question, k, exclude)
        answer = compose_answer(
            ranked.question,
            ranked.query_vector,
            ranked.hits,
            self.embedder,
            self.settings.answer_threshold,
            ranked.question_words,
            self._sentences(),
            ranked.hybrid_scores,
            self._span_finder(),
        )
        return annotate(answer, ranked.copies, ranked.timeframe, ranked.timeframe_matched), ranked.hits[:k]

    async def ask_with_llm(
        self, question: str, llm: LlmAnswerer, on_draft: Draft | None = None
    ) -> tuple[Answer, LlmAnswer]:
        """The extractive answer (as ``ask`` gives it) and the LLM step over its passages: an answer in the
        question's language, verified against them, or the reason to show the extractive one
        (``LlmAnswer.shown``). Streams when ``on_draft`` is given; raises only what ``ask`` raises."""
        answer, hits = await asyncio.to_thread(self.ask_and_search, question)
        return answer, await llm.answer(answer, hits, on_draft)

    def ask_blocking(self, question: str, llm: LlmAnswerer | None) -> tuple[Answer, LlmAnswer | None]:
        """The extractive answer and, with an LLM configured, what the LLM step made of it (not streamed), for
        callers without an event loop of their own (the command line)."""
        if llm is None:
            return self.ask(question), None
        return asyncio.run(self.ask_with_llm(question, llm))

    def read(self, question: str, exclude: frozenset[str] = frozenset(), model: ReaderModel | None = None) -> Reading:
        """Every candidate sentence for the question with the reader's signals (for fitting the reader)."""
        ranked = self._rank(question, RANKING.search_depth, exclude)
        return read_sentences(
            ranked.question,
            ranked.query_vector,
            ranked.hits,
            self.embedder,
            ranked.question_words,
            self._sentences(),
            ranked.hybrid_scores,
            self._span_finder(),
            model,
        )

    def _span_finder(self) -> SpanFinder:
        if self._finder is None:
            self._finder = SpanFinder(places=load_places())
        return self._finder

    def _rank(self, question: str, k: int, exclude: frozenset[str] = frozenset()) -> _Ranking:
        """The one ranking pipeline of ``search`` and ``ask``: hybrid search, one hit per story, the
        question's time frame, the language-gap correction, then re-ranking by best sentence."""
        question = self.check_question(question)
        with self._reading() as index:
            return self._rank_in(index, question, k, exclude)

    @contextmanager
    def _reading(self) -> Iterator[OpenIndex]:
        """The current generation, held open while a question reads it (``close`` waits for it)."""
        index = self._index()
        while not index.acquire():  # closed meanwhile (``close``, or a stop): open the current generation again
            index = self._index()
        try:
            yield index
        finally:
            index.release()

    def _rank_in(self, index: OpenIndex, question: str, k: int, exclude: frozenset[str]) -> _Ranking:
        query_vector = self._sentences().embed_question(question, index.words_to_translate(question))
        slots = index.slots(question, self._sentences().passages)
        timeframe = question_timeframe(question, self.today())
        depth = max(k, RANKING.search_depth) * (RANKING.timeframe_depth_factor if timeframe else 1)
        hits = index.hits(index.search(question, query_vector, depth + len(exclude), slots))
        if exclude:
            hits = [hit for hit in hits if hit.article_id not in exclude]
        story_of, copies = index.stories([hit.article_id for hit in hits])
        hits = collapse_copies(hits, story_of)
        matched = True
        if timeframe:
            hits, matched = restrict_to(hits, timeframe)
        hits = correct_language_gap(question, hits, self.embedder)
        hybrid_scores = {hit.chunk_id: hit.score for hit in hits}
        hits = rerank_by_sentences(question, query_vector, hits, self.embedder, self._sentences())
        return _Ranking(question, query_vector, slots, hits, hybrid_scores, copies, timeframe, matched)

    def _sentences(self) -> SentenceVectors:
        if self._sentence_vectors is None:
            self._sentence_vectors = SentenceVectors(self.embedder)
        return self._sentence_vectors

    # --- the write path: every change to the index goes through ``apply`` ---

    def update(
        self,
        sources: Sequence[str | os.PathLike],
        *,
        replace_all: bool = False,
        sources_files: Sequence[str | Path] = (),
        progress: Progress | None = None,
    ) -> BuildReport:
        """Bring the index up to date with ``sources`` (files, folders, article and feed URLs, sources files).

        New and changed articles are added, unchanged ones keep their vectors. With ``replace_all``
        the index afterwards holds the listed sources only (a rebuild); otherwise the rest of the
        index stays, and nothing is written when nothing is new. Atomic swap on success."""
        started = time.monotonic()
        collected = self.collector.collect([os.fspath(s) for s in sources], sources_files, progress)
        if not replace_all and not collected.articles and self.has_index():
            # an index of another model, chunking or format cannot take a refresh, even an empty one
            check_chunking(
                generations.read_manifest(self._index().generation), self.embedder, self.settings, self.index_dir
            )
            report = BuildReport(unchanged=len(collected.unchanged_ids), problems=list(collected.problems))
            report.articles, report.chunks = catalog.indexed_counts(self.index_dir)
        else:
            report = self.apply(self.collector.changes(collected, replace_all), progress)
            if not replace_all:  # a rebuild handed them to the builder, which counted them
                report.unchanged += len(collected.unchanged_ids)
        report.seconds = time.monotonic() - started
        return report

    def add_url(self, url: str, progress: Progress | None = None) -> Added:
        """Fetch one article (or feed) URL into the index, and remember it in the collector's
        ``added_file`` so that rebuilds and refreshes that name that file keep it. Local paths are refused."""
        url = url.strip()
        if classify(url) != "url":
            reason = "it is not a web address (it does not start with http:// or https://)."
            return Added(problems=[LoadProblem(url, reason)])
        collected = self.collector.collect([url], progress=progress)
        added = Added(new=collected.articles, problems=collected.problems)
        if collected.articles:
            added.report = self.apply(self.collector.changes(collected, replace_all=False), progress)
            added.report.unchanged += len(collected.unchanged_ids)
        if collected.unchanged_ids:
            wanted = set(collected.unchanged_ids)
            added.unchanged = catalog.indexed_articles(self.index_dir, lambda article: article.id in wanted)
        if added.new or added.unchanged:
            self.collector.remember_url(url)
        return added

    def add_articles(self, articles: Sequence[Article], progress: Progress | None = None) -> BuildReport:
        """Add (or replace) Article records already in memory."""
        return self.apply(Changes(list(articles)), progress)

    def remove(self, article_ids: Sequence[str]) -> BuildReport:
        """Remove articles by id. Atomic swap on success."""
        generations.require_generation(self.index_dir)
        return self.apply(Changes([], remove_ids=list(article_ids)), None)

    def apply(self, changes: Changes, progress: Progress | None = None) -> BuildReport:
        """Apply a set of changes (articles in, articles out) as one atomic build."""
        report = apply_changes(self.index_dir, self.embedder, self.settings, changes, progress)
        self._index()  # open the new generation now, not at the next question
        return report

    def stats(self) -> IndexStats:
        """Counts, outlets, newest date, build time and the manifest."""
        generation = generations.require_generation(self.index_dir)
        opened = self._open
        if opened is not None and opened.generation == generation and opened.acquire():
            try:
                articles, chunks, sources, newest = opened.store_summary()
            finally:
                opened.release()
        else:
            opened = OpenIndex(generation, self.settings.vectors)
            try:
                articles, chunks, sources, newest = opened.store_summary()
            finally:
                opened.close()
        manifest = opened.manifest
        return IndexStats(
            articles,
            chunks,
            sources,
            newest,
            manifest.get("built_at", ""),
            manifest.get("model", {}).get("id", ""),
            manifest,
        )

    def close(self) -> None:
        """Release the open index."""
        with self._open_lock:
            if self._open is not None:
                self._open.close()
                self._open = None


def index_format_is_current(manifest: dict) -> bool:
    """Whether a generation has every part this version of the engine searches."""
    from index.search.hubness import hubness_record_is_current
    from index.search.keywords import keyword_record_is_current
    from index.search.lexicon import lexicon_record_is_current

    return (
        manifest.get("format") == generations.FORMAT_VERSION
        and keyword_record_is_current(manifest)
        and lexicon_record_is_current(manifest)
        and hubness_record_is_current(manifest)
    )
