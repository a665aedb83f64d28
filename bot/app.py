"""All the wiring: settings and engine in, a python-telegram-bot Application out."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationHandlerStop,
    BaseRateLimiter,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from index import ArticleIndexError, Engine

from . import handlers, messages
from .building import IndexBuilder
from .errors import BotSettingsError, BuildBusyError, BuildCancelledError
from .questions import AddressedToBot
from .ratelimit import QuestionLimiter
from .refresh import scheduled_refresh
from .settings import BotSettings
from .state import BotState, bot_state

_LOG = logging.getLogger(__name__)
SHUTDOWN_GRACE_SECONDS = 10.0  # how long a stopping bot waits for a running build to cancel itself
ANSWER_GRACE_SECONDS = 2.0  # how long a stopping bot lets the answers under way finish before abandoning them
REFRESH_JOB = "refresh-sources"


class MessageFloodLimiter(AIORateLimiter):
    """PTB's limiter for Telegram's flood limits, for messages only: the "typing" indicator is sent at
    once, so under load people see the bot working while their answers wait their turn (a refused
    indicator is simply not shown)."""

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        if endpoint == "sendChatAction":
            return await callback(*args, **kwargs)
        return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)


class StoppingApplication(Application):
    """PTB's Application, which stops promptly under load.

    PTB's ``stop`` handles every update already received before it returns: with hundreds of questions
    queued that is minutes of answering. Here the queued updates are dropped (``BotState.admit``),
    and the answers under way get ANSWER_GRACE_SECONDS to finish before they are abandoned."""

    async def stop(self) -> None:
        state = bot_state(self)
        state.stopping = True
        abandoned = await state.abandon_updates(ANSWER_GRACE_SECONDS)
        if abandoned:
            _LOG.info("Stopping: %d updates under way were abandoned.", abandoned)
        await super().stop()


async def _admit_update(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The first handler of every update: drop it when the bot is stopping, else track its task."""
    task = asyncio.current_task()
    if task is None or not bot_state(context).admit(task):
        raise ApplicationHandlerStop


def build_application(
    settings: BotSettings,
    engine: Engine,
    *,
    flood_limiter: BaseRateLimiter | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Application:
    """The bot, ready for run_polling or run_webhook. ``flood_limiter`` defaults to MessageFloodLimiter.
    The engine fetches URL sources with its own fetch settings (``Engine(..., fetch_settings=settings.fetch)``)."""
    application = (
        Application.builder()
        .application_class(StoppingApplication)
        .token(settings.token)
        .base_url(settings.api_base_url)
        .base_file_url(settings.api_base_file_url)
        .rate_limiter(flood_limiter or MessageFloodLimiter(max_retries=3))
        .concurrent_updates(True)
        .post_init(_post_init)
        .post_stop(_post_stop)
        .build()
    )
    application.bot_data["state"] = BotState(
        settings=settings,
        engine=engine,
        limiter=QuestionLimiter(settings.rate_limit_per_user, settings.rate_limit_per_chat, clock=clock),
        builder=IndexBuilder(engine, settings.articles),
    )
    application.add_handler(TypeHandler(Update, _admit_update), group=-1)
    new = filters.UpdateType.MESSAGE  # edits of old messages are not new questions
    private, groups = filters.ChatType.PRIVATE, filters.ChatType.GROUPS
    commands = {
        "start": handlers.start,
        "help": handlers.help_command,
        "ask": handlers.ask,
        "sources": handlers.sources,
        "stats": handlers.stats,
        "latest": handlers.latest,
        "add": handlers.add_article,
        "reindex": handlers.reindex,
    }
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback, filters=new))
    application.add_handler(CallbackQueryHandler(handlers.sources_button, pattern=r"^sources:"))
    application.add_handler(MessageHandler(new & private & filters.TEXT & ~filters.COMMAND, handlers.private_text))
    application.add_handler(
        MessageHandler(new & groups & filters.TEXT & ~filters.COMMAND & AddressedToBot(), handlers.group_text)
    )
    application.add_handler(MessageHandler(new & private & filters.COMMAND, handlers.help_command))
    application.add_handler(
        MessageHandler(new & private & ~filters.TEXT & ~filters.StatusUpdate.ALL, handlers.not_text)
    )
    application.add_error_handler(handlers.on_error)
    if settings.refresh_interval > 0:
        if application.job_queue is None:
            raise BotSettingsError(
                "REFRESH_MINUTES needs the job queue of python-telegram-bot; "
                "install it with `pip install 'python-telegram-bot[job-queue]'`, or unset REFRESH_MINUTES."
            )
        interval = settings.refresh_interval
        application.job_queue.run_repeating(scheduled_refresh, interval=interval, first=interval, name=REFRESH_JOB)
    return application


async def _post_init(application: Application) -> None:
    """Publish the command list, and prepare the index once the bot is serving."""
    state = bot_state(application)
    listed = messages.commands(state.settings.add_allowed == "everyone")
    await application.bot.set_my_commands([BotCommand(name, text) for name, text in listed])
    state.keep(asyncio.get_running_loop().create_task(_prepare_when_serving(application), name="prepare-index"))


async def _prepare_when_serving(application: Application) -> None:
    """After the bot serves (so a webhook's port is bound first): build a missing index, load the encoder."""
    state = bot_state(application)
    while not application.running:
        if state.stopping:  # stopped before it ever served
            return
        await asyncio.sleep(0.05)
    try:
        if not await asyncio.to_thread(state.engine.has_index):
            _LOG.info(
                "No index in %s yet; building it from %s.",
                state.settings.index.index_dir,
                ", ".join(state.builder.sources),
            )
            report = await state.builder.start()
            _LOG.info("Built the index: %s", report.summary())
        await asyncio.to_thread(lambda: state.engine.embedder)
        _LOG.info("The encoder is loaded; the bot is ready.")
    except BuildBusyError:
        _LOG.info("An admin started a rebuild first; it will build the index.")
    except BuildCancelledError as exc:
        _LOG.info("%s", exc)
    except ArticleIndexError as exc:
        _LOG.error("Could not prepare the index: %s", exc)


async def _post_stop(application: Application) -> None:
    """Cancel a running build (the old index stays intact) and let its report finish."""
    state = bot_state(application)
    state.stopping = True
    await state.builder.cancel(timeout=SHUTDOWN_GRACE_SECONDS)
    pending = set(state.background)
    if pending:
        _, still_running = await asyncio.wait(pending, timeout=SHUTDOWN_GRACE_SECONDS)
        for task in still_running:
            task.cancel()
