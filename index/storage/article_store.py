"""SQLite storage of articles and chunk spans. A chunk's row id is its row in the vector index. A store may be
layered: a base and a delta of the articles appended since, which may remove articles of the base (ghosts, left in
the base and out of every read: ``store_layers.py``), read as one."""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from index.errors import IndexCorruptError
from index.records import Article, Chunk
from index.storage.store_layers import (
    DELTA,
    EVERY_COLUMN,
    GHOST_COUNTS,
    attach_delta,
    copy_rows,
    delta_path,
    drop_rowids,
    ghosts_hidden,
    live_tables,
    missing_tables,
    record_removed,
    sqlite_uri,
)
from index.storage.stored_articles import SignatureTable, StoredArticles, chunk_layout, layout_by_article

SCHEMA = """
CREATE TABLE articles (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    source TEXT NOT NULL,
    url TEXT NOT NULL,
    published TEXT NOT NULL,
    author TEXT NOT NULL,
    origin TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    story_id TEXT NOT NULL,           -- the first indexed article of the same (wire) story; itself if unique
    signature BLOB NOT NULL           -- MinHash signature of the text, for finding later copies
);
CREATE INDEX articles_by_story ON articles(story_id);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY,           -- the chunk's row in the vector index
    article_id TEXT NOT NULL REFERENCES articles(id),
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL
);
CREATE INDEX chunks_by_article ON chunks(article_id, ordinal);
"""

_ARTICLE_COLUMNS = "id, title, text, source, url, published, author, origin"


def _article(row: tuple) -> Article:
    return Article(*row)


def _columns(table: str) -> str:
    """The article columns, qualified by a table alias: "a.id, a.title, …"."""
    return ", ".join(f"{table}.{column.strip()}" for column in _ARTICLE_COLUMNS.split(","))


def _placeholders(values: list) -> str:
    return ",".join("?" * len(values))


