"""Load articles from plain text, Markdown, HTML and JSON Lines files, and from folders of them.

Bad input never stops a load: every file or line that cannot be used becomes a
``LoadProblem`` with its origin and a one-sentence reason, and the rest still loads.
Inputs are bounded by ``LoadLimits``: no file, line or gzip stream is held beyond its limit,
and what is not a regular file (a FIFO, a device, a socket) is skipped without being opened.
"""

from __future__ import annotations

import gzip
import os
import re
import stat
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

from index.records import Article, LoadProblem, UniqueIds
from index.sources.article_checks import clean_text, has_controls, has_letters, is_web_url
from index.sources.formats import PARSERS, NotAnArticle, decode, jsonl_article, normalise_newlines, title_from_text
from index.sources.local_files import (
    LineCapReached,
    Unreadable,
    bounded_lines,
    not_regular,
    open_regular,
    read_at_most,
    safe_text,
    stat_reason,
)

_KINDS = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".jsonl": "jsonl",
    ".jsonl.gz": "jsonl",
}
_SUPPORTED = ".txt, .md, .markdown, .html, .htm, .jsonl or .jsonl.gz"
_LISTED_PER_FILE = 50  # problems of one file listed one by one; the rest are counted
_BARREN_RUN = 10_000  # lines in a row that give no article, after which a file is given up


@dataclass(frozen=True)
class LoadLimits:
    """How much one input may hold (IndexSettings reads them from LOAD_MAX_* settings)."""

    max_article_chars: int = 1_000_000  # characters of one article's text
    max_decompressed_bytes: int = 500_000_000  # bytes decompressed from one .jsonl.gz
    max_line_bytes: int = 8_000_000  # bytes of one line of a JSON Lines file

    @property
    def max_file_bytes(self) -> int:
        """The largest article file read: UTF-8 takes at most 4 bytes a character."""
        return 4 * self.max_article_chars


@dataclass
class LoadResult:
    """The articles that loaded, and the inputs that were skipped."""

    articles: list[Article]
    problems: list[LoadProblem]


class _FileEnd(Exception):
    """A file stopped being read; the message is the reason. With ``discard``, the problems of its
    lines are dropped too (they come from the same damage)."""

    def __init__(self, reason: str, discard: bool = False) -> None:
        super().__init__(reason)
        self.discard = discard


def load_articles(sources: Iterable[str | Path], limits: LoadLimits | None = None) -> LoadResult:
    """Load every article in ``sources`` (files, or folders walked recursively), within ``limits``."""
    result = LoadResult(articles=[], problems=[])
    _load(sources, limits or LoadLimits(), result.articles.append, result.problems)
    return result


def load_into(
    sources: Iterable[str | Path], add: Callable[[Article], None], limits: LoadLimits | None = None
) -> list[LoadProblem]:
    """``load_articles`` giving each article to ``add`` as it loads (a build's: ``ArticleSpool.append``, so the
    texts stay out of the process's memory); the problems."""
    problems: list[LoadProblem] = []
    _load(sources, limits or LoadLimits(), add, problems)
    return problems


def _load(
    sources: Iterable[str | Path], limits: LoadLimits, add: Callable[[Article], None], problems: list[LoadProblem]
) -> None:
    ids = UniqueIds()
    loaded_files: set[tuple[int, int]] = set()
    for source in sources:
        for item in _files(Path(source)):
            if isinstance(item, LoadProblem):
                problems.append(item)
                continue
            path, default_id = item
            identity = _file_identity(path)
            if identity in loaded_files:
                continue  # the same file named twice, e.g. directly and through its folder
            if identity is not None:
                loaded_files.add(identity)
            _take_file(add, problems, ids, path, default_id, limits)


