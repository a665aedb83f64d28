"""The keyword writer's memory does not grow with the rows (issue 16, bounded build memory): every row's term ids go
to ``document_terms.npy`` a block at a time and come back from it a block at a time, and the postings are placed,
weighed and written a range of terms at a time. Whatever the block and pass sizes, the files are the same."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

import index.search.keyword_writer as keyword_writer
from index.storage.row_files import NpyBlocks, NpyWriter

WORDS = [f"word{number}" for number in range(60)] + ["نفط", "النفط", "ميناء", "حفتر", "haftar", "tripoli"]


def _texts(count: int, seed: int) -> list[str | list[str]]:
    chooser = random.Random(seed)
    rows: list[str | list[str]] = [
        " ".join(chooser.choices(WORDS + [f"rare{seed}x{n}" for n in range(20)], k=chooser.randrange(0, 30)))
        for _ in range(count)
    ]
    rows[count // 2] = ""  # a row without terms
    return rows


def _files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def _write_every_case(root: Path, wide: bool) -> dict[str, dict[str, bytes]]:
    """A first build, then from it an add, removals, another order, every row new; the files of each."""
    first = _texts(40, seed=1)
    if wide:  # a term more than 65,535 times in one row: counts stored as uint32
        first[3] = ["oil"] * 70_000
    keyword_writer.write_keyword_index(root / "first", np.full(len(first), -1), iter(first))
    previous = keyword_writer.PreviousTerms(root / "first")
    assert previous.postings
    more = _texts(12, seed=2)
    cases = {
        "add": (list(range(40)), more),
        "remove": ([row for row in range(40) if row % 7], []),
        "reorder": ([5, 3, *range(10, 40)], more),
        "everything new": ([], more),
    }
    written = {"first": _files(root / "first")}
    for name, (rows, fresh) in cases.items():
        old_rows = np.array(rows + [-1] * len(fresh), dtype=np.int64)
        keyword_writer.write_keyword_index(root / name, old_rows, iter(fresh), previous)
        written[name] = _files(root / name)
    return written


def _tiny_steps(monkeypatch) -> list[tuple[int, int]]:
    """Blocks of a few terms, passes of a few postings; returns the term ranges of the passes made."""
    monkeypatch.setattr(keyword_writer, "TERMS_BLOCK", 5)
    monkeypatch.setattr(keyword_writer, "POSTINGS_BLOCK", 7)
    monkeypatch.setattr(keyword_writer, "PASS_POSTINGS", 11)
    monkeypatch.setattr(keyword_writer, "BLOCK", 3)
    passes: list[tuple[int, int]] = []
    original = keyword_writer._row_blocks

    def blocks(ends: np.ndarray, size: int) -> list[tuple[int, int]]:
        found = original(ends, size)
        if size == keyword_writer.PASS_POSTINGS:
            passes.extend(found)
        return found

    monkeypatch.setattr(keyword_writer, "_row_blocks", blocks)
    return passes


@pytest.mark.parametrize("wide", [False, True])
def test_tiny_blocks_and_passes_write_the_files_of_default_ones(tmp_path, monkeypatch, wide):
    default = _write_every_case(tmp_path / "default", wide)
    passes = _tiny_steps(monkeypatch)
    tiny = _write_every_case(tmp_path / "tiny", wide)
    assert len(passes) > 40  # many passes, each over a few terms
    assert sorted(default) == sorted(tiny)
    for case in default:
        assert len(default[case]) >= 14
        assert [name for name in default[case] if default[case][name] != tiny[case].get(name)] == [], case
    counts = np.load(tmp_path / "tiny" / "add" / keyword_writer.COUNTS)
    assert counts.dtype == (np.uint32 if wide else np.uint16)


def test_block_files_are_the_files_numpy_saves(tmp_path):
    for dtype in (np.int32, np.uint16, np.float32, np.int64):
        values = (np.arange(1000) * 7).astype(dtype)
        with NpyWriter(tmp_path / "blocks.npy", dtype) as out:
            for start in range(0, 1000, 300):
                out.write(values[start : start + 300])
        np.save(tmp_path / "whole.npy", values, allow_pickle=False)
        assert (tmp_path / "blocks.npy").read_bytes() == (tmp_path / "whole.npy").read_bytes()
        with NpyBlocks(tmp_path / "blocks.npy") as stored:
            assert stored.length == 1000 and np.array_equal(stored.read(5, 17), values[5:17])
    with pytest.raises(ValueError), NpyWriter(tmp_path / "short.npy", np.int32, rows=3) as out:
        out.write(np.zeros(2, dtype=np.int32))