class ArticleStore:
    """Read and write one generation's ``store.sqlite``.

    A store opened for reading that cannot be read (not a database, cut short, tables missing) raises
    IndexCorruptError, on opening or on the read that meets the damage."""

    def __init__(self, path: Path, readonly: bool = True) -> None:
        self.path = Path(path)
        self.layers = ["main"]  # the schemas holding the articles, base first (a delta layer after it)
        self._ghosts = False  # whether the delta removes articles of the base (ghosts: in the file, in no read)
        if not readonly:
            self._db = sqlite3.connect(sqlite_uri(path, "rwc"), uri=True, check_same_thread=False)
            self._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=MEMORY;")
            return
        try:
            self._db = sqlite3.connect(sqlite_uri(path, "ro"), uri=True, check_same_thread=False)
        except sqlite3.Error as exc:
            raise self._damaged(exc) from exc
        problem: object = None
        where, delta = self.path, delta_path(self.path)
        try:
            problem = missing_tables(self._db, "main")
            if problem is None and delta.exists():
                where = delta
                problem = attach_delta(self._db, delta)
                self.layers.append(DELTA)
                self._ghosts = problem is None and ghosts_hidden(self._db)
        except sqlite3.DatabaseError as exc:
            problem = exc
        if problem is not None:
            self._db.close()
            raise self._damaged(problem, where)

    def _damaged(self, problem: object, path: Path | None = None) -> IndexCorruptError:
        path = path or self.path
        return IndexCorruptError.damaged(path.parent.parent, f"{path.parent.name}/{path.name}: {problem}")

    def _query(self, sql: str, parameters: Iterable = (), path: Path | None = None) -> Iterator[tuple]:
        """The rows of a read; a damaged file (``path``, when known to be that one) raises IndexCorruptError."""
        try:
            yield from self._db.execute(sql, tuple(parameters))
        except sqlite3.DatabaseError as exc:
            raise self._damaged(exc, path) from exc

    def _each_layer(self, sql: str) -> Iterator[tuple]:
        """The rows of ``sql`` read in each layer, base first: in stored order for a read in stored order, since a
        delta's rows come after the base's. ``sql`` names the live rows ``{articles}`` and ``{chunks}`` (the base's
        without ghosts), or every row of the layer's file ``{layer}.articles``, ``{layer}.chunks`` (``live_tables``)."""
        for layer in self.layers:
            yield from self._query(sql.format_map(live_tables(layer, self._ghosts)))

    def check(self) -> None:
        """Read every page of each layer (SQLite's quick_check): IndexCorruptError unless the store is whole."""
        for layer, path in zip(self.layers, (self.path, delta_path(self.path))):
            problems = [row[0] for row in self._query(f"PRAGMA {layer}.quick_check", path=path)]
            if problems != ["ok"]:
                raise self._damaged(problems[0] if problems else "quick_check found nothing", path)

    def layer_counts(self) -> list[tuple[int, int]]:
        """(articles, chunks) each layer's file holds, base first: the base's ghosts counted (``counts``: the live)."""
        count = "SELECT (SELECT COUNT(*) FROM {layer}.articles), (SELECT COUNT(*) FROM {layer}.chunks)"
        return list(self._each_layer(count))

    def next_rowid(self, base_only: bool = False) -> int:
        """The rowid after every stored article's, ghosts' too (in either layer; with ``base_only``, in the base)."""
        last = "SELECT MAX(rowid) FROM {layer}.articles"
        rowids = self._query(last.format(layer="main")) if base_only else self._each_layer(last)
        return max((rowid for (rowid,) in rowids if rowid is not None), default=0) + 1

    def copy_layer(self, path: Path) -> None:
        """Append every row of the delta layer at ``path`` to this written store's tables, in order (not the rowids
        it removes: a delta written again records them, ``record_removed``; a copy of the base drops them first,
        ``drop_base_ghosts``)."""
        copy_rows(self._db, path)

    def removed_rowids(self) -> list[int]:
        """The rowids of the base's articles that the delta removes (the ghosts), in order; none without."""
        ghosts = self._query("SELECT rowid FROM temp.ghosts ORDER BY rowid") if self._ghosts else iter(())
        return [rowid for (rowid,) in ghosts]

    def base_rowids(self, article_ids: Iterable[str]) -> dict[str, int]:
        """The base rowids of those of ``article_ids`` that are live articles of the base (not ghosts, not delta's)."""
        wanted = json.dumps(list(article_ids))
        base = live_tables("main", self._ghosts)["articles"]
        return dict(self._query(f"SELECT id, rowid FROM {base} WHERE id IN (SELECT value FROM json_each(?))", [wanted]))

    @classmethod
    def create(cls, path: Path) -> ArticleStore:
        store = cls(path, readonly=False)
        store._db.executescript(SCHEMA)
        return store

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> ArticleStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # writing
    def add_article(
        self,
        article: Article,
        chunks: Iterable[tuple[int, Chunk]],
        story_id: str,
        signature: bytes,
        rowid: int | None = None,
    ) -> None:
        """Store an article, its story and its chunks, each chunk with its vector row id; at ``rowid`` when given
        (a delta layer's articles follow its base's), else after the stored ones."""
        self._db.execute(
            f"INSERT INTO articles (rowid, {EVERY_COLUMN}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                rowid,
                article.id,
                article.title,
                article.text,
                article.source,
                article.url,
                article.published,
                article.author,
                article.origin,
                article.content_hash,
                story_id,
                signature,
            ),
        )
        self._db.executemany(
            "INSERT INTO chunks (id, article_id, ordinal, start, end) VALUES (?,?,?,?,?)",
            [(row, article.id, chunk.ordinal, chunk.start, chunk.end) for row, chunk in chunks],
        )

    def commit(self) -> None:
        self._db.commit()

    def record_removed(self, rowids: Iterable[int]) -> None:
        """Record in this delta (written) the base's articles at ``rowids`` as removed: ghosts, read nowhere."""
        record_removed(self._db, rowids)

    # editing a copy of a previous generation's store (an update writes what changed, not every article)
    def drop_base_ghosts(self, rowids: Iterable[int]) -> None:
        """Delete the articles at ``rowids`` and their chunks from this copy of a base (the ghosts its delta removed:
        before the delta's rows are copied in, while its ids are unique); their rows stay unused."""
        drop_rowids(self._db, rowids)

    def remove_articles(self, article_ids: Iterable[str]) -> None:
        """Delete articles and their chunks."""
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS gone (id TEXT PRIMARY KEY)")
        self._db.execute("DELETE FROM gone")
        self._db.executemany("INSERT INTO gone (id) VALUES (?)", ((article_id,) for article_id in article_ids))
        self._db.execute("DELETE FROM chunks WHERE article_id IN (SELECT id FROM gone)")
        self._db.execute("DELETE FROM articles WHERE id IN (SELECT id FROM gone)")

    def move_chunks(self, old_rows: Sequence[int], new_rows: Sequence[int]) -> None:
        """Give the chunks at ``old_rows`` the vector rows ``new_rows`` (any that stay unmoved may be left out).

        The table is written again in row order, under its own schema, and its index made again: changing the ids
        in place (an UPDATE of the primary key through a table of moves) took 16 s for the rows after one removed
        article at 1M chunks, this 3 s."""
        schema = dict(self._query("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'chunks' AND sql IS NOT NULL"))
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS moves (old INTEGER PRIMARY KEY, new INTEGER NOT NULL)")
        self._db.execute("DELETE FROM moves")
        self._db.executemany("INSERT INTO moves (old, new) VALUES (?, ?)", zip(old_rows, new_rows))
        self._db.execute("ALTER TABLE chunks RENAME TO unmoved_chunks")
        self._db.execute(schema.pop("chunks"))
        self._db.execute(
            "INSERT INTO chunks (id, article_id, ordinal, start, end)"
            " SELECT COALESCE(m.new, c.id), c.article_id, c.ordinal, c.start, c.end"
            " FROM unmoved_chunks c LEFT JOIN moves m ON m.old = c.id ORDER BY 1"
        )
        self._db.execute("DROP TABLE unmoved_chunks")  # and its indexes, made again on the new table
        for sql in schema.values():
            self._db.execute(sql)

    def set_stories(self, stories: Mapping[str, str]) -> None:
        """Change the story of the given articles (article id -> story id)."""
        changes = ((story, article_id) for article_id, story in stories.items())
        self._db.executemany("UPDATE articles SET story_id = ? WHERE id = ?", changes)

    # reading
    def content_hashes(self, article_ids: Iterable[str] | None = None) -> dict[str, str]:
        """Content hash by article id: of every article, or of those of ``article_ids`` that are stored."""
        if article_ids is None:
            return dict(self._each_layer("SELECT id, content_hash FROM {articles}"))
        wanted = json.dumps(list(article_ids))  # one query: the ids as one JSON parameter
        return dict(
            self._query("SELECT id, content_hash FROM articles WHERE id IN (SELECT value FROM json_each(?))", [wanted])
        )

    def ids(self) -> list[str]:
        """Every article's id, in the order they were stored."""
        return [article_id for (article_id,) in self._each_layer("SELECT id FROM {articles} ORDER BY rowid")]

    def stories(self) -> dict[str, str]:
        """Each article's story id, by article id."""
        return dict(self._each_layer("SELECT id, story_id FROM {articles}"))

    def chunk_rows(self) -> dict[str, list[int]]:
        """Each article's chunks' vector rows, in order (one query, not one an article)."""
        rows: dict[str, list[int]] = {}
        by_article = "SELECT article_id, id FROM {chunks} ORDER BY article_id, ordinal"  # an article: one layer
        for article_id, row in self._each_layer(by_article):
            rows.setdefault(article_id, []).append(row)
        return rows

    def has_signatures(self) -> bool:
        """Whether this store records stories (index format 2 and later)."""
        columns = {row[1] for row in self._query("PRAGMA main.table_info(articles)")}
        return "signature" in columns

    def signature_rows(self, block: int = 4096) -> tuple[list[str], np.ndarray]:
        """Every article's id and MinHash signature, in the order they were stored: the signatures as one uint32
        array, a row an article (stored as uint64 values below 2**31), read ``block`` articles at a time."""
        ids: list[str] = []
        table = SignatureTable(self.counts()[0], self._damaged)
        for read in self._blocks("SELECT id, signature FROM {articles} ORDER BY rowid", block):
            article_ids, blobs = zip(*read)
            ids += article_ids
            table.append(blobs)
        return ids, table.done()

    def stored_articles(self, block: int = 16384) -> StoredArticles:
        """Every article as a build plans with it (``StoredArticles``), read in bulk: one pass over the articles
        (``block`` at a time; their texts are not kept) and two over the chunks (``_chunk_layout``)."""
        signed = self.has_signatures()
        story, signature = ("NULLIF(story_id, id)", "signature") if signed else ("NULL", "NULL")
        columns: tuple[list, ...] = ([], [], [], [], [])  # id, title, source, published, story
        count = self.counts()[0] if signed else 0
        table = SignatureTable(count, self._damaged)
        query = f"SELECT id, title, source, published, {story}, {signature} FROM {{articles}} ORDER BY rowid"
        for read in self._blocks(query, block):
            *fields, blobs = zip(*read)
            for column, values in zip(columns, fields):
                column += values
            if signed:
                table.append(blobs)
        ids, titles, sources, published, stories = columns
        stories = [article_id if story is None else story for article_id, story in zip(ids, stories)] if signed else []
        layout = self._chunk_layout(ids)
        if layout is None:  # chunks not at consecutive rows in order (no build writes them so): read by article
            layout = layout_by_article(ids, self.chunk_rows())
        return StoredArticles(ids, titles, sources, published, stories, table.done(), *layout)

    def _chunk_layout(self, ids: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
        """``chunk_layout`` of the live chunks: read as one number a chunk (its row less its ordinal), the article of
        each first chunk and, only when the rows are not 0, 1, 2... (the ghosts' chunks left gaps), the rows."""
        first_of_row = np.fromiter(self._values("SELECT id - ordinal FROM {chunks} ORDER BY id"), np.int64)
        owners = list(self._values("SELECT article_id FROM {chunks} WHERE ordinal = 0 ORDER BY id"))
        total = len(first_of_row)
        lowest_and_highest = "SELECT (SELECT MIN(id) FROM {chunks}), (SELECT MAX(id) FROM {chunks})"
        ends = [end for ends in self._each_layer(lowest_and_highest) for end in ends if end is not None]  # lookups
        rows = None
        if total and (ends[0], ends[-1]) != (0, total - 1):
            rows = np.fromiter(self._values("SELECT id FROM {chunks} ORDER BY id"), np.int64, total)
        return chunk_layout(ids, owners, first_of_row, rows)

    def _values(self, sql: str) -> Iterator:
        """The values of a one-column read, in order."""
        return itertools.chain.from_iterable(itertools.chain.from_iterable(self._blocks(sql)))

    def _blocks(self, sql: str, block: int = 16384) -> Iterator[list[tuple]]:
        """The rows of a read in each layer (``_each_layer``), ``block`` at a time; a damaged file raises
        IndexCorruptError."""
        try:
            for layer in self.layers:
                cursor = self._db.execute(sql.format_map(live_tables(layer, self._ghosts)))
                while read := cursor.fetchmany(block):
                    yield read
        except sqlite3.DatabaseError as exc:
            raise self._damaged(exc) from exc

    def story_copies(self, article_ids: Iterable[str]) -> dict[str, list[Article]]:
        """For each given article, the other articles of its story (republished copies), oldest first."""
        ids = list(dict.fromkeys(article_ids))
        story_of = self.story_of(ids)
        stories = list(dict.fromkeys(story_of.values()))
        rows = self._query(
            f"SELECT story_id, {_ARTICLE_COLUMNS} FROM articles WHERE story_id IN ({_placeholders(stories)})"
            " ORDER BY rowid",  # each layer searched by story, then the few found put in stored order
            stories,
        )
        members: dict[str, list[Article]] = {story: [] for story in stories}
        for row in rows:
            members[row[0]].append(_article(row[1:]))
        copies: dict[str, list[Article]] = {article_id: [] for article_id in ids}
        for article_id, story in story_of.items():
            copies[article_id] = [copy for copy in members[story] if copy.id != article_id]
        return copies

    def story_of(self, article_ids: Iterable[str]) -> dict[str, str]:
        ids = list(dict.fromkeys(article_ids))
        return dict(self._query(f"SELECT id, story_id FROM articles WHERE id IN ({_placeholders(ids)})", ids))

    def article(self, article_id: str) -> Article | None:
        row = next(self._query(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = ?", (article_id,)), None)
        return _article(row) if row else None

    def articles(self) -> Iterator[Article]:
        for row in self._each_layer(f"SELECT {_ARTICLE_COLUMNS} FROM {{articles}} ORDER BY rowid"):
            yield _article(row)

    def chunks_of(self, article_id: str) -> list[tuple[int, Chunk]]:
        """(vector row, chunk) pairs of one article, in order."""
        article = self.article(article_id)
        if article is None:
            return []
        rows = self._query(
            "SELECT id, ordinal, start, end FROM chunks WHERE article_id = ? ORDER BY ordinal", (article_id,)
        )
        return [
            (row, Chunk(article_id, ordinal, start, end, article.text[start:end])) for row, ordinal, start, end in rows
        ]

    def chunks_by_rows(self, rows: list[int]) -> dict[int, tuple[Article, Chunk]]:
        """The chunks at the given vector rows, with their articles."""
        found = self._query(
            f"SELECT c.id, c.ordinal, c.start, c.end, {_columns('a')} "
            f"FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.id IN ({_placeholders(rows)})",
            [int(r) for r in rows],
        )
        result = {}
        for row in found:
            row_id, ordinal, start, end = row[:4]
            article = _article(row[4:])
            result[row_id] = (article, Chunk(article.id, ordinal, start, end, article.text[start:end]))
        return result

    def counts(self) -> tuple[int, int]:
        """(articles, chunks) read: the live ones, the ghosts left out (``layer_counts``: what each file holds)."""
        layers = self.layer_counts()
        ghost_articles, ghost_chunks = next(self._query(GHOST_COUNTS)) if self._ghosts else (0, 0)
        return sum(n for n, _ in layers) - ghost_articles, sum(n for _, n in layers) - ghost_chunks

    def sources(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for source, count in self._each_layer("SELECT source, COUNT(*) FROM {articles} GROUP BY source"):
            counts[source] += count
        ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))  # str order is SQLite's (UTF-8 bytes)
        return {source or "unknown outlet": count for source, count in ordered}

    def newest_published(self) -> str:
        newest = self._each_layer("SELECT MAX(published) FROM {articles} WHERE published != ''")
        return max((published for (published,) in newest if published), default="")