def _take_file(
    add: Callable[[Article], None],
    problems: list[LoadProblem],
    ids: UniqueIds,
    path: Path,
    default_id: str,
    limits: LoadLimits,
) -> None:
    """Give one file's articles to ``add`` and its problems to ``problems``, listing at most ``_LISTED_PER_FILE``
    of them, and give the file up after ``_BARREN_RUN`` lines in a row that gave no article."""
    origin = _display(path)
    first_problem = len(problems)
    listed = more = barren = 0
    ending: LoadProblem | None = None
    items = _load_file(path, default_id, origin, limits)
    try:
        for item in items:
            if isinstance(item, Article):
                duplicate = ids.claim(item)
                if duplicate is None:
                    add(item)
                    barren = 0
                    continue
                item = duplicate
            if item is None or item.skipped:
                barren += 1
            if item is not None and listed < _LISTED_PER_FILE:
                problems.append(item)
                listed += 1
            elif item is not None:
                more += 1
            if barren >= _BARREN_RUN:
                reason = (
                    f"stopped reading: {_BARREN_RUN:,} lines in a row gave no article (blank, invalid or duplicate "
                    "lines); the lines before were loaded: check the file"
                )
                ending = LoadProblem(origin, reason)
                break
    except _FileEnd as end:
        if end.discard:
            del problems[first_problem:]
            more = 0
        ending = LoadProblem(origin, str(end))
    finally:
        items.close()
    if more:
        reason = f"{more:,} more lines of this file were skipped (the first {_LISTED_PER_FILE} problems are listed)"
        problems.append(LoadProblem(origin, reason))
    if ending is not None:
        problems.append(ending)


