"""The bot's handlers: short async functions, wired together in ``app.build_application``."""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import os
import traceback
from pathlib import Path

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from index import Answer, IndexMismatchError, IndexNotFoundError, IndexStats, QuestionError, newest_articles

from . import llm_answers, messages
from .chat_action import typing
from .errors import BuildBusyError
from .formatting import answer_html, passages_html, shortened_trace, split_message
from .questions import command_argument, question_in
from .refresh import report_add
from .reindex import report_build
from .state import bot_state, recall_answer, remember_answer

_LOG = logging.getLogger(__name__)
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
_SOURCES_DATA = "sources:"


async def _reply(
    message: Message, text: str, quote: bool = False, markup: InlineKeyboardMarkup | None = None
) -> Message:
    return await message.reply_text(
        text, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW, do_quote=quote, reply_markup=markup
    )


async def _reply_parts(message: Message, text: str, quote: bool, markup: InlineKeyboardMarkup | None = None) -> None:
    """Send a long HTML text as several messages; the button goes under the last one."""
    parts = split_message(text)
    for number, part in enumerate(parts, start=1):
        await _reply(message, part, quote=quote and number == 1, markup=markup if number == len(parts) else None)


def _in_group(message: Message) -> bool:
    return message.chat.type != ChatType.PRIVATE


def _message(update: Update) -> Message:
    """The message of an update; every handler here is registered for updates that carry one."""
    if update.effective_message is None:
        raise ValueError(f"update {update.update_id} carries no message")
    return update.effective_message


def _chat_data(context: ContextTypes.DEFAULT_TYPE) -> dict:
    """What the bot keeps for this chat; every update these handlers get comes from a chat."""
    if context.chat_data is None:
        raise ValueError("this update comes from no chat")
    return context.chat_data


async def _stats_or_none(context: ContextTypes.DEFAULT_TYPE) -> IndexStats | None:
    try:
        return await asyncio.to_thread(bot_state(context).engine.stats)
    except IndexNotFoundError:
        return None


async def _ask(
    context: ContextTypes.DEFAULT_TYPE, message: Message, question: str, live: llm_answers.LiveAnswer | None = None
) -> Answer | None:
    """Ask the engine off the event loop (then the LLM, with ``live``), showing "typing"; explain in one line
    when it cannot answer."""
    state = bot_state(context)
    try:
        async with typing(context.bot, message.chat_id):
            if live is not None:
                return await live.ask(state.engine, question)
            return await asyncio.to_thread(state.engine.ask, question)
    except QuestionError as exc:
        await _reply(message, html.escape(str(exc), quote=False), quote=_in_group(message))
    except IndexNotFoundError:
        await _reply(message, messages.INDEX_BUILDING if state.builder.running else messages.NO_INDEX)
    except IndexMismatchError as exc:
        _LOG.error("%s", exc)
        await _reply(message, messages.INDEX_BUILDING if state.builder.running else messages.INDEX_MISMATCH)
    return None


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    """Rate-limit, answer with citations, and keep the answer for /sources and its button."""
    state, message = bot_state(context), _message(update)
    user_id = update.effective_user.id if update.effective_user else None
    verdict = state.limiter.check(user_id, message.chat_id)
    if not verdict.allowed:
        if verdict.notify:
            per_minute = (
                state.settings.rate_limit_per_user if verdict.scope == "user" else state.settings.rate_limit_per_chat
            )
            await _reply(
                message, messages.slow_down(verdict.scope, verdict.retry_after, per_minute), quote=_in_group(message)
            )
        return
    live = llm_answers.start(context, message, user_id, quote=_in_group(message))  # None without an LLM
    answer = await _ask(context, message, question, live)
    if answer is None:
        return
    key = remember_answer(_chat_data(context), answer)
    button = InlineKeyboardButton(messages.SOURCES_BUTTON, callback_data=f"{_SOURCES_DATA}{key}")
    markup = InlineKeyboardMarkup([[button]]) if answer.citations else None
    if live is not None:
        await live.finish(answer, markup)
        return
    await _reply_parts(message, answer_html(answer), quote=_in_group(message), markup=markup)


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text in a private chat is a question."""
    await answer_question(update, context, _message(update).text or "")


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group message that mentions the bot or replies to it is a question."""
    await answer_question(update, context, question_in(_message(update)))


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask QUESTION, anywhere; a bare /ask in reply to a message asks that message's text."""
    message = _message(update)
    question = command_argument(message)
    if not question and message.reply_to_message and message.reply_to_message.text:
        question = message.reply_to_message.text
    await answer_question(update, context, question)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: greet, say what the index holds and how to ask."""
    stats = await _stats_or_none(context)
    await _reply(_message(update), messages.greeting(stats, context.bot.username))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: how to ask, and the commands."""
    settings = bot_state(context).settings
    await _reply(_message(update), messages.help_text(context.bot.username, settings.add_allowed == "everyone"))


