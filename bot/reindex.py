"""Report a running rebuild in the chat that asked for it: throttled progress, then the result."""

from __future__ import annotations

import asyncio
import html
import logging

from telegram import Message
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application

from index import ArticleIndexError, BuildReport

from .building import IndexBuilder
from .errors import BuildCancelledError
from .messages import rebuild_done, rebuild_failed, rebuild_progress

_LOG = logging.getLogger(__name__)


async def _edit(status: Message, text: str) -> None:
    try:
        await status.edit_text(text, parse_mode=ParseMode.HTML)
    except TelegramError as exc:  # the rebuild goes on even if the chat cannot be updated
        _LOG.warning("Could not update the rebuild message in chat %s: %s", status.chat_id, exc)


async def report_build(
    build: asyncio.Task[BuildReport],
    builder: IndexBuilder,
    status: Message,
    shown: str,
    interval: float,
    application: Application,
) -> None:
    """Edit ``status`` (now showing ``shown``) with the build's progress at most every ``interval``
    seconds, then with its result."""
    while True:
        finished, _ = await asyncio.wait({build}, timeout=interval)
        if finished:
            break
        text = rebuild_progress(builder.sources, builder.progress)
        if text != shown:
            await _edit(status, text)
            shown = text
    try:
        report = build.result()
    except ArticleIndexError as exc:
        _LOG.warning("Rebuild failed: %s", exc)
        text = rebuild_failed(str(exc))
    except BuildCancelledError as exc:
        text = html.escape(str(exc), quote=False)
    except Exception as exc:
        await application.process_error(update=None, error=exc)
        text = rebuild_failed("an unexpected error stopped it; the operator has the details.")
    else:
        _LOG.info("Rebuilt the index: %s", report.summary())
        text = rebuild_done(report)
    await _edit(status, text)
