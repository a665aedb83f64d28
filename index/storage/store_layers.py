"""A layered article store (``index/carry_over.py`` writes them): the base ``store.sqlite``, shared by hard link with
the generation it was written for, and ``store-delta.sqlite`` beside it (``delta_path``): the same tables, holding
the articles after the base's (larger rowids, chunks at the following rows): those appended since the base, less
those removed or changed since (a changed article is appended again).

A reader (``ArticleStore``) attaches the delta read-only and reads both as one: keyed lookups through TEMP views
``articles`` and ``chunks`` over both layers (unqualified names find TEMP first, and SQLite answers a lookup in
such a view with an index lookup in each layer), whole-table reads layer after layer, base first, which keeps
them scans in stored order rather than sorts of the union.

The base is never written again, so removing or changing one of its articles leaves it there, a ghost: the delta's
table ``removed`` holds the ghosts' base rowids (a changed article is also in the delta, under the same id), and a
reader leaves them and their chunks out (their rows stay unused). It lists the ghosts in a TEMP table ``ghosts``
(base rowid and id: within the base an id is unique, so the base's chunks of a ghost's id are the ghost's) and
reads the base through TEMP views ``base_articles`` and ``base_chunks`` of its live rows, which SQLite flattens
into the same scans and lookups, each row looked up in ``ghosts``. A delta without removed rows reads as before."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

DELTA = "delta"  # the schema name of an attached delta layer, and its file's suffix
# An append writes the delta again whole (its articles' texts too), so it is kept to a share of the base; past it the
# update writes one whole store (a copy of the base, the delta's rows inserted). Per add of k chunks to N, that costs
# on average share * N / 2 written for the delta plus a whole copy of N every share * N / k adds, least at
# share = sqrt(2k / N): for 100 articles (about 360 chunks) 1/12 at 100,000 chunks, 1/37 at 1,000,000. A sixteenth
# sits between and bounds the worst add at 1M chunks to a delta of about 100 MB (the store: 1.6 GB).
DELTA_SHARE = 1 / 16
EVERY_COLUMN = "id, title, text, source, url, published, author, origin, content_hash, story_id, signature"
GHOST_COUNTS = (  # (articles, chunks) of the ghosts: looked up, not counted by a scan
    "SELECT (SELECT COUNT(*) FROM temp.ghosts),"
    " (SELECT COUNT(*) FROM main.chunks WHERE article_id IN (SELECT id FROM temp.ghosts))"
)
_LIVE_BASE = {  # the TEMP views of the base's live rows: each row looked up in ``ghosts`` by its key
    "base_articles": f"SELECT rowid AS rowid, {EVERY_COLUMN} FROM main.articles"
    " WHERE rowid NOT IN (SELECT rowid FROM temp.ghosts)",
    "base_chunks": "SELECT * FROM main.chunks WHERE article_id NOT IN (SELECT id FROM temp.ghosts)",
}


def delta_path(path: Path) -> Path:
    """The delta layer of the store at ``path``: ``store-delta.sqlite`` beside ``store.sqlite``."""
    path = Path(path)
    return path.with_name(f"{path.stem}-{DELTA}{path.suffix}")


def sqlite_uri(path: Path, mode: str) -> str:
    """The URI SQLite opens ``path`` with in ``mode`` (``ro``: read-only, ``rwc``: written, created if missing)."""
    return f"{Path(path).absolute().as_uri()}?mode={mode}"


def missing_tables(db: sqlite3.Connection, schema: str) -> str | None:
    """What is wrong with the tables of ``schema``, None when it holds a store's."""
    return None if {"articles", "chunks"} <= _tables(db, schema) else "its tables are missing"


