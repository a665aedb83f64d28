"""An update that only appends rows, or removes or replaces rows of the delta, writes its keyword index as a delta on
the previous generation's base, shared by hard link (index/search/keyword_layers.py); a question weighs the layered
postings then, with the scores of a whole build. Past its share, or for a removal from the base, the writer writes
one whole index again, byte for byte a whole build's."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest

import index.layered_vectors as layered_vectors
import index.search.keyword_layers as keyword_layers
from index.errors import IndexCorruptError
from index.records import Article
from index.search.keywords import DOCUMENT_TERMS, FOLDER, KeywordIndex, StoredTerms
from index.storage import generations
from tests.conftest import generation_files, story_articles, tiny_keyword_blocks, write_keyword_rows

WORDS = [f"word{number}" for number in range(60)] + ["نفط", "النفط", "ميناء", "حفتر", "haftar", "tripoli", "oil"]
QUESTIONS = ["word1 word2 oil", "النفط في ميناء طرابلس", "haftar tripoli word7", "word59 word3 new9", "حفتر"]


def _texts(count: int, seed: int) -> list[str]:
    chooser = random.Random(seed)
    words = [*WORDS, *(f"new{seed}x{number}" for number in range(30)), *(f"new{number}" for number in range(12))]
    lengths = [chooser.randrange(0, 40) for _ in range(count)]
    lengths[chooser.randrange(count)] = 0  # a row without terms
    return [" ".join(chooser.choices(words, k=length)) for length in lengths]


def _inodes(folder: Path) -> dict[str, int]:
    return {name: os.stat(folder / name).st_ino for name in keyword_layers.BASE_FILES}


def _same_answers(layered_folder: Path, whole_folder: Path) -> None:
    """Every row's score for many questions within float32 rounding of the whole build's; idf, rows and the unknown
    word's idf identical."""
    ours, whole = KeywordIndex(layered_folder), KeywordIndex(whole_folder)
    assert ours._layers is not None and whole._layers is None
    assert ours.documents == whole.documents and ours._unknown_idf == whole._unknown_idf
    assert np.array_equal(ours._idf, whole._idf)
    chooser = random.Random(7)
    questions = [*QUESTIONS, *(" ".join(chooser.choices([*WORDS, "new3", "new1x2"], k=4)) for _ in range(60))]
    for question in questions:
        slots = ours.slots(question)
        assert slots == whole.slots(question)
        scores, expected = ours.scores(slots), whole.scores(slots)
        assert np.abs(scores - expected).max() <= 1e-5, question
    for term_id in range(len(whole._starts) - 1):  # every posting's weight as the whole build stored it
        rows, weights = ours._postings(term_id, 1.0)
        expected_rows, expected_weights = whole._postings(term_id, 1.0)
        assert np.array_equal(rows, expected_rows) and np.array_equal(weights, expected_weights)


@pytest.fixture(params=["default", "tiny"])
def sizes(request, monkeypatch):
    """The writer's default block and range sizes, or tiny ones (many runs, ranges and blocks of weights)."""
    if request.param == "tiny":
        tiny_keyword_blocks(monkeypatch)
        monkeypatch.setattr(keyword_layers, "TERMS_BLOCK", 7)


