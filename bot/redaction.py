"""Secrets kept out of the logs: python-telegram-bot logs the Bot API URL, which holds the token, at DEBUG,
and an exception's text may hold it too."""

from __future__ import annotations

import logging
from collections.abc import Iterable

MASK = "[redacted]"


class SecretRedactor(logging.Filter):
    """A handler filter that replaces every secret in a record's message, exception and stack text.

    On a handler it sees every record the handler writes, whichever logger made it (a filter on a
    logger would miss the records its children propagate)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({secret for secret in secrets if secret}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: the handler's formatter reports it
            return True
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def token_secrets(token: str, *others: str) -> list[str]:
    """What to keep out of the logs for a bot token: the token, and its secret part (after the colon)
    on its own, as URLs and error messages may quote it."""
    return [token, token.partition(":")[2], *others]


def install(redactor: SecretRedactor, handlers: Iterable[logging.Handler]) -> None:
    """Put ``redactor`` on each handler, in place of any SecretRedactor already there."""
    for handler in handlers:
        for old in [f for f in handler.filters if isinstance(f, SecretRedactor)]:
            handler.removeFilter(old)
        handler.addFilter(redactor)
