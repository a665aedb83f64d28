"""Removing or changing an article of a layered store's base leaves it in the base (never written again), a ghost
the delta records in its table ``removed``; a changed one is in the delta again under the same id. Every read
leaves the ghosts and their chunks out: it gives what the whole store of the live articles gives, but for the
chunks' rows, where the ghosts' rows stay unused (``store_layers.py``)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from index.errors import IndexCorruptError
from index.records import Article, Chunk
from index.storage import store_layers
from index.storage.article_store import ArticleStore
from index.storage.stored_articles import chunk_layout

GHOSTS = ["b1", "b3", "b5", "b8"]  # removed from the base: with chunks, without, changed (b5 again in the delta), last
BEYOND = 99  # a row no chunk has


@dataclasses.dataclass
class Entry:
    """An article as stored: its story and its number of chunks (at consecutive rows)."""

    article: Article
    story: str
    chunks: int


def _entry(article_id: str, story: str, chunks: int, source: str = "Wire", published: str = "2024-01-02") -> Entry:
    text = f"The {article_id} story: port and ship news, council vote, budget debate." * chunks
    return Entry(
        Article(article_id, f"Title {article_id}", text, source, f"https://x.test/{article_id}", published),
        story,
        chunks,
    )


BASE = [  # rowids 1-9, chunk rows 0-14
    _entry("b0", "b0", 3),
    _entry("b1", "b1", 2, published="2024-03-01"),  # a ghost; the first of b2's story
    _entry("b2", "b1", 2),
    _entry("b3", "b3", 0, source="Ghost Gazette"),  # a ghost without chunks, the only article of its outlet
    _entry("b4", "b4", 1),
    _entry("b5", "b5", 2),  # changed: a ghost, and in the delta again
    _entry("b6", "b6", 0),
    _entry("b7", "b0", 3, source="Herald"),  # a copy of b0
    _entry("b8", "b8", 2, published="2025-12-31"),  # a ghost, the newest article: its rows end the base's
]
DELTA = [  # rowids 10-14, chunk rows 15-21
    _entry("d0", "b0", 2),  # a copy of b0, across the layers
    _entry("b5", "b5", 3, source="Herald"),  # b5 changed: another text, chunks, outlet
    _entry("d1", "d1", 1),
    _entry("d2", "d2", 0),
    _entry("d3", "b4", 1),
]
LIVE = [entry for entry in BASE if entry.article.id not in GHOSTS] + DELTA


def _signature(article: Article) -> bytes:
    seed = sum(map(ord, article.id + article.text[-20:]))
    return np.random.default_rng(seed).integers(0, 2**31, 4).astype("<u8").tobytes()


def _write(path: Path, entries: list[Entry], row: int = 0, rowid: int | None = None) -> ArticleStore:
    """A store (written, left open) of ``entries``, their chunks at consecutive rows from ``row``, the articles at
    rowids from ``rowid`` (else 1)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    store = ArticleStore.create(path)
    for number, entry in enumerate(entries):
        text = entry.article.text
        chunks = [
            (row + k, Chunk(entry.article.id, k, 7 * k, 7 * k + 20, text[7 * k : 7 * k + 20]))
            for k in range(entry.chunks)
        ]
        at = None if rowid is None else rowid + number
        store.add_article(entry.article, chunks, entry.story, _signature(entry.article), rowid=at)
        row += entry.chunks
    store.commit()
    return store


def _layered(tmp_path: Path, removed: list[int] | None, delta: list[Entry] = DELTA, name: str = "layered") -> Path:
    """A base of ``BASE`` and a delta of ``delta`` that records ``removed`` (None: no table ``removed``)."""
    path = tmp_path / name / "store.sqlite"
    _write(path, BASE).close()
    written = _write(store_layers.delta_path(path), delta, row=sum(e.chunks for e in BASE), rowid=len(BASE) + 1)
    if removed is not None:
        written.record_removed(removed)
        written.commit()
    written.close()
    return path


def _whole(tmp_path: Path, entries: list[Entry], name: str = "whole") -> Path:
    path = tmp_path / name / "store.sqlite"
    _write(path, entries).close()
    return path


def _gapped_rows() -> list[int]:
    """The live chunks' rows in the layered store, in row order: the base's less the ghosts', then the delta's."""
    rows: list[int] = []
    row = 0
    for entry in BASE:
        if entry.article.id not in GHOSTS:
            rows += range(row, row + entry.chunks)
        row += entry.chunks
    return rows + list(range(row, row + sum(entry.chunks for entry in DELTA)))


