"""Errors raised by the ``index`` package.

Every message is one sentence a person can act on: what was wrong and how to fix it.

    IndexError_ (base: ArticleIndexError)
    ├── SettingsError        a setting in the environment is missing or malformed
    ├── ArticleError         an article file or line could not be read
    ├── ModelError           the embedding model could not be loaded or materialised
    ├── IndexNotFoundError   no index exists at the configured directory yet
    ├── IndexMismatchError   the index was built with another model or settings
    ├── IndexCorruptError    the index directory is damaged
    ├── BuildError           a build found nothing to index or could not finish
    ├── VectorStoreError     the vector store (a Qdrant server) cannot be reached or used
    └── QuestionError        a question is empty or too long
"""

from __future__ import annotations


class ArticleIndexError(Exception):
    """Base class of every error this package raises on purpose."""


class SettingsError(ArticleIndexError):
    """A setting in the environment is missing or malformed."""


class ArticleError(ArticleIndexError):
    """An article file or line could not be read."""


class ModelError(ArticleIndexError):
    """The embedding model could not be loaded or materialised."""


class IndexNotFoundError(ArticleIndexError):
    """No index exists at the configured directory."""


class IndexMismatchError(ArticleIndexError):
    """The index on disk was built with another model or incompatible settings."""


class IndexCorruptError(ArticleIndexError):
    """The index directory is damaged or half-written."""

    @classmethod
    def damaged(cls, index_dir: object, problem: str) -> IndexCorruptError:
        """The error for a damaged part of the index in ``index_dir``: ``problem`` says which and how."""
        return cls(
            f"The index in {index_dir} is damaged ({problem}); rebuild it with `python -m index build ARTICLES...`."
        )


class BuildError(ArticleIndexError):
    """A build could not produce an index."""


class VectorStoreError(ArticleIndexError):
    """The vector store holding the index's vectors (a Qdrant server, Qdrant's local mode) cannot be reached or used."""


class QuestionError(ArticleIndexError):
    """A question is empty or too long."""
