"""How close each sentence is to the question, on one scale across scripts, and where the sentences'
vectors come from: the generation's stored table (``storage/sentence_vectors.py``), else the encoder,
remembered across questions."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from index.encoders.base import Embedder
from index.storage.sentence_vectors import StoredSentences
from index.text.scripts import script_of


class _RememberedVectors:
    """Vectors of short texts: the generation's stored sentence vectors where it holds them, else from one
    embedding function, remembered by text (least recently used go first)."""

    def __init__(
        self,
        embed: Callable[[list[str]], np.ndarray],
        dimension: int,
        size: int,
        stored: Callable[[list[str]], tuple[np.ndarray, np.ndarray]],
    ) -> None:
        self._embed = embed
        self._dimension = dimension
        self._size = size
        self._stored = stored
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        result = np.zeros((len(texts), self._dimension), np.float32)
        todo = list(range(len(texts)))
        if texts:
            found, vectors = self._stored(list(texts))
            if found.any():
                result[found] = vectors
                todo = [i for i in todo if not found[i]]
        if todo:
            result[todo] = self._remembered([texts[i] for i in todo])
        return result

    def unknown(self, texts: Sequence[str]) -> list[str]:
        """Those of ``texts`` (once each) neither stored nor remembered."""
        texts = list(dict.fromkeys(texts))
        if not texts:
            return []
        found, _ = self._stored(texts)
        with self._lock:
            return [t for t, stored in zip(texts, found) if not stored and t not in self._vectors]

    def remember(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        with self._lock:
            self._keep(texts, vectors)
            self._evict()

    def _keep(self, texts: Sequence[str], vectors: np.ndarray | list[np.ndarray]) -> None:
        """Remember ``vectors`` as the most recently used (the lock held)."""
        for text, vector in zip(texts, vectors):
            self._vectors[text] = vector
            self._vectors.move_to_end(text)

    def _evict(self) -> None:
        """Forget the least recently used beyond the size (the lock held)."""
        while len(self._vectors) > self._size:
            self._vectors.popitem(last=False)

    def _remembered(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        fresh: np.ndarray | list[np.ndarray] = self._embed(missing) if missing else []
        with self._lock:
            self._keep(missing, fresh)
            result = []
            for text in texts:
                vector = self._vectors.get(text)
                if vector is None:  # evicted by another thread meanwhile
                    vector = self._embed([text])[0]
                else:
                    self._vectors.move_to_end(text)
                result.append(vector)
            self._evict()
        return np.stack(result)


class SentenceVectors:
    """Vectors of sentences and words: ``passages`` with the model's passage prompt, ``queries`` with its
    query prompt. Read from the generation's stored sentence vectors (``use``) where it holds them;
    others are embedded and remembered across questions (they often return to the same passages)."""

    def __init__(self, embedder: Embedder, size: int = 8192) -> None:
        self._embedder = embedder
        self._stored: StoredSentences | None = None
        self.passages = _RememberedVectors(
            embedder.embed_passages, embedder.dimension, size, lambda texts: self._lookup("passages", texts)
        )
        self.queries = _RememberedVectors(
            embedder.embed_queries, embedder.dimension, size, lambda texts: self._lookup("queries", texts)
        )

    def embed_question(self, question: str, words: Sequence[str]) -> np.ndarray:
        """The question's vector (query prompt), its ``words`` embedded as passages in the same encoder pass
        and remembered, so that translating them embeds nothing more."""
        missing = self.passages.unknown(words)
        question_vectors, word_vectors = self._embedder.embed_together([question], missing)
        self.passages.remember(missing, word_vectors)
        return question_vectors[0]

    def use(self, stored: StoredSentences | None) -> None:
        """Read from ``stored`` (the current generation's table) from now on."""
        self._stored = stored

    def _lookup(self, kind: str, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        stored = self._stored
        if stored is None:
            return np.zeros(len(texts), dtype=bool), np.zeros((0, 0), np.float32)
        return stored.lookup(kind, texts)


def question_similarity(
    question: str, query_vector: np.ndarray, texts: Sequence[str], vectors: SentenceVectors, gap: float
) -> np.ndarray:
    """Each text's cosine with the question, on one scale across scripts.

    A text in the question's script is embedded as a passage (question and answer); a text in
    another script with the query prompt, as the question is (the symmetric comparison e5
    asks the query prompt for, as in bitext mining), plus the model's sentence language gap.
    """
    script = script_of(question)
    foreign = np.array([script_of(text) != script for text in texts], dtype=bool)
    similarity = np.zeros(len(texts), dtype=np.float32)
    if (~foreign).any():
        similarity[~foreign] = vectors.passages([t for t, f in zip(texts, foreign) if not f]) @ query_vector
    if foreign.any():
        similarity[foreign] = vectors.queries([t for t, f in zip(texts, foreign) if f]) @ query_vector + gap
    return similarity
