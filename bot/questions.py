"""Which messages are questions for the bot, and the question they ask.

Private chats: every text message. Groups: a message that mentions the bot (the mention is
removed from the question) or replies to one of the bot's messages; never anything else,
so the bot works with privacy mode on. ``/ask`` works everywhere and is handled apart.
"""

from __future__ import annotations

from telegram import Message, MessageEntity
from telegram.ext import filters


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


def _mentions_of_bot(message: Message) -> list[MessageEntity]:
    bot = message.get_bot()
    username = (bot.username or "").casefold()
    found = []
    for entity, text in message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]).items():
        if (
            entity.type == MessageEntity.MENTION
            and username
            and text[1:].casefold() == username
            or entity.type == MessageEntity.TEXT_MENTION
            and entity.user is not None
            and entity.user.id == bot.id
        ):
            found.append(entity)
    return found


def _without(text: str, entities: list[MessageEntity]) -> str:
    """``text`` with the spans of ``entities`` (offsets in UTF-16 units) removed."""
    encoded = _utf16(text)
    kept, position = [], 0
    for entity in sorted(entities, key=lambda e: e.offset):
        kept.append(encoded[2 * position : 2 * entity.offset])
        position = entity.offset + entity.length
    kept.append(encoded[2 * position :])
    return " ".join(b"".join(kept).decode("utf-16-le").split())


def is_reply_to_bot(message: Message) -> bool:
    replied = message.reply_to_message
    return replied is not None and replied.from_user is not None and replied.from_user.id == message.get_bot().id


class AddressedToBot(filters.MessageFilter):
    """A group message that mentions the bot or replies to one of its messages."""

    def filter(self, message: Message) -> bool:
        return bool(message.text) and (bool(_mentions_of_bot(message)) or is_reply_to_bot(message))


def question_in(message: Message) -> str:
    """The question a text message asks, without mentions of the bot."""
    return _without(message.text or "", _mentions_of_bot(message))


def command_argument(message: Message) -> str:
    """The text after a leading ``/command`` (or ``/command@botname``), line breaks kept as spaces."""
    text = message.text or ""
    command = next((e for e in message.entities if e.type == MessageEntity.BOT_COMMAND and e.offset == 0), None)
    if command is None:
        return text.strip()
    return _without(text, [command])