def test_an_append_shares_the_base_and_scores_as_a_whole_build(layered_keywords, sizes, tmp_path):
    first, second, third = _texts(60, 1), _texts(6, 2), _texts(9, 3)
    write_keyword_rows(tmp_path / "first", first)
    before = generation_files(tmp_path / "first", skip=())
    write_keyword_rows(tmp_path / "second", second, tmp_path / "first")
    assert _inodes(tmp_path / "second") == _inodes(tmp_path / "first")
    assert {name for name in keyword_layers.DELTA_FILES if (tmp_path / "second" / name).is_file()} == set(
        keyword_layers.DELTA_FILES
    )
    # the delta: the previous one's, the new
    frequencies = write_keyword_rows(tmp_path / "third", third, tmp_path / "second")
    assert _inodes(tmp_path / "third") == _inodes(tmp_path / "first")
    assert generation_files(tmp_path / "first", skip=()) == before  # the previous generation is not written
    assert len(np.load(tmp_path / "third" / keyword_layers.DELTA_OFFSETS)) == len(second) + len(third) + 1

    whole_frequencies = write_keyword_rows(tmp_path / "whole", first + second + third)
    assert frequencies == whole_frequencies
    ours, whole = generation_files(tmp_path / "third", skip=()), generation_files(tmp_path / "whole", skip=())
    for name in ("terms.json", "vocab.index.json", "params.index.json", "lookup.json", "lookup_keys.npy"):
        assert ours[name] == whole[name]  # the vocabulary and its lookups: whole files, as a whole build writes
    _same_answers(tmp_path / "third", tmp_path / "whole")
    stored, expected = StoredTerms(tmp_path / "third"), StoredTerms(tmp_path / "whole")
    assert all(stored.terms(row) == expected.terms(row) for row in range(len(first + second + third)))


def test_past_its_share_or_removing_rows_writes_a_whole_build(layered_keywords, sizes, tmp_path):
    first, second, big = _texts(40, 4), _texts(5, 5), _texts(30, 6)
    write_keyword_rows(tmp_path / "first", first)
    write_keyword_rows(tmp_path / "second", second, tmp_path / "first")
    # past half the base: both layers' postings merged
    write_keyword_rows(tmp_path / "merged", big, tmp_path / "second")
    write_keyword_rows(tmp_path / "whole", first + second + big)
    assert not (tmp_path / "merged" / keyword_layers.DELTA_INDPTR).exists()
    assert generation_files(tmp_path / "merged", skip=()) == generation_files(tmp_path / "whole", skip=())
    kept = np.array([row for row in range(len(first) + len(second)) if row % 4 != 1])  # a removal from a layered one
    write_keyword_rows(tmp_path / "removed", [], tmp_path / "second", kept=kept)
    write_keyword_rows(tmp_path / "whole-removed", [(first + second)[row] for row in kept])
    assert generation_files(tmp_path / "removed", skip=()) == generation_files(tmp_path / "whole-removed", skip=())


def test_removing_or_replacing_rows_of_the_delta_keeps_the_base(layered_keywords, sizes, tmp_path):
    """Rows of the delta removed (and others added, as a changed article's are): the base stays shared, the delta is
    written from its rows' terms, every row scores as in a whole build of the same rows. Terms only the removed rows
    held stay in the vocabulary, held by no row (so term ids are not a whole build's: rows' terms are compared)."""
    first, second, third, added = _texts(60, 11), _texts(6, 12), _texts(9, 13), _texts(4, 14)
    write_keyword_rows(tmp_path / "first", first)
    write_keyword_rows(tmp_path / "second", second, tmp_path / "first")
    write_keyword_rows(tmp_path / "third", third, tmp_path / "second")
    rows = first + second + third
    kept = np.array([row for row in range(len(rows)) if row < len(first) or row % 3 != 0])
    frequencies = write_keyword_rows(tmp_path / "changed", added, tmp_path / "third", kept=kept)
    assert _inodes(tmp_path / "changed") == _inodes(tmp_path / "first")
    expected_rows = [rows[row] for row in kept] + added
    assert len(np.load(tmp_path / "changed" / keyword_layers.DELTA_OFFSETS)) == len(expected_rows) - len(first) + 1
    whole_frequencies = write_keyword_rows(tmp_path / "whole", expected_rows)
    assert {term: count for term, count in frequencies.items() if count} == whole_frequencies
    stored, expected = StoredTerms(tmp_path / "changed"), StoredTerms(tmp_path / "whole")
    assert [stored.terms(row) for row in range(len(expected_rows))] == [
        expected.terms(row) for row in range(len(expected_rows))
    ]
    ours, whole = KeywordIndex(tmp_path / "changed"), KeywordIndex(tmp_path / "whole")
    assert ours._layers is not None and ours.documents == whole.documents == len(expected_rows)
    chooser = random.Random(8)
    questions = [*QUESTIONS, *(" ".join(chooser.choices([*WORDS, "new3", "new12x2"], k=4)) for _ in range(60))]
    for question in questions:
        scores, want = ours.scores(ours.slots(question)), whole.scores(whole.slots(question))
        assert np.abs(scores - want).max() <= 1e-5, question
    # a row of the base removed: one whole index
    write_keyword_rows(tmp_path / "base-row", [], tmp_path / "third", kept=np.arange(1, len(rows)))
    assert not (tmp_path / "base-row" / keyword_layers.DELTA_INDPTR).exists()


