"""The Telegram front end of the article index: cited answers in private chats and groups.

``python -m bot`` runs it; the names below are what other code and the tests need.
"""

from .app import build_application
from .errors import BotError, BotSettingsError, BuildBusyError, BuildCancelledError
from .settings import BotSettings, read_environment

__all__ = [
    "BotError",
    "BotSettings",
    "BotSettingsError",
    "BuildBusyError",
    "BuildCancelledError",
    "build_application",
    "read_environment",
]
