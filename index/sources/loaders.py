"""Load articles from plain text, Markdown, HTML and JSON Lines files, and from folders of them.

Bad input never stops a load: every file or line that cannot be used becomes a
``LoadProblem`` with its origin and a one-sentence reason, and the rest still loads.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

from index.records import Article, LoadProblem

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
_TITLE_CHARS = 120


@dataclass
class LoadResult:
    """The articles that loaded, and the inputs that were skipped."""

    articles: list[Article]
    problems: list[LoadProblem]


class _Skip(Exception):
    """A file or line that cannot be used; the message is the reason."""


def load_articles(sources: Iterable[str | Path]) -> LoadResult:
    """Load every article in ``sources`` (files, or folders walked recursively)."""
    result = LoadResult(articles=[], problems=[])
    first_seen: dict[str, str] = {}
    loaded_files: set[Path] = set()
    for source in sources:
        for item in _files(Path(source)):
            if isinstance(item, LoadProblem):
                result.problems.append(item)
                continue
            path, default_id = item
            if path.resolve() in loaded_files:
                continue  # the same file named twice, e.g. directly and through its folder
            loaded_files.add(path.resolve())
            for loaded in _load_file(path, default_id):
                if isinstance(loaded, LoadProblem):
                    result.problems.append(loaded)
                elif loaded.id in first_seen:
                    first = first_seen[loaded.id]
                    reason = f"duplicate id {loaded.id!r}, first seen in {first}; give each article its own id"
                    result.problems.append(LoadProblem(loaded.origin, reason))
                else:
                    first_seen[loaded.id] = loaded.origin
                    result.articles.append(loaded)
    return result


def _extension(path: Path) -> str:
    name = path.name.lower()
    return ".jsonl.gz" if name.endswith(".jsonl.gz") else path.suffix.lower()


def _without_extension(name: str, extension: str) -> str:
    return name[: len(name) - len(extension)] if extension else name


def _files(source: Path) -> Iterator[tuple[Path, str] | LoadProblem]:
    """The article files a source names, each with the id its article gets by default."""
    if source.is_dir():
        yield from _walk(source)
    elif not source.exists():
        yield LoadProblem(str(source), "does not exist; check the path")
    elif _extension(source) not in _KINDS:
        yield LoadProblem(str(source), f"has an unsupported extension; use {_SUPPORTED}")
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
        yield LoadProblem(str(error.filename), f"could not be read ({error.strerror}); check its permissions")
    if not found and not errors:
        yield LoadProblem(str(root), f"contains no article files ({_SUPPORTED})")
    for relative, path in sorted(found):
        yield path, relative


def _load_file(path: Path, default_id: str) -> Iterator[Article | LoadProblem]:
    origin = str(path)
    kind = _KINDS[_extension(path)]
    try:
        data = path.read_bytes()
        if _extension(path) == ".jsonl.gz":
            data = _gunzip(data)
        if not data.strip():
            raise _Skip("is empty")
        if kind == "jsonl":
            yield from _jsonl_articles(data, origin)
            return
        text = _normalise_newlines(_decode(data))
        if not text.strip():
            raise _Skip("is empty")
        yield _PARSERS[kind](text, default_id, origin)
    except OSError as exc:
        yield LoadProblem(origin, f"could not be read ({exc.strerror or exc}); check that it is a readable file")
    except _Skip as exc:
        yield LoadProblem(origin, str(exc))


def _gunzip(data: bytes) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise _Skip(f"is not a readable gzip file ({exc}); compress it again with gzip") from None


def _decode(data: bytes, offset: int = 0) -> str:
    """UTF-8 text (a leading byte order mark is dropped); other encodings are refused, not guessed."""
    if data.startswith(b"\xef\xbb\xbf"):
        data, offset = data[3:], offset + 3
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Skip(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {offset + exc.start}); save it as UTF-8"
        ) from None


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _strip_blank_lines(text: str) -> str:
    """``text`` without leading and trailing blank lines; the lines in between are untouched."""
    text = re.sub(r"\A(?:[^\S\n]*\n)+", "", text)
    return re.sub(r"(?:\n[^\S\n]*)+\Z", "", text)


def _title_from_text(text: str) -> str:
    """The first line of ``text``, cut at a word boundary when it is long."""
    line = text.strip().split("\n", 1)[0].strip()
    if len(line) <= _TITLE_CHARS:
        return line
    cut = line.rfind(" ", 0, _TITLE_CHARS)
    return line[: cut if cut > _TITLE_CHARS // 2 else _TITLE_CHARS].rstrip() + "…"


# Plain text ---------------------------------------------------------------------------

_SOURCE_LINE = re.compile(r"^\s*(?:المصدر|source)\s*[:：]\s*(\S.{0,79}?)\s*$", re.IGNORECASE)


def _txt_article(text: str, article_id: str, origin: str) -> Article:
    """Title on the first non-empty line; an optional last line ``المصدر : X`` / ``Source: X``."""
    lines = text.split("\n")
    title_at = next(i for i, line in enumerate(lines) if line.strip())
    last_at = max(i for i, line in enumerate(lines) if line.strip())
    source_line = _SOURCE_LINE.match(lines[last_at]) if last_at > title_at else None
    body_end = last_at if source_line else len(lines)
    body = _strip_blank_lines("\n".join(lines[title_at + 1 : body_end]))
    if not body.strip():
        raise _Skip("has a title line but no article text after it")
    return Article(
        id=article_id,
        title=lines[title_at].strip(),
        text=body,
        source=source_line.group(1) if source_line else "",
        origin=origin,
    )


# Markdown -----------------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^ {0,3}#[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(?:```|~~~)")


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """Simple ``key: value`` front matter, and the text after it."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    fields = {}
    for line in (match.group(1) or "").split("\n"):
        key, colon, value = line.partition(":")
        if colon and key.strip() and not line[0].isspace():
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            fields[key.strip().lower()] = value
    return fields, text[match.end() :]


