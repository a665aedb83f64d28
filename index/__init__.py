"""Article index: ingest articles, embed chunks, search with FAISS, answer with citations.

The front ends (the bot, the command line, the benchmarks) need only these names; everything
else is inside the layers (``text``, ``sources``, ``encoders``, ``storage``, ``search``,
``answer``). ``tests/test_public_api.py`` pins the list.
"""

from index.answer.render import (
    NOT_FOUND,
    CitedArticle,
    answer_as_text,
    answer_notes,
    answer_sentences,
    cited_articles,
    markers,
    source_details,
)
from index.collect import Added, is_sources_file
from index.encoders.base import Embedder, HashingEmbedder
from index.engine import Engine
from index.errors import (
    ArticleError,
    ArticleIndexError,
    BuildError,
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    ModelError,
    QuestionError,
    SettingsError,
)
from index.llm import LlmAnswer, LlmAnswerer, LlmSettings
from index.memory import hold_malloc_mmap_threshold
from index.progress import ProgressBars
from index.records import Answer, Article, BuildReport, Citation, IndexStats, LoadProblem, SearchHit
from index.settings import IndexSettings, whole_number
from index.sources.article_checks import is_web_url
from index.sources.fetch_settings import FetchSettings
from index.storage.catalog import newest_articles

__all__ = [
    "NOT_FOUND",
    "Added",
    "Answer",
    "Article",
    "ArticleError",
    "ArticleIndexError",
    "BuildError",
    "BuildReport",
    "Citation",
    "CitedArticle",
    "Embedder",
    "Engine",
    "FetchSettings",
    "HashingEmbedder",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexSettings",
    "IndexStats",
    "LlmAnswer",
    "LlmAnswerer",
    "LlmSettings",
    "LoadProblem",
    "ModelError",
    "ProgressBars",
    "QuestionError",
    "SearchHit",
    "SettingsError",
    "answer_as_text",
    "answer_notes",
    "answer_sentences",
    "cited_articles",
    "hold_malloc_mmap_threshold",
    "is_sources_file",
    "is_web_url",
    "markers",
    "newest_articles",
    "source_details",
    "whole_number",
]