def test_a_small_base_is_not_layered(tmp_path, monkeypatch):
    monkeypatch.setattr(keyword_layers, "LAYER_MIN_ROWS", 41)
    first, second = _texts(40, 8), _texts(3, 9)
    write_keyword_rows(tmp_path / "first", first)
    write_keyword_rows(tmp_path / "second", second, tmp_path / "first")
    write_keyword_rows(tmp_path / "whole", first + second)
    assert generation_files(tmp_path / "second", skip=()) == generation_files(tmp_path / "whole", skip=())


def test_a_damaged_or_missing_delta_is_refused(layered_keywords, tmp_path):
    write_keyword_rows(tmp_path / "first", _texts(40, 10))
    write_keyword_rows(tmp_path / "second", _texts(5, 11), tmp_path / "first")
    folder = tmp_path / "second"
    KeywordIndex(folder)
    rows = np.load(folder / keyword_layers.DELTA_INDICES)
    np.save(folder / keyword_layers.DELTA_INDICES, rows + 1000)  # rows the index does not hold
    with pytest.raises(ValueError):
        KeywordIndex(folder)
    np.save(folder / keyword_layers.DELTA_INDICES, rows[:-1])
    with pytest.raises(ValueError):
        KeywordIndex(folder)
    for name in keyword_layers.DELTA_FILES:
        (folder / name).unlink()
    with pytest.raises(ValueError):  # read as a whole index: the base alone holds fewer rows than params says
        KeywordIndex(folder)


def _articles(count: int, seed: int) -> list[Article]:
    return story_articles(count, seed, WORDS, source="BBC News")


def test_an_engine_add_layers_its_keywords_and_answers_as_a_whole_build(layered_keywords, hashing_engine, tmp_path):
    first, second, third = _articles(30, 1), _articles(3, 2), _articles(4, 3)
    engine = hashing_engine(index_dir=tmp_path / "layered")
    engine.add_articles(first)
    base = generations.current_generation(engine.index_dir)
    base_files, base_inodes = generation_files(base), _inodes(base / FOLDER)
    engine.add_articles(second)
    assert generation_files(base) == base_files  # the previous generation is not written
    engine.add_articles(third)
    current = generations.current_generation(engine.index_dir)
    assert _inodes(current / FOLDER) == base_inodes
    assert generations.read_manifest(current)["keywords"]["delta"]["rows"] > 0
    whole = hashing_engine(index_dir=tmp_path / "whole")
    whole.add_articles(first + second + third)
    whole_folder = generations.current_generation(whole.index_dir) / FOLDER
    assert not (whole_folder / keyword_layers.DELTA_INDPTR).exists()
    for question in ("word1 oil tripoli", "Which story tells of النفط and word7?", "haftar word3 word9"):
        ours, expected = engine.search(question, k=8), whole.search(question, k=8)
        assert [hit.chunk_id for hit in ours] == [hit.chunk_id for hit in expected]
        assert [round(hit.score, 5) for hit in ours] == [round(hit.score, 5) for hit in expected]
    (current / FOLDER / keyword_layers.DELTA_COUNTS).write_bytes(b"damaged")
    with pytest.raises(IndexCorruptError):
        hashing_engine(index_dir=tmp_path / "layered").search("word1 oil", k=3)
    assert DOCUMENT_TERMS in keyword_layers.BASE_FILES


def test_the_keywords_layer_from_the_size_the_vectors_do():
    assert keyword_layers.LAYER_MIN_ROWS == layered_vectors.LAYER_MIN_ROWS
