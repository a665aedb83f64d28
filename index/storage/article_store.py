"""SQLite storage of articles and chunk spans. A chunk's row id is its row in the vector index."""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.errors import IndexCorruptError
from index.records import Article, Chunk

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


@dataclass
class StoredArticles:
    """Every article of a store, in stored order, as a build plans with them (``ArticleStore.stored_articles``):
    the fields an ``ArticleRef`` holds, the story, the MinHash signature, and where the chunks' vector rows are:
    article ``i``'s rows are ``chunk_rows[chunk_starts[i] : chunk_starts[i] + chunk_counts[i]]`` in chunk order,
    or, with ``chunk_rows`` None (each article's chunks at consecutive rows, as every build writes them), the
    rows from ``chunk_starts[i]`` on."""

    ids: list[str]
    titles: list[str]
    sources: list[str]
    published: list[str]
    stories: list[str]  # each article's story id; empty when the store records none
    signatures: np.ndarray  # uint32, a row an article (values below 2**31); no rows when the store records none
    chunk_starts: np.ndarray  # int64
    chunk_counts: np.ndarray  # int64
    chunk_rows: np.ndarray | None = None

    @classmethod
    def empty(cls) -> StoredArticles:
        none = np.zeros(0, dtype=np.int64)
        return cls([], [], [], [], [], np.zeros((0, 0), dtype=np.uint32), none, none)

    def __len__(self) -> int:
        return len(self.ids)


