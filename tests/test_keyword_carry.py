"""A removal (or a changed article: its rows removed, its new rows after the kept ones) carries the kept postings of
the previous keyword index over, whole or layered (index/search/keyword_carry.py), instead of sorting every posting
again: the files are still byte for byte a whole build's, vocabulary order included."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

import index.search.keyword_carry as keyword_carry
import index.search.keyword_layers as keyword_layers
import index.search.keyword_writer as keyword_writer
from tests.conftest import generation_files, tiny_keyword_blocks, write_keyword_rows

WORDS = [f"word{number}" for number in range(40)] + ["نفط", "النفط", "ميناء", "حفتر", "haftar", "tripoli", "oil"]


def _texts(count: int, seed: int) -> list[str]:
    chooser = random.Random(seed)
    words = [*WORDS, *(f"rare{seed}x{number}" for number in range(60))]
    lengths = [chooser.randrange(0, 30) for _ in range(count)]
    lengths[chooser.randrange(count)] = 0  # a row without terms
    return [" ".join(chooser.choices(words, k=length)) for length in lengths]


@pytest.fixture(params=["default", "tiny"])
def sizes(request, monkeypatch):
    """The writers' block and range sizes, or tiny ones (many blocks, ranges, runs of terms and scans)."""
    if request.param == "tiny":
        tiny_keyword_blocks(monkeypatch)
        monkeypatch.setattr(keyword_carry, "REMOVED_ROWS_BLOCK", 2)
        monkeypatch.setattr(keyword_carry, "SCAN", 2)
        monkeypatch.setattr(keyword_carry, "VALUES_BLOCK", 3)


