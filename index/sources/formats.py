"""The article formats: plain text, Markdown, HTML and JSON Lines records, each turned into an Article.

Each parser takes decoded text and raises NotAnArticle, whose message is the one-sentence
reason, when the text holds no article.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from index.records import Article
from index.sources.article_checks import has_controls
from index.sources.dates import iso_date

TITLE_CHARS = 120


class NotAnArticle(Exception):
    """A file or line that cannot be used; the message is the reason."""


def decode(data: bytes, offset: int = 0) -> str:
    """UTF-8 text (a leading byte order mark is dropped); other encodings are refused, not guessed."""
    if data.startswith(b"\xef\xbb\xbf"):
        data, offset = data[3:], offset + 3
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotAnArticle(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {offset + exc.start}); save it as UTF-8"
        ) from None


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _strip_blank_lines(text: str) -> str:
    """``text`` without leading and trailing blank lines; the lines in between are untouched."""
    text = re.sub(r"\A(?:[^\S\n]*\n)+", "", text)
    return re.sub(r"(?:\n[^\S\n]*)+\Z", "", text)


def title_from_text(text: str) -> str:
    """The first line of ``text``, cut at a word boundary when it is long."""
    line = text.strip().split("\n", 1)[0].strip()
    if len(line) <= TITLE_CHARS:
        return line
    cut = line.rfind(" ", 0, TITLE_CHARS)
    return line[: cut if cut > TITLE_CHARS // 2 else TITLE_CHARS].rstrip() + "…"


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
        raise NotAnArticle("has a title line but no article text after it")
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
    heading = _HEADING.match(lines[heading_at]) if heading_at is not None else None
    if heading_at is not None and heading is not None:
        title = title or heading.group(1).strip()
        del lines[heading_at]
    body = _strip_blank_lines("\n".join(lines))
    if not body.strip():
        raise NotAnArticle("has no article text besides its title")
    return Article(
        id=article_id,
        title=title or title_from_text(body),
        text=body,
        source=fields.get("source", ""),
        url=fields.get("url", ""),
        published=iso_date(fields.get("published") or fields.get("date", "")),
        author=fields.get("author", ""),
        origin=origin,
    )


# HTML ---------------------------------------------------------------------------------


def _html_article(text: str, article_id: str, origin: str) -> Article:
    """Main text and metadata of an HTML page (``web_pages.py``), offline, from the file alone."""
    from index.sources.web_pages import UnreadablePage, extract_page  # lxml and readability: only for HTML

    try:
        page = extract_page(text)
    except UnreadablePage as exc:
        raise NotAnArticle(str(exc)) from None
    if not page.text:
        raise NotAnArticle("has no article text that could be extracted")
    return Article(
        id=article_id,
        title=page.title or title_from_text(page.text),
        text=page.text,
        source=page.site_name,  # else the host name of its canonical URL
        url=page.url,
        published=page.published,
        author=page.author,
        origin=origin,
    )


PARSERS: dict[str, Callable[[str, str, str], Article]] = {
    "txt": _txt_article,
    "md": _md_article,
    "html": _html_article,
}


# JSON Lines ---------------------------------------------------------------------------


_JSON_KINDS = {dict: "an object", list: "a list", bool: "true or false", float: "a decimal number"}


def jsonl_article(line: str, origin: str) -> Article:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        reason = f"is not valid JSON ({exc.msg} at column {exc.colno}); write one JSON object per line"
        raise NotAnArticle(reason) from None
    except RecursionError:
        raise NotAnArticle("nests JSON too deeply to read; write one flat JSON object per line") from None
    if not isinstance(record, dict):
        raise NotAnArticle(f"is a JSON {type(record).__name__}, not an object with 'id' and 'text'")
    for field in ("id", "text"):
        if record.get(field) in (None, ""):
            raise NotAnArticle(f"has no {field!r}; every line needs 'id' and 'text'")
    article_id = record["id"]
    if not isinstance(article_id, (str, int)) or isinstance(article_id, bool):
        kind = _JSON_KINDS.get(type(article_id), type(article_id).__name__)
        raise NotAnArticle(f"has {kind} as 'id'; use a string or a whole number")
    article_id = str(article_id)
    if not article_id.strip():
        raise NotAnArticle("has a blank 'id'; every line needs 'id' and 'text'")
    if has_controls(article_id):
        raise NotAnArticle("has control characters in its 'id'; use visible characters only")
    if not isinstance(record["text"], str):
        raise NotAnArticle(f"has a {type(record['text']).__name__} as 'text', not a string")
    text = normalise_newlines(record["text"]).strip()
    if not text:
        raise NotAnArticle("has an empty 'text'")
    return Article(
        id=article_id,
        title=_field(record, "title") or title_from_text(text),
        text=text,
        source=_field(record, "source"),
        url=_field(record, "url"),
        published=iso_date(_field(record, "published")),
        author=_field(record, "author"),
        origin=origin,
    )


def _field(record: dict, name: str) -> str:
    value = record.get(name)
    return str(value).strip() if isinstance(value, (str, int, float)) and not isinstance(value, bool) else ""
