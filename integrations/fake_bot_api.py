"""A fake Telegram Bot API server, plugged in at the HTTP boundary.

PTB's real ``HTTPXRequest`` talks to it through an ``httpx.MockTransport``, so
the bot's serialization, defaults and error handling run exactly as against
``api.telegram.org``. It keeps each chat's messages, answers like the real
server (including the errors that matter: text over 4096 characters, callback
data over 64 bytes, URL buttons with a non-http(s)/tg scheme, "message is not
modified"), and builds incoming updates the way Telegram sends them.

Used by the terminal demo (``bot/terminal.py``), the tests and the benchmark.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

import httpx

BOT_USER = {"id": 777000111, "is_bot": True, "first_name": "artis CRM",
            "username": "artis_crm_demo_bot"}

_INT_PARAMS = {"chat_id", "message_id", "user_id", "reply_to_message_id", "offset", "limit",
               "timeout", "cache_time", "max_connections"}
_JSON_PARAMS = {"reply_markup", "entities", "commands", "scope", "allowed_updates",
                "link_preview_options", "reply_parameters", "message_ids", "latitude", "longitude",
                "horizontal_accuracy", "disable_notification", "show_alert", "drop_pending_updates",
                "protect_content"}


class BotApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


@dataclass
class ApiCall:
    """One request the bot made: method name, decoded parameters, uploaded files."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class SimUser:
    """A Telegram user talking to the bot in a private chat."""

    id: int
    first_name: str = "Camille"
    last_name: str | None = None
    language_code: str | None = "fr"
    username: str | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "language_code", "username"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data

    def chat_json(self) -> dict[str, Any]:
        return {"id": self.id, "type": "private", "first_name": self.first_name}


