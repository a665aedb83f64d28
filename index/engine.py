"""The one object the front ends talk to: ask, search, build, add, remove, stats.

Thread-safe: questions may be asked from several threads while one build runs in
another; a build writes a new index beside the old one and swaps it in when complete,
so questions keep being answered from the old index until then.
"""

from __future__ import annotations

from typing import Callable, Sequence

from .answers import Answer, SearchHit
from .documents import Article
from .embedders import Embedder
from .reports import BuildReport, IndexStats
from .settings import IndexSettings

Progress = Callable[[str, int, int], None]  # (stage, done, total), e.g. ("embedding", 640, 1200)


class Engine:
    """Ask questions of an article index, and build or update it."""

    def __init__(self, settings: IndexSettings, embedder: Embedder | None = None) -> None:
        """``embedder`` defaults to the model named by the settings, loaded on first use."""
        raise NotImplementedError

    @property
    def embedder(self) -> Embedder:
        """The encoder, loaded on first use (this can take seconds)."""
        raise NotImplementedError

    def has_index(self) -> bool:
        """Whether an index exists in ``settings.index_dir``."""
        raise NotImplementedError

    def ask(self, question: str) -> Answer:
        """A cited answer; raises QuestionError for an empty or over-long question,
        IndexNotFoundError when nothing has been built, IndexMismatchError when the index
        was built with another model."""
        raise NotImplementedError

    def search(self, question: str, k: int = 5) -> list[SearchHit]:
        """The k best chunks for the question, best first."""
        raise NotImplementedError

    def build(self, sources: Sequence[str], progress: Progress | None = None) -> BuildReport:
        """Rebuild from scratch from files, folders (and later URLs); atomic swap on success."""
        raise NotImplementedError

    def add(self, sources: Sequence[str], remove_missing: bool = False, progress: Progress | None = None) -> BuildReport:
        """Add new, replace changed, skip unchanged articles; with remove_missing, drop articles
        no longer in the sources. Atomic swap on success."""
        raise NotImplementedError

    def add_articles(self, articles: Sequence[Article], progress: Progress | None = None) -> BuildReport:
        """Like add, from Article records already in memory."""
        raise NotImplementedError

    def remove(self, article_ids: Sequence[str]) -> BuildReport:
        """Remove articles by id. Atomic swap on success."""
        raise NotImplementedError

    def stats(self) -> IndexStats:
        """Counts, outlets, newest date, build time and the manifest."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the open index."""
        raise NotImplementedError
