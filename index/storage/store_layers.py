"""A layered article store (``index/carry_over.py`` writes them): the base ``store.sqlite``, shared by hard link with
the generation it was written for, and ``store-delta.sqlite`` beside it (``delta_path``): the same tables, holding
the articles after the base's (larger rowids, chunks at the following rows): those appended since the base, less
those removed or changed since (a changed article is appended again).

A reader (``ArticleStore``) attaches the delta read-only and reads both as one: keyed lookups through TEMP views
``articles`` and ``chunks`` over both layers (unqualified names find TEMP first, and SQLite answers a lookup in
such a view with an index lookup in each layer), whole-table reads layer after layer, base first, which keeps
them scans in stored order rather than sorts of the union."""

from __future__ import annotations

import sqlite3
from pathlib import Path

DELTA = "delta"  # the schema name of an attached delta layer, and its file's suffix
# An append writes the delta again whole (its articles' texts too), so it is kept to a share of the base; past it the
# update writes one whole store (a copy of the base, the delta's rows inserted). Per add of k chunks to N, that costs
# on average share * N / 2 written for the delta plus a whole copy of N every share * N / k adds, least at
# share = sqrt(2k / N): for 100 articles (about 360 chunks) 1/12 at 100,000 chunks, 1/37 at 1,000,000. A sixteenth
# sits between and bounds the worst add at 1M chunks to a delta of about 100 MB (the store: 1.6 GB).
DELTA_SHARE = 1 / 16
EVERY_COLUMN = "id, title, text, source, url, published, author, origin, content_hash, story_id, signature"


def delta_path(path: Path) -> Path:
    """The delta layer of the store at ``path``: ``store-delta.sqlite`` beside ``store.sqlite``."""
    path = Path(path)
    return path.with_name(f"{path.stem}-{DELTA}{path.suffix}")


def sqlite_uri(path: Path, mode: str) -> str:
    """The URI SQLite opens ``path`` with in ``mode`` (``ro``: read-only, ``rwc``: written, created if missing)."""
    return f"{Path(path).absolute().as_uri()}?mode={mode}"


def missing_tables(db: sqlite3.Connection, schema: str) -> str | None:
    """What is wrong with the tables of ``schema``, None when it holds a store's."""
    tables = {name for (name,) in db.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'")}
    return None if {"articles", "chunks"} <= tables else "its tables are missing"


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
    for table, columns in (("articles", f"rowid AS rowid, {EVERY_COLUMN}"), ("chunks", "*")):
        union = f"SELECT {columns} FROM main.{table} UNION ALL SELECT {columns} FROM {DELTA}.{table}"
        db.execute(f"CREATE TEMP VIEW {table} AS {union}")
    return None


def copy_rows(db: sqlite3.Connection, path: Path) -> None:
    """Append every row of the store at ``path`` (a delta layer, opened read-only) to the tables of ``db`` (written),
    in order, each article at its rowid and each chunk at its row."""
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
