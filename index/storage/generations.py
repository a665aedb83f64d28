"""An index directory on disk: generations, the CURRENT pointer, the manifest and atomic swaps.

    INDEX_DIR/
      CURRENT -> gen-20261129T073000Z-1a2b   (a symlink, replaced atomically)
      gen-…/manifest.json                      model, settings, versions, counts
      gen-…/store.sqlite                       articles and chunk spans (with store-delta.sqlite, the articles
                                               appended since this base: store_layers.py)
      gen-…/vectors.faiss                      the FAISS index (or, with VECTOR_STORE=qdrant, qdrant/: Qdrant's
                                               local mode, or qdrant.json: the collection on a Qdrant server)
      gen-…/vector-rows.npz                    each FAISS row's published day and outlet, for filtered searches
      gen-…/embeddings.npy                     the chunk vectors, reused by incremental builds
      gen-…/keywords/                          the BM25 keyword index (keywords.py)
      gen-…/lexicon/                           the terms' vectors for word translations (lexicon.py)
      gen-…/hubness.npy                        each chunk's neighbourhood density (hubness.py)
      gen-…/dead-rows.npy                      rows of removed articles left in a shared base (dead_rows.py)

A build writes a new ``.staging-…`` folder, renames it to a generation when complete,
and only then points CURRENT at it; readers that opened the old generation keep it.
When CURRENT is missing or points at a generation that is gone, the newest complete generation
(one with a manifest) is used instead, and no generation is pruned until CURRENT is whole again.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import numpy as np

from index.errors import BuildError, IndexCorruptError, IndexNotFoundError
from index.storage.article_store import ArticleStore
from index.storage.dead_rows import rows_of
from index.storage.row_files import StackedRows
from index.storage.store_layers import delta_path

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
STORE = "store.sqlite"
STORE_DELTA = delta_path(Path(STORE)).name  # store-delta.sqlite: a layered store's articles appended since its base
VECTORS = "vectors.faiss"
EMBEDDINGS = "embeddings.npy"
EMBEDDINGS_DELTA = "embeddings-delta.npy"  # a layered generation's rows added since its base (layered_vectors.py)
FORMAT_VERSION = 4  # 2: articles carry their story (near-duplicate group); 3: the lexicon; 4: hubness


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def current_generation(index_dir: Path) -> Path | None:
    """The generation CURRENT points at; when CURRENT is missing or points at no complete generation,
    the newest complete one; None when no index was built."""
    index_dir = Path(index_dir)
    pointed = _pointed_generation(index_dir)
    if pointed is not None:
        return pointed
    complete = complete_generations(index_dir)
    return complete[-1] if complete else None


def _pointed_generation(index_dir: Path) -> Path | None:
    """The complete generation CURRENT points at, or None."""
    link = index_dir / CURRENT
    try:
        target = link.parent / os.readlink(link)
        return target if (target / MANIFEST).is_file() else None
    except OSError:  # no link, or a folder that cannot be read
        return None


def complete_generations(index_dir: Path) -> list[Path]:
    """The generations with a manifest, oldest first (their names begin with the time of their build)."""
    try:
        return sorted(folder for folder in Path(index_dir).glob("gen-*") if (folder / MANIFEST).is_file())
    except OSError:
        return []


def require_generation(index_dir: Path) -> Path:
    generation = current_generation(index_dir)
    if generation is None:
        raise IndexNotFoundError(
            f"There is no index in {index_dir} yet; build one with `python -m index build ARTICLES...`."
        )
    return generation


def previous_for_build(index_dir: Path, replace_all: bool) -> Path | None:
    """The generation a build starts from (the current one), checked whole first.

    A damaged one is left out of a rebuild (``replace_all``), which replaces it; any other change
    stops with IndexCorruptError, as it does when CURRENT points at a generation that is gone and no
    complete one is left (building on nothing would drop every article)."""
    index_dir = Path(index_dir)
    generation = current_generation(index_dir)
    if generation is None:
        link = index_dir / CURRENT
        if link.is_symlink() and not replace_all:
            raise IndexCorruptError.damaged(
                index_dir,
                f"CURRENT points at {os.readlink(link)}, which is missing, and no complete generation is left",
            )
        return None
    try:
        check_generation(generation)
    except IndexCorruptError:
        if replace_all:
            return None
        raise
    return generation


def check_generation(generation: Path) -> None:
    """Raise IndexCorruptError unless the parts a build reuses (manifest, store, vectors) read whole."""
    manifest = read_manifest(generation)
    with ArticleStore(generation / STORE) as store:
        store.check()
        held = store.counts()
    counts = manifest.get("counts", {})
    if "articles" in counts and held != (counts["articles"], counts.get("chunks")):  # e.g. a layer gone
        raise IndexCorruptError.damaged(
            generation.parent,
            f"{generation.name}/{STORE} holds {held[0]} articles and {held[1]} chunks, not {counts['articles']} and "
            f"{counts.get('chunks')}",
        )
    open_embeddings(generation, rows_of(manifest))  # dead rows included (dead_rows.py)


def open_embeddings(generation: Path, rows: int | None = None) -> np.ndarray | StackedRows:
    """The chunk vectors of a generation, memory-mapped (a layered generation's base and delta read as one,
    ``StackedRows``); IndexCorruptError when a file is cut short or they hold another number of ``rows`` than
    expected."""
    layers = [_mapped_rows(generation, EMBEDDINGS)]
    if (generation / EMBEDDINGS_DELTA).exists():
        layers.append(_mapped_rows(generation, EMBEDDINGS_DELTA))
    if len({layer.shape[1] for layer in layers}) != 1:
        raise IndexCorruptError.damaged(
            generation.parent, f"{generation.name}/{EMBEDDINGS_DELTA} holds vectors of another width"
        )
    vectors = layers[0] if len(layers) == 1 else StackedRows(layers)
    if rows is not None and len(vectors) != rows:
        raise IndexCorruptError.damaged(
            generation.parent, f"{generation.name}/{EMBEDDINGS} holds {len(vectors)} vectors, not {rows} rows"
        )
    return vectors


def _mapped_rows(generation: Path, name: str) -> np.ndarray:
    try:
        vectors = np.load(generation / name, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise IndexCorruptError.damaged(generation.parent, f"{generation.name}/{name}: {exc}") from exc
    if vectors.ndim != 2:
        raise IndexCorruptError.damaged(generation.parent, f"{generation.name}/{name} holds {vectors.shape} vectors")
    return vectors


def read_manifest(generation: Path) -> dict:
    try:
        manifest = json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError.damaged(generation.parent, f"{generation.name}/{MANIFEST} cannot be read") from exc
    if not isinstance(manifest, dict):
        raise IndexCorruptError.damaged(generation.parent, f"{generation.name}/{MANIFEST} is not a JSON object")
    return manifest


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's build lock; a second concurrent build fails at once. A file that cannot be
    written inside (a full disk, a read-only folder) ends the build with one BuildError."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        lock = open(index_dir / ".build.lock", "w")  # noqa: SIM115 (closed by the with below)
    except OSError as exc:
        raise BuildError(
            f"Cannot use {index_dir} as the index directory ({exc.strerror or exc}); "
            "set --index-dir or INDEX_DIR to a folder you can write."
        ) from exc
    with lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildError(f"Another build of {index_dir} is running; wait for it to finish.") from None
        try:
            yield
        except (OSError, sqlite3.OperationalError) as exc:
            raise _write_failed(index_dir, exc) from exc
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


_DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _write_failed(index_dir: Path, exc: OSError | sqlite3.OperationalError) -> BuildError:
    unchanged = "the index was left as it was"
    if isinstance(exc, sqlite3.OperationalError):
        if "full" in str(exc):
            return BuildError(
                f"The disk holding {index_dir} is full ({exc}); free some space and try again: {unchanged}."
            )
        return BuildError(f"The build could not write its article store in {index_dir} ({exc}): {unchanged}.")
    where = f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc.strerror or exc)
    if exc.errno in _DISK_FULL:
        return BuildError(
            f"The disk holding {index_dir} is full ({where}); free some space and try again: {unchanged}."
        )
    return BuildError(
        f"The build of {index_dir} failed ({where}); check the free space and the permissions: {unchanged}."
    )


def _nothing_to_release(folder: Path) -> None:
    """A folder holds every part of its generation: removing it is all."""


Discard = Callable[[Path], None]  # what to release outside a folder before it is removed (a server's collection)


def new_staging(index_dir: Path, discard: Discard = _nothing_to_release) -> Path:
    """A fresh folder to write a generation into (removes leftovers of interrupted builds: staging
    folders, and CURRENT links made but never put in place)."""
    for leftover in index_dir.glob(".staging-*"):
        discard(leftover)
        shutil.rmtree(leftover, ignore_errors=True)
    for link in index_dir.glob(f".{CURRENT}.*"):
        with suppress(FileNotFoundError):
            link.unlink()
    staging = index_dir / f".staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    return staging


def publish(index_dir: Path, staging: Path, discard: Discard = _nothing_to_release) -> Path:
    """Make a complete staging folder the current generation, atomically; prune old ones.

    The generation that was current stays on disk until the next publish, so a reader
    that opened it keeps working. When CURRENT was missing or dangling, nothing is pruned.
    """
    _fsync_tree(staging)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    generation = index_dir / f"gen-{stamp}-{uuid.uuid4().hex[:4]}"
    os.rename(staging, generation)
    previous = _pointed_generation(index_dir)  # only a whole CURRENT lets older generations go
    link_tmp = index_dir / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
    os.symlink(generation.name, link_tmp)
    os.replace(link_tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)
    if previous is not None:
        for old in index_dir.glob("gen-*"):
            if old.name not in (generation.name, previous.name):
                discard(old)
                shutil.rmtree(old, ignore_errors=True)
    return generation


def share_file(source: Path, target: Path) -> None:
    """``target`` is ``source``: a hard link (the two generations share the file, which neither writes again), or a
    copy where the file system refuses the link (another file system, no link support)."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


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
