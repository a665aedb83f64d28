"""The one object the front ends talk to: ask, search, build, add, remove, stats.

Thread-safe: questions may be asked from several threads while one build runs in
another; a build writes a new index beside the old one and swaps it in when complete,
so questions keep being answered from the old index until then. An index rebuilt by
another process (the command line) is picked up at the next question.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from index.answer.compose import SentenceVectors, compose_answer
from index.answer.reranking import RERANK_DEPTH, correct_language_gap, rerank_by_sentences
from index.answer.stories import annotate, collapse_copies, restrict_to
from index.builder import Changes, apply_changes, check_model
from index.encoders.base import Embedder
from index.errors import IndexMismatchError, IndexNotFoundError, QuestionError
from index.records import Answer, Article, BuildReport, IndexStats, SearchHit
from index.search.retrieval import OpenIndex
from index.settings import IndexSettings
from index.storage import generations
from index.text.timeframes import question_timeframe

Progress = Callable[[str, int, int], None]  # (stage, done, total), e.g. ("embedding", 640, 1200)
SEARCH_DEPTH = 20  # chunks retrieved before the answer picks its sentences
TIMEFRAME_DEPTH_FACTOR = 5  # a question naming a time searches deeper, then keeps what is of that time


class Engine:
    """Ask questions of an article index, and build or update it."""

    def __init__(self, settings: IndexSettings, embedder: Embedder | None = None) -> None:
        """``embedder`` defaults to the model named by the settings, loaded on first use."""
        self.settings = settings
        self.today: Callable[[], dt.date] = dt.date.today  # "last week" in questions is relative to this
        self.index_dir = Path(settings.index_dir)
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self._open: OpenIndex | None = None
        self._open_lock = threading.Lock()
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
        """Why the index cannot answer (none built, another model, an older format), or None.

        Loads the encoder, which the check needs."""
        try:
            self._index()
        except (IndexNotFoundError, IndexMismatchError) as exc:
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
                fresh = OpenIndex(generation)
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
        """The k best chunks for the question, best first."""
        question = self.check_question(question)
        index = self._index()
        query_vector = self.embedder.embed_queries([question])[0]
        slots = index.slots(question, self._sentences().passages)
        hits = index.hits(index.search(question, query_vector, max(k, RERANK_DEPTH), slots))
        hits = correct_language_gap(question, hits, self.embedder)
        return rerank_by_sentences(question, query_vector, hits, self.embedder, self._sentences())[:k]

    def ask(self, question: str) -> Answer:
        """A cited answer; raises QuestionError for an empty or over-long question,
        IndexNotFoundError when nothing has been built, IndexMismatchError when the index
        was built with another model."""
        return self.ask_and_search(question, SEARCH_DEPTH)[0]

    def ask_and_search(self, question: str, k: int = SEARCH_DEPTH) -> tuple[Answer, list[SearchHit]]:
        """The answer and the k best chunks it was chosen from, in one retrieval (for evaluations)."""
        question = self.check_question(question)
        index = self._index()
        query_vector = self.embedder.embed_queries([question])[0]
        slots = index.slots(question, self._sentences().passages)
        timeframe = question_timeframe(question, self.today())
        depth = max(k, SEARCH_DEPTH) * (TIMEFRAME_DEPTH_FACTOR if timeframe else 1)
        hits = index.hits(index.search(question, query_vector, depth, slots))
        story_of, copies = index.stories([hit.article_id for hit in hits])
        hits = collapse_copies(hits, story_of)
        matched = True
        if timeframe:
            hits, matched = restrict_to(hits, timeframe)
        hits = correct_language_gap(question, hits, self.embedder)
        hybrid_scores = {hit.chunk_id: hit.score for hit in hits}
        hits = rerank_by_sentences(question, query_vector, hits, self.embedder, self._sentences())
        question_words = [(slot.terms, slot.reference) for slot in slots]
        answer = compose_answer(
            question,
            query_vector,
            hits,
            self.embedder,
            self.settings.answer_threshold,
            question_words,
            self._sentences(),
            hybrid_scores,
        )
        return annotate(answer, copies, timeframe, matched), hits[:k]

    def _sentences(self) -> SentenceVectors:
        if self._sentence_vectors is None:
            self._sentence_vectors = SentenceVectors(self.embedder)
        return self._sentence_vectors

    def build(self, sources: Sequence[str], progress: Progress | None = None) -> BuildReport:
        """Rebuild from files and folders: the index afterwards holds exactly these articles.

        Unchanged articles keep their vectors when the model and chunking are the same."""
        loaded = _load(sources)
        return self.apply(Changes(loaded.articles, loaded.problems, keep_others=False), progress)

    def add(
        self, sources: Sequence[str], remove_missing: bool = False, progress: Progress | None = None
    ) -> BuildReport:
        """Add new, replace changed, skip unchanged articles; with remove_missing, drop articles
        no longer in the sources. Atomic swap on success."""
        loaded = _load(sources)
        return self.apply(Changes(loaded.articles, loaded.problems, keep_others=not remove_missing), progress)

    def add_articles(self, articles: Sequence[Article], progress: Progress | None = None) -> BuildReport:
        """Like add, from Article records already in memory."""
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
        opened = self._open if self._open is not None and self._open.generation == generation else OpenIndex(generation)
        try:
            articles, chunks, sources, newest = opened.store_summary()
        finally:
            if opened is not self._open:
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


def _load(sources: Sequence[str]):
    from index.sources.loaders import load_articles

    return load_articles([os.fspath(source) for source in sources])
