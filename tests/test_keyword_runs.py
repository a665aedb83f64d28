"""The keyword writer's postings in one pass (issue 16): a build spills each block's sorted postings as a run and
places each range of terms from the runs (``posting_runs.py``), an add puts each term's new postings after its
previous ones (``keyword_writer._inserted``), the kept rows' term ids are copied by the kernel
(``NpyWriter.copy``) and the lookups keep the previous entries in place (``lookups.update_lookups``). Whatever the
block and range sizes, the files are bm25s's, byte for byte."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest

import index.search.keyword_writer as keyword_writer
from index.search.keywords import build_keyword_index
from index.search.posting_runs import PostingRuns
from index.storage.row_files import NpyBlocks, NpyWriter

WORDS = [f"word{number}" for number in range(40)] + ["نفط", "النفط", "ميناء", "حفتر", "haftar", "tripoli", "oil"]
NEW_WORDS = ["والنفط", "بالنفط", "hafter", "haftarr", "خفتر", "tripolli"]  # new terms under the old ones' lookup keys


def _texts(count: int, seed: int, extra: tuple[str, ...] = ()) -> list[str]:
    chooser = random.Random(seed)
    words = [*WORDS, *extra, *(f"rare{seed}x{number}" for number in range(50))]
    return [" ".join(chooser.choices(words, k=chooser.randrange(0, 35))) for _ in range(count)]


def _files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def _without_counts(files: dict[str, bytes]) -> dict[str, bytes]:
    return {name: data for name, data in files.items() if name != keyword_writer.COUNTS}  # bm25s has none


def _build_and_add(root: Path, first: list[str], more: list[str]) -> dict[str, dict[str, bytes]]:
    keyword_writer.write_keyword_index(root / "first", np.full(len(first), -1), iter(first))
    previous = keyword_writer.PreviousTerms(root / "first")
    rows = np.concatenate([np.arange(len(first)), np.full(len(more), -1)])
    keyword_writer.write_keyword_index(root / "add", rows, iter(more), previous)
    keyword_writer.write_keyword_index(
        root / "remove", np.arange(len(first))[np.arange(len(first)) % 5 != 2], iter(()), previous
    )
    return {name: _files(root / name) for name in ("first", "add", "remove")}


def _tiny_sizes(monkeypatch) -> None:
    monkeypatch.setattr(keyword_writer, "TERMS_BLOCK", 5)
    monkeypatch.setattr(keyword_writer, "POSTINGS_BLOCK", 9)
    monkeypatch.setattr(keyword_writer, "PASS_POSTINGS", 13)
    monkeypatch.setattr(keyword_writer, "BLOCK", 4)


@pytest.mark.parametrize("added", [4, 200])  # a few rows (runs of kept postings copied as slices) or many (a mask)
def test_tiny_runs_and_ranges_write_the_files_of_default_ones_and_of_bm25s(tmp_path, monkeypatch, added):
    first, more = _texts(400, seed=1), _texts(added, seed=2, extra=tuple(NEW_WORDS))
    first[7] = ""  # a row without terms
    build_keyword_index(first, tmp_path / "bm25s-first")
    build_keyword_index(first + more, tmp_path / "bm25s-add")
    build_keyword_index([text for row, text in enumerate(first) if row % 5 != 2], tmp_path / "bm25s-remove")
    default = _build_and_add(tmp_path / "default", first, more)
    _tiny_sizes(monkeypatch)
    tiny = _build_and_add(tmp_path / "tiny", first, more)
    for case in default:
        theirs = _files(tmp_path / f"bm25s-{case}")
        assert [name for name in theirs if _without_counts(default[case]).get(name) != theirs[name]] == [], case
        assert sorted(tiny[case]) == sorted(default[case])
        assert [name for name in default[case] if tiny[case][name] != default[case][name]] == [], case


def test_a_build_reads_the_term_ids_once_whatever_its_number_of_ranges(tmp_path, monkeypatch):
    texts = _texts(300, seed=3)
    _tiny_sizes(monkeypatch)
    reads: list[int] = []
    original = NpyBlocks.read

    def counted(blocks: NpyBlocks, start: int, stop: int) -> np.ndarray:
        if blocks.path.name == "document_terms.npy":
            reads.append(stop - start)
        return original(blocks, start, stop)

    monkeypatch.setattr(NpyBlocks, "read", counted)
    keyword_writer.write_keyword_index(tmp_path / "built", np.full(len(texts), -1), iter(texts))
    terms = len(np.load(tmp_path / "built" / "document_terms.npy"))
    postings = len(np.load(tmp_path / "built" / keyword_writer.INDICES))
    assert postings > 100 * keyword_writer.PASS_POSTINGS  # over a hundred ranges
    assert sum(reads) == terms  # each term id read back once


def test_new_values_go_where_they_are_put_as_numpy_inserts_them():
    chooser = np.random.default_rng(5)
    for size, new in [(1000, 3), (1000, 40), (50, 30), (0, 4), (200, 0), (5, 5)]:
        old = chooser.integers(0, 99, size).astype(np.int32)
        before = np.sort(chooser.integers(0, size + 1, new))  # the value of old each new one goes before
        values = chooser.integers(100, 200, new).astype(np.uint16)
        at = before + np.arange(new)
        expected = np.insert(old, before, values).astype(np.uint16)
        merged = keyword_writer._inserted(old, at, values)
        assert merged.dtype == np.uint16 and np.array_equal(merged, expected), (size, new)


def test_posting_runs_give_each_range_its_postings_run_after_run(tmp_path):
    chooser = np.random.default_rng(6)
    runs_added, wide = [], [False, True, False]
    with PostingRuns(tmp_path) as runs:
        for row_start, is_wide in zip((0, 100, 200), wide):
            terms = np.sort(chooser.integers(0, 30, 40)).astype(np.int32)
            rows = (row_start + np.arange(40)).astype(np.int32)
            counts = chooser.integers(1, 5, 40) + (70_000 if is_wide else 0)
            runs.add(terms, rows, counts)
            runs_added.append((terms, rows, counts))
        assert len(os.listdir(tmp_path)) == 0  # an unnamed file
        edges = np.array([0, 7, 8, 20, 30])
        runs.cut(edges)
        for number in range(len(edges) - 1):
            terms, rows, counts = runs.postings(number)
            inside = [(t >= edges[number]) & (t < edges[number + 1]) for t, _, _ in runs_added]
            assert np.array_equal(terms, np.concatenate([t[keep] for (t, _, _), keep in zip(runs_added, inside)]))
            assert np.array_equal(rows, np.concatenate([r[keep] for (_, r, _), keep in zip(runs_added, inside)]))
            assert np.array_equal(counts, np.concatenate([c[keep] for (_, _, c), keep in zip(runs_added, inside)]))
            assert counts.dtype == np.uint32


@pytest.mark.parametrize("kernel", ["copies", "copies part", "cannot copy"])
def test_copied_values_are_the_values_written(tmp_path, monkeypatch, kernel):
    values = (np.arange(5000) * 3).astype(np.int32)
    np.save(tmp_path / "source.npy", values, allow_pickle=False)
    if kernel == "copies part":  # the kernel stops after some bytes (not a whole value): the rest read and written
        original = os.copy_file_range
        monkeypatch.setattr(
            os,
            "copy_file_range",
            lambda src, dst, count, *at: original(src, dst, min(count, 4001), *at) if at[0] < 8000 else 0,
        )
    elif kernel == "cannot copy":
        monkeypatch.setattr(os, "copy_file_range", lambda *args: (_ for _ in ()).throw(OSError(18, "cross-device")))
    with NpyBlocks(tmp_path / "source.npy") as source, NpyWriter(tmp_path / "copy.npy", np.int32) as out:
        out.write(values[:10])
        out.copy(source, 10, 4000)
        out.write(values[4000:4100])
        out.copy(source, 4100, 5000)
    assert (tmp_path / "copy.npy").read_bytes() == (tmp_path / "source.npy").read_bytes()
    with NpyBlocks(tmp_path / "source.npy") as source, NpyWriter(tmp_path / "wide.npy", np.int64) as wide:
        pytest.raises(ValueError, wide.copy, source, 0, 10)  # another type
