"""The article and chunk records that flow through ingestion, storage and search."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Article:
    """One news article. ``text`` is the body every chunk span and quote refers to."""

    id: str
    title: str
    text: str
    source: str = ""  # the outlet, e.g. "الجزيرة" or "BBC News"
    url: str = ""
    published: str = ""  # ISO 8601 date or datetime, "" when unknown
    author: str = ""
    origin: str = ""  # where it was loaded from: a file path, "file.jsonl:12", a URL

    @property
    def content_hash(self) -> str:
        """A hash of everything that changes what is indexed or shown."""
        digest = hashlib.sha256()
        for part in (self.title, self.text, self.source, self.url, self.published, self.author):
            digest.update(part.encode("utf-8"))
            digest.update(b"\x00")
        return digest.hexdigest()[:32]


@dataclass(frozen=True)
class Chunk:
    """A span of an article's text, sized for the encoder. ``text == article.text[start:end]``."""

    article_id: str
    ordinal: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class LoadProblem:
    """An input that was skipped, and why."""

    origin: str  # file path, with ":LINE" for a line of a JSON Lines file
    reason: str

    def __str__(self) -> str:
        return f"skipped {self.origin}: {self.reason}"