def _tables(db: sqlite3.Connection, schema: str) -> set[str]:
    return {name for (name,) in db.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'")}


def attach_delta(db: sqlite3.Connection, delta: Path) -> str | None:
    """Attach the delta layer ``delta`` read-only to a base's connection and read their tables as one (TEMP views);
    what is wrong with the delta when it is no store or its rows do not follow the base's, else None."""
    db.execute(f"ATTACH DATABASE ? AS {DELTA}", (sqlite_uri(delta, "ro"),))
    if problem := missing_tables(db, DELTA):
        return problem
    ends = (
        f"SELECT (SELECT MAX(rowid) FROM main.articles), (SELECT MIN(rowid) FROM {DELTA}.articles),"
        f" (SELECT MAX(id) FROM main.chunks), (SELECT MIN(id) FROM {DELTA}.chunks)"
    )
    last_article, first_article, last_chunk, first_chunk = db.execute(ends).fetchone()
    if _not_after(first_article, last_article) or _not_after(first_chunk, last_chunk):
        return "its rows do not follow the base's"
    if problem := _hide_ghosts(db):
        return problem
    base = live_tables("main", ghosts_hidden(db))
    for table, columns in (("articles", f"rowid AS rowid, {EVERY_COLUMN}"), ("chunks", "*")):
        union = f"SELECT {columns} FROM {base[table]} UNION ALL SELECT {columns} FROM {DELTA}.{table}"
        db.execute(f"CREATE TEMP VIEW {table} AS {union}")
    return None


def _hide_ghosts(db: sqlite3.Connection) -> str | None:
    """List the ghosts the attached delta records (``removed``), if any, and make the views of the base's live rows;
    what is wrong when it records a rowid that is no article of the base, else None."""
    if "removed" not in _tables(db, DELTA) or db.execute(f"SELECT 1 FROM {DELTA}.removed LIMIT 1").fetchone() is None:
        return None
    db.execute("CREATE TEMP TABLE ghosts (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE)")
    found = db.execute(
        f"INSERT INTO temp.ghosts (rowid, id) SELECT r.rowid, a.id FROM {DELTA}.removed r"
        " JOIN main.articles a ON a.rowid = r.rowid ORDER BY r.rowid"
    ).rowcount
    if found != db.execute(f"SELECT COUNT(*) FROM {DELTA}.removed").fetchone()[0]:
        return "it removes an article its base does not hold"
    for view, select in _LIVE_BASE.items():
        db.execute(f"CREATE TEMP VIEW {view} AS {select}")
    return None


def ghosts_hidden(db: sqlite3.Connection) -> bool:
    """Whether a reader's connection leaves ghosts out (its delta records removed articles of the base)."""
    return db.execute("SELECT 1 FROM temp.sqlite_master WHERE name = 'ghosts'").fetchone() is not None


def live_tables(layer: str, ghosts: bool) -> dict[str, str]:
    """The names a read in ``layer`` formats its SQL with (``ArticleStore._each_layer``): ``{articles}`` and
    ``{chunks}``, the layer's live rows (its tables, or a base's views without its ``ghosts``), and ``{layer}``, the
    schema (``{layer}.articles``: every row the file holds, ghosts too)."""
    if layer == "main" and ghosts:
        return {"layer": layer, "articles": "base_articles", "chunks": "base_chunks"}
    return {"layer": layer, "articles": f"{layer}.articles", "chunks": f"{layer}.chunks"}


def record_removed(db: sqlite3.Connection, rowids: Iterable[int]) -> None:
    """Record in the delta written on ``db`` these base rowids as removed (a set: a rowid recorded again stays one)."""
    db.execute("CREATE TABLE IF NOT EXISTS removed (rowid INTEGER PRIMARY KEY)")
    db.executemany("INSERT OR IGNORE INTO removed (rowid) VALUES (?)", ((int(rowid),) for rowid in rowids))


def drop_rowids(db: sqlite3.Connection, rowids: Iterable[int]) -> None:
    """Delete the articles at ``rowids`` and their chunks from the store written on ``db`` (its ids unique)."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS dropped (rowid INTEGER PRIMARY KEY)")
    db.execute("DELETE FROM temp.dropped")
    db.executemany("INSERT OR IGNORE INTO temp.dropped (rowid) VALUES (?)", ((int(rowid),) for rowid in rowids))
    gone = "SELECT id FROM main.articles WHERE rowid IN (SELECT rowid FROM temp.dropped)"
    db.execute(f"DELETE FROM main.chunks WHERE article_id IN ({gone})")
    db.execute("DELETE FROM main.articles WHERE rowid IN (SELECT rowid FROM temp.dropped)")


def copy_rows(db: sqlite3.Connection, path: Path) -> None:
    """Append every row of the store at ``path`` (a delta layer, opened read-only) to the tables of ``db`` (written),
    in order, each article at its rowid and each chunk at its row; not the rowids it records as removed."""
    db.execute("ATTACH DATABASE ? AS copied", (sqlite_uri(path, "ro"),))
    db.execute(
        f"INSERT INTO articles (rowid, {EVERY_COLUMN}) SELECT rowid, {EVERY_COLUMN} FROM copied.articles ORDER BY rowid"
    )
    db.execute("INSERT INTO chunks SELECT * FROM copied.chunks ORDER BY id")
    db.commit()
    db.execute("DETACH DATABASE copied")


def _not_after(first: int | None, last: int | None) -> bool:
    """Whether a delta's ``first`` rowid (or row) fails to come after its base's ``last`` (None: a layer without)."""
    return first is not None and last is not None and first <= last