async def sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/sources: the full passages behind the chat's last answer."""
    answer = recall_answer(_chat_data(context))
    message = _message(update)
    if answer is None:
        await _reply(message, messages.NO_ANSWER_YET)
        return
    await _reply_parts(message, passages_html(answer), quote=_in_group(message))


async def sources_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The button under an answer: the full passages behind that answer."""
    query = update.callback_query
    if query is None:
        raise ValueError(f"update {update.update_id} carries no button press")
    key = (query.data or "").removeprefix(_SOURCES_DATA)
    answer = recall_answer(_chat_data(context), int(key)) if key.isdigit() else None
    if answer is None or not isinstance(query.message, Message):  # forgotten, or a message too old to reply to
        await query.answer(messages.ANSWER_FORGOTTEN)
        return
    await query.answer()
    await _reply_parts(query.message, passages_html(answer), quote=True)


def _size_on_disk(path: Path) -> int:
    """Bytes of every file under ``path``; files a build removes meanwhile count nothing."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += os.path.getsize(os.path.join(folder, name))
    return total


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats: index size and build time."""
    found = await _stats_or_none(context)
    if found is None:
        await _reply(_message(update), messages.NO_INDEX)
        return
    size = await asyncio.to_thread(_size_on_disk, Path(bot_state(context).settings.index.index_dir))
    llm = llm_answers.stats_html(context)  # empty without an LLM
    await _reply(_message(update), messages.stats_html(found, size) + (f"\n\n{llm}" if llm else ""))


async def reindex(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reindex (admins): rebuild from ARTICLES in the background, reporting progress and the result."""
    state, message = bot_state(context), _message(update)
    if update.effective_user is None or update.effective_user.id not in state.settings.admin_ids:
        await _reply(message, messages.NOT_ADMIN)
        return
    try:
        build = state.builder.start()
    except BuildBusyError as exc:
        await _reply(message, html.escape(str(exc), quote=False))
        return
    text = messages.rebuild_started(state.builder.sources)
    status = await _reply(message, text)
    # Not awaited here: the handler returns at once, so the application's shutdown never waits for a build.
    state.keep(
        asyncio.create_task(
            report_build(build, state.builder, status, text, state.settings.progress_interval, context.application)
        )
    )


async def latest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/latest: the newest articles in the index, with outlet, date and link."""
    index_dir = Path(bot_state(context).settings.index.index_dir)
    found = await asyncio.to_thread(newest_articles, index_dir, messages.LATEST_SHOWN)
    await _reply_parts(_message(update), messages.latest_html(found), quote=False)


async def add_article(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/add URL (admins, or everyone if ADD_ALLOWED=everyone): fetch and index one article, then say what it was."""
    state, message = bot_state(context), _message(update)
    if not state.settings.may_add(update.effective_user.id if update.effective_user else None):
        await _reply(message, messages.NOT_ADMIN_ADD)
        return
    words = command_argument(message).split()
    if not words:
        await _reply(message, messages.ADD_USAGE)
        return
    url = words[0]
    waiting_for = state.builder.kind if state.builder.running else ""
    status = await _reply(message, messages.adding(url, waiting_for), quote=_in_group(message))
    # Not awaited here: the handler returns at once, so the application's shutdown never waits for a fetch.
    state.keep(asyncio.create_task(report_add(state.builder, url, status, context.application)))


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A sticker, photo or other non-text message in a private chat: say what works."""
    await _reply(_message(update), messages.TEXT_ONLY)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the traceback, send it to the operator if configured, and apologise to the user in one line."""
    _LOG.error("Error while handling an update", exc_info=context.error)
    operator = bot_state(context).settings.operator_chat_id
    if operator is not None:
        trace = shortened_trace("".join(traceback.format_exception(context.error)))
        await _send_quietly(context, operator, f"<b>Bot error</b>\n<pre>{html.escape(trace, quote=False)}</pre>")
    if isinstance(update, Update) and update.effective_chat is not None:
        await _send_quietly(context, update.effective_chat.id, messages.APOLOGY)


async def _send_quietly(context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str) -> None:
    try:
        await context.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW)
    except TelegramError as exc:
        _LOG.warning("Could not send an error notice to chat %s: %s", chat_id, exc)