def _reads(path: Path, rows: list[int], statements: list[str] | None = None) -> dict:
    """Every read an ``ArticleStore`` offers (the chunks of ``rows`` asked by row), the ghosts' ids asked too; the
    statements it ran appended to ``statements``."""
    with ArticleStore(path) as store:
        if statements is not None:
            store._db.set_trace_callback(statements.append)
        ids = store.ids()
        asked = [*ids, *GHOSTS, "missing"]
        stored = store.stored_articles(block=3)  # blocks that end inside a layer and at its end
        return {
            "counts": store.counts(),
            "sources": list(store.sources().items()),
            "newest": store.newest_published(),
            "ids": ids,
            "articles": list(store.articles()),
            "article": [store.article(article_id) for article_id in asked],
            "stories": store.stories(),
            "story_of": store.story_of(asked),
            "story_copies": store.story_copies(asked),
            "hashes": store.content_hashes(),
            "some_hashes": store.content_hashes(asked),
            "signatures": [part.tolist() if isinstance(part, np.ndarray) else part for part in store.signature_rows(2)],
            "signed": store.has_signatures(),
            "chunk_rows": store.chunk_rows(),
            "chunks_of": {article_id: store.chunks_of(article_id) for article_id in asked},
            "by_rows": store.chunks_by_rows(rows),
            "stored": {
                field.name: value.tolist() if isinstance(value, np.ndarray) else value
                for field in dataclasses.fields(stored)
                for value in [getattr(stored, field.name)]
            },
        }


def _renumbered(reads: dict, rows: list[int]) -> dict:
    """``reads`` of a whole store (chunks at rows 0, 1, 2...) with chunk row ``r`` read as ``rows[r]``."""
    assert reads["stored"]["chunk_rows"] is None  # a whole store: the rows are 0, 1, 2...
    return {
        **reads,
        "chunk_rows": {article_id: [rows[r] for r in held] for article_id, held in reads["chunk_rows"].items()},
        "chunks_of": {article_id: [(rows[r], c) for r, c in held] for article_id, held in reads["chunks_of"].items()},
        "by_rows": {rows[r]: found for r, found in reads["by_rows"].items()},
        "stored": {**reads["stored"], "chunk_rows": rows},
    }


def _ghost_rowids(base: list[Entry]) -> list[int]:
    return [rowid for rowid, entry in enumerate(base, start=1) if entry.article.id in GHOSTS]


def test_every_read_leaves_the_ghosts_out(tmp_path):
    rows = _gapped_rows()
    ghost_rows = sorted(set(range(rows[-1] + 1)) - set(rows))
    assert ghost_rows == [3, 4, 8, 9, 13, 14]  # gaps inside the base and at its end
    layered = _layered(tmp_path, _ghost_rowids(BASE))
    got = _reads(layered, [*rows, *ghost_rows, BEYOND])
    whole = _reads(_whole(tmp_path, LIVE), [*range(len(rows)), BEYOND])
    assert got == _renumbered(whole, rows)
    assert got["counts"] == (10, 16) and got["newest"] == "2024-01-02" and "Ghost Gazette" not in got["sources"]
    assert got["article"][got["ids"].index("b5")].source == "Herald"  # the changed article: the delta's
    assert got["story_copies"]["b2"] == [] and [a.id for a in got["story_copies"]["b0"]] == ["b7", "d0"]


def test_the_store_counts_each_file_and_the_live_articles(tmp_path):
    with ArticleStore(_layered(tmp_path, _ghost_rowids(BASE))) as store:
        assert store.layer_counts() == [(9, 15), (5, 7)]  # what each file holds, the ghosts too
        assert store.counts() == (10, 16)
        assert store.removed_rowids() == [2, 4, 6, 9]
        assert store.base_rowids(["b0", "b1", "b5", "b6", "d0", "missing"]) == {"b0": 1, "b6": 7}
        assert store.next_rowid() == 15 and store.next_rowid(base_only=True) == 10  # the ghosts' rowids stay taken
        store.check()


def test_stored_articles_lay_out_the_gapped_rows_without_reading_by_article(tmp_path, monkeypatch):
    def by_article(self):
        raise AssertionError("read by article")

    monkeypatch.setattr(ArticleStore, "chunk_rows", by_article)
    with ArticleStore(_layered(tmp_path, _ghost_rowids(BASE))) as store:
        stored = store.stored_articles()
    assert stored.chunk_rows is not None and stored.chunk_rows.tolist() == _gapped_rows()
    rows_of = {
        article_id: stored.chunk_rows[start : start + count].tolist()
        for article_id, start, count in zip(stored.ids, stored.chunk_starts, stored.chunk_counts)
    }
    assert rows_of["b2"] == [5, 6] and rows_of["b7"] == [10, 11, 12] and rows_of["b5"] == [17, 18, 19]
    assert rows_of["b6"] == rows_of["d2"] == []


