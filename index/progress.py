"""Progress of long builds on a terminal: a tqdm bar per stage, or a few plain lines in logs.

The engine reports progress as calls ``progress(stage, done, total)`` ("fetching", "embedding", "lexicon",
"indexing", "questions"). ``ProgressBars`` is such a callable for a text stream (standard error)::

    with ProgressBars(sys.stderr) as progress:
        engine.update(sources, replace_all=True, progress=progress)

On a terminal each stage gets a tqdm bar, left on screen when the stage ends, so a finished build reads as one
line per stage. Elsewhere (a pipe, a log file, CI) tqdm's redrawn bar would be one long line of carriage returns,
so each stage prints a line every ``every`` seconds while it runs and one when it ends, in tqdm's own meter
format: ``embedding: 100% 7/7 [00:01<00:00, 5.20chunk/s]``. A short build prints a line per stage.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from tqdm import tqdm

UNITS = {
    "fetching": "source",
    "embedding": "chunk",
    "sentences": "sentence",
    "sentences, query prompt": "sentence",
    "lexicon": "word",
    "indexing": "step",
    "questions": "question",
}
PLAIN_FORMAT = "{desc}: {percentage:3.0f}% {n_fmt}/{total_fmt} [{elapsed}<{remaining}, {rate_fmt}]"
PLAIN_FORMAT_NO_TOTAL = "{desc}: {n_fmt} [{elapsed}, {rate_fmt}]"


class ProgressBars:
    """A ``(stage, done, total)`` progress callback drawing on ``stream``; use it as a context manager so the
    last stage is closed (its bar finished, its last line printed)."""

    def __init__(self, stream: TextIO, every: float = 30.0, interactive: bool | None = None) -> None:
        self.stream = stream
        self.every = every  # seconds between plain lines within a stage
        self.interactive = _is_terminal(stream) if interactive is None else interactive
        self._bar: tqdm | None = None
        self._stage = ""
        self._done = self._total = 0
        self._started = self._printed = 0.0
        self._shown: tuple[int, int] | None = None  # the (done, total) of the last plain line

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self._stage:
            self.close()
            self._stage = stage
            self._started = self._printed = time.monotonic()
            if self.interactive:
                from tqdm import tqdm

                self._bar = tqdm(total=total, desc=stage, unit=UNITS.get(stage, "step"), file=self.stream, leave=True)
        self._done, self._total = done, total
        if self._bar is not None:
            if total != self._bar.total:  # fetching: feeds add entries as they are read
                self._bar.total = total
                self._bar.refresh()
            self._bar.update(done - self._bar.n)
        elif time.monotonic() - self._printed >= self.every:
            self._print_line()

    def close(self) -> None:
        """End the current stage: finish its bar, or print its last line."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._stage and self._shown != (self._done, self._total):
            self._print_line()
        self._stage, self._shown = "", None

    def __enter__(self) -> ProgressBars:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _print_line(self) -> None:
        from tqdm import tqdm

        elapsed = time.monotonic() - self._started
        meter = tqdm.format_meter(
            self._done,
            self._total or None,
            elapsed,
            prefix=self._stage,
            unit=UNITS.get(self._stage, "step"),
            bar_format=PLAIN_FORMAT if self._total else PLAIN_FORMAT_NO_TOTAL,
        )
        print(meter, file=self.stream, flush=True)
        self._printed, self._shown = time.monotonic(), (self._done, self._total)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
