"""Show "typing…" in a chat for as long as the bot works on an answer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from telegram import Bot
from telegram.constants import ChatAction
from telegram.error import TelegramError

_LOG = logging.getLogger(__name__)
TYPING_REFRESH_SECONDS = 4.5  # Telegram shows a chat action for about five seconds


async def _send_typing(bot: Bot, chat_id: int) -> bool:
    try:
        await bot.send_chat_action(chat_id, ChatAction.TYPING)
    except TelegramError as exc:  # the answer matters, the indicator does not
        _LOG.debug("Could not show typing in chat %s: %s", chat_id, exc)
        return False
    return True


@contextlib.asynccontextmanager
async def typing(bot: Bot, chat_id: int, refresh: float = TYPING_REFRESH_SECONDS) -> AsyncIterator[None]:
    """Show "typing" before the block starts, and again every ``refresh`` seconds until it ends.

    The first action is awaited, so it can never arrive after the answer (which would show
    "typing" for seconds after the bot is done).
    """

    async def keep_typing() -> None:
        while True:
            await asyncio.sleep(refresh)
            if not await _send_typing(bot, chat_id):
                return

    refresher = asyncio.create_task(keep_typing()) if await _send_typing(bot, chat_id) else None
    try:
        yield
    finally:
        if refresher is not None:
            refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refresher