def test_a_delta_without_removed_rows_reads_as_before(tmp_path):
    """No table ``removed``, or an empty one: the reads of the whole store, by the same statements, none about
    ghosts."""
    appended = [entry for entry in DELTA if entry.article.id != "b5"]
    rows = sum(entry.chunks for entry in BASE + appended)
    asked = [*range(rows), BEYOND]
    whole = _reads(_whole(tmp_path, BASE + appended), asked)
    statements: dict[str, list[str]] = {}
    for name, removed in (("no table", None), ("an empty table", [])):
        path = _layered(tmp_path, removed, appended, name=name)
        statements[name] = []
        assert _reads(path, asked, statements[name]) == whole
        with ArticleStore(path) as store:
            assert store.removed_rowids() == [] and store.layer_counts() == [(9, 15), (4, 4)]
    assert statements["no table"] == statements["an empty table"]
    assert not [sql for sql in statements["no table"] if "ghosts" in sql or "base_" in sql]


def test_a_removed_rowid_outside_the_base_is_a_damaged_store(tmp_path):
    for number, removed in enumerate(([2, 99], [len(BASE) + 1])):  # no article at all; an article of the delta
        path = _layered(tmp_path, removed, name=f"damaged-{number}")
        with pytest.raises(IndexCorruptError, match=r"store-delta\.sqlite: it removes an article its base does not"):
            ArticleStore(path)


def test_dropping_the_ghosts_from_a_copy_of_the_base_gives_the_live_store(tmp_path):
    """A whole store written again: the previous base copied, its ghosts dropped, the previous delta's rows copied
    in after them: the live articles at the rows they had."""
    layered = _layered(tmp_path, _ghost_rowids(BASE))
    copy = tmp_path / "copy" / "store.sqlite"
    copy.parent.mkdir()
    shutil.copyfile(layered, copy)
    with ArticleStore(layered) as old:
        removed = old.removed_rowids()
    store = ArticleStore(copy, readonly=False)
    store.drop_base_ghosts(removed)
    store.copy_layer(store_layers.delta_path(layered))
    store.commit()
    store.close()
    rows = _gapped_rows()
    asked = [*rows, 3, 13, BEYOND]
    assert _reads(copy, asked) == _reads(layered, asked)
    with ArticleStore(copy) as store:
        assert store.layers == ["main"] and store.layer_counts() == [(10, 16)] and store.removed_rowids() == []


def test_keyed_reads_look_up_each_layer_and_the_ghosts_by_index(tmp_path):
    """With ghosts, a keyed read still looks up each layer by an index (each row found looked up in the ghosts by
    its key), and a whole-table read still scans in stored order, without a sort."""
    with ArticleStore(_layered(tmp_path, _ghost_rowids(BASE))) as store:
        statements: list[str] = []
        store._db.set_trace_callback(statements.append)
        ids = ["b0", "b2", "b5", "d0"]
        store.chunks_by_rows([0, 3, 17, 21])
        store.story_copies(ids)
        store.story_of(ids)
        store.content_hashes(ids)
        store.chunks_of("b2")
        store.base_rowids(ids)
        keyed = [detail for sql in statements for *_, detail in store._db.execute("EXPLAIN QUERY PLAN " + sql)]
        statements.clear()
        store.ids()
        list(store.articles())
        store.stored_articles()
        store.signature_rows()
        store.chunk_rows()
        whole = [detail for sql in statements for *_, detail in store._db.execute("EXPLAIN QUERY PLAN " + sql)]
        store._db.set_trace_callback(None)
    # (a SCAN of the view itself reads the few rows its layers' lookups found; json_each: the ids asked)
    scans = [d for d in keyed if d.startswith(("SCAN", "MATERIALIZE")) and d not in ("SCAN articles", "SCAN chunks")]
    assert keyed and [d for d in scans if not d.startswith("SCAN json_each")] == []
    assert any("ghosts" in detail for detail in keyed) and any("delta.chunks" in detail for detail in keyed)
    assert any("ghosts" in detail for detail in whole) and not [d for d in whole if "FOR ORDER BY" in d]


@pytest.mark.parametrize(
    ("owners", "first_of_row", "rows", "expected"),
    [
        (["a", "c"], [0, 0, 0, 3, 3], None, ([0, 0, 3], [3, 0, 2], None)),  # rows 0-4; b without chunks
        (["a", "c"], [0, 0, 0, 7, 7], [0, 1, 2, 7, 8], ([0, 0, 3], [3, 0, 2], [0, 1, 2, 7, 8])),  # a gap between
        (["a", "c"], [0, 0, 7, 7], [0, 2, 7, 8], None),  # a gap inside an article
        (["c", "a"], [0, 0, 7, 7], [0, 1, 7, 8], None),  # the articles out of stored order
    ],
)
def test_a_chunk_layout_allows_gaps_between_articles_only(owners, first_of_row, rows, expected):
    layout = chunk_layout(["a", "b", "c"], owners, np.array(first_of_row), None if rows is None else np.array(rows))
    assert (None if layout is None else [None if part is None else part.tolist() for part in layout]) == (
        None if expected is None else list(expected)
    )
