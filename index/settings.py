"""Settings of the index, read once from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from index.errors import SettingsError
from index.sources.loaders import LoadLimits
from index.storage.qdrant_vectors import require_client
from index.storage.vector_base import STORES, VectorStoreSettings

BUNDLED_MODEL = "bundled:multilingual-e5-small"


def _default_cache_dir(env: Mapping[str, str]) -> Path:
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "article-qa"


def whole_number(
    env: Mapping[str, str], name: str, default: int, low: int, high: int, error: type[Exception] = SettingsError
) -> int:
    """The setting ``name`` as a whole number in [low, high]; ``error`` says what is wrong in one sentence."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise error(f"{name} must be a whole number, not {raw!r}.") from None
    if not low <= value <= high:
        raise error(f"{name} must be between {low} and {high}, not {value}.")
    return value


def number(
    env: Mapping[str, str], name: str, default: float, low: float, high: float, error: type[Exception] = SettingsError
) -> float:
    """The setting ``name`` as a number in [low, high]; ``error`` says what is wrong in one sentence."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise error(f"{name} must be a number, not {raw!r}.") from None
    if not low <= value <= high:
        raise error(f"{name} must be between {low:g} and {high:g}, not {raw}.")
    return value


def flag(env: Mapping[str, str], name: str, error: type[Exception] = SettingsError) -> bool:
    """The setting ``name`` as on (1, true, yes, on) or off (unset, 0, false, no, off)."""
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise error(f"{name} must be 1 (on) or 0 (off), not {raw!r}.")


def one_of(env: Mapping[str, str], name: str, choices: Sequence[str]) -> str:
    """The setting ``name`` as one of ``choices`` (lower case; unset: the first)."""
    value = env.get(name, "").strip().lower() or choices[0]
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
    return value


ENCODER_RUNTIMES = ("numpy", "onnx")  # ENCODER_RUNTIME: what runs the bundled model; the same vectors


def vector_store_settings(env: Mapping[str, str]) -> VectorStoreSettings:
    """VECTOR_STORE and, for Qdrant, QDRANT_URL, QDRANT_API_KEY and QDRANT_COLLECTION_PREFIX."""
    store = one_of(env, "VECTOR_STORE", STORES)
    if store == "qdrant":
        require_client()  # now, not after a build has embedded every article
    url = env.get("QDRANT_URL", "").strip().rstrip("/")
    if url and not re.match(r"https?://[^/\s]+", url):
        raise SettingsError(f"QDRANT_URL must be a server's address such as http://localhost:6333, not {url!r}.")
    prefix = env.get("QDRANT_COLLECTION_PREFIX", "").strip() or VectorStoreSettings.qdrant_prefix
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", prefix):
        raise SettingsError(
            f"QDRANT_COLLECTION_PREFIX must be 1-64 letters, digits, - or _ (a collection name), not {prefix!r}."
        )
    return VectorStoreSettings(store, url, env.get("QDRANT_API_KEY", "").strip(), prefix)


def _fraction(env: Mapping[str, str], name: str) -> float | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number between 0 and 1, not {raw!r}.") from None
    if not 0.0 <= value <= 1.0:
        raise SettingsError(f"{name} must be a number between 0 and 1, not {value}.")
    return value


@dataclass(frozen=True)
class IndexSettings:
    """Where the index lives, which encoder builds it and how articles are chunked."""

    index_dir: Path = Path("var/index")
    embedding_model: str = BUNDLED_MODEL  # a sentence-transformers id or path, or the bundled model
    encoder_runtime: str = "numpy"  # the bundled model on numpy, or on onnxruntime ("onnx": the onnx extra)
    model_cache_dir: Path = Path.home() / ".cache" / "article-qa"
    chunk_tokens: int = 200  # encoder tokens of article text per chunk
    chunk_overlap_tokens: int = 30
    faiss_factory: str = ""  # FAISS factory string ("Flat", "HNSW32"); empty: chosen by size (faiss_vectors.py)
    vectors: VectorStoreSettings = VectorStoreSettings()  # which store a build writes the vectors to (FAISS, Qdrant)
    batch_size: int = 8  # texts encoded at once: 8 chunks of 200 tokens take ~35 MB more (bench/footprint_bench.py)
    max_question_chars: int = 500
    answer_threshold: float | None = None  # None: the model's calibrated "not in my articles" threshold
    load_limits: LoadLimits = LoadLimits()  # how large an article file, a line, a .jsonl.gz may be

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> IndexSettings:
        env = os.environ if env is None else env
        chunk_tokens = whole_number(env, "CHUNK_TOKENS", cls.chunk_tokens, 32, 480)
        return cls(
            index_dir=Path(env.get("INDEX_DIR", "").strip() or cls.index_dir),
            embedding_model=env.get("EMBEDDING_MODEL", "").strip() or BUNDLED_MODEL,
            encoder_runtime=one_of(env, "ENCODER_RUNTIME", ENCODER_RUNTIMES),
            model_cache_dir=Path(env.get("MODEL_CACHE_DIR", "").strip() or _default_cache_dir(env)),
            chunk_tokens=chunk_tokens,
            chunk_overlap_tokens=whole_number(
                env, "CHUNK_OVERLAP_TOKENS", cls.chunk_overlap_tokens, 0, chunk_tokens // 2
            ),
            faiss_factory=env.get("FAISS_FACTORY", "").strip() or cls.faiss_factory,
            vectors=vector_store_settings(env),
            batch_size=whole_number(env, "EMBED_BATCH_SIZE", cls.batch_size, 1, 1024),
            max_question_chars=whole_number(env, "MAX_QUESTION_CHARS", cls.max_question_chars, 10, 4000),
            answer_threshold=_fraction(env, "ANSWER_THRESHOLD"),
            load_limits=LoadLimits(
                max_article_chars=whole_number(
                    env, "LOAD_MAX_ARTICLE_CHARS", LoadLimits.max_article_chars, 1_000, 100_000_000
                ),
                max_decompressed_bytes=whole_number(
                    env, "LOAD_MAX_DECOMPRESSED_BYTES", LoadLimits.max_decompressed_bytes, 1_000, 100_000_000_000
                ),
                max_line_bytes=whole_number(
                    env, "LOAD_MAX_LINE_BYTES", LoadLimits.max_line_bytes, 1_000, 1_000_000_000
                ),
            ),
        )
