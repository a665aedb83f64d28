"""A fake OpenAI-compatible Chat Completions server on 127.0.0.1, for the tests of LLM answers.

``POST /v1/chat/completions`` answers with the next scripted ``Reply`` (then ``default``): in one JSON body, or
as server-sent events when the request asks to stream (the text word by word, then the usage when asked for,
then ``data: [DONE]``). A reply can instead be an HTTP error with headers (429 with Retry-After, 500), a delay
(a timeout), a raw body or raw events (malformed JSON). Like the real server it refuses requests without a
model or messages (400) and, when it has a key, requests without it (401). Every request body is kept.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer of the fake server."""

    text: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None  # sent as it is instead of a completion (an error body, or JSON that is not)
    events: list[str] | None = None  # streamed as ``data: …`` lines instead of the text's chunks
    delay: float = 0.0  # seconds before the answer starts
    chunk_delay: float = 0.0  # seconds between streamed chunks
    usage: tuple[int, int] = (120, 30)  # prompt and completion tokens


Responder = Reply | Callable[[dict], Reply]


@dataclass
class Request:
    body: dict
    headers: dict[str, str]
    at: float


class FakeOpenAI:
    """The server; use as a context manager. ``base_url`` is what LLM_BASE_URL would be set to."""

    def __init__(self, api_key: str = "", default: Responder | None = None) -> None:
        self.api_key = api_key
        self.default: Responder = default or Reply("NO_ANSWER")
        self.requests: list[Request] = []
        self._script: list[Responder] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai", daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, *replies: Responder) -> None:
        """Answer the next requests with these, in order (then with ``default``)."""
        with self._lock:
            self._script.extend(replies)

    def next_reply(self, body: dict) -> Reply:
        with self._lock:
            responder = self._script.pop(0) if self._script else self.default
        return responder(body) if callable(responder) else responder

    def wait(self, seconds: float) -> None:
        """Sleep, but not past the server's stop."""
        self._stopping.wait(seconds)

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            try:
                self._answer()
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
                pass

        def _answer(self) -> None:
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._json(404, {"error": {"message": f"no route {self.path}"}})
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if fake.api_key and self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                return self._json(401, {"error": {"message": "Incorrect API key provided"}})
            try:
                body = json.loads(raw)
            except ValueError:
                return self._json(400, {"error": {"message": "the body is not JSON"}})
            messages = body.get("messages")
            if not body.get("model") or not isinstance(messages, list) or not messages:
                return self._json(400, {"error": {"message": "model and messages are required"}})
            if not all(isinstance(m, dict) and m.get("role") and isinstance(m.get("content"), str) for m in messages):
                return self._json(400, {"error": {"message": "each message needs a role and a text content"}})
            fake.requests.append(Request(body, dict(self.headers), time.monotonic()))
            reply = fake.next_reply(body)
            fake.wait(reply.delay)
            if reply.status != 200 or reply.body is not None:
                return self._raw(reply.status, reply.body or b'{"error": {"message": "scripted failure"}}', reply)
            if body.get("stream"):
                return self._stream(reply, bool((body.get("stream_options") or {}).get("include_usage")))
            return self._json(200, _completion(body, reply))

        def _json(self, status: int, payload: dict) -> None:
            self._raw(status, json.dumps(payload).encode(), None)

        def _raw(self, status: int, content: bytes, reply: Reply | None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            for name, value in (reply.headers if reply else {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(content)

        def _stream(self, reply: Reply, include_usage: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            events = reply.events
            if events is None:
                events = [json.dumps(_chunk({"role": "assistant", "content": ""}))]
                events += [json.dumps(_chunk({"content": piece})) for piece in _pieces(reply.text)]
                events.append(
                    json.dumps({**_chunk({}), "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                )
                if include_usage:
                    events.append(json.dumps({**_chunk({}), "choices": [], "usage": _usage(reply)}))
                events.append("[DONE]")
            for event in events:
                self.wfile.write(f"data: {event}\n\n".encode())
                self.wfile.flush()
                fake.wait(reply.chunk_delay)

    return Handler


def _pieces(text: str) -> list[str]:
    """The text as a model streams it: a word (with the space before it) at a time."""
    pieces, word = [], ""
    for char in text:
        if char == " " and word.strip():
            pieces.append(word)
            word = ""
        word += char
    return [*pieces, word] if word else pieces


def _usage(reply: Reply) -> dict:
    prompt, completion = reply.usage
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _chunk(delta: dict) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "fake-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
    }


def _completion(body: dict, reply: Reply) -> dict:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.text}, "finish_reason": "stop"}],
        "usage": _usage(reply),
    }


def user_message(request: Request) -> str:
    """The user message of a request (the passages and the question)."""
    return next(m["content"] for m in request.body["messages"] if m["role"] == "user")
