"""What a search or a question returns: ranked hits and a cited answer."""

from __future__ import annotations

from dataclasses import dataclass, field


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

    @property
    def text(self) -> str:
        """The answer as plain text with numbered markers, e.g. ``"… [1] … [2]"``."""
        if not self.found:
            return "I could not find this in my articles."
        return " ".join(f"{sentence} [{number}]" for sentence, number in self.sentences)