class ArticleStore:
    """Read and write one generation's ``store.sqlite``.

    A store opened for reading that cannot be read (not a database, cut short, tables missing) raises
    IndexCorruptError, on opening or on the read that meets the damage."""

    def __init__(self, path: Path, readonly: bool = True) -> None:
        self.path = Path(path)
        if readonly:
            try:
                self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            except sqlite3.Error as exc:
                raise self._damaged(exc) from exc
            tables = {name for (name,) in self._query("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"articles", "chunks"} <= tables:
                self._db.close()
                raise self._damaged("its tables are missing")
        else:
            self._db = sqlite3.connect(path, check_same_thread=False)
            self._db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA temp_store=MEMORY;")

    def _damaged(self, problem: object) -> IndexCorruptError:
        generation = self.path.parent
        return IndexCorruptError.damaged(generation.parent, f"{generation.name}/{self.path.name}: {problem}")

    def _query(self, sql: str, parameters: Iterable = ()) -> Iterator[tuple]:
        """The rows of a read; a damaged file raises IndexCorruptError."""
        try:
            yield from self._db.execute(sql, tuple(parameters))
        except sqlite3.DatabaseError as exc:
            raise self._damaged(exc) from exc

    def check(self) -> None:
        """Read every page (SQLite's quick_check): IndexCorruptError unless the store is whole."""
        problems = [row[0] for row in self._query("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise self._damaged(problems[0] if problems else "quick_check found nothing")

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
        self, article: Article, chunks: Iterable[tuple[int, Chunk]], story_id: str, signature: bytes
    ) -> None:
        """Store an article, its story and its chunks, each chunk with its vector row id."""
        self._db.execute(
            f"INSERT INTO articles ({_ARTICLE_COLUMNS}, content_hash, story_id, signature)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
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

    # editing a copy of a previous generation's store (an update writes what changed, not every article)
    def remove_articles(self, article_ids: Iterable[str]) -> None:
        """Delete articles and their chunks."""
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS gone (id TEXT PRIMARY KEY)")
        self._db.execute("DELETE FROM gone")
        self._db.executemany("INSERT INTO gone (id) VALUES (?)", ((article_id,) for article_id in article_ids))
        self._db.execute("DELETE FROM chunks WHERE article_id IN (SELECT id FROM gone)")
        self._db.execute("DELETE FROM articles WHERE id IN (SELECT id FROM gone)")

    def move_chunks(self, old_rows: Sequence[int], new_rows: Sequence[int]) -> None:
        """Give the chunks at ``old_rows`` the vector rows ``new_rows`` (any that stay unmoved may be left out)."""
        self._db.execute("CREATE TEMP TABLE IF NOT EXISTS moves (old INTEGER PRIMARY KEY, new INTEGER NOT NULL)")
        self._db.execute("DELETE FROM moves")
        self._db.executemany("INSERT INTO moves (old, new) VALUES (?, ?)", zip(old_rows, new_rows))
        # through negative ids: a row may move to one another chunk has not left yet
        self._db.execute(
            "UPDATE chunks SET id = -1 - (SELECT new FROM moves WHERE old = chunks.id)"
            " WHERE id IN (SELECT old FROM moves)"
        )
        self._db.execute("UPDATE chunks SET id = -1 - id WHERE id < 0")

    def set_stories(self, stories: Mapping[str, str]) -> None:
        """Change the story of the given articles (article id -> story id)."""
        changes = ((story, article_id) for article_id, story in stories.items())
        self._db.executemany("UPDATE articles SET story_id = ? WHERE id = ?", changes)

    # reading
    def content_hashes(self, article_ids: Iterable[str] | None = None) -> dict[str, str]:
        """Content hash by article id: of every article, or of those of ``article_ids`` that are stored."""
        if article_ids is None:
            return dict(self._query("SELECT id, content_hash FROM articles"))
        wanted = json.dumps(list(article_ids))  # one query: the ids as one JSON parameter
        return dict(
            self._query("SELECT id, content_hash FROM articles WHERE id IN (SELECT value FROM json_each(?))", [wanted])
        )

    def ids(self) -> list[str]:
        """Every article's id, in the order they were stored."""
        return [article_id for (article_id,) in self._query("SELECT id FROM articles ORDER BY rowid")]

    def stories(self) -> dict[str, str]:
        """Each article's story id, by article id."""
        return dict(self._query("SELECT id, story_id FROM articles"))

    def chunk_rows(self) -> dict[str, list[int]]:
        """Each article's chunks' vector rows, in order (one query, not one an article)."""
        rows: dict[str, list[int]] = {}
        for article_id, row in self._query("SELECT article_id, id FROM chunks ORDER BY article_id, ordinal"):
            rows.setdefault(article_id, []).append(row)
        return rows

    def has_signatures(self) -> bool:
        """Whether this store records stories (index format 2 and later)."""
        columns = {row[1] for row in self._query("PRAGMA table_info(articles)")}
        return "signature" in columns

    def signature_rows(self, block: int = 4096) -> tuple[list[str], np.ndarray]:
        """Every article's id and MinHash signature, in the order they were stored: the signatures as one uint32
        array, a row an article (stored as uint64 values below 2**31), read ``block`` articles at a time."""
        ids: list[str] = []
        table = _SignatureTable(self.counts()[0], self._damaged)
        for read in self._blocks("SELECT id, signature FROM articles ORDER BY rowid", block):
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
        count = next(self._query("SELECT COUNT(*) FROM articles"))[0] if signed else 0
        table = _SignatureTable(count, self._damaged)
        query = f"SELECT id, title, source, published, {story}, {signature} FROM articles ORDER BY rowid"
        for read in self._blocks(query, block):
            *fields, blobs = zip(*read)
            for column, values in zip(columns, fields):
                column += values
            if signed:
                table.append(blobs)
        ids, titles, sources, published, stories = columns
        stories = [article_id if story is None else story for article_id, story in zip(ids, stories)] if signed else []
        layout = self._chunk_layout(ids)
        if layout is not None:
            return StoredArticles(ids, titles, sources, published, stories, table.done(), *layout)
        rows = self.chunk_rows()  # chunks not at consecutive rows in order (no build writes them so): by article
        counts = np.array([len(rows.get(article_id, ())) for article_id in ids], dtype=np.int64)
        flat = np.fromiter(itertools.chain.from_iterable(rows.get(i, ()) for i in ids), np.int64, int(counts.sum()))
        starts = np.cumsum(counts) - counts
        return StoredArticles(ids, titles, sources, published, stories, table.done(), starts, counts, flat)

    def _chunk_layout(self, ids: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
        """(each article's first chunk row, its number of chunks) when the chunks sit at rows 0, 1, 2... article
        after article in the order of ``ids`` (the stored order), each article's in chunk order, as every build
        writes them; else None. Read as one number a chunk (its row less its ordinal: the row of its article's
        first chunk) and the article of each first chunk."""
        first_of_row = np.fromiter(self._values("SELECT id - ordinal FROM chunks ORDER BY id"), np.int64)
        owners = list(self._values("SELECT article_id FROM chunks WHERE ordinal = 0 ORDER BY id"))
        total = len(first_of_row)
        lowest_and_highest = "SELECT (SELECT MIN(id) FROM chunks), (SELECT MAX(id) FROM chunks)"  # two lookups
        if total and next(self._query(lowest_and_highest)) != (0, total - 1):
            return None  # the rows (one a chunk) are not 0, 1, 2...
        starts = np.flatnonzero(first_of_row == np.arange(total))  # the rows of first chunks
        counts = np.diff(np.append(starts, total))
        consecutive = len(starts) == len(owners) and np.array_equal(first_of_row, np.repeat(starts, counts))
        if not consecutive or (total and starts[0] != 0):
            return None
        if owners == ids:
            return starts, counts
        places = _places(owners, ids)  # some articles have no chunk (no text)
        if places is None:
            return None
        every_start, every_count = np.zeros(len(ids), dtype=np.int64), np.zeros(len(ids), dtype=np.int64)
        every_start[places], every_count[places] = starts, counts
        return every_start, every_count

    def _values(self, sql: str) -> Iterator:
        """The values of a one-column read, in order."""
        return itertools.chain.from_iterable(itertools.chain.from_iterable(self._blocks(sql)))

    def _blocks(self, sql: str, block: int = 16384) -> Iterator[list[tuple]]:
        """The rows of a read, ``block`` at a time; a damaged file raises IndexCorruptError."""
        try:
            cursor = self._db.execute(sql)
            while read := cursor.fetchmany(block):
                yield read
        except sqlite3.DatabaseError as exc:
            raise self._damaged(exc) from exc

    def story_copies(self, article_ids: Iterable[str]) -> dict[str, list[Article]]:
        """For each given article, the other articles of its story (republished copies), oldest first."""
        ids = list(dict.fromkeys(article_ids))
        rows = self._query(
            f"SELECT a.id, {_columns('b')} FROM articles a JOIN articles b ON b.story_id = a.story_id AND b.id != a.id "
            f"WHERE a.id IN ({_placeholders(ids)}) ORDER BY b.rowid",
            ids,
        )
        copies: dict[str, list[Article]] = {article_id: [] for article_id in ids}
        for row in rows:
            copies[row[0]].append(_article(row[1:]))
        return copies

    def story_of(self, article_ids: Iterable[str]) -> dict[str, str]:
        ids = list(dict.fromkeys(article_ids))
        return dict(self._query(f"SELECT id, story_id FROM articles WHERE id IN ({_placeholders(ids)})", ids))

    def article(self, article_id: str) -> Article | None:
        row = next(self._query(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = ?", (article_id,)), None)
        return _article(row) if row else None

    def articles(self) -> Iterator[Article]:
        for row in self._query(f"SELECT {_ARTICLE_COLUMNS} FROM articles ORDER BY rowid"):
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
        articles = next(self._query("SELECT COUNT(*) FROM articles"))[0]
        chunks = next(self._query("SELECT COUNT(*) FROM chunks"))[0]
        return articles, chunks

    def sources(self) -> dict[str, int]:
        rows = self._query("SELECT source, COUNT(*) FROM articles GROUP BY source ORDER BY COUNT(*) DESC, source")
        return {source or "unknown outlet": count for source, count in rows}

    def newest_published(self) -> str:
        row = next(self._query("SELECT MAX(published) FROM articles WHERE published != ''"))
        return row[0] or ""


class _SignatureTable:
    """The stored signatures (uint64 values below 2**31 as little-endian blobs, one an article) read into one uint32
    array a block of articles at a time; a blob of another length, or a value out of range, is damage."""

    def __init__(self, count: int, damaged: Callable[[str], Exception]) -> None:
        self._table = np.zeros((count, 0), dtype=np.uint32)
        self._filled = 0
        self._damaged = damaged

    def append(self, blobs: Sequence[bytes]) -> None:
        if self._filled == 0 and blobs:
            self._table = np.empty((len(self._table), len(blobs[0]) // 8 if type(blobs[0]) is bytes else 0), np.uint32)
        width = self._table.shape[1] * 8
        if self._filled + len(blobs) > len(self._table) or any(type(blob) is not bytes for blob in blobs):
            raise self._damaged("an article's MinHash signature is damaged")
        if set(map(len, blobs)) != {width}:
            raise self._damaged("an article's MinHash signature is damaged")
        values = np.frombuffer(b"".join(blobs), dtype="<u8").reshape(len(blobs), -1)
        if values.size and int(values.max()) >= 2**31:
            raise self._damaged("an article's MinHash signature is damaged")
        self._table[self._filled : self._filled + len(blobs)] = values
        self._filled += len(blobs)

    def done(self) -> np.ndarray:
        if self._filled != len(self._table):
            raise self._damaged("an article's MinHash signature is damaged")
        return self._table


def _places(wanted: list[str], ids: list[str]) -> np.ndarray | None:
    """The positions in ``ids`` of ``wanted``, found in that order (None when they are not all there in order)."""
    places: list[int] = []
    at = 0
    for article_id in wanted:
        while at < len(ids) and ids[at] != article_id:
            at += 1
        if at == len(ids):
            return None
        places.append(at)
        at += 1
    return np.array(places, dtype=np.int64)