def _first_heading(lines: list[str], first_only: bool) -> int | None:
    """Index of the first ``# `` heading outside code fences (or only the first non-blank line)."""
    in_fence = False
    for i, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and _HEADING.match(line):
            return i
        if first_only and line.strip():
            return None
    return None


def _md_article(text: str, article_id: str, origin: str) -> Article:
    """Title from front matter ``title:`` or the first ``# `` heading, which leaves the text."""
    fields, body = _front_matter(text)
    lines = body.split("\n")
    title = fields.get("title", "")
    heading_at = _first_heading(lines, first_only=bool(title))
    if heading_at is not None:
        title = title or _HEADING.match(lines[heading_at]).group(1).strip()
        del lines[heading_at]
    body = _strip_blank_lines("\n".join(lines))
    if not body.strip():
        raise _Skip("has no article text besides its title")
    return Article(
        id=article_id,
        title=title or _title_from_text(body),
        text=body,
        source=fields.get("source", ""),
        url=fields.get("url", ""),
        published=_iso_date(fields.get("published") or fields.get("date", "")),
        author=fields.get("author", ""),
        origin=origin,
    )


# HTML ---------------------------------------------------------------------------------


def _html_article(text: str, article_id: str, origin: str) -> Article:
    """Main text and metadata as trafilatura extracts them (offline, from the file alone)."""
    import trafilatura  # imported on first use: it is slow to import

    try:
        document = trafilatura.bare_extraction(text, with_metadata=True, include_comments=False)
    except Exception as exc:  # a third-party parser failing on odd markup is a bad file, not a crash
        raise _Skip(f"could not be parsed as HTML ({type(exc).__name__}: {exc})") from None
    fields = document.as_dict() if document is not None else {}
    body = (fields.get("text") or "").strip()
    title = (fields.get("title") or "").strip()
    if title and body.split("\n", 1)[0].strip() == title:
        body = body[len(body.split("\n", 1)[0]) :].strip()
    if not body:
        raise _Skip("has no article text that could be extracted")
    return Article(
        id=article_id,
        title=title or _title_from_text(body),
        text=body,
        source=fields.get("sitename") or fields.get("hostname") or "",
        url=fields.get("url") or "",
        published=_iso_date(fields.get("date") or ""),
        author=fields.get("author") or "",
        origin=origin,
    )


