"""Reading local article files without trusting them: regular files only, bounded reads, safe names.

A FIFO, a device or a socket is refused from ``os.stat`` before it is opened, and a file is
opened without blocking and checked again from its descriptor, so nothing can hang a load or
stream forever. Reads never hold more than a limit: whole files up to a byte cap, JSON Lines
one line at a time up to a line cap, and a gzip stream up to a cap on the decompressed bytes.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

SYMLINK_LOOP = "is a symbolic link that leads back to itself; fix or remove the link"
_KINDS_OF_FILE = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


class Unreadable(Exception):
    """A file that must not or cannot be read; the message is the reason, one sentence."""


def safe_text(text: str) -> str:
    """``text`` as valid Unicode: bytes that were not UTF-8 in a file name (kept by Python as lone
    surrogates) become U+FFFD, so the name can be stored and shown."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def not_regular(mode: int) -> str:
    """Why a file of ``mode`` is not loaded when it is not a regular file (a FIFO, a device…), else ""."""
    if stat.S_ISREG(mode):
        return ""
    kind = next((name for test, name in _KINDS_OF_FILE if test(mode)), "an unknown kind of file")
    return f"is not a regular file ({kind}); only regular files are loaded"


def stat_reason(exc: OSError) -> str:
    """The one-sentence reason a path that ``os.stat`` refused cannot be loaded."""
    if exc.errno == errno.ELOOP:
        return SYMLINK_LOOP
    if exc.errno == errno.ENOENT:
        return "could not be read (No such file or directory); check that it is a readable file"
    return f"could not be read ({exc.strerror or exc}); check that it is a readable file"


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading if it is a regular file; else Unreadable, without opening it."""
    try:
        refused = not_regular(os.stat(path).st_mode)
    except OSError as exc:
        raise Unreadable(stat_reason(exc)) from None
    if refused:
        raise Unreadable(refused)
    try:  # non-blocking: should the path have become a FIFO since the stat, opening it cannot hang
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise Unreadable(stat_reason(exc)) from None
    try:
        refused = not_regular(os.fstat(descriptor).st_mode)
        if refused:
            raise Unreadable(refused)
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_at_most(handle: BinaryIO, limit: int) -> bytes | None:
    """The whole content of ``handle``, or None when it is longer than ``limit`` bytes (reading stops there)."""
    data = handle.read(limit + 1)
    return None if len(data) > limit else data


class LineCapReached(Exception):
    """A stream went past its cap on the bytes read."""


def bounded_lines(
    handle: BinaryIO, max_line_bytes: int, max_total_bytes: int | None = None
) -> Iterator[tuple[int, int, bytes | None]]:
    """``(number, offset, line)`` for each line of ``handle``, read with a bounded ``readline``.

    A line longer than ``max_line_bytes`` (without its newline) is read past in pieces and given
    as None. LineCapReached is raised once more than ``max_total_bytes`` were read; the line that
    crossed the cap is not given."""
    total = 0
    number = 0
    while True:
        line = handle.readline(max_line_bytes + 1)
        if not line:
            return
        number += 1
        offset, total = total, total + len(line)
        if max_total_bytes is not None and total > max_total_bytes:
            raise LineCapReached()
        if len(line) - line.endswith(b"\n") <= max_line_bytes:
            yield number, offset, line
            continue
        while not line.endswith(b"\n"):  # the rest of a line that is too long, read past in pieces
            line = handle.readline(max_line_bytes + 1)
            total += len(line)
            if not line:
                break
            if max_total_bytes is not None and total > max_total_bytes:
                raise LineCapReached()
        yield number, offset, None
