"""An index directory on disk: generations, the CURRENT pointer, the manifest and atomic swaps.

    INDEX_DIR/
      CURRENT -> gen-20261129T073000Z-1a2b   (a symlink, replaced atomically)
      gen-…/manifest.json                      model, settings, versions, counts
      gen-…/store.sqlite                       articles and chunk spans
      gen-…/vectors.faiss                      the FAISS index
      gen-…/embeddings.npy                     the chunk vectors, reused by incremental builds
      gen-…/keywords/                          the BM25 keyword index (keywords.py)
      gen-…/lexicon/                           the terms' vectors for word translations (lexicon.py)
      gen-…/hubness.npy                        each chunk's neighbourhood density (hubness.py)

A build writes a new ``.staging-…`` folder, renames it to a generation when complete,
and only then points CURRENT at it; readers that opened the old generation keep it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from index.errors import BuildError, IndexCorruptError, IndexNotFoundError

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
STORE = "store.sqlite"
VECTORS = "vectors.faiss"
EMBEDDINGS = "embeddings.npy"
FORMAT_VERSION = 4  # 2: articles carry their story (near-duplicate group); 3: the lexicon; 4: hubness


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def current_generation(index_dir: Path) -> Path | None:
    """The generation CURRENT points at, or None when no index was built."""
    link = Path(index_dir) / CURRENT
    if not link.is_symlink():
        return None
    target = link.parent / os.readlink(link)
    return target if (target / MANIFEST).is_file() else None


def require_generation(index_dir: Path) -> Path:
    generation = current_generation(index_dir)
    if generation is None:
        raise IndexNotFoundError(
            f"There is no index in {index_dir} yet; build one with `python -m index build ARTICLES...`."
        )
    return generation


def read_manifest(generation: Path) -> dict:
    try:
        return json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(
            f"The index manifest in {generation} cannot be read; rebuild with `python -m index build`."
        ) from exc


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's build lock; a second concurrent build fails at once."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".build.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildError(f"Another build of {index_dir} is running; wait for it to finish.") from None
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def new_staging(index_dir: Path) -> Path:
    """A fresh folder to write a generation into (removes leftovers of interrupted builds)."""
    for leftover in index_dir.glob(".staging-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    staging = index_dir / f".staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    return staging


def publish(index_dir: Path, staging: Path) -> Path:
    """Make a complete staging folder the current generation, atomically; prune old ones.

    The generation that was current stays on disk until the next publish, so a reader
    that opened it keeps working.
    """
    _fsync_tree(staging)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    generation = index_dir / f"gen-{stamp}-{uuid.uuid4().hex[:4]}"
    os.rename(staging, generation)
    previous = current_generation(index_dir)
    link_tmp = index_dir / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
    os.symlink(generation.name, link_tmp)
    os.replace(link_tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)
    keep = {generation.name, previous.name if previous else ""}
    for old in index_dir.glob("gen-*"):
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
    return generation


def _fsync_tree(folder: Path) -> None:
    """Flush every file and folder under ``folder`` (subfolders such as ``lexicon/`` included), deepest first."""
    for root, _folders, files in os.walk(folder, topdown=False):
        for name in files:
            with open(os.path.join(root, name), "rb") as handle:
                os.fsync(handle.fileno())
        _fsync_dir(Path(root))


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
