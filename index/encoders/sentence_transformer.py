"""The real encoders: the bundled multilingual e5 run by numpy (the default; or by onnxruntime with
ENCODER_RUNTIME=onnx and the onnx extra; no torch either way), or any
sentence-transformers model (the ``torch`` extra), which also runs the bundled model for parity tests."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.encoders.base import Embedder, HashingEmbedder
from index.encoders.bundled import BUNDLED_MODEL_ID
from index.errors import ModelError
from index.settings import BUNDLED_MODEL, IndexSettings

log = logging.getLogger(__name__)

TEST_HASHING_MODEL = "test:hashing"


def load_embedder(settings: IndexSettings) -> Embedder:
    """The encoder the settings name (this loads the model: a second or more, and memory)."""
    if settings.embedding_model == TEST_HASHING_MODEL:
        return HashingEmbedder()
    if settings.embedding_model == BUNDLED_MODEL and settings.encoder_runtime == "onnx":
        from index.encoders.onnx_e5 import OnnxE5Embedder

        return OnnxE5Embedder(settings.model_cache_dir, settings.batch_size)
    if settings.embedding_model == BUNDLED_MODEL:
        from index.encoders.numpy_e5 import NumpyE5Embedder

        return NumpyE5Embedder(settings.batch_size)
    return SentenceTransformerEmbedder(settings.embedding_model, settings.model_cache_dir, settings.batch_size)


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model with the query and passage prompts of its own configuration."""

    def __init__(self, model: str, cache_dir: Path, batch_size: int = 32) -> None:
        self.batch_size = batch_size
        if model == BUNDLED_MODEL:
            from index.encoders.bundled import materialise

            path = materialise(cache_dir)
            self.model_id = BUNDLED_MODEL_ID
            self._fingerprint = path.name.rsplit("-", 2)[-2]  # the packed file's hash
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is local; never ask the hub
            self._model = _load(str(path))
        else:
            self.model_id = model
            self._model = _load(model)
            self._fingerprint = _folder_fingerprint(self._model)
        self.dimension = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)
        prompts = self._model.prompts or {}
        self.query_prompt = prompts.get("query", "")
        self.passage_prompt = prompts.get("passage", prompts.get("document", ""))
        tokenizer = self._model.tokenizer
        self._tokenizer = tokenizer
        probe = "a"  # the prompt's tokens as they stand before a text, plus the special tokens
        self._overhead = len(tokenizer(self.passage_prompt + probe)["input_ids"]) - self.count_tokens(probe)

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    @property
    def passage_overhead_tokens(self) -> int:
        return self._overhead

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])

    def count_tokens_batch(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        return [len(ids) for ids in self._tokenizer(list(texts), add_special_tokens=False)["input_ids"]]

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            prompt=prompt or None,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prompt)


def _load(name_or_path: str):
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ModelError(
            f"The model {name_or_path!r} needs sentence-transformers and torch; install them with "
            "`pip install -e '.[torch]'`, or leave EMBEDDING_MODEL unset to use the bundled model."
        ) from exc
    try:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a "Loading weights" bar per start says nothing useful
    except ImportError:
        pass
    try:
        return SentenceTransformer(name_or_path, device="cpu")
    except Exception as exc:  # the library raises many kinds: OSError, ValueError, HTTP errors
        reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        raise ModelError(
            f"Could not load the embedding model {name_or_path!r} ({reason}); "
            "check EMBEDDING_MODEL, or leave it unset to use the bundled model."
        ) from exc


def _folder_fingerprint(model) -> str:
    """Hash of the weight files' names, sizes and first megabyte, where the model came from."""
    digest = hashlib.sha256()
    folder = Path(getattr(model[0].auto_model, "name_or_path", "") or "")
    files = (
        sorted(p for p in folder.rglob("*") if p.suffix in {".safetensors", ".bin", ".json"}) if folder.is_dir() else []
    )
    for path in files:
        digest.update(f"{path.relative_to(folder)}:{path.stat().st_size}".encode())
        with open(path, "rb") as handle:
            digest.update(handle.read(1 << 20))
    if not files:  # weights not found on disk: fall back to a hash of the parameters
        for name, tensor in sorted(model.state_dict().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().numpy().tobytes()[:4096])
    return digest.hexdigest()[:16]
