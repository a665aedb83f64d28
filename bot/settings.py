"""Settings of the bot, read once from the environment (and an optional ``.env`` file)."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

from index import FetchSettings, IndexSettings, LlmSettings, SettingsError, is_sources_file, whole_number

from .errors import BotSettingsError

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_ARTICLES = ("examples/articles",)
_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,100}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_ADD_ALLOWED = ("admins", "everyone")


def read_environment(environ: Mapping[str, str] | None = None, dotenv_path: Path | None = None) -> dict[str, str]:
    """The process environment over the values of ``dotenv_path`` (default ``./.env``), if it exists.

    Variables set in the real environment always win over the file.
    """
    environ = os.environ if environ is None else environ
    path = Path(".env") if dotenv_path is None else dotenv_path
    from_file = (
        {key: value for key, value in dotenv_values(path).items() if value is not None} if path.is_file() else {}
    )
    return {**from_file, **environ}


def _text(env: Mapping[str, str], name: str, default: str = "") -> str:
    return env.get(name, "").strip() or default


def _whole_number(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    return whole_number(env, name, default, low, high, error=BotSettingsError)


def _admin_ids(env: Mapping[str, str]) -> frozenset[int]:
    raw = _text(env, "ADMIN_IDS")
    ids = set()
    for item in filter(None, (part.strip() for part in raw.split(","))):
        if not re.fullmatch(r"\d{1,20}", item):
            raise BotSettingsError(
                f"ADMIN_IDS must list Telegram user ids as whole numbers separated by commas "
                f"(e.g. ADMIN_IDS=12345,67890), but {item!r} is not one."
            )
        ids.add(int(item))
    return frozenset(ids)


def _chat_id(env: Mapping[str, str], name: str) -> int | None:
    raw = _text(env, name)
    if not raw:
        return None
    if not re.fullmatch(r"-?\d{1,20}", raw):
        raise BotSettingsError(f"{name} must be a Telegram chat id (a whole number, negative for groups), not {raw!r}.")
    return int(raw)


def _http_url(env: Mapping[str, str], name: str, default: str = "") -> str:
    value = _text(env, name, default)
    if value:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BotSettingsError(f"{name} must be an http:// or https:// address, not {value!r}.")
    return value


def _articles(env: Mapping[str, str]) -> tuple[str, ...]:
    articles = tuple(filter(None, (part.strip() for part in _text(env, "ARTICLES").split(","))))
    for source in articles:
        if is_sources_file(source) and not Path(source).expanduser().is_file():
            raise BotSettingsError(
                f"ARTICLES names the sources file {source}, which does not exist; create it (one file, folder, "
                "article URL or feed URL a line) or fix the path."
            )
    return articles or DEFAULT_ARTICLES


def _add_allowed(env: Mapping[str, str]) -> str:
    value = _text(env, "ADD_ALLOWED", "admins").lower()
    if value not in _ADD_ALLOWED:
        raise BotSettingsError(f"ADD_ALLOWED must be admins or everyone, not {value!r}.")
    return value


def _log_level(env: Mapping[str, str]) -> str:
    value = _text(env, "LOG_LEVEL", "INFO").upper()
    if value not in _LOG_LEVELS:
        raise BotSettingsError(f"LOG_LEVEL must be one of {', '.join(_LOG_LEVELS)}, not {value!r}.")
    return value


@dataclass(frozen=True)
class BotSettings:
    """Everything the bot is configured with. ``token == ""`` means the terminal chat."""

    token: str = ""
    admin_ids: frozenset[int] = frozenset()
    index: IndexSettings = field(default_factory=IndexSettings)
    articles: tuple[str, ...] = DEFAULT_ARTICLES
    api_base_url: str = DEFAULT_API_BASE_URL
    webhook_url: str = ""
    webhook_secret: str = ""
    port: int = 8080
    log_level: str = "INFO"
    operator_chat_id: int | None = None
    rate_limit_per_user: int = 6  # questions a minute, 0 for no limit
    rate_limit_per_chat: int = 20  # questions a minute, 0 for no limit
    progress_interval: float = 3.0  # seconds between progress edits of a /reindex message
    fetch: FetchSettings = field(default_factory=FetchSettings)  # how article and feed URLs are fetched
    refresh_interval: float = 0.0  # seconds between scheduled refreshes of the sources, 0 for none
    add_allowed: str = "admins"  # who may /add a URL: "admins" or "everyone"
    llm: LlmSettings = field(default_factory=LlmSettings)  # LLM answers (LLM_*); off without LLM_BASE_URL

    @property
    def mode(self) -> str:
        """``"terminal"`` without a token, else ``"webhook"`` with a WEBHOOK_URL, else ``"polling"``."""
        if not self.token:
            return "terminal"
        return "webhook" if self.webhook_url else "polling"

    def may_add(self, user_id: int | None) -> bool:
        """Whether a user may /add articles."""
        return self.add_allowed == "everyone" or (user_id is not None and user_id in self.admin_ids)

    @property
    def api_base_file_url(self) -> str:
        """Where files are downloaded from: ``…/bot`` becomes ``…/file/bot``."""
        base = self.api_base_url
        return base[: -len("bot")] + "file/bot" if base.endswith("/bot") else base.rstrip("/") + "/file/bot"

    @property
    def webhook_path(self) -> str:
        """The path the webhook server listens on: the path of WEBHOOK_URL."""
        return urlsplit(self.webhook_url).path.lstrip("/")

    @property
    def log_level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BotSettings:
        """Read and check every setting; raise BotSettingsError naming the first bad one."""
        env = os.environ if env is None else env
        token = _text(env, "TELEGRAM_BOT_TOKEN")
        webhook_url = _http_url(env, "WEBHOOK_URL")
        webhook_secret = _text(env, "WEBHOOK_SECRET")
        if token and not _TOKEN.match(token):
            raise BotSettingsError(
                "TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then letters); "
                "copy it again from @BotFather."
            )
        if webhook_url and not token:
            raise BotSettingsError(
                "TELEGRAM_BOT_TOKEN is missing: webhook mode (WEBHOOK_URL is set) needs the bot's token "
                "from @BotFather in TELEGRAM_BOT_TOKEN."
            )
        if webhook_url and not _SECRET.match(webhook_secret):
            raise BotSettingsError(
                "WEBHOOK_SECRET must be 1 to 256 letters, digits, '_' or '-' when WEBHOOK_URL is set; "
                'make one with: python -c "import secrets; print(secrets.token_urlsafe(32))".'
            )
        try:
            index = IndexSettings.from_env(env)
            fetch = FetchSettings.from_env(env)
            llm = LlmSettings.from_env(env)
        except SettingsError as exc:
            raise BotSettingsError(str(exc)) from exc
        return cls(
            token=token,
            admin_ids=_admin_ids(env),
            index=index,
            articles=_articles(env),
            api_base_url=_http_url(env, "TELEGRAM_API_BASE_URL", DEFAULT_API_BASE_URL),
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            port=_whole_number(env, "PORT", cls.port, 1, 65535),
            log_level=_log_level(env),
            operator_chat_id=_chat_id(env, "OPERATOR_CHAT_ID"),
            rate_limit_per_user=_whole_number(env, "RATE_LIMIT_PER_USER", cls.rate_limit_per_user, 0, 10_000),
            rate_limit_per_chat=_whole_number(env, "RATE_LIMIT_PER_CHAT", cls.rate_limit_per_chat, 0, 10_000),
            fetch=fetch,
            refresh_interval=60.0 * _whole_number(env, "REFRESH_MINUTES", 0, 0, 7 * 24 * 60),
            add_allowed=_add_allowed(env),
            llm=llm,
        )