@pytest.fixture
def carried_only(monkeypatch):
    """Every update from a previous index below carries its postings over: the calls are counted."""
    calls = []
    original = keyword_carry.write_carried

    def counted(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(keyword_carry, "write_carried", counted)
    return calls


def _same_as_whole(tmp_path: Path, name: str, rows: list[str], kept: list[int], new: list[str], previous: Path):
    """An update of ``previous`` keeping ``kept`` of its ``rows`` and adding ``new`` writes a whole build's files."""
    ours = write_keyword_rows(tmp_path / name, new, previous, kept)
    whole = write_keyword_rows(tmp_path / f"{name}-whole", [rows[row] for row in kept] + new)
    assert ours == whole
    assert generation_files(tmp_path / name, skip=()) == generation_files(tmp_path / f"{name}-whole", skip=())


def test_removing_rows_of_a_layered_index_writes_a_whole_build(layered_keywords, sizes, carried_only, tmp_path):
    first, second = _texts(60, 1), _texts(8, 2)
    first[0] = "alpha beta word1"  # first met here: their first row is removed
    first[1] = "gamma alpha delta beta"  # ... and then here, after gamma: the order changes
    first[2] = "gone away"  # held by removed rows only
    first[9] = "away word2"
    second[3] = "epsilon word3"  # held by the delta only: its first row removed, met again in the delta
    second[5] = "epsilon word4"
    write_keyword_rows(tmp_path / "first", first)
    write_keyword_rows(tmp_path / "second", second, tmp_path / "first")
    assert (tmp_path / "second" / keyword_layers.DELTA_INDPTR).is_file()
    rows = first + second
    removed = {0, 2, 9, 63, 17}
    kept = [row for row in range(len(rows)) if row not in removed]
    _same_as_whole(tmp_path, "removed", rows, kept, [], tmp_path / "second")
    terms = json.loads((tmp_path / "removed" / "terms.json").read_text(encoding="utf-8"))
    assert terms[:4] == ["gamma", "alpha", "delta", "beta"] and "gone" not in terms and "away" not in terms
    # a changed article: rows removed, its new rows after the kept ones, with a dropped term met again and new ones
    new = ["away brandnew alpha", "", "tripoli another brandnew gone"]
    _same_as_whole(tmp_path, "changed", rows, kept, new, tmp_path / "second")
    assert carried_only == [tmp_path / "removed", tmp_path / "changed"]


def test_removing_a_row_without_terms_at_the_end_of_the_base(layered_keywords, carried_only, tmp_path):
    """A row that holds no term, last of the base: its term ids are an empty range where the delta's begin."""
    first, second = [*_texts(30, 9), ""], _texts(4, 10)
    write_keyword_rows(tmp_path / "first", first)
    write_keyword_rows(tmp_path / "second", second, tmp_path / "first")
    assert (tmp_path / "second" / keyword_layers.DELTA_INDPTR).is_file()
    rows = first + second
    kept = [row for row in range(len(rows)) if row not in (len(first) - 1, 3)]
    _same_as_whole(tmp_path, "removed", rows, kept, [], tmp_path / "second")
    assert carried_only == [tmp_path / "removed"]


def test_many_removals_of_a_whole_or_layered_index(layered_keywords, sizes, carried_only, tmp_path):
    chooser = random.Random(5)
    first, second = _texts(50, 3), _texts(12, 4)
    write_keyword_rows(tmp_path / "whole-first", first)  # 50 rows, one whole index
    write_keyword_rows(tmp_path / "layered", second, tmp_path / "whole-first")
    for number in range(12):
        previous, rows = (tmp_path / "whole-first", first) if number % 2 else (tmp_path / "layered", first + second)
        kept = sorted(chooser.sample(range(len(rows)), chooser.randrange(1, len(rows))))
        new = _texts(chooser.randrange(1, 6), 100 + number) if number % 3 else []
        _same_as_whole(tmp_path, f"case{number}", rows, kept, new, previous)
    assert len(carried_only) == 12


def test_another_order_of_rows_is_not_carried(carried_only, tmp_path):
    rows = _texts(30, 6)
    write_keyword_rows(tmp_path / "first", rows)
    previous = keyword_writer.PreviousTerms(tmp_path / "first")
    carried_rows = keyword_carry.carried_rows
    assert carried_rows(np.array([0, 2, 5, -1, -1]), previous) == 3
    assert carried_rows(np.array([0, 5, 2, -1]), previous) is None  # moved rows
    assert carried_rows(np.array([0, -1, 2]), previous) is None  # a new row among the kept ones
    assert carried_rows(np.array([-1, -1]), previous) is None  # none kept
    _same_as_whole(tmp_path, "moved", rows, [3, 1, 2, 0, 7], ["oil word9"], tmp_path / "first")
    assert not carried_only


def test_the_previous_index_is_only_read_and_a_damaged_layer_is_refused(layered_keywords, tmp_path):
    first, second = _texts(40, 7), _texts(6, 8)
    second[2], second[4] = "zeta word5", "zeta"  # rows 42 and 44: zeta's only postings
    write_keyword_rows(tmp_path / "first", first)
    write_keyword_rows(tmp_path / "second", second, tmp_path / "first")
    before = generation_files(tmp_path / "second", skip=())
    kept = [row for row in range(46) if row not in (3, 41)]
    write_keyword_rows(tmp_path / "removed", [], tmp_path / "second", kept)
    # its base is shared by hard link with "first": never written
    assert generation_files(tmp_path / "second", skip=()) == before
    folder = tmp_path / "second"
    zeta = json.loads((folder / "terms.json").read_text(encoding="utf-8")).index("zeta")
    start = np.load(folder / keyword_layers.DELTA_INDPTR)[zeta]
    for moved in ([42, 41], [41, 41]):  # a posting moved to a removed row that does not hold zeta; then both
        rows = np.load(folder / keyword_layers.DELTA_INDICES)
        rows[start : start + 2] = moved
        np.save(folder / keyword_layers.DELTA_INDICES, rows)
        with pytest.raises(ValueError, match="does not match"):
            write_keyword_rows(tmp_path / f"damaged{moved}", [], folder, kept)
