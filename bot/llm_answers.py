"""LLM answers in Telegram, when LLM_BASE_URL is set (``index.LlmAnswerer``).

The answer grows in place as the model streams: the sentences that passed verification so far are sent as one
message and edited at most once every EDIT_INTERVAL_SECONDS (never over Telegram's 4096 characters), then that
message is replaced by the final answer, rendered by ``formatting.answer_html`` with its cited passages in their
original text. When the model fails or nothing it wrote passes, the final answer is the extractive one (the
operator's log says why). Each user gets LLM_DAILY_CAP_PER_USER written answers a day, then quoted ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import html
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from index import Answer, Engine, LlmAnswer, LlmAnswerer, LlmSettings

from .formatting import TELEGRAM_MAX_LENGTH, answer_html, isolate, split_message, utf16_length
from .state import bot_state

_LOG = logging.getLogger(__name__)
_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
EDIT_INTERVAL_SECONDS = 1.2  # between edits of a growing answer (Telegram allows about one a second in a chat)
DRAFT_MARK = " …"  # after a draft: more is coming
DRAFT_LIMIT = TELEGRAM_MAX_LENGTH - 96  # characters of a draft shown; the final answer is split as usual
_SOURCES_HEADING = "\n\n<b>Sources</b>\n"


class DailyCap:
    """How many LLM answers each user has had today; ``per_user`` 0 is no cap."""

    def __init__(self, per_user: int, today: Callable[[], dt.date] = dt.date.today) -> None:
        self.per_user = per_user
        self._today = today
        self._day = today()
        self._used: dict[int | None, int] = {}
        self._told: set[int | None] = set()
        self.refused = 0

    def _roll(self) -> None:
        if self._today() != self._day:
            self._day, self._used, self._told = self._today(), {}, set()

    def take(self, user_id: int | None) -> bool:
        """Count one more LLM answer for the user; False (and nothing counted) when the cap is reached."""
        self._roll()
        if self.per_user and self._used.get(user_id, 0) >= self.per_user:
            self.refused += 1
            return False
        self._used[user_id] = self._used.get(user_id, 0) + 1
        return True

    def tell_once(self, user_id: int | None) -> bool:
        """True the first time a day a capped user is to be told so."""
        self._roll()
        if user_id in self._told:
            return False
        self._told.add(user_id)
        return True


@dataclass
class LlmBot:
    """The bot's LLM step: the answerer (with its counts) and the daily cap."""

    answerer: LlmAnswerer
    cap: DailyCap


def answerer_for(settings: LlmSettings) -> LlmAnswerer | None:
    """The LLM step for these settings, or None when LLM_BASE_URL is not set."""
    return LlmAnswerer(settings) if settings.enabled else None


def llm_of(context: ContextTypes.DEFAULT_TYPE) -> LlmBot | None:
    """The bot's LLM step, made on first use from the settings; None when no LLM is configured."""
    if "llm" not in context.bot_data:
        settings = bot_state(context).settings.llm
        answerer = answerer_for(settings)
        context.bot_data["llm"] = LlmBot(answerer, DailyCap(settings.daily_cap_per_user)) if answerer else None
    return context.bot_data["llm"]


def start(context: ContextTypes.DEFAULT_TYPE, message: Message, user_id: int | None, quote: bool) -> LiveAnswer | None:
    """A live answer to this question, or None when no LLM is configured (the handler answers as before)."""
    llm = llm_of(context)
    return LiveAnswer(llm, message, user_id, quote) if llm is not None else None


