"""A fake Telegram Bot API server on 127.0.0.1, for tests and the load benchmark.

It speaks the Bot API over real HTTP (``http://127.0.0.1:PORT/bot<token>/<method>``), so the
real python-telegram-bot Application talks to it unchanged. It implements the methods the
bot uses, records every call, lets a test inject updates (delivered by getUpdates long
polling, or POSTed to the webhook once one is set) and rejects what Telegram rejects:
unknown methods, a wrong token, malformed or unbalanced HTML in HTML parse mode, and text
longer than 4096 UTF-16 code units after entity parsing. It stops by itself after
``lifetime`` seconds, so a stuck test cannot leave it running.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "123456:TEST-token_for-the-fake"
BOT_USER = {
    "id": 777000111,
    "is_bot": True,
    "first_name": "Articles",
    "username": "articles_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
MAX_TEXT_UNITS = 4096

# Tags Telegram accepts in HTML parse mode, with the attributes each may carry.
_ALLOWED_TAGS = {
    "b": set(),
    "strong": set(),
    "i": set(),
    "em": set(),
    "u": set(),
    "ins": set(),
    "s": set(),
    "strike": set(),
    "del": set(),
    "a": {"href"},
    "code": {"class"},
    "pre": set(),
    "blockquote": {"expandable"},
    "tg-spoiler": set(),
    "span": {"class"},
    "tg-emoji": {"emoji-id"},
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ATTRIBUTE = re.compile(r"""\s*([a-zA-Z][a-zA-Z0-9-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
# Fields whose form value is a plain string; every other field is JSON-encoded by the client.
_STRING_FIELDS = {"text", "parse_mode", "url", "secret_token", "callback_query_id", "action", "caption", "ip_address"}


class ApiError(Exception):
    """A Bot API error reply."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def parse_html(text: str) -> str:
    """The plain text of a message in HTML parse mode; ApiError 400 where Telegram would refuse it."""

    def refuse(reason: str) -> ApiError:
        return ApiError(400, f"Bad Request: can't parse entities: {reason}")

    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "<":
            end = text.find(">", i)
            if end == -1:
                raise refuse(f"Unclosed start tag at byte offset {_byte_offset(text, i)}")
            inside = text[i + 1 : end]
            if inside.startswith("/"):
                name = inside[1:].strip().lower()
                if not stack:
                    raise refuse(f'Unexpected end tag "{name}" at byte offset {_byte_offset(text, i)}')
                if stack[-1] != name:
                    raise refuse(
                        f"Unmatched end tag at byte offset {_byte_offset(text, i)}, "
                        f'expected "</{stack[-1]}>", found "</{name}>"'
                    )
                stack.pop()
            else:
                stack.append(_check_start_tag(inside, _byte_offset(text, i), refuse))
            i = end + 1
        elif char == "&":
            match = re.match(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]+);", text[i:])
            if match is None:
                raise refuse(f"Character entity expected at byte offset {_byte_offset(text, i)}")
            body = match.group(1)
            if body.startswith("#"):
                code = int(body[2:], 16) if body[1:2] in "xX" else int(body[1:])
                if not 0 < code <= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                    raise refuse(f"Invalid character entity at byte offset {_byte_offset(text, i)}")
                out.append(chr(code))
            elif body in _NAMED_ENTITIES:
                out.append(_NAMED_ENTITIES[body])
            else:
                raise refuse(f'Unsupported entity "{body}" at byte offset {_byte_offset(text, i)}')
            i += len(match.group())
        elif char == ">":
            raise refuse(f"Unexpected '>' at byte offset {_byte_offset(text, i)}")
        else:
            out.append(char)
            i += 1
    if stack:
        raise refuse(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def _check_start_tag(inside: str, offset: int, refuse: Callable[[str], ApiError]) -> str:
    match = re.match(r"([a-zA-Z][a-zA-Z0-9-]*)", inside)
    name = match.group(1).lower() if match else inside
    if match is None or name not in _ALLOWED_TAGS:
        raise refuse(f'Unsupported start tag "{name}" at byte offset {offset}')
    rest, attributes = inside[match.end() :], {}
    while rest.strip():
        attribute = _ATTRIBUTE.match(rest)
        if attribute is None or attribute.end() == 0:
            raise refuse(f'Bad attributes of tag "{name}" at byte offset {offset}')
        value = next((group for group in attribute.groups()[1:] if group is not None), "")
        attributes[attribute.group(1).lower()] = html.unescape(value)
        rest = rest[attribute.end() :]
    unknown = set(attributes) - _ALLOWED_TAGS[name]
    if unknown:
        raise refuse(f'Unsupported attribute "{sorted(unknown)[0]}" of tag "{name}" at byte offset {offset}')
    if name == "span" and attributes.get("class") != "tg-spoiler":
        raise refuse(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
    if name == "a" and "href" in attributes and not re.match(r"(https?|tg)://\S+$", attributes["href"]):
        raise refuse(f"Wrong HTTP URL at byte offset {offset}")
    return name


def _check_text(text: Any, parse_mode: Any) -> str:
    if not isinstance(text, str):
        raise ApiError(400, "Bad Request: message text is empty")
    plain = parse_html(text) if str(parse_mode).upper() == "HTML" else text
    if not plain.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if _units(plain) > MAX_TEXT_UNITS:
        raise ApiError(400, "Bad Request: message is too long")
    return plain


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict
    status: int
    result: Any = None
    description: str = ""
    at: float = field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        return self.status == 200


class FakeTelegram:
    """The fake Bot API server. Use as a context manager, or call start() and stop()."""

    def __init__(self, token: str = TOKEN, lifetime: float = 300.0, bot_user: dict | None = None) -> None:
        self.token = token
        self.bot_user = dict(bot_user or BOT_USER)
        self.lifetime = lifetime
        self.calls: list[Call] = []
        self.webhook: dict = {}
        self.deliveries: list[int] = []  # HTTP status of each update POSTed to the webhook
        self.commands: list[dict] = []
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count] = {}
        self._messages: dict[tuple[int, int], dict] = {}
        self._chats: dict[int, dict] = {}  # chats users have written in
        self._callback_ids = itertools.count(1)
        self._stopping = False
        self._server: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []
        self._methods: dict[str, Callable[[dict], Any]] = {
            "getme": lambda params: self.bot_user,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "sendchataction": self._send_chat_action,
            "setmycommands": self._set_my_commands,
            "getmycommands": lambda params: self.commands,
            "deletemycommands": self._delete_my_commands,
            "answercallbackquery": self._answer_callback_query,
        }

    # -- life cycle ---------------------------------------------------------------------

    def start(self) -> FakeTelegram:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        serving = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        serving.start()
        timer = threading.Timer(self.lifetime, self.stop)
        timer.daemon = True
        timer.start()
        self._threads = [serving]
        self._timer = timer
        return self

    def stop(self) -> None:
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
            self._changed.notify_all()
        self._timer.cancel()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start the fake server first"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # -- what the bot did ---------------------------------------------------------------

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            self._changed.notify_all()

    def calls_of(self, method: str, **where: Any) -> list[Call]:
        """Recorded calls of ``method`` whose params equal every ``where`` item."""
        with self._lock:
            return [
                call
                for call in self.calls
                if call.method.lower() == method.lower() and all(call.params.get(k) == v for k, v in where.items())
            ]

    def wait_for(
        self, method: str, count: int = 1, timeout: float = 10.0, ok: bool | None = True, **where: Any
    ) -> list[Call]:
        """Wait until at least ``count`` matching calls were made (only successful ones by default)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [call for call in self.calls_of(method, **where) if ok is None or call.ok == ok]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    summary = "\n".join(
                        f"  {c.method} {c.status} {c.description} {c.params}"[:300] for c in self.calls[-15:]
                    )
                    raise AssertionError(
                        f"timed out after {timeout} s waiting for {count} {method} {where}; found {len(found)}; "
                        f"last calls:\n{summary}"
                    )
                self._changed.wait(left)

    def sent_texts(self, chat_id: int) -> list[str]:
        """The plain text of every message the bot sent successfully to a chat, in order."""
        return [call.result["text"] for call in self.calls_of("sendMessage", chat_id=chat_id) if call.ok]

    def message(self, chat_id: int, message_id: int) -> dict:
        with self._lock:
            return self._messages[(chat_id, message_id)]

    # -- what users do ------------------------------------------------------------------

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def push_update(self, update: dict) -> dict:
        """Queue an update (or POST it to the webhook, when one is set); returns it with its id."""
        with self._lock:
            update = {"update_id": next(self._update_ids), **update}
            webhook = dict(self.webhook)
            if not webhook:
                self._updates.append(update)
                self._changed.notify_all()
        if webhook:
            self.deliveries.append(post_update(webhook["url"], update, webhook.get("secret_token")))
        return update

    def user_message(
        self, chat: dict, user: dict, text: str | None = None, reply_to: dict | None = None, **extra: Any
    ) -> dict:
        """A message from a user, with the entities Telegram would attach (commands, mentions)."""
        with self._lock:
            message = {
                "message_id": self._next_message_id(chat["id"]),
                "date": int(time.time()),
                "chat": chat,
                "from": user,
            }
            if text is not None:
                message["text"] = text
                entities = message_entities(text)
                if entities:
                    message["entities"] = entities
            if reply_to is not None:
                message["reply_to_message"] = reply_to
            message.update(extra)
            self._messages[(chat["id"], message["message_id"])] = message
            self._chats[chat["id"]] = chat
        return message

    def send_text(self, chat: dict, user: dict, text: str, reply_to: dict | None = None) -> dict:
        """A user sends a text message; returns the message."""
        message = self.user_message(chat, user, text, reply_to)
        self.push_update({"message": message})
        return message

    def send_sticker(self, chat: dict, user: dict) -> dict:
        sticker = {
            "file_id": "sticker-1",
            "file_unique_id": "s1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
        }
        message = self.user_message(chat, user, sticker=sticker)
        self.push_update({"message": message})
        return message

    def press_button(self, chat: dict, user: dict, message: dict, data: str) -> str:
        """A user presses an inline button under one of the bot's messages; returns the query id."""
        query_id = f"query-{next(self._callback_ids)}"
        self.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "message": message,
                    "chat_instance": f"ci-{chat['id']}",
                    "data": data,
                }
            }
        )
        return query_id

    # -- the Bot API methods ------------------------------------------------------------

    def handle(self, method: str, params: dict) -> tuple[int, dict]:
        handler = self._methods.get(method.lower())
        try:
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = handler(params)
        except ApiError as error:
            self.record(Call(method, params, error.code, description=error.description))
            return error.code, {"ok": False, "error_code": error.code, "description": error.description}
        self.record(Call(method, params, 200, result=result))
        return 200, {"ok": True, "result": result}

    def _get_updates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 50.0)
        with self._lock:
            if self.webhook:
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            if offset:
                self._updates = [update for update in self._updates if update["update_id"] >= offset]
            while not self._updates and not self._stopping and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())
            return self._updates[:limit]

    def _set_webhook(self, params: dict) -> bool:
        url = params.get("url", "")
        if url and not re.match(r"https?://", url):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        with self._lock:
            self.webhook = (
                {"url": url, "secret_token": secret, "allowed_updates": params.get("allowed_updates")} if url else {}
            )
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _delete_webhook(self, params: dict) -> bool:
        with self._lock:
            self.webhook = {}
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _get_webhook_info(self, params: dict) -> dict:
        with self._lock:
            return {
                "url": self.webhook.get("url", ""),
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }

    def _chat(self, chat_id: Any) -> dict:
        chat_id = int(chat_id)
        with self._lock:
            known = self._chats.get(chat_id)
        if known is not None:
            return known
        return (
            {"id": chat_id, "type": "private", "first_name": "User"}
            if chat_id > 0
            else {"id": chat_id, "type": "supergroup", "title": "Group"}
        )

    def _send_message(self, params: dict) -> dict:
        if "chat_id" not in params:
            raise ApiError(400, "Bad Request: chat_id is empty")
        plain = _check_text(params.get("text"), params.get("parse_mode"))
        chat = self._chat(params["chat_id"])
        with self._lock:
            reply = params.get("reply_parameters")
            if (
                reply
                and (chat["id"], reply.get("message_id")) not in self._messages
                and not reply.get("allow_sending_without_reply")
            ):
                raise ApiError(400, "Bad Request: message to be replied not found")
            message = {
                "message_id": self._next_message_id(chat["id"]),
                "from": self.bot_user,
                "chat": chat,
                "date": int(time.time()),
                "text": plain,
            }
            if reply:
                message["reply_to_message"] = self._messages[(chat["id"], reply["message_id"])]
            if params.get("reply_markup"):
                message["reply_markup"] = params["reply_markup"]
            self._messages[(chat["id"], message["message_id"])] = message
            return message

    def _edit_message_text(self, params: dict) -> dict:
        plain = _check_text(params.get("text"), params.get("parse_mode"))
        key = (int(params.get("chat_id", 0)), int(params.get("message_id", 0)))
        with self._lock:
            message = self._messages.get(key)
            if message is None or message["from"]["id"] != self.bot_user["id"]:
                raise ApiError(400, "Bad Request: message to edit not found")
            markup = params.get("reply_markup")
            if message["text"] == plain and message.get("reply_markup") == markup:
                raise ApiError(
                    400,
                    "Bad Request: message is not modified: specified new message content and reply "
                    "markup are exactly the same as a current content and reply markup of the message",
                )
            message = {**message, "text": plain, "edit_date": int(time.time())}
            if markup:
                message["reply_markup"] = markup
            else:
                message.pop("reply_markup", None)
            self._messages[key] = message
            return message

    def _send_chat_action(self, params: dict) -> bool:
        if params.get("action") not in {
            "typing",
            "upload_photo",
            "record_video",
            "upload_video",
            "record_voice",
            "upload_voice",
            "upload_document",
            "choose_sticker",
            "find_location",
            "record_video_note",
            "upload_video_note",
        }:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _set_my_commands(self, params: dict) -> bool:
        commands = params.get("commands") or []
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command.get("command", "")):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        with self._lock:
            self.commands = list(commands)
        return True

    def _delete_my_commands(self, params: dict) -> bool:
        with self._lock:
            self.commands = []
        return True

    def _answer_callback_query(self, params: dict) -> bool:
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        return True


