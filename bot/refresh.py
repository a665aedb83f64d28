"""Keeping the index current: the scheduled refresh of the sources, and reporting an /add."""

from __future__ import annotations

import asyncio
import logging

from telegram import LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from index import ArticleIndexError

from . import messages
from .building import IndexBuilder
from .errors import BuildBusyError, BuildCancelledError
from .state import bot_state

_LOG = logging.getLogger(__name__)
PROBLEMS_LOGGED = 20  # per refresh; the rest are counted


async def scheduled_refresh(context: ContextTypes.DEFAULT_TYPE) -> None:
    """The job queue's refresh: fetch the sources and add what is new or changed, in the background;
    skipped while a rebuild, a refresh or an /add runs."""
    state = bot_state(context)
    if state.stopping:
        return
    try:
        refresh = state.builder.refresh()
    except (BuildBusyError, BuildCancelledError) as exc:
        _LOG.info("Skipping this scheduled refresh: %s", exc)
        return
    # Not awaited here: a job the application waits for at shutdown must not be a long fetch.
    # Nor an application task: the application waits for those before it cancels index jobs.
    state.keep(asyncio.get_running_loop().create_task(_log_refresh(refresh, context.application)))


async def _log_refresh(refresh, application: Application) -> None:
    try:
        report = await refresh
    except (ArticleIndexError, BuildCancelledError) as exc:
        _LOG.warning("The scheduled refresh failed: %s", exc)
        return
    except Exception as exc:
        await application.process_error(update=None, error=exc)
        return
    _LOG.info("Refreshed the index: %s", report.summary())
    for problem in report.problems[:PROBLEMS_LOGGED]:
        _LOG.warning("%s", problem)
    if len(report.problems) > PROBLEMS_LOGGED:
        _LOG.warning("and %d more sources or entries failed", len(report.problems) - PROBLEMS_LOGGED)


async def report_add(builder: IndexBuilder, url: str, status: Message, application: Application) -> None:
    """Add ``url`` (after any running job), then edit ``status`` with the article or the reason it failed."""
    try:
        added = await builder.add(url)
    except (ArticleIndexError, BuildCancelledError) as exc:
        _LOG.warning("Adding %s failed: %s", url, exc)
        text = messages.add_failed(url, str(exc))
    except Exception as exc:
        await application.process_error(update=None, error=exc)
        text = messages.add_failed(url, "an unexpected error stopped it; the operator has the details.")
    else:
        if added.report is not None:
            _LOG.info("Added %s: %s", url, added.report.summary())
        text = messages.added_html(url, added)
    try:
        await status.edit_text(
            text, parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
        )
    except TelegramError as exc:
        _LOG.warning("Could not report the /add of %s in chat %s: %s", url, status.chat_id, exc)
