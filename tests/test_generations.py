"""Generations on disk: what is flushed before a generation goes live."""

from __future__ import annotations

import os
from pathlib import Path

from index.storage import generations


def test_publishing_flushes_every_file_of_the_generation_subfolders_included(tmp_path: Path, monkeypatch) -> None:
    index_dir = tmp_path / "index"
    staging = generations.new_staging(index_dir)
    (staging / "manifest.json").write_text("{}")
    (staging / "lexicon").mkdir()
    (staging / "lexicon" / "arabic.faiss").write_bytes(b"vectors")
    (staging / "keywords" / "deeper").mkdir(parents=True)
    (staging / "keywords" / "deeper" / "params.json").write_text("{}")
    flushed: list[str] = []
    real_fsync = os.fsync

    def recording_fsync(fd: int) -> None:
        flushed.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    generation = generations.publish(index_dir, staging)
    names = {Path(path).relative_to(staging).as_posix() for path in flushed if path.startswith(str(staging))}
    assert {"manifest.json", "lexicon/arabic.faiss", "keywords/deeper/params.json", "lexicon", "keywords"} <= names
    assert generations.current_generation(index_dir) == generation
