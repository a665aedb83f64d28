"""Moving chunk rows in the article store (``ArticleStore.move_chunks``): a removal renumbers the rows after it."""

from __future__ import annotations

from index.records import Article, Chunk
from index.storage.article_store import ArticleStore


def _store(path, sizes: list[int]) -> ArticleStore:
    store = ArticleStore.create(path)
    row = 0
    for number, size in enumerate(sizes):
        article = Article(f"a{number}", f"Title {number}", "word " * 40, "Wire", f"https://wire.test/{number}")
        chunks = [
            (row + i, Chunk(article.id, i, 5 * i, 5 * i + 5, article.text[5 * i : 5 * i + 5])) for i in range(size)
        ]
        store.add_article(article, chunks, article.id, b"")
        row += size
    store.commit()
    return store


def _rows(store: ArticleStore) -> dict[str, list[int]]:
    return store.chunk_rows()


def test_moves_renumber_rows_and_keep_the_schema(tmp_path):
    store = _store(tmp_path / "store.sqlite", [3, 2, 4])
    schema = sorted(store._db.execute("SELECT type, name, sql FROM sqlite_master").fetchall())
    store.remove_articles(["a1"])  # rows 3 and 4 go; the third article's rows 5-8 become 3-6
    store.move_chunks([5, 6, 7, 8], [3, 4, 5, 6])
    store.commit()
    assert _rows(store) == {"a0": [0, 1, 2], "a2": [3, 4, 5, 6]}
    assert sorted(store._db.execute("SELECT type, name, sql FROM sqlite_master").fetchall()) == schema
    plan = " ".join(
        row[-1] for row in store._db.execute("EXPLAIN QUERY PLAN SELECT id FROM chunks WHERE article_id = 'a2'")
    )
    assert "chunks_by_article" in plan
    store.check()
    store.close()


def test_rows_may_trade_places(tmp_path):
    """A row may move to one another chunk has not left yet (both articles' rows swapped)."""
    store = _store(tmp_path / "store.sqlite", [2, 2])
    store.move_chunks([0, 1, 2, 3], [2, 3, 0, 1])
    store.commit()
    assert _rows(store) == {"a0": [2, 3], "a1": [0, 1]}
    by_row = store.chunks_by_rows([0, 2])
    assert by_row[0][0].id == "a1" and by_row[2][0].id == "a0"
    store.close()
