"""The fetch state file: per URL, the validators of its last download and what it gave.

See ``fetching.py`` for how the state is trusted only while the index still holds what it records.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from index.sources.netguard import Download

logger = logging.getLogger(__name__)
STATE_VERSION = 2  # version 1 records had no article ids; such a file is ignored (all is downloaded once)


class FetchState:
    """Per-URL validators, content hashes and feed entry fingerprints, kept in a JSON file."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._urls: dict[str, dict[str, Any]] = {}
        if path is not None and path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if data.get("version") == STATE_VERSION:
                    self._urls = dict(data["urls"])
                else:
                    logger.info("ignoring fetch state %s of version %s", path, data.get("version"))
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                logger.warning("ignoring unreadable fetch state %s: %s", path, exc)

    def get(self, url: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._urls.get(url, {}))

    def put(self, url: str, record: dict[str, Any] | None) -> None:
        with self._lock:
            if record:
                self._urls[url] = record
            else:
                self._urls.pop(url, None)

    def forget_validators(self, url: str) -> None:
        with self._lock:
            for key in ("etag", "last_modified"):
                self._urls.get(url, {}).pop(key, None)

    def save(self) -> None:
        if self._path is None:
            return
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            data = json.dumps({"version": STATE_VERSION, "urls": self._urls}, ensure_ascii=False, sort_keys=True)
        fd, tmp = tempfile.mkstemp(dir=self._path.parent, prefix=f".{self._path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self._path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def conditional_headers(record: dict[str, Any]) -> dict[str, str]:
    """The If-None-Match / If-Modified-Since headers of a URL's record."""
    headers = {}
    if record.get("etag"):
        headers["If-None-Match"] = record["etag"]
    if record.get("last_modified"):
        headers["If-Modified-Since"] = record["last_modified"]
    return headers


def download_validators(download: Download) -> dict[str, Any]:
    """The ETag and Last-Modified a download came with, to remember."""
    return {k: v for k, v in (("etag", download.etag), ("last_modified", download.last_modified)) if v}
