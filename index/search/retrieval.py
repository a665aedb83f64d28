"""An opened index generation: its manifest, vector store, keyword index and article store.

``search`` is the hybrid search: the dense ranking from the vector store (FAISS or Qdrant; each cosine
less the chunk's hubness penalty, see ``hubness``), fused with the keyword scores (``fusion.fuse``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from index.errors import IndexCorruptError
from index.records import Article, Chunk, SearchHit
from index.search.fusion import fuse
from index.search.hubness import FILE as HUBNESS_FILE
from index.search.hubness import load_penalty
from index.search.keywords import FOLDER as KEYWORDS_FOLDER
from index.search.keywords import KeywordIndex, Slot, load_keyword_index
from index.search.lexicon import FOLDER as LEXICON_FOLDER
from index.search.lexicon import Lexicon, load_lexicon
from index.storage import generations
from index.storage.article_store import ArticleStore
from index.storage.sentence_vectors import FOLDER as SENTENCES_FOLDER
from index.storage.sentence_vectors import StoredSentences, open_sentences
from index.storage.vector_base import VectorFilter, VectorStoreSettings
from index.storage.vector_stores import open_vectors
from index.text.normalise import words
from index.tuning import RANKING


class OpenIndex:
    """One generation, read-only; safe to search from several threads.

    Opening checks that every part the manifest names is there and that the parts agree on the number
    of chunks: a damaged generation raises IndexCorruptError (one line), not a traceback, and never
    answers without, say, its keyword index."""

    def __init__(self, generation: Path, vector_settings: VectorStoreSettings | None = None) -> None:
        """``vector_settings``: how to reach a Qdrant server, for a generation whose vectors are on one."""
        self.generation = generation
        self.manifest = generations.read_manifest(generation)
        settings = vector_settings or VectorStoreSettings()
        self.vector_store = open_vectors(generation, self.manifest, settings)  # the one its manifest names
        try:
            self._store = ArticleStore(generation / generations.STORE)
        except BaseException:
            self.vector_store.close()
            raise
        self._lock = threading.Lock()
        self._use_lock = threading.Lock()  # guards the count of questions reading this generation
        self._readers = 0
        self._closing = False
        try:
            self._vectors = generations.open_embeddings(generation, self.vector_store.count)
            self.keywords, self.lexicon, self._penalty = self._optional_parts(generation)
            self.sentences = self._sentence_vectors(generation)
        except BaseException:
            self.close()
            raise

    def _optional_parts(self, generation: Path) -> tuple[KeywordIndex | None, Lexicon | None, np.ndarray | None]:
        """The keyword index, lexicon and hubness penalties: None only for a generation built without them."""
        parts = {"keywords": KEYWORDS_FOLDER, "lexicon": LEXICON_FOLDER, "hubness": HUBNESS_FILE}
        try:
            keywords = load_keyword_index(generation)
            lexicon = load_lexicon(generation)
            penalty = load_penalty(generation)
        except (OSError, ValueError, KeyError, EOFError, RuntimeError) as exc:
            raise IndexCorruptError.damaged(generation.parent, f"{generation.name}: {exc}") from exc
        for record, loaded in (("keywords", keywords), ("lexicon", lexicon), ("hubness", penalty)):
            if loaded is None and record in self.manifest:
                raise IndexCorruptError.damaged(
                    generation.parent, f"{generation.name}/{parts[record]} is missing or incomplete"
                )
        if penalty is not None and len(penalty) != self.vector_store.count:
            raise IndexCorruptError.damaged(
                generation.parent,
                f"{generation.name}/{HUBNESS_FILE} holds {len(penalty)} rows, not {self.vector_store.count}",
            )
        return keywords, lexicon, penalty

    def _sentence_vectors(self, generation: Path) -> StoredSentences | None:
        """The stored sentence vectors: None only for a generation built without them."""
        try:
            sentences = open_sentences(generation, self._vectors.shape[1])
        except (OSError, ValueError) as exc:
            raise IndexCorruptError.damaged(generation.parent, f"{generation.name}: {exc}") from exc
        if sentences is None and "sentences" in self.manifest:
            raise IndexCorruptError.damaged(generation.parent, f"{generation.name}/{SENTENCES_FOLDER} is missing")
        return sentences

    def acquire(self) -> bool:
        """Count a question reading this generation; False once it is closing (open the current one again)."""
        with self._use_lock:
            if self._closing:
                return False
            self._readers += 1
            return True

    def release(self) -> None:
        """A question is done reading; the last one out closes a generation ``close`` was called on."""
        with self._use_lock:
            self._readers -= 1
            last_out = self._closing and self._readers == 0
        if last_out:
            self._release_files()

    def close(self) -> None:
        """Close the store and the vectors now, or when the last question reading them is done: closing them under
        a running SQLite query or FAISS search crashed the process (a bot stopping while questions ran)."""
        with self._use_lock:
            already, self._closing = self._closing, True
            reading = self._readers
        if not already and not reading:
            self._release_files()

    def _release_files(self) -> None:
        with self._lock:
            self._store.close()
            self.vector_store.close()

    def nearest(self, query_vector: np.ndarray, k: int, where: VectorFilter | None = None) -> list[tuple[int, float]]:
        """(vector row, score) of the k chunks nearest the query (among those ``where`` allows), best first:
        the cosine less the chunk's hubness penalty."""
        scores, rows = self.vector_store.search(query_vector.reshape(1, -1), max(1, k), where)
        found = rows[0] >= 0
        rows, scores = rows[0][found], scores[0][found]
        if self._penalty is not None:
            scores = scores - self._penalty[rows]
            order = np.argsort(-scores, kind="stable")
            rows, scores = rows[order], scores[order]
        return [(int(row), float(score)) for row, score in zip(rows, scores)]

    def cosines(self, query_vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The exact score of the query with the chunks at ``rows``, as ``nearest`` gives it."""
        rows = np.asarray(rows)
        cosines = np.asarray(self._vectors[rows], dtype=np.float32) @ query_vector
        return cosines - self._penalty[rows] if self._penalty is not None else cosines

    def words_to_translate(self, question: str) -> list[str]:
        """The question's words that ``slots`` embeds to find their translations."""
        if self.keywords is None or self.lexicon is None:
            return []
        return self.lexicon.words_to_translate(words(question))

    def slots(self, question: str, embed_words: Callable[[Sequence[str]], np.ndarray] | None = None) -> list[Slot]:
        """The question's words as keyword slots ([] without a keyword index); with
        ``embed_words`` (the encoder's passage vectors) its words also match their
        translations in the other script."""
        if self.keywords is None:
            return []
        translations = None
        if embed_words is not None and self.lexicon is not None:
            chosen = self.words_to_translate(question)
            if chosen:
                translations = self.lexicon.translate(chosen, embed_words(chosen))
        return self.keywords.slots(question, translations)

    def search(
        self,
        question: str,
        query_vector: np.ndarray,
        k: int,
        slots: list[Slot] | None = None,
        weight: float = RANKING.keyword_weight,
    ) -> list[tuple[int, float]]:
        """(row, score) of the k best chunks by the hybrid search, best first."""
        dense = self.nearest(query_vector, max(k, RANKING.dense_candidates))
        slots = self.slots(question) if slots is None else slots
        keyword_scores = self.keywords.scores(slots) if slots and self.keywords is not None else None
        return fuse(dense, keyword_scores, lambda rows: self.cosines(query_vector, rows), weight, k)

    def chunks(self, rows: list[int]) -> dict[int, tuple[Article, Chunk]]:
        with self._lock:
            return self._store.chunks_by_rows(rows)

    def hits(self, ranked: list[tuple[int, float]]) -> list[SearchHit]:
        found = self.chunks([row for row, _ in ranked])
        hits = []
        for row, score in ranked:
            if row not in found:
                continue
            article, chunk = found[row]
            hits.append(
                SearchHit(
                    article.id,
                    article.title,
                    article.source,
                    article.url,
                    article.published,
                    row,
                    chunk.start,
                    chunk.end,
                    chunk.text,
                    score,
                )
            )
        return hits

    def article(self, article_id: str) -> Article | None:
        with self._lock:
            return self._store.article(article_id)

    def stories(self, article_ids: list[str]) -> tuple[dict[str, str], dict[str, list[Article]]]:
        """(story id of each article, the other copies of each article's story)."""
        with self._lock:
            return self._store.story_of(article_ids), self._store.story_copies(article_ids)

    def store_summary(self) -> tuple[int, int, dict[str, int], str]:
        with self._lock:
            articles, chunks = self._store.counts()
            return articles, chunks, self._store.sources(), self._store.newest_published()
