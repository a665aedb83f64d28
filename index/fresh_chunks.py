"""The new articles of a build, chunked and embedded a step at a time (issue 16, bounded build memory): a build
keeps each chunk as a span of its article's text and the vectors, not the chunks' texts nor the passages."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import numpy as np

from index.encoders.base import PROGRESS_STEP, Embedder, embed_in_steps
from index.records import Article, Chunk
from index.settings import IndexSettings
from index.text.chunking import chunk_article

Progress = Callable[[str, int, int], None]
TITLE_TOKENS = 48  # at most this much of the title is given to the encoder with each chunk
EMBED_STEP = PROGRESS_STEP  # passages given to the encoder at a time: the same groups however the build streams


class FreshChunks(Mapping[str, list[Chunk]]):
    """The chunks of a build's new articles, by article id, held as spans: ``[article_id]`` slices the texts
    again from the article, an ``ArticleRef`` in a build, which reads its text from where it is kept (a spool
    file when loaded from files): a build holds no text beyond the article it is reading."""

    def __init__(self) -> None:
        self._articles: dict[str, Article] = {}
        self._spans: dict[str, np.ndarray] = {}  # (start, end) of each chunk, in order

    def add(self, article: Article, chunks: list[Chunk]) -> None:
        assert all(chunk.ordinal == ordinal for ordinal, chunk in enumerate(chunks)), article.id
        self._articles[article.id] = article
        self._spans[article.id] = np.array([(chunk.start, chunk.end) for chunk in chunks], dtype=np.int64)

    def count(self, article_id: str) -> int:
        return len(self._spans[article_id])

    def __getitem__(self, article_id: str) -> list[Chunk]:
        text = self._articles[article_id].text
        return [
            Chunk(article_id, ordinal, start, end, text[start:end])
            for ordinal, (start, end) in enumerate(self._spans[article_id].tolist())
        ]

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._spans

    def __iter__(self) -> Iterator[str]:
        return iter(self._spans)

    def __len__(self) -> int:
        return len(self._spans)


def chunk_and_embed(
    fresh: list[Article], embedder: Embedder, settings: IndexSettings, progress: Progress | None
) -> tuple[FreshChunks, np.ndarray]:
    """The new articles' chunks (as spans) and their vectors in order, chunked and embedded ``EMBED_STEP``
    passages at a time (the groups one call of ``embed_in_steps`` over every passage makes)."""
    chunks = FreshChunks()
    parts: list[np.ndarray] = []
    waiting: list[str] = []
    done = 0

    def embed(count: int, total: int) -> None:
        nonlocal done
        if progress:
            progress("embedding", done, total)
        parts.append(embed_in_steps(embedder, waiting[:count], None, "embedding", step=EMBED_STEP))
        del waiting[:count]
        done += count

    for position, article in enumerate(fresh):
        title = _encoder_title(article.title, embedder)
        article_chunks = _chunks(article, title, embedder, settings)
        chunks.add(article, article_chunks)
        waiting += [_passage_text(title, chunk, embedder) for chunk in article_chunks]
        while len(waiting) >= EMBED_STEP:  # the total is known once every article is chunked: estimated until then
            embed(EMBED_STEP, max(done + len(waiting), round((done + len(waiting)) * len(fresh) / (position + 1))))
    if waiting:
        embed(len(waiting), done + len(waiting))
    if progress:
        progress("embedding", done, done)
    vectors = np.concatenate(parts) if parts else np.zeros((0, embedder.dimension), dtype=np.float32)
    return chunks, vectors.astype(np.float32, copy=False)


def _chunks(article: Article, title: str, embedder: Embedder, settings: IndexSettings) -> list[Chunk]:
    title_tokens = embedder.count_tokens(title) + 1 if title else 0
    budget = min(settings.chunk_tokens, embedder.passage_token_budget - title_tokens)
    overlap = min(settings.chunk_overlap_tokens, budget // 2)
    return chunk_article(article, embedder.count_tokens, budget, overlap)


def encoder_passages(article: Article, embedder: Embedder, settings: IndexSettings) -> list[str]:
    """The passages of an article exactly as a build gives them to the encoder (its chunks with its title)."""
    title = _encoder_title(article.title, embedder)
    return [_passage_text(title, chunk, embedder) for chunk in _chunks(article, title, embedder, settings)]


def _encoder_title(title: str, embedder: Embedder) -> str:
    """The title as given to the encoder: whole words, at most TITLE_TOKENS tokens."""
    words = title.split()
    while words and embedder.count_tokens(" ".join(words)) > TITLE_TOKENS:
        words.pop()
    return " ".join(words)


def _passage_text(title: str, chunk: Chunk, embedder: Embedder) -> str:
    """The chunk with its article's title, as the encoder sees it; never past the encoder's limit."""
    text = f"{title}\n{chunk.text}" if title else chunk.text
    if embedder.count_tokens(text) > embedder.passage_token_budget:
        return chunk.text  # the chunker sized the chunk alone to fit; the title must give way
    return text