class LiveAnswer:
    """One question's answer with the LLM: drafts edited into one message as the model streams, then the final."""

    def __init__(
        self,
        llm: LlmBot,
        message: Message,
        user_id: int | None,
        quote: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.llm = llm
        self.message = message  # the question
        self.user_id = user_id
        self.quote = quote
        self.clock = clock
        self.capped_note = False  # the user is over the daily cap, and told so with this answer
        self.sent: Message | None = None  # the growing answer
        self.result: LlmAnswer | None = None
        self._shown = ""
        self._shown_body = ""  # the HTML of the draft last shown
        self._pending = ""
        self._last_edit = float("-inf")
        self._drafts: asyncio.Task | None = None  # shows the drafts
        self._waiting = False  # the drafts' task sleeps until the next edit is allowed

    async def ask(self, engine: Engine, question: str) -> Answer:
        """The answer to show: the verified LLM answer, or the extractive one. Raises what ``Engine.ask`` raises."""
        if not self.llm.cap.take(self.user_id):
            _LOG.info("User %s had %d LLM answers today (LLM_DAILY_CAP_PER_USER).", self.user_id, self.llm.cap.per_user)
            self.capped_note = self.llm.cap.tell_once(self.user_id)
            return await asyncio.to_thread(engine.ask, question)
        try:
            extractive, self.result = await engine.ask_with_llm(question, self.llm.answerer, self.draft)
        except BaseException:
            await self._stop_drafts()
            raise
        return self.result.shown(extractive)

    async def draft(self, text: str) -> None:
        """Show the verified sentences so far, in a task of its own so the stream never waits for Telegram: now,
        or once EDIT_INTERVAL_SECONDS have passed since the last edit (only the latest text is shown)."""
        self._pending = text
        if self._drafts is None or self._drafts.done():
            self._drafts = asyncio.create_task(self._show_drafts())

    async def _show_drafts(self) -> None:
        while self._pending != self._shown:
            wait = self._last_edit + EDIT_INTERVAL_SECONDS - self.clock()
            if wait > 0:
                self._waiting = True
                await asyncio.sleep(wait)
                self._waiting = False
            else:
                await self._show_pending()

    async def _stop_drafts(self) -> None:
        """No more drafts: a waiting one is dropped, one being sent is let finish (so ``sent`` is known)."""
        task, self._drafts = self._drafts, None
        if task is None:
            return
        if self._waiting:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _show_pending(self) -> None:
        text = self._shown = self._pending
        if utf16_length(text) > DRAFT_LIMIT:
            text = text.encode("utf-16-le")[: 2 * DRAFT_LIMIT].decode("utf-16-le", "ignore")
        body = html.escape(isolate(text), quote=False) + DRAFT_MARK
        if body == self._shown_body:
            return  # a draft past the length shown reads the same: Telegram refuses an edit that changes nothing
        self._shown_body = body
        try:
            if self.sent is None:
                self.sent = await self.message.reply_text(
                    body, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW, do_quote=self.quote
                )
            else:
                await self.sent.edit_text(body, parse_mode=ParseMode.HTML, link_preview_options=_NO_PREVIEW)
        except TelegramError as exc:  # the final answer still comes
            _LOG.warning("Could not show a draft of the answer in chat %s: %s", self.message.chat_id, exc)
        self._last_edit = self.clock()

    async def finish(self, answer: Answer, markup: InlineKeyboardMarkup | None) -> None:
        """Replace the draft with the final answer (split into messages if long; the button under the last)."""
        await self._stop_drafts()
        parts = split_message(self.final_html(answer))
        first = 0
        if self.sent is not None:
            await asyncio.sleep(max(0.0, self._last_edit + EDIT_INTERVAL_SECONDS - self.clock()))
            try:
                await self.sent.edit_text(
                    parts[0],
                    parse_mode=ParseMode.HTML,
                    link_preview_options=_NO_PREVIEW,
                    reply_markup=markup if len(parts) == 1 else None,
                )
                first = 1
            except TelegramError as exc:  # the draft stays; the answer is sent anew below it
                _LOG.warning("Could not replace the draft in chat %s: %s", self.message.chat_id, exc)
        for number in range(first, len(parts)):
            await self.message.reply_text(
                parts[number],
                parse_mode=ParseMode.HTML,
                link_preview_options=_NO_PREVIEW,
                do_quote=self.quote and number == 0,
                reply_markup=markup if number == len(parts) - 1 else None,
            )

    def final_html(self, answer: Answer) -> str:
        """``answer_html`` with a line under the answer saying who wrote it (or that the daily cap is reached)."""
        rendered = answer_html(answer)
        if self.result is not None and self.result.answer is not None:
            note = self.result.note
        elif self.capped_note:
            cap = self.llm.cap.per_user
            note = f"You have had your {cap} written answers for today; until tomorrow, answers quote the articles."
        else:
            return rendered
        lead, heading, rest = rendered.partition(_SOURCES_HEADING)
        return f"{lead}\n<i>{html.escape(note, quote=False)}</i>{heading}{rest}"


def stats_html(context: ContextTypes.DEFAULT_TYPE) -> str:
    """The LLM lines of /stats: calls, verified answers, failures and fallbacks; empty without an LLM."""
    llm = llm_of(context)
    if llm is None:
        return ""
    stats = llm.answerer.stats
    fallbacks = sum(stats.fallbacks.values())
    reasons = ", ".join(f"{kind.replace('_', ' ')} {count}" for kind, count in stats.fallbacks.most_common())
    lines = [
        "<b>LLM answers</b>",
        f"Model: {html.escape(llm.answerer.settings.model, quote=False)}",
        f"Calls: {stats.calls} ({stats.failures} failed)",
        f"Verified answers: {stats.verified}",
        f"Fallbacks to quoted answers: {fallbacks}" + (f" ({reasons})" if reasons else ""),
        f"Over the daily cap: {llm.cap.refused}",
        f"Tokens: {stats.prompt_tokens} in, {stats.completion_tokens} out",
    ]
    return "\n".join(lines)
