"""One index build at a time, in a worker thread, with progress and cancellation.

The engine's builds are atomic (a new index is written beside the old one and swapped in
when complete), so questions keep being answered from the old index while a build runs,
and a cancelled or failed build leaves the old index serving.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Sequence

from index.engine import Engine
from index.reports import BuildReport

from .errors import BuildBusyError, BuildCancelledError

_LOG = logging.getLogger(__name__)
BUILD_THREAD_NAME = "index-build"


class IndexBuilder:
    """Runs ``engine.build(sources)`` off the event loop, one build at a time."""

    def __init__(self, engine: Engine, sources: Sequence[str]) -> None:
        self.engine = engine
        self.sources = tuple(sources)
        self.progress: tuple[str, int, int] | None = None  # the last (stage, done, total) reported
        self._task: asyncio.Task[BuildReport] | None = None
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> "asyncio.Task[BuildReport]":
        """Start a build; raises BuildBusyError while another one runs."""
        if self.running:
            raise BuildBusyError("A rebuild of the index is already running; its result will be reported when it ends.")
        self.progress = None
        self._cancel.clear()
        self._task = asyncio.get_running_loop().create_task(self._build(), name=BUILD_THREAD_NAME)
        return self._task

    async def _build(self) -> BuildReport:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[BuildReport] = loop.create_future()

        def work() -> None:
            try:
                report = self.engine.build(self.sources, progress=self._on_progress)
            except BaseException as exc:  # handed to the awaiting coroutine, which re-raises it
                _settle(loop, done, exception=exc)
            else:
                _settle(loop, done, result=report)

        # A daemon thread, so that a build the bot abandons at shutdown never holds the process open.
        self._thread = threading.Thread(target=work, name=BUILD_THREAD_NAME, daemon=True)
        self._thread.start()
        return await done

    def _on_progress(self, stage: str, done: int, total: int) -> None:
        if self._cancel.is_set():
            raise BuildCancelledError("The rebuild was cancelled because the bot is shutting down; the old index is unchanged.")
        self.progress = (stage, done, total)

    async def cancel(self, timeout: float = 10.0) -> None:
        """Ask a running build to stop at its next progress report, and wait up to ``timeout`` seconds."""
        self._cancel.set()
        if self.running:
            await asyncio.wait({self._task}, timeout=timeout)


def _settle(loop: asyncio.AbstractEventLoop, future: asyncio.Future, result: object = None, exception: BaseException | None = None) -> None:
    """Complete ``future`` from another thread, unless the loop or the future is already gone."""

    def settle() -> None:
        if future.done():
            return
        if exception is not None:
            future.set_exception(exception)
        else:
            future.set_result(result)

    try:
        loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the loop was closed: the bot stopped and nobody awaits this build any more
        _LOG.info("An index build ended after the bot stopped; its result was not reported.")
