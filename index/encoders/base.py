"""Text encoders: the base class every encoder implements, and a deterministic fake for tests.

The real encoders (``numpy_e5.py`` for the bundled model, or ``onnx_e5.py`` with ENCODER_RUNTIME=onnx;
``sentence_transformer.py`` for any other) are imported only when used, so importing this package never
loads onnxruntime, torch or a model.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

import numpy as np


class Embedder(ABC):
    """Turns questions and passages into L2-normalised float32 vectors."""

    model_id: str
    dimension: int
    max_tokens: int  # the encoder's input limit, special tokens and prompt included
    answer_threshold: float = 0.0  # answer scores below this mean "not in my articles"
    cross_lingual: bool = True  # words land near their translations (the index then keeps a lexicon)

    @property
    @abstractmethod
    def fingerprint(self) -> str:
        """A short hash that changes whenever the weights or tokenizer change."""

    @abstractmethod
    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for questions, shape (len(texts), dimension)."""

    @abstractmethod
    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for passages, shape (len(texts), dimension)."""

    def embed_together(self, queries: Sequence[str], passages: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``embed_queries(queries)`` and ``embed_passages(passages)``; an encoder that can runs them in one pass
        (a question and its words: one pass costs about what either does alone)."""
        empty = np.zeros((0, self.dimension), np.float32)
        return (
            self.embed_queries(queries) if queries else empty,
            self.embed_passages(passages) if passages else empty,
        )

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` takes as a passage, prompt and special tokens excluded."""

    @property
    def passage_token_budget(self) -> int:
        """How many tokens of passage text fit the encoder without truncation."""
        return self.max_tokens - self.passage_overhead_tokens

    @property
    def passage_overhead_tokens(self) -> int:
        """Tokens the encoder adds around a passage: special tokens and the passage prompt."""
        return 2


PROGRESS_STEP = 256  # passages embedded between two progress reports


def embed_in_steps(
    embedder: Embedder,
    passages: Sequence[str],
    progress: Callable[[str, int, int], None] | None,
    stage: str,
    step: int = PROGRESS_STEP,
    prompt: str = "passage",
) -> np.ndarray:
    """Vectors of ``passages`` with the ``prompt`` ("passage" or "query"), ``step`` at a time, reporting
    (stage, done, total) to ``progress``."""
    embed = embedder.embed_queries if prompt == "query" else embedder.embed_passages
    parts = []
    for start in range(0, len(passages), step):
        if progress:
            progress(stage, start, len(passages))
        parts.append(embed(passages[start : start + step]))
    if progress:
        progress(stage, len(passages), len(passages))
    if not parts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.concatenate(parts).astype(np.float32, copy=False)


_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder(Embedder):
    """A deterministic bag-of-words encoder for tests where the model is not the point.

    Each word is hashed into one of ``dimension`` buckets; texts sharing words get similar
    vectors. Tokens are words, so chunk sizes are easy to reason about in tests.
    """

    cross_lingual = False  # a word is near nothing but itself

    def __init__(self, dimension: int = 64, max_tokens: int = 128, model_id: str = "test:hashing") -> None:
        self.model_id = model_id
        self.answer_threshold = 0.1
        self.dimension = dimension
        self.max_tokens = max_tokens
        self.calls = 0  # how many encoder calls were made, for tests that count work
        self.texts_embedded = 0

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(f"{self.model_id}:{self.dimension}".encode()).hexdigest()[:16]

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.texts_embedded += len(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.casefold()):
                bucket = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                vectors[row, bucket % self.dimension] += 1.0
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return vectors / norms

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def count_tokens(self, text: str) -> int:
        return len(_WORD.findall(text))
