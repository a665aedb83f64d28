"""The terminal chat: with no Telegram token, ask the articles from the command line.

Answers are the bot's answers, as plain text (``index.render.answer_as_text``). Questions come
from an interactive prompt when standard input is a terminal, else one per line, so
``echo "who met Haftar?" | python -m bot`` works. Progress and prompts go to standard
error, answers to standard output.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import TextIO

from index import Engine, QuestionError

from .formatting import answer_as_text


class ProgressPrinter:
    """Prints build progress to a stream: a line per stage, and at most one a second within it."""

    def __init__(self, stream: TextIO, every: float = 1.0) -> None:
        self.stream = stream
        self.every = every
        self._stage = ""
        self._printed_at = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == self._stage and now - self._printed_at < self.every and done < total:
            return
        self._stage, self._printed_at = stage, now
        share = f" ({100 * done // total}%)" if total else ""
        print(f"  {stage}: {done} of {total}{share}", file=self.stream, flush=True)


def _questions(stdin: TextIO, stderr: TextIO, interactive: bool) -> Iterator[str]:
    while True:
        if interactive:
            print("Question: ", end="", file=stderr, flush=True)
        line = stdin.readline()
        if not line:
            if interactive:
                print(file=stderr)
            return
        if line.strip():
            yield line.strip()


def run_terminal_chat(
    engine: Engine,
    sources: Sequence[str],
    stdin: TextIO,
    stdout: TextIO,
    stderr: TextIO,
) -> int:
    """Build the index from ``sources`` (files, folders, URLs, sources files; URLs fetched with the engine's settings)
    if there is none, then answer questions until input ends."""
    problem = None if not engine.has_index() else engine.index_problem()
    if not engine.has_index() or problem:
        why = f"{problem} Rebuilding it" if problem else "No index yet; building one"
        print(f"{why} from {', '.join(sources)}…", file=stderr, flush=True)
        report = engine.update(sources, replace_all=True, progress=ProgressPrinter(stderr))
        for problem in report.problems:
            print(str(problem), file=stderr, flush=True)
        print(report.summary(), file=stderr, flush=True)
    interactive = stdin.isatty()
    if interactive:
        print("Ask a question about the articles (Ctrl-D to quit).", file=stderr, flush=True)
    for question in _questions(stdin, stderr, interactive):
        try:
            reply = answer_as_text(engine.ask(question))
        except QuestionError as exc:
            reply = str(exc)
        print(reply, end="\n\n", file=stdout, flush=True)
    return 0
