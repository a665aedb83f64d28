"""Article index: ingest articles, embed chunks, search with FAISS, answer with citations.

The front ends (the bot and the command line) need only these names.
"""

from .answers import Answer, Citation, SearchHit
from .documents import Article, LoadProblem
from .embedders import Embedder, HashingEmbedder
from .engine import Engine
from .errors import (
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
from .reports import BuildReport, IndexStats
from .settings import IndexSettings

__all__ = [
    "Answer", "Article", "ArticleError", "ArticleIndexError", "BuildError", "BuildReport", "Citation", "Embedder",
    "Engine", "HashingEmbedder", "IndexCorruptError", "IndexMismatchError", "IndexNotFoundError", "IndexSettings",
    "IndexStats", "LoadProblem", "ModelError", "QuestionError", "SearchHit", "SettingsError",
]
