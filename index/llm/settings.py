"""Settings of the optional LLM answers, read once from the environment and passed down.

Any server that speaks the OpenAI Chat Completions protocol will do: OpenAI, a hosted gateway, a local
Ollama (``http://localhost:11434/v1``), vLLM or llama.cpp's server. Without ``LLM_BASE_URL`` the answers
stay extractive (quoted from the articles), as they always were.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from index.errors import SettingsError
from index.settings import number, whole_number


@dataclass(frozen=True)
class LlmSettings:
    """Where the model is and how much of it a question, and a user, may use."""

    base_url: str = ""  # e.g. https://api.openai.com/v1 or http://localhost:11434/v1; "" turns LLM answers off
    api_key: str = ""  # sent as "Authorization: Bearer …" when set (a local Ollama needs none)
    model: str = ""  # e.g. gpt-4o-mini, or qwen2.5:7b-instruct on Ollama
    timeout_seconds: float = 30.0  # the whole call, streaming included; past it the extractive answer is sent
    max_output_tokens: int = 400
    daily_cap_per_user: int = 50  # LLM answers a Telegram user gets a day (0: no cap); past it, extractive ones

    @property
    def enabled(self) -> bool:
        return bool(self.base_url)

    @property
    def completions_url(self) -> str:
        return self.base_url.rstrip("/") + "/chat/completions"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LlmSettings:
        """Read and check the LLM_* settings; SettingsError names the first bad one and how to fix it."""
        env = os.environ if env is None else env
        base_url = env.get("LLM_BASE_URL", "").strip()
        model = env.get("LLM_MODEL", "").strip()
        if base_url:
            parts = urlsplit(base_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise SettingsError(
                    f"LLM_BASE_URL must be an http:// or https:// address such as https://api.openai.com/v1 or "
                    f"http://localhost:11434/v1, not {base_url!r}."
                )
            if not model:
                raise SettingsError(
                    "LLM_MODEL is missing: LLM_BASE_URL is set, so name the model to ask, e.g. LLM_MODEL=gpt-4o-mini "
                    "(or unset LLM_BASE_URL for extractive answers only)."
                )
        return cls(
            base_url=base_url,
            api_key=env.get("LLM_API_KEY", "").strip(),
            model=model,
            timeout_seconds=number(env, "LLM_TIMEOUT_SECONDS", cls.timeout_seconds, 1.0, 600.0),
            max_output_tokens=whole_number(env, "LLM_MAX_OUTPUT_TOKENS", cls.max_output_tokens, 32, 32_000),
            daily_cap_per_user=whole_number(env, "LLM_DAILY_CAP_PER_USER", cls.daily_cap_per_user, 0, 1_000_000),
        )
