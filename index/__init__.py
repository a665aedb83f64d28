"""Article index: ingest articles, embed chunks, search with FAISS, answer with citations.

The front ends (the bot and the command line) need only these names.
"""

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
from index.records import Answer, Article, BuildReport, Citation, IndexStats, LoadProblem, SearchHit
from index.settings import IndexSettings

__all__ = [
    "Answer",
    "Article",
    "ArticleError",
    "ArticleIndexError",
    "BuildError",
    "BuildReport",
    "Citation",
    "Embedder",
    "Engine",
    "HashingEmbedder",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexSettings",
    "IndexStats",
    "LoadProblem",
    "ModelError",
    "QuestionError",
    "SearchHit",
    "SettingsError",
]