class _QuietServer(ThreadingHTTPServer):
    """A client that hangs up (a cancelled request, a stopping bot) is normal, not an error to print."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Routes ``/bot<token>/<method>`` to the fake; everything else is 404."""

    server_fake: FakeTelegram
    protocol_version = "HTTP/1.1"
    timeout = 60
    wbufsize = -1  # headers and body leave in one write (else Nagle and delayed ACKs add 40 ms a call)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _serve(self) -> None:
        fake = self.server_fake
        parts = urlsplit(self.path)
        match = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", parts.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if len(body) < length:  # the client gave up before sending the body (a cancelled request): never handled
            self.close_connection = True
            return
        if match is None:
            return self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        if match.group(1) != fake.token:
            return self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        try:
            params = _parameters(self.headers.get("Content-Type", ""), body, parts.query)
        except ValueError as error:
            return self._reply(400, {"ok": False, "error_code": 400, "description": f"Bad Request: {error}"})
        status, payload = fake.handle(match.group(2), params)
        self._reply(status, payload)

    def _reply(self, status: int, payload: dict) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _parameters(content_type: str, body: bytes, query: str) -> dict:
    """Decode form or JSON parameters; form values other than plain strings are JSON, as PTB sends them."""
    if content_type.startswith("application/json"):
        return json.loads(body or b"{}")
    if content_type.startswith("multipart/"):
        raise ValueError("file uploads are not supported by the fake server")
    raw = parse_qs(query, keep_blank_values=True)
    raw.update(parse_qs(body.decode("utf-8"), keep_blank_values=True))
    params = {}
    for name, values in raw.items():
        value = values[-1]
        if name in _STRING_FIELDS:
            params[name] = value
            continue
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError:
            params[name] = value
    return params


def message_entities(text: str) -> list[dict]:
    """The bot_command and mention entities Telegram attaches to a text, offsets in UTF-16 units."""
    entities = []
    command = re.match(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{5,32})?", text)
    if command:
        entities.append({"type": "bot_command", "offset": 0, "length": _units(command.group())})
    for mention in re.finditer(r"(?<![\w@/])@[A-Za-z0-9_]{5,32}", text):
        if command and mention.start() < command.end():
            continue
        entities.append(
            {"type": "mention", "offset": _units(text[: mention.start()]), "length": _units(mention.group())}
        )
    return entities


def post_update(url: str, update: dict, secret: str | None, timeout: float = 10.0) -> int:
    """POST an update to a webhook as Telegram does; returns the HTTP status."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=json.dumps(update).encode("utf-8"), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def private_chat(user_id: int, name: str = "Reader") -> dict:
    return {"id": user_id, "type": "private", "first_name": name}


def group_chat(chat_id: int, title: str = "News group") -> dict:
    return {"id": chat_id, "type": "supergroup", "title": title}


def user(user_id: int, name: str = "Reader") -> dict:
    return {"id": user_id, "is_bot": False, "first_name": name}
