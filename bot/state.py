"""What the running bot holds: one BotState in ``application.bot_data``, recent answers in ``chat_data``."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application, ContextTypes

from index import Answer, Engine

from .building import IndexBuilder
from .ratelimit import QuestionLimiter
from .settings import BotSettings

ANSWERS_KEPT_PER_CHAT = 8  # answers whose "show passages" button still works


@dataclass
class BotState:
    """The shared objects handlers use."""

    settings: BotSettings
    engine: Engine
    limiter: QuestionLimiter
    builder: IndexBuilder
    background: set[asyncio.Task] = field(default_factory=set)  # tasks the bot owns beyond one update
    handling: set[asyncio.Task] = field(default_factory=set)  # the tasks of the updates being handled
    stopping: bool = False  # set when the application begins to stop: updates not yet handled are dropped

    def keep(self, task: asyncio.Task) -> asyncio.Task:
        """Hold a reference to a background task until it ends."""
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    def admit(self, task: asyncio.Task) -> bool:
        """Count an update's task as being handled until it ends; False once the bot is stopping."""
        if self.stopping:
            return False
        self.handling.add(task)
        task.add_done_callback(self.handling.discard)
        return True

    async def abandon_updates(self, grace: float) -> int:
        """Let the updates being handled finish for ``grace`` seconds, then cancel the rest (an answer
        still waiting for the engine or for its turn to be sent is abandoned); returns how many were."""
        running = {task for task in self.handling if not task.done()} - {asyncio.current_task()}
        if not running:
            return 0
        _, late = await asyncio.wait(running, timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        return len(late)


def bot_state(holder: ContextTypes.DEFAULT_TYPE | Application) -> BotState:
    """The state of the bot, from a handler's context or from the application."""
    return holder.bot_data["state"]


def remember_answer(chat_data: MutableMapping[str, Any], answer: Answer) -> int:
    """Keep an answer for /sources and its button; returns its key in this chat."""
    answers: OrderedDict[int, Answer] = chat_data.setdefault("answers", OrderedDict())
    key = chat_data.get("next_answer_key", 1)
    chat_data["next_answer_key"] = key + 1
    answers[key] = answer
    while len(answers) > ANSWERS_KEPT_PER_CHAT:
        answers.popitem(last=False)
    return key


def recall_answer(chat_data: MutableMapping[str, Any], key: int | None = None) -> Answer | None:
    """The answer with ``key``, or the chat's last answer; None when it is no longer kept."""
    answers: OrderedDict[int, Answer] = chat_data.get("answers", OrderedDict())
    if key is None:
        return next(reversed(answers.values()), None)
    return answers.get(key)