class FakeBotApi:
    """In-memory Bot API: records calls, keeps messages, serves updates and files."""

    def __init__(self, token: str = "123456:TEST-TOKEN-abcdefghijklmnop") -> None:
        self.token = token
        self.calls: list[ApiCall] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.deleted: list[tuple[int, int]] = []
        self.left_chats: list[int] = []
        self.files: dict[str, bytes] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] | None = None
        self.listeners: list[Callable[[ApiCall, dict[str, Any] | bool], None]] = []
        self.fail_methods: dict[str, BotApiError] = {}
        self._message_ids = itertools.count(1)
        self._update_ids = itertools.count(int(time.time() * 1000) % 2_000_000_000)
        self._pending_updates: asyncio.Queue[dict[str, Any]] | None = None
        self._answered_queries: set[str] = set()
        self._unacked: list[dict[str, Any]] = []  # returned by getUpdates, not yet acknowledged
        self.allowed_updates: frozenset[str] | None = None  # as the bot last asked; None: all

    # -- wiring ---------------------------------------------------------------------
    def transport(self) -> httpx.MockTransport:
        """In-process: plug under PTB's ``HTTPXRequest`` (``httpx_kwargs``)."""
        return httpx.MockTransport(self._handle)

    def asgi_app(self) -> Callable[..., Any]:
        """Over real HTTP: serve this fake as a Bot API server (``TELEGRAM_API_URL``)."""
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import Response
        from starlette.routing import Route

        async def relay(request: Request) -> Response:
            body = await request.body()
            inner = httpx.Request(request.method, str(request.url), content=body,
                                  headers={"content-type": request.headers.get("content-type",
                                                                               "")})
            answer = await self._handle(inner)
            return Response(answer.content, status_code=answer.status_code,
                            media_type="application/json")

        return Starlette(routes=[Route("/{path:path}", relay, methods=["GET", "POST"])])

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith(f"/file/bot{self.token}/"):
            file_id = path.rsplit("/", 1)[-1]
            if file_id in self.files:
                return httpx.Response(200, content=self.files[file_id])
            return httpx.Response(404, json={"ok": False, "error_code": 404,
                                             "description": "Not Found"})
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            return httpx.Response(401, json={"ok": False, "error_code": 401,
                                             "description": "Unauthorized"})
        method = path[len(prefix):]
        params, files = _decode_body(request)
        call = ApiCall(method, params, files)
        self.calls.append(call)
        try:
            if method in self.fail_methods:
                raise self.fail_methods[method]
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise BotApiError(404, "Not Found: method not found")
            result = handler(params, files)
            if asyncio.iscoroutine(result):
                result = await result
        except BotApiError as exc:
            return httpx.Response(exc.code, json={"ok": False, "error_code": exc.code,
                                                  "description": exc.description})
        for listener in self.listeners:
            listener(call, result)
        return httpx.Response(200, json={"ok": True, "result": result})

    # -- incoming updates (what a user does) ------------------------------------------
    def next_update_id(self) -> int:
        return next(self._update_ids)

    def text_update(self, user: SimUser, text: str) -> dict[str, Any]:
        message_id = next(self._message_ids)
        message: dict[str, Any] = {"message_id": message_id, "date": int(time.time()),
                                   "chat": user.chat_json(), "from": user.as_json(), "text": text}
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(command.encode("utf-16-le")) // 2}]
        self.messages[(user.id, message_id)] = message
        return {"update_id": self.next_update_id(), "message": message}

    def message_update(self, user: SimUser, **content: Any) -> dict[str, Any]:
        """A message of another kind: voice=..., photo=..., sticker=..., contact=..."""
        message_id = next(self._message_ids)
        message = {"message_id": message_id, "date": int(time.time()),
                   "chat": user.chat_json(), "from": user.as_json(), **content}
        self.messages[(user.id, message_id)] = message
        return {"update_id": self.next_update_id(), "message": message}

    def callback_update(self, user: SimUser, data: str,
                        message: dict[str, Any] | None = None) -> dict[str, Any]:
        if message is None:
            message = self.last_bot_message(user.id) or {
                "message_id": 1, "date": int(time.time()), "chat": user.chat_json(), "text": "?"}
        return {"update_id": self.next_update_id(), "callback_query": {
            "id": str(next(self._message_ids)), "from": user.as_json(), "chat_instance": "1",
            "message": message, "data": data}}

    # -- inspection -------------------------------------------------------------------
    def sent(self, chat_id: int | None = None, method: str | None = None) -> list[ApiCall]:
        """Calls that put something in a chat (messages, edits, cards), oldest first."""
        shown = {"sendMessage", "editMessageText", "sendContact", "sendVenue", "sendLocation",
                 "sendDocument", "sendPhoto", "sendVoice", "editMessageReplyMarkup"}
        return [c for c in self.calls
                if ((method is None and c.method in shown) or c.method == method)
                and (chat_id is None or str(c.params.get("chat_id")) == str(chat_id))]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [c.params.get("text", "") for c in self.sent(chat_id)
                if c.method in ("sendMessage", "editMessageText")]

    def last_bot_message(self, chat_id: int) -> dict[str, Any] | None:
        mine = [m for (c, _), m in self.messages.items()
                if c == chat_id and m.get("from", {}).get("id") == BOT_USER["id"]]
        return mine[-1] if mine else None

    def buttons(self, message: dict[str, Any] | None) -> list[dict[str, Any]]:
        if not message:
            return []
        rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    # -- Bot API methods ------------------------------------------------------------------
    def _m_getMe(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return {**BOT_USER, "can_join_groups": False, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    def _m_setMyCommands(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        scope = params.get("scope") or {"type": "default"}
        key = f"{scope.get('type')}:{scope.get('chat_id', '')}:{params.get('language_code', '')}"
        self.commands[key] = params.get("commands", [])
        return True

    def _m_deleteMyCommands(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        return True

    def _m_setWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        self.webhook = params
        return True

    def _m_deleteWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        self.webhook = None
        return True

    def _m_sendChatAction(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        return True

    def _m_leaveChat(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        self.left_chats.append(int(params["chat_id"]))
        return True

    def _m_answerCallbackQuery(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        if len(params.get("text") or "") > 200:
            raise BotApiError(400, "Bad Request: answer text is too long")
        if params.get("callback_query_id") in self._answered_queries:  # a query is answered once
            raise BotApiError(400, "Bad Request: query is too old and response timeout expired "
                                   "or query ID is invalid")
        self._answered_queries.add(str(params.get("callback_query_id")))
        return True

    def _m_sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        text = params.get("text") or ""
        if not text.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise BotApiError(400, "Bad Request: message is too long")
        return self._store_message(params, text=text)

    def _m_editMessageText(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        old = self._existing(params)
        text = params.get("text") or ""
        if not text.strip() or len(text) > 4096:
            raise BotApiError(400, "Bad Request: message text is empty or too long")
        markup = self._markup(params)
        if old.get("text") == text and old.get("reply_markup") == markup:
            raise BotApiError(400, "Bad Request: message is not modified: specified new message "
                                   "content and reply markup are exactly the same")
        old.update(text=text, edit_date=int(time.time()))
        old.pop("reply_markup", None)
        if markup:
            old["reply_markup"] = markup
        return old

    def _m_editMessageReplyMarkup(self, params: dict[str, Any],
                                  files: dict[str, bytes]) -> dict[str, Any]:
        old = self._existing(params)
        old.pop("reply_markup", None)
        if markup := self._markup(params):
            old["reply_markup"] = markup
        return old

    def _m_deleteMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> bool:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise BotApiError(400, "Bad Request: message to delete not found")
        del self.messages[key]
        self.deleted.append(key)
        return True

    def _m_sendContact(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        contact = {k: params[k] for k in ("phone_number", "first_name", "last_name", "vcard")
                   if params.get(k) is not None}
        return self._store_message(params, contact=contact)

    def _m_sendVenue(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        location = {"latitude": params["latitude"], "longitude": params["longitude"]}
        venue = {"location": location, "title": params["title"], "address": params["address"]}
        return self._store_message(params, venue=venue, location=location)

    def _m_sendLocation(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return self._store_message(params, location={"latitude": params["latitude"],
                                                     "longitude": params["longitude"]})

    def _m_sendDocument(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        name, content = _upload(params, files, "document")
        file_id = self._keep_file(content)
        return self._store_message(params, caption=params.get("caption"), document={
            "file_id": file_id, "file_unique_id": file_id, "file_name": name,
            "file_size": len(content)})

    def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        _, content = _upload(params, files, "photo")
        file_id = self._keep_file(content)
        return self._store_message(params, caption=params.get("caption"), photo=[{
            "file_id": file_id, "file_unique_id": file_id, "width": 512, "height": 512,
            "file_size": len(content)}])

    def _m_getFile(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        file_id = params["file_id"]
        if file_id not in self.files:
            raise BotApiError(400, "Bad Request: invalid file_id")
        return {"file_id": file_id, "file_unique_id": file_id,
                "file_size": len(self.files[file_id]), "file_path": file_id}

    async def _m_getUpdates(self, params: dict[str, Any],
                            files: dict[str, bytes]) -> list[dict[str, Any]]:
        """As Telegram: updates stay pending until a later call's ``offset`` passes them, so a
        bot that dies before asking again gets the same batch after its restart; update
        kinds left out of the last ``allowed_updates`` given are never delivered."""
        if params.get("allowed_updates"):
            self.allowed_updates = frozenset(params["allowed_updates"])
        offset = int(params["offset"]) if params.get("offset") not in (None, "") else None
        if offset is not None:
            self._unacked = [u for u in self._unacked if u["update_id"] >= offset]
        if self._unacked:
            return list(self._unacked[:100])
        queue = self._updates_queue()
        timeout = float(params.get("timeout") or 0)
        try:
            first = await asyncio.wait_for(queue.get(), timeout=max(timeout, 0.01))
        except TimeoutError:
            return []
        self._unacked += [first] if self._allowed(first) else []
        while not queue.empty() and len(self._unacked) < 100:
            update = queue.get_nowait()
            self._unacked += [update] if self._allowed(update) else []
        return list(self._unacked)

    def _allowed(self, update: dict[str, Any]) -> bool:
        return self.allowed_updates is None or bool(set(update) & self.allowed_updates)

    def push_update(self, update: dict[str, Any]) -> None:
        """Make ``update`` available to a bot polling with getUpdates."""
        self._updates_queue().put_nowait(update)

    def add_file(self, content: bytes) -> str:
        return self._keep_file(content)

    # -- helpers ----------------------------------------------------------------------------
    def _updates_queue(self) -> asyncio.Queue[dict[str, Any]]:
        if self._pending_updates is None:
            self._pending_updates = asyncio.Queue()
        return self._pending_updates

    def _keep_file(self, content: bytes) -> str:
        file_id = f"file{len(self.files) + 1}"
        self.files[file_id] = content
        return file_id

    def _existing(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise BotApiError(400, "Bad Request: message to edit not found")
        return self.messages[key]

    def _markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        """The inline keyboard a message keeps. A reply keyboard (``keyboard``, e.g. a
        "share my location" button) belongs to the chat, not the message: Telegram does
        not return it, so neither do we (it stays in the call's parameters)."""
        markup = params.get("reply_markup")
        if not markup or "inline_keyboard" not in markup:
            return None
        for row in markup.get("inline_keyboard", []):
            for button in row:
                _check_button(button)
        return dict(markup)

    def _store_message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message = {"message_id": next(self._message_ids), "date": int(time.time()),
                   "chat": {"id": chat_id, "type": "private"}, "from": BOT_USER,
                   **{k: v for k, v in content.items() if v is not None}}
        if markup := self._markup(params):
            message["reply_markup"] = markup
        self.messages[(chat_id, message["message_id"])] = message
        return message


def _check_button(button: dict[str, Any]) -> None:
    data = button.get("callback_data")
    if data is not None and not 1 <= len(data.encode()) <= 64:
        raise BotApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None and not url.startswith(("http://", "https://", "tg://")):
        raise BotApiError(400, f"Bad Request: inline keyboard button URL '{url}' is invalid: "
                               "Unsupported URL protocol")


def _upload(params: dict[str, Any], files: dict[str, bytes], field_name: str) -> tuple[str, bytes]:
    ref = params.get(field_name, "")
    if isinstance(ref, str) and ref.startswith("attach://"):
        name = ref.removeprefix("attach://")
        return name, files.get(name, b"")
    if field_name in files:
        return field_name, files[field_name]
    raise BotApiError(400, f"Bad Request: there is no {field_name} in the request")


def _decode_body(request: httpx.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """PTB sends form fields, JSON-encoding non-string values; files as multipart."""
    content_type = request.headers.get("content-type", "")
    raw: dict[str, str] = {}
    files: dict[str, bytes] = {}
    body = request.read()
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if not isinstance(payload, bytes):
                payload = b""
            if part.get_filename() is not None:
                files[str(name)] = payload
            else:
                raw[str(name)] = payload.decode()
    elif content_type.startswith("application/json"):
        raw = {k: v if isinstance(v, str) else json.dumps(v)
               for k, v in (json.loads(body) if body else {}).items()}
    elif body:
        raw = dict(parse_qsl(body.decode(), keep_blank_values=True))
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _INT_PARAMS and value.lstrip("-").isdigit():
            params[key] = int(value)
        elif key in _JSON_PARAMS:
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        else:
            params[key] = value
    return params, files