_PARSERS: dict[str, Callable[[str, str, str], Article]] = {
    "txt": _txt_article,
    "md": _md_article,
    "html": _html_article,
}


# JSON Lines ---------------------------------------------------------------------------


def _jsonl_articles(data: bytes, origin: str) -> Iterator[Article | LoadProblem]:
    """One article per line; a bad line is a problem and the other lines still load."""
    offset = 0
    for number, raw in enumerate(data.split(b"\n"), start=1):
        line_origin = f"{origin}:{number}"
        line_offset, offset = offset, offset + len(raw) + 1
        if not raw.strip():
            continue
        try:
            yield _jsonl_article(_decode(raw, line_offset), line_origin)
        except _Skip as exc:
            yield LoadProblem(line_origin, str(exc))


def _jsonl_article(line: str, origin: str) -> Article:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _Skip(f"is not valid JSON ({exc.msg} at column {exc.colno}); write one JSON object per line") from None
    if not isinstance(record, dict):
        raise _Skip(f"is a JSON {type(record).__name__}, not an object with 'id' and 'text'")
    for field in ("id", "text"):
        if record.get(field) in (None, ""):
            raise _Skip(f"has no {field!r}; every line needs 'id' and 'text'")
    if not isinstance(record["text"], str):
        raise _Skip(f"has a {type(record['text']).__name__} as 'text', not a string")
    text = _normalise_newlines(record["text"]).strip()
    if not text:
        raise _Skip("has an empty 'text'")
    return Article(
        id=str(record["id"]),
        title=_field(record, "title") or _title_from_text(text),
        text=text,
        source=_field(record, "source"),
        url=_field(record, "url"),
        published=_iso_date(_field(record, "published")),
        author=_field(record, "author"),
        origin=origin,
    )


def _field(record: dict, name: str) -> str:
    value = record.get(name)
    return str(value).strip() if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""


# Dates --------------------------------------------------------------------------------

_DATE_FORMATS = ("%Y/%m/%d", "%d.%m.%Y", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y")
_ARABIC_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("يناير", "كانون الثاني"),
            ("فبراير", "شباط"),
            ("مارس", "آذار"),
            ("أبريل", "ابريل", "إبريل", "نيسان"),
            ("مايو", "أيار"),
            ("يونيو", "حزيران"),
            ("يوليو", "تموز"),
            ("أغسطس", "اغسطس", "آب"),
            ("سبتمبر", "أيلول"),
            ("أكتوبر", "اكتوبر", "تشرين الأول"),
            ("نوفمبر", "تشرين الثاني"),
            ("ديسمبر", "كانون الأول"),
        ),
        start=1,
    )
    for name in names
}
_ARABIC_DATE = re.compile(r"^(\d{1,2})\s+(.+?)\s+(\d{4})$")


def _iso_date(value: str) -> str:
    """``value`` as ISO 8601 (a date, or a datetime when a time is given); "" when unknown."""
    value = unicodedata.normalize("NFKC", value).strip()
    value = "".join(str(unicodedata.digit(ch)) if ch.isdigit() else ch for ch in value)  # ٢٠١٩ -> 2019
    if not value:
        return ""
    try:
        parsed = datetime.fromisoformat(value)
        return parsed.date().isoformat() if len(value) <= 10 else parsed.isoformat()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(value).isoformat()  # e-mail and RSS dates: "Mon, 08 Oct 2018 13:40:35 GMT"
    except (TypeError, ValueError, IndexError):
        pass
    arabic = _ARABIC_DATE.match(value)
    if arabic and arabic.group(2) in _ARABIC_MONTHS:
        value = f"{arabic.group(3)}/{_ARABIC_MONTHS[arabic.group(2)]}/{arabic.group(1)}"
    for form in _DATE_FORMATS:
        try:
            return datetime.strptime(value, form).date().isoformat()
        except ValueError:
            continue
    return ""