def _file_identity(path: Path) -> tuple[int, int] | None:
    """Device and inode of a regular file (the same file under two names is loaded once); None for the rest."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISREG(info.st_mode) else None


def _display(path: Path | str) -> str:
    """A path as it can be stored and shown: valid Unicode, no control characters."""
    return re.sub("[\x00-\x1f\x7f-\x9f]", "\ufffd", safe_text(str(path)))


def _extension(path: Path) -> str:
    name = path.name.lower()
    return ".jsonl.gz" if name.endswith(".jsonl.gz") else path.suffix.lower()


def _without_extension(name: str, extension: str) -> str:
    return name[: len(name) - len(extension)] if extension else name


def _files(source: Path) -> Iterator[tuple[Path, str] | LoadProblem]:
    """The article files a source names, each with the id its article gets by default."""
    try:
        mode = os.stat(source).st_mode
    except FileNotFoundError:
        yield LoadProblem(_display(source), "does not exist; check the path")
        return
    except OSError as exc:
        yield LoadProblem(_display(source), stat_reason(exc))
        return
    if stat.S_ISDIR(mode):
        yield from _walk(source)
    elif not_regular(mode):
        yield LoadProblem(_display(source), not_regular(mode))
    elif _extension(source) not in _KINDS:
        yield LoadProblem(_display(source), f"has an unsupported extension; use {_SUPPORTED}")
    else:
        yield source, _without_extension(source.name, _extension(source))


def _walk(root: Path) -> Iterator[tuple[Path, str] | LoadProblem]:
    """Supported, non-hidden files under ``root`` in sorted order; README files are not articles."""
    errors: list[OSError] = []
    found = []
    for folder, subfolders, names in os.walk(root, onerror=errors.append):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in names:
            path = Path(folder, name)
            extension = _extension(path)
            stem = _without_extension(name, extension)
            if name.startswith(".") or extension not in _KINDS or stem.lower() == "readme":
                continue
            relative = _without_extension(path.relative_to(root).as_posix(), extension)
            found.append((relative, path))
    for error in errors:
        reason = f"could not be read ({error.strerror}); check its permissions"
        yield LoadProblem(_display(error.filename), reason)
    if not found and not errors:
        yield LoadProblem(_display(root), f"contains no article files ({_SUPPORTED})")
    for relative, path in sorted(found):
        yield path, relative


_Items = Generator[Article | LoadProblem | None, None, None]  # what reading one file gives, None for a blank line


def _load_file(path: Path, default_id: str, origin: str, limits: LoadLimits) -> _Items:
    """The articles of one file and its problems; None for each blank line of a JSON Lines file.
    Raises _FileEnd when a JSON Lines file stops being read early."""
    kind = _KINDS[_extension(path)]
    try:
        if kind != "jsonl" and has_controls(default_id):
            raise NotAnArticle("has control characters in its name, which would be its id; rename the file")
        with open_regular(path) as handle:
            if kind == "jsonl":
                yield from _jsonl_file(handle, origin, limits, compressed=_extension(path) == ".jsonl.gz")
                return
            data = read_at_most(handle, limits.max_file_bytes)
        if data is None:
            raise NotAnArticle(
                f"is larger than {limits.max_file_bytes:,} bytes, more than an article of "
                f"{limits.max_article_chars:,} characters (LOAD_MAX_ARTICLE_CHARS) can take: "
                "split the article or raise the limit"
            )
        if not data.strip():
            raise NotAnArticle("is empty")
        text = normalise_newlines(decode(data))
        if not text.strip():
            raise NotAnArticle("is empty")
        if len(text) > limits.max_article_chars:
            raise NotAnArticle(_too_long("is longer than", limits))
        article, note = _checked(PARSERS[kind](text, safe_text(default_id), origin), limits)
        yield article
        if note is not None:
            yield note
    except (NotAnArticle, Unreadable) as exc:
        yield LoadProblem(origin, str(exc))
    except OSError as exc:
        yield LoadProblem(origin, f"could not be read ({exc.strerror or exc}); check that it is a readable file")


def _too_long(what: str, limits: LoadLimits) -> str:
    limit = f"{limits.max_article_chars:,} characters (LOAD_MAX_ARTICLE_CHARS)"
    return f"{what} {limit}: split the article or raise the limit"


def _checked(article: Article, limits: LoadLimits) -> tuple[Article, LoadProblem | None]:
    """``article`` with its text made safe (valid Unicode, no control characters) and a bad URL
    dropped (with a note saying so); NotAnArticle when it has no letters or is too long."""
    text = clean_text(article.text).strip()
    if not has_letters(text):
        raise NotAnArticle("has no text with letters in it (only symbols, markup or invisible characters)")
    if len(text) > limits.max_article_chars:
        raise NotAnArticle(_too_long("has a text longer than", limits))
    url, note = article.url.strip(), None
    if url and not is_web_url(url):
        shown = repr(url if len(url) <= 80 else url[:80] + "…")
        reason = f"has a 'url' that is not a web address ({shown}); the article is kept without its link"
        url, note = "", LoadProblem(article.origin, reason, skipped=False)
    title = " ".join(clean_text(article.title).split()) or title_from_text(text)
    cleaned = replace(
        article,
        id=clean_text(article.id),
        title=title,
        text=text,
        source=" ".join(clean_text(article.source).split()),
        author=" ".join(clean_text(article.author).split()),
        url=url,
    )
    return cleaned, note


# JSON Lines ---------------------------------------------------------------------------


def _jsonl_file(handle: BinaryIO, origin: str, limits: LoadLimits, compressed: bool) -> _Items:
    """One article per line, read a line at a time; a bad line is a problem and the other lines still load."""
    stream: BinaryIO = gzip.GzipFile(fileobj=handle, mode="rb") if compressed else handle  # type: ignore[assignment]
    cap = limits.max_decompressed_bytes if compressed else None
    anything = False
    repeated: tuple[bytes, Article, LoadProblem | None] | None = None  # the last line that gave an article
    try:
        for number, offset, raw in bounded_lines(stream, limits.max_line_bytes, cap):
            line_origin = f"{origin}:{number}"
            if raw is None:
                anything = True
                reason = (
                    f"is longer than {limits.max_line_bytes:,} bytes (LOAD_MAX_LINE_BYTES): "
                    "shorten the article or raise the limit"
                )
                yield LoadProblem(line_origin, reason)
                continue
            if not raw.strip():
                yield None
                continue
            anything = True
            if repeated is not None and raw == repeated[0]:  # the same line again (a flood of copies): not parsed again
                article = Article(**{**vars(repeated[1]), "origin": line_origin})  # dataclasses.replace is slower
                note = repeated[2] and replace(repeated[2], origin=line_origin)
            else:
                try:
                    article, note = _checked(jsonl_article(decode(raw, offset), line_origin), limits)
                except NotAnArticle as exc:
                    yield LoadProblem(line_origin, str(exc))
                    continue
                repeated = (raw, article, note)
            yield article
            if note is not None:
                yield note
    except LineCapReached:
        raise _FileEnd(
            f"stopped after {cap:,} bytes of decompressed text (LOAD_MAX_DECOMPRESSED_BYTES); "
            "the lines before were loaded: split the file or raise the limit"
        ) from None
    except (OSError, EOFError, zlib.error) as exc:
        if not compressed:
            raise
        raise _FileEnd(f"is not a readable gzip file ({exc}); compress it again with gzip", discard=True) from None
    if not anything:
        yield LoadProblem(origin, "is empty")
