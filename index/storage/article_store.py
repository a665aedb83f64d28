"""SQLite storage of articles and chunk spans. A chunk's row id is its row in the vector index."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
    def content_hashes(self) -> dict[str, str]:
        return dict(self._query("SELECT id, content_hash FROM articles"))

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
        count = self.counts()[0]
        rows = self._query("SELECT id, signature FROM articles ORDER BY rowid")
        ids: list[str] = []
        table = np.zeros((count, 0), dtype=np.uint32)
        for start in range(0, count, block):
            read = list(itertools.islice(rows, block))
            blobs = [blob for _, blob in read]
            if start == 0:
                table = np.empty((count, len(blobs[0]) // 8 if blobs else 0), dtype=np.uint32)
            width = table.shape[1] * 8
            if len(read) != min(block, count - start) or any(type(b) is not bytes or len(b) != width for b in blobs):
                raise self._damaged("an article's MinHash signature is damaged")
            values = np.frombuffer(b"".join(blobs), dtype="<u8").reshape(len(read), -1)
            if values.size and int(values.max()) >= 2**31:
                raise self._damaged("an article's MinHash signature is damaged")
            table[start : start + len(read)] = values
            ids += [article_id for article_id, _ in read]
        return ids, table

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
