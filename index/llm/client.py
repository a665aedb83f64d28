"""A small client of the OpenAI Chat Completions protocol over httpx (async; streaming or not), no vendor SDK.

Every way a call can go wrong ends in one ``LlmCallError`` whose ``kind`` says which (a timeout, a rate limit
with its Retry-After, an HTTP error, a network failure, a reply that is not the protocol's JSON, an empty
reply) and whose message says, in one sentence, what the operator can do about it.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from index.errors import ArticleIndexError
from index.llm.settings import LlmSettings

if TYPE_CHECKING:
    import httpx

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": "…"}
OnText = Callable[[str], Awaitable[None]]  # called with the whole reply so far, as it streams
DEFAULT_RETRY_AFTER = 30.0  # seconds to leave a server that said 429 without saying how long


class LlmCallError(ArticleIndexError):
    """A call to the model that gave no usable reply; ``kind`` is one of timeout, rate_limited, http_error,
    network, malformed, empty."""

    def __init__(self, kind: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after


@dataclass(frozen=True)
class Completion:
    """The model's reply and what it cost."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0


class ChatClient:
    """Calls ``{LLM_BASE_URL}/chat/completions`` with the settings' model, key, output limit and timeout."""

    def __init__(self, settings: LlmSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self._transport = transport

    async def complete(self, messages: list[Message], on_text: OnText | None = None) -> Completion:
        """The reply to ``messages``: streamed (``on_text`` sees it grow) when ``on_text`` is given, else in one
        piece. Raises LlmCallError; the whole call, streaming included, is bounded by LLM_TIMEOUT_SECONDS."""
        import httpx  # at the first call: a process that never asks a model does not load it

        started = time.monotonic()
        limit = self.settings.timeout_seconds
        try:
            async with asyncio.timeout(limit):
                completion = await self._call(messages, on_text)
        except TimeoutError:
            raise LlmCallError(
                "timeout", f"the model did not answer within {limit:g} s (LLM_TIMEOUT_SECONDS)"
            ) from None
        except httpx.TimeoutException:
            raise LlmCallError(
                "timeout", f"the model did not answer within {limit:g} s (LLM_TIMEOUT_SECONDS)"
            ) from None
        except httpx.HTTPError as exc:
            raise LlmCallError(
                "network",
                f"could not reach {self.settings.completions_url} ({type(exc).__name__}: {exc}); "
                "check LLM_BASE_URL and that the server is running",
            ) from None
        if not completion.text.strip():
            raise LlmCallError("empty", "the model replied with no text")
        return Completion(
            completion.text, completion.prompt_tokens, completion.completion_tokens, time.monotonic() - started
        )

    async def _call(self, messages: list[Message], on_text: OnText | None) -> Completion:
        body: dict = {
            "model": self.settings.model,
            "messages": messages,
            "max_tokens": self.settings.max_output_tokens,
            "temperature": 0,
            "stream": on_text is not None,
        }
        if on_text is not None:
            body["stream_options"] = {"include_usage": True}
        headers = {"Authorization": f"Bearer {self.settings.api_key}"} if self.settings.api_key else {}
        import httpx

        timeout = httpx.Timeout(self.settings.timeout_seconds)
        async with (
            httpx.AsyncClient(transport=self._transport, timeout=timeout, trust_env=False) as client,
            client.stream("POST", self.settings.completions_url, json=body, headers=headers) as response,
        ):
            if response.status_code != 200:
                await response.aread()
                raise _status_error(response)
            if on_text is None:
                return _completion(await response.aread())
            return await _streamed(response.aiter_lines(), on_text)


def _status_error(response: httpx.Response) -> LlmCallError:
    status = response.status_code
    detail = _error_detail(response.content)
    said = f": {detail}" if detail else ""
    if status == 429:
        retry_after = _retry_after(response.headers.get("retry-after"))
        return LlmCallError(
            "rate_limited",
            f"the model's server is rate-limiting requests (HTTP 429, retry after {retry_after:g} s){said}",
            retry_after,
        )
    if status in (401, 403):
        refused = f"the model's server refused the key (HTTP {status}){said}; check LLM_API_KEY"
        return LlmCallError("http_error", refused)
    if status == 404:
        return LlmCallError(
            "http_error",
            f"the model's server answered HTTP 404{said}; check LLM_BASE_URL (it usually ends in /v1) and LLM_MODEL",
        )
    return LlmCallError("http_error", f"the model's server answered HTTP {status}{said}")


def _error_detail(content: bytes) -> str:
    """The message of an OpenAI-style error body, else the start of the body."""
    try:
        data = json.loads(content)
        message = data.get("error", {}).get("message", "") if isinstance(data.get("error"), dict) else data["error"]
        return " ".join(str(message).split())[:200]
    except (ValueError, AttributeError, KeyError, TypeError):
        return " ".join(content.decode("utf-8", "replace").split())[:200]


def _retry_after(value: str | None) -> float:
    """Seconds from a Retry-After header (seconds, or an HTTP date); DEFAULT_RETRY_AFTER when absent or unreadable."""
    if not value:
        return DEFAULT_RETRY_AFTER
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    return max(0.0, when.timestamp() - time.time())


def _malformed(what: str) -> LlmCallError:
    return LlmCallError("malformed", f"the model's server sent {what}, not a Chat Completions reply")


def _completion(content: bytes) -> Completion:
    try:
        data = json.loads(content)
    except ValueError:
        raise _malformed("a body that is not JSON") from None
    try:
        text = data["choices"][0]["message"]["content"] or ""
    except (KeyError, IndexError, TypeError):
        raise _malformed("JSON without choices[0].message.content") from None
    if not isinstance(text, str):
        raise _malformed("a message content that is not text")
    prompt, completion = _usage(data)
    return Completion(text, prompt, completion)


def _usage(data: dict) -> tuple[int, int]:
    usage = data.get("usage") if isinstance(data, dict) else None
    if not isinstance(usage, dict):
        return 0, 0
    return int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)


async def _streamed(lines: AsyncIterator[str], on_text: OnText) -> Completion:
    """Read server-sent events (``data: {json}`` lines, ending with ``data: [DONE]``) into one reply."""
    parts: list[str] = []
    prompt = completion = 0
    async for line in lines:
        if not line.startswith("data:"):
            continue  # blank separators, ": keep-alive" comments, "event:" lines
        payload = line[len("data:") :].strip()
        if payload == "[DONE]":
            break
        try:
            event = json.loads(payload)
        except ValueError:
            raise _malformed("a streamed event that is not JSON") from None
        if not isinstance(event, dict):
            raise _malformed("a streamed event that is not a JSON object")
        if "error" in event:
            detail = _error_detail(payload.encode())
            raise LlmCallError("http_error", f"the model's server stopped with an error: {detail}")
        prompt, completion = _usage(event) if event.get("usage") else (prompt, completion)
        for choice in event.get("choices") or ():
            delta = choice.get("delta") if isinstance(choice, dict) else None
            text = delta.get("content") if isinstance(delta, dict) else None
            if isinstance(text, str) and text:
                parts.append(text)
                await on_text("".join(parts))
    return Completion("".join(parts), prompt, completion)
