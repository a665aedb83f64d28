"""One index job at a time (a rebuild, a refresh or an /add), in a worker thread, with progress
and cancellation.

The engine's builds are atomic (a new index is written beside the old one and swapped in
when complete), so questions keep being answered from the old index while a job runs,
and a cancelled or failed job leaves the old index serving.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from index import Added, BuildReport, Engine

from .errors import BuildBusyError, BuildCancelledError

_LOG = logging.getLogger(__name__)
BUILD_THREAD_NAME = "index-build"
T = TypeVar("T")

_BUSY = {
    "rebuild": "A rebuild of the index is already running; its result will be reported when it ends.",
    "refresh": "A refresh of the index from its sources is running; try again in a minute, when it has ended.",
    "add": "An article is being added to the index; try again in a moment, when it has been.",
}


class IndexBuilder:
    """Runs rebuilds (``start``), refreshes (``refresh``) and single URLs (``add``) of the engine's
    index off the event loop, one at a time, from ``sources`` and the URLs added before."""

    def __init__(self, engine: Engine, sources: Sequence[str]) -> None:
        self.engine = engine
        self.sources = tuple(sources)
        self.kind = ""  # "rebuild", "refresh" or "add": the running (or last) job
        self.progress: tuple[str, int, int] | None = None  # the last (stage, done, total) reported
        self._task: asyncio.Task | None = None
        self._cancel = threading.Event()  # set once, when the bot shuts down

    @property
    def running(self) -> bool:
        return self._running_task() is not None

    def _running_task(self) -> asyncio.Task | None:
        return self._task if self._task is not None and not self._task.done() else None

    @property
    def sources_files(self) -> tuple[str, ...]:
        """The file of URLs added with /add, once there is one: refreshes and rebuilds keep them."""
        added = self.engine.collector.added_file
        return (str(added),) if added.is_file() else ()

    def start(self) -> asyncio.Task[BuildReport]:
        """Start a full rebuild; raises BuildBusyError while another job runs."""
        return self._launch(
            "rebuild",
            lambda: self.engine.update(
                self.sources, replace_all=True, sources_files=self.sources_files, progress=self._on_progress
            ),
        )

    def refresh(self) -> asyncio.Task[BuildReport]:
        """Start a refresh (new and changed articles only); raises BuildBusyError while another job runs."""
        return self._launch(
            "refresh",
            lambda: self.engine.update(self.sources, sources_files=self.sources_files, progress=self._on_progress),
        )

    async def add(self, url: str) -> Added:
        """Fetch and index one URL, after the running job (if any) has ended."""
        while (task := self._running_task()) is not None:
            await asyncio.wait({task})
        return await self._launch("add", lambda: self.engine.add_url(url, progress=self._on_progress))

    def _launch(self, kind: str, work: Callable[[], T]) -> asyncio.Task[T]:
        if self._cancel.is_set():
            raise BuildCancelledError(f"The {kind} was not started because the bot is shutting down.")
        if self.running:
            raise BuildBusyError(_BUSY[self.kind])
        self.kind, self.progress = kind, None
        self._task = asyncio.get_running_loop().create_task(self._run(work), name=f"{BUILD_THREAD_NAME}-{kind}")
        return self._task

    async def _run(self, work: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()

        def run() -> None:
            try:
                result = work()
            except BaseException as exc:  # handed to the awaiting coroutine, which re-raises it
                _settle(loop, done, exception=exc)
            else:
                _settle(loop, done, result=result)

        # A daemon thread, so that a job the bot abandons at shutdown never holds the process open.
        threading.Thread(target=run, name=BUILD_THREAD_NAME, daemon=True).start()
        return await done

    def _on_progress(self, stage: str, done: int, total: int) -> None:
        if self._cancel.is_set():
            raise BuildCancelledError(
                f"The {self.kind} was cancelled because the bot is shutting down; the old index is unchanged."
            )
        self.progress = (stage, done, total)

    async def cancel(self, timeout: float = 10.0) -> None:
        """Ask a running job to stop at its next progress report (and refuse new ones), and wait up to
        ``timeout`` seconds."""
        self._cancel.set()
        if (task := self._running_task()) is not None:
            await asyncio.wait({task}, timeout=timeout)


def _settle(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future,
    result: object = None,
    exception: BaseException | None = None,
) -> None:
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
    except RuntimeError:  # the loop was closed: the bot stopped and nobody awaits this job any more
        _LOG.info("An index job ended after the bot stopped; its result was not reported.")
