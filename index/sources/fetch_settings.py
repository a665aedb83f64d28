"""How URL sources are fetched: the settings alone, without the HTTP and HTML libraries.

A process that only answers questions (the bot's workers, ``search``) reads these settings but never
fetches, so they live apart from ``fetching.py`` (httpx, lxml, readability, feedparser are imported
only by what fetches or parses).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from index.settings import flag, number, whole_number


@dataclass
class FetchSettings:
    """Limits and manners of fetching."""

    timeout_seconds: float = 15.0
    max_bytes: int = 5_000_000
    concurrency: int = 4
    retries: int = 2
    user_agent: str = "article-qa-bot/0.1 (+https://github.com/) httpx"
    allow_private: bool = False
    retry_delay_seconds: float = 0.5  # doubles after each failed attempt
    min_text_chars: int = 80  # less extracted text than this is "no article text"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> FetchSettings:
        """FETCH_ALLOW_PRIVATE, FETCH_TIMEOUT_SECONDS, FETCH_MAX_BYTES, FETCH_CONCURRENCY, FETCH_RETRIES,
        FETCH_USER_AGENT; unset ones keep their defaults. Raises SettingsError naming a bad one."""
        return cls(
            timeout_seconds=number(env, "FETCH_TIMEOUT_SECONDS", cls.timeout_seconds, 0.1, 600.0),
            max_bytes=whole_number(env, "FETCH_MAX_BYTES", cls.max_bytes, 1_000, 500_000_000),
            concurrency=whole_number(env, "FETCH_CONCURRENCY", cls.concurrency, 1, 64),
            retries=whole_number(env, "FETCH_RETRIES", cls.retries, 0, 10),
            user_agent=env.get("FETCH_USER_AGENT", "").strip() or cls.user_agent,
            allow_private=flag(env, "FETCH_ALLOW_PRIVATE"),
        )
