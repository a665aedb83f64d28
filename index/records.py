"""The records that flow through the index: articles and chunks, changes, search hits, cited answers, reports."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field


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
    skipped: bool = True  # False for a note on an input that loaded (e.g. without its bad URL)

    def __str__(self) -> str:
        return f"{'skipped' if self.skipped else 'note on'} {self.origin}: {self.reason}"


@dataclass(frozen=True)
class SearchHit:
    """One ranked chunk. ``text == article.text[start:end]``."""

    article_id: str
    title: str
    source: str
    url: str
    published: str
    chunk_id: int
    start: int
    end: int
    text: str
    score: float

    def to_json(self) -> dict:
        return {
            "article_id": self.article_id,
            "title": self.title,
            "source": self.source,
            "url": self.url,
            "published": self.published,
            "chunk_id": self.chunk_id,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "score": round(float(self.score), 6),
        }


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer: the article and the exact quoted span of its text."""

    number: int
    article_id: str
    title: str
    source: str
    url: str
    published: str
    quote: str  # == article.text[start:end], the sentence(s) the answer rests on
    start: int
    end: int
    passage: str  # the whole retrieved chunk around the quote, for "show sources"
    score: float
    also_in: tuple[str, ...] = ()  # other outlets that published the same (wire) story


@dataclass(frozen=True)
class Answer:
    """A cited answer. ``found`` is False when the articles do not answer the question;
    ``citations`` then hold the closest passages, offered as such."""

    question: str
    found: bool
    sentences: list[tuple[str, int]] = field(default_factory=list)  # (quoted text, citation number)
    citations: list[Citation] = field(default_factory=list)
    as_of: str = ""  # the newest date among cited sources, when they are not all of one date
    timeframe: str = ""  # the dates the question named, e.g. "2019-11-11 – 2019-11-17"
    timeframe_matched: bool = True  # False: no article of that time was found; the answer is from all
    marks: tuple[tuple[int, int, int], ...] = ()  # (sentence index, start, end): the span answering a typed question

    @property
    def text(self) -> str:
        """The answer as plain text with numbered markers, e.g. ``"… [1] … [2]"``."""
        if not self.found:
            return "I could not find this in my articles."
        return " ".join(f"{sentence} [{number}]" for sentence, number in self.sentences)


@dataclass
class BuildReport:
    """What a build, add or remove did."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    problems: list[LoadProblem] = field(default_factory=list)
    articles: int = 0  # articles in the index afterwards
    chunks: int = 0  # chunks in the index afterwards
    embedded_chunks: int = 0  # chunks encoded by this run
    embedded_sentences: int = 0  # sentences encoded by this run (each with both prompts), see sentence_vectors.py
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{self.articles} articles, {self.chunks} chunks in the index: "
            f"{self.added} added, {self.changed} changed, {self.unchanged} unchanged, "
            f"{self.removed} removed, {len(self.problems)} skipped "
            f"({self.embedded_chunks} chunks embedded in {self.seconds:.1f} s)."
        )


@dataclass(frozen=True)
class IndexStats:
    """What an index holds."""

    articles: int
    chunks: int
    sources: dict[str, int]  # outlet -> article count
    newest_published: str  # "" when no article has a date
    built_at: str  # ISO 8601 UTC
    model_id: str
    manifest: dict


class UniqueIds:
    """Where each article id was first seen: a second article with the same id is a problem, not a replacement."""

    def __init__(self) -> None:
        self._first_seen: dict[str, str] = {}

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._first_seen

    def claim(self, article: Article) -> LoadProblem | None:
        """None when the id is new (it is now taken by ``article``), else the problem to report."""
        first = self._first_seen.get(article.id)
        if first is None:
            self._first_seen[article.id] = article.origin
            return None
        return LoadProblem(
            article.origin, f"duplicate id {article.id!r}, first seen in {first}; give each article its own id"
        )


@dataclass(frozen=True)
class Changes:
    """One atomic change to an index: articles in (new, or replacing the same id), articles out.

    ``replace_all``: the index afterwards holds ``articles`` only (a full rebuild); otherwise
    the articles already indexed stay."""

    articles: Sequence[Article]
    problems: Sequence[LoadProblem] = ()
    remove_ids: Sequence[str] = ()
    replace_all: bool = False
