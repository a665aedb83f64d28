"""Articles kept outside Python's memory while a build runs (issue 16, bounded build memory).

``ArticleSpool``: the articles a load hands to a build, appended to a temporary file as they load (its name is
removed at once, so nothing is left behind) and read back one at a time with ``os.pread``: page cache, not the
process's own memory. ``ArticleRef``: what a build holds of an article it plans (its id, title, outlet and
date); its text and the rest are read from where the article is kept (a spool, a list, the previous store)
whenever they are asked for, through a ``Shelf`` that keeps the last article read (a build reads each article's
fields and chunks one after another).
"""

from __future__ import annotations

import errno
import os
import tempfile
from array import array
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any, overload

from index.errors import BuildError
from index.records import Article

FIELDS = tuple(field.name for field in fields(Article))
SEPARATOR = b"\xff"  # never in UTF-8, even with lone surrogates passed through
LIGHT_FIELDS = ("id", "title", "source", "published")  # what an ArticleRef holds itself
DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class _SpoolFile:
    """An unnamed temporary file that is only appended to and read at offsets: in ``folder`` when a file can be
    made there, else in the system's temporary folder. A write that fails is a BuildError (nothing was built)."""

    def __init__(self, folder: Path | None) -> None:
        # no name on disk (removed at once): freed when closed, or when the process ends however it ends
        try:
            self._file = tempfile.TemporaryFile(dir=folder, prefix="articles-", suffix=".spool", buffering=0)  # noqa: SIM115
        except OSError:
            if folder is None:
                raise
            self._file = tempfile.TemporaryFile(prefix="articles-", suffix=".spool", buffering=0)  # noqa: SIM115
        self.folder = Path(folder if folder is not None else tempfile.gettempdir())
        self.size = 0

    def append(self, data: bytes) -> tuple[int, int]:
        start = self.size
        view = memoryview(data)
        try:
            while view:
                view = view[os.pwrite(self._file.fileno(), view, self.size) :]
                self.size = start + len(data) - len(view)
        except OSError as exc:
            self.size = start  # the part written is written over by the next record
            unchanged = "the index was left as it was"
            if exc.errno in DISK_FULL:
                raise BuildError(
                    f"The disk holding {self.folder} is full ({exc.strerror}) and the loaded articles cannot be kept "
                    f"there; free some space and try again: {unchanged}."
                ) from exc
            raise BuildError(
                f"The loaded articles cannot be kept in {self.folder} ({exc.strerror}): {unchanged}."
            ) from exc
        return start, self.size

    def read(self, start: int, end: int) -> bytes:
        data = os.pread(self._file.fileno(), end - start, start)
        assert len(data) == end - start, "the spool file was cut short"
        return data

    def close(self) -> None:
        self._file.close()


class ArticleSpool(Sequence[Article]):
    """A sequence of articles held in a temporary file (in ``folder``, else the system's temporary folder):
    16 bytes a record in memory (its start and end in the file, which a ``subset`` shares)."""

    def __init__(self, folder: Path | None = None, *, _file: _SpoolFile | None = None) -> None:
        self._file = _file or _SpoolFile(folder)
        self._bounds = array("q")  # start, end of each record

    def append(self, article: Article) -> None:
        record = SEPARATOR.join(getattr(article, name).encode("utf-8", "surrogatepass") for name in FIELDS)
        self._bounds.extend(self._file.append(record))

    def extend(self, articles: Iterable[Article]) -> None:
        for article in articles:
            self.append(article)

    def subset(self, positions: Iterable[int]) -> ArticleSpool:
        """The articles at ``positions``, in that order, sharing this spool's file (appending to it is allowed)."""
        chosen = ArticleSpool(_file=self._file)
        for position in positions:
            chosen._bounds.extend(self._bounds[2 * position : 2 * position + 2])
        return chosen

    def __len__(self) -> int:
        return len(self._bounds) // 2

    @overload
    def __getitem__(self, position: int) -> Article: ...

    @overload
    def __getitem__(self, position: slice) -> ArticleSpool: ...

    def __getitem__(self, position: int | slice) -> Article | ArticleSpool:
        if isinstance(position, slice):
            return self.subset(range(len(self))[position])
        if not -len(self) <= position < len(self):
            raise IndexError(position)
        position %= len(self)
        record = self._file.read(self._bounds[2 * position], self._bounds[2 * position + 1])
        return Article(*(part.decode("utf-8", "surrogatepass") for part in record.split(SEPARATOR)))

    def __iter__(self) -> Iterator[Article]:
        for position in range(len(self)):
            yield self[position]

    def close(self) -> None:
        """Free the file now (else when the last spool sharing it is gone)."""
        self._file.close()


class Shelf:
    """Where a build finds whole articles by key (a position in a sequence, an id in a store), keeping the last
    one read: reading a text, then the url and the rest of the same article, reads it once."""

    def __init__(self, read: Callable[[Any], Article]) -> None:
        self._read = read
        self._last: tuple[Hashable, Article | None] = (object(), None)

    def __call__(self, key: Hashable) -> Article:
        if self._last[0] != key or self._last[1] is None:
            self._last = (key, self._read(key))
        article = self._last[1]
        assert article is not None
        return article

    @classmethod
    def of(cls, articles: Sequence[Article]) -> Shelf:
        """The articles of a sequence, by position."""
        return cls(articles.__getitem__)


class ArticleRef(Article):
    """An article as a build plans it: it holds its id, title, outlet and date, and reads its text, url, author
    and origin from ``shelf`` (by ``key``) each time they are asked for."""

    def __init__(self, article: Article, shelf: Shelf, key: Hashable) -> None:
        for name in LIGHT_FIELDS:
            object.__setattr__(self, name, getattr(article, name))
        object.__setattr__(self, "_shelf", shelf)
        object.__setattr__(self, "_key", key)

    @classmethod
    def many(cls, shelf: Shelf, fields: Iterable[tuple[str, str, str, str]]) -> list[ArticleRef]:
        """References to many articles of one shelf at once, each from its id, title, outlet and date (its id is
        its key on ``shelf``): as ``ArticleRef(article, shelf, article.id)`` for each, with no ``Article`` made."""
        references = []
        for article_id, title, source, published in fields:
            reference = object.__new__(cls)
            reference.__dict__.update(  # what __init__ sets, at once
                id=article_id, title=title, source=source, published=published, _shelf=shelf, _key=article_id
            )
            references.append(reference)
        return references

    def whole(self) -> Article:
        """The article with every field, as kept."""
        return self._shelf(self._key)  # type: ignore[attr-defined]

    @property
    def text(self) -> str:
        return self.whole().text

    @property
    def url(self) -> str:
        return self.whole().url

    @property
    def author(self) -> str:
        return self.whole().author

    @property
    def origin(self) -> str:
        return self.whole().origin
