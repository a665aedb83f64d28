"""The terminal chat: with no Telegram token, ask the articles from the command line.

Answers are the bot's answers, as plain text (``index.render.answer_as_text``). Questions come
from an interactive prompt when standard input is a terminal, else one per line, so
``echo "who met Haftar?" | python -m bot`` works. Progress and prompts go to standard
error, answers to standard output.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import TextIO

from index import Engine, LlmAnswerer, ProgressBars, QuestionError

from .formatting import answer_as_text


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
    llm: LlmAnswerer | None = None,
) -> int:
    """Build the index from ``sources`` (files, folders, URLs, sources files; URLs fetched with the engine's settings)
    if there is none, then answer questions until input ends; with ``llm``, answers written by the LLM where
    they pass verification, each with a line saying where it came from."""
    problem = None if not engine.has_index() else engine.index_problem()
    if not engine.has_index() or problem:
        why = f"{problem} Rebuilding it" if problem else "No index yet; building one"
        print(f"{why} from {', '.join(sources)}…", file=stderr, flush=True)
        with ProgressBars(stderr) as progress:
            report = engine.update(sources, replace_all=True, progress=progress)
        for skipped in report.problems:
            print(str(skipped), file=stderr, flush=True)
        print(report.summary(), file=stderr, flush=True)
    interactive = stdin.isatty()
    if interactive:
        print("Ask a question about the articles (Ctrl-D to quit).", file=stderr, flush=True)
    for question in _questions(stdin, stderr, interactive):
        try:
            if llm is None:
                reply = answer_as_text(engine.ask(question))
            else:
                extractive, written = asyncio.run(engine.ask_with_llm(question, llm))
                reply = f"{answer_as_text(written.shown(extractive))}\n\n{written.origin}"
        except QuestionError as exc:
            reply = str(exc)
        print(reply, end="\n\n", file=stdout, flush=True)
    return 0
