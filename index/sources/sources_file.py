"""The sources file: one local path, article URL or feed URL a line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from index.errors import SettingsError

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_INLINE_COMMENT = re.compile(r"\s+#.*$")


def classify(source: str) -> Literal["url", "path"]:
    """ "url" for anything with a network scheme (``https://…``), "path" for local paths and ``file://``
    (which ``file_url_refusal`` refuses)."""
    if _URL.match(source) and not is_file_url(source):
        return "url"
    return "path"


def is_file_url(source: str) -> bool:
    """Whether ``source`` is a ``file:`` URL."""
    return source[:5].lower() == "file:"


def file_url_refusal(source: str) -> str | None:
    """Why a ``file:`` URL is refused, as one sentence; None for any other source."""
    if not is_file_url(source):
        return None
    path = unquote(urlsplit(source).path) or "/"
    return f"file:// URLs are not read; give the path itself ({path})"


def read_sources_file(path: str | Path) -> list[str]:
    """The sources listed in ``path``, in order and without repeats; relative paths are made absolute.

    Blank lines and lines starting with ``#`` are ignored, as is `` # comment`` after a source.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(
            f"The sources file {path} could not be read ({exc}); check that it exists and is UTF-8 text."
        ) from exc
    folder = path.resolve().parent
    sources: list[str] = []
    for line in text.splitlines():
        source = _INLINE_COMMENT.sub("", line).strip()
        if not source or source.startswith("#"):
            continue
        if classify(source) == "path" and not is_file_url(source):  # file: URLs are refused where they are used
            source = str(_local_path(source, folder))
        if source not in sources:
            sources.append(source)
    return sources


def _local_path(source: str, folder: Path) -> Path:
    local = Path(source).expanduser()
    return local if local.is_absolute() else (folder / local).resolve()
