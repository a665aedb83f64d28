"""Errors raised by the ``bot`` package.

Every message is one sentence a person can act on: what was wrong and how to fix it.

    BotError                    base of every error this package raises on purpose
    ├── BotSettingsError        a setting in the environment is missing or malformed
    ├── BuildBusyError          a rebuild was asked for while another one is running
    └── BuildCancelledError     a rebuild was stopped because the bot is shutting down

Errors of the ``index`` package (``index.errors.ArticleIndexError``) pass through
unchanged, except ``index.errors.SettingsError``, which ``BotSettings.from_env`` turns
into a ``BotSettingsError`` so that start-up has one kind of settings failure.
"""


class BotError(Exception):
    """Base class of every error this package raises on purpose."""


class BotSettingsError(BotError):
    """A setting in the environment is missing or malformed."""


class BuildBusyError(BotError):
    """A rebuild of the index is already running."""


class BuildCancelledError(BotError):
    """A rebuild was cancelled because the bot is shutting down."""
