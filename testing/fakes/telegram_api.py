"""A fake Telegram Bot API server, for running the real python-telegram-bot stack in tests.

Why a server and not mocks: the Telegram service is a python-telegram-bot ``Application``;
what matters is what crosses the wire (which methods it calls, with which parameters, how it
copes with the API's errors). PTB's ``base_url`` points it here; it speaks HTTP to this aiohttp
server exactly as it would to ``api.telegram.org``.

What follows the Bot API documentation (https://core.telegram.org/bots/api), by section:

* **Making requests** — methods are served under ``/bot<token>/<method>``, parameters come as
  a query string, ``application/x-www-form-urlencoded``, ``application/json`` or
  ``multipart/form-data`` (file uploads); every answer is ``{"ok": true, "result": ...}`` or
  ``{"ok": false, "error_code": N, "description": "..."}``. A wrong token gets the real 401
  answer ``{"ok": false, "error_code": 401, "description": "Unauthorized"}``; an unknown method
  404 ``Not Found``.
* **Getting updates > getUpdates** — long polling: ``offset`` confirms every update with a
  lower ``update_id`` (they are never returned again), ``timeout`` is how long to wait for one,
  ``limit`` caps how many are returned.
* **Getting updates > Update**, **Available types > Message, User, Chat, CallbackQuery,
  InlineKeyboardMarkup, InlineKeyboardButton, MessageEntity (bot_command), PhotoSize** — the
  objects injected and returned have those fields (required ones always, optional ones when
  they apply).
* **Formatting options > HTML style** — ``parse_mode=HTML`` text is parsed: only the documented
  tags are accepted, unbalanced tags or unknown entities are 400 "can't parse entities", and
  the stored text is what the user would see (tags removed, entities decoded).
* **sendMessage / editMessageText / sendPhoto / deleteMessage / answerCallbackQuery** — with
  the limits and errors a client meets: text 1-4096 characters after entity parsing (counted
  in UTF-16 code units), captions up to 1024, "message is not modified", "message to delete
  not found", "chat not found" (a bot cannot write first to a user who never wrote to it),
  "query is too old ... or query ID is invalid".
* **setMyCommands / getMyCommands / deleteWebhook / close / logOut / sendChatAction** — stored
  or acknowledged.

* **Available types > MessageEntity** — a message starting with a command carries the
  ``bot_command`` entity Telegram computes: it ends at the first character that is not a
  letter, digit or ``_`` (``/users, add`` has the command ``/users``), as the real API does;
  python-telegram-bot dispatches on that entity, so the fake must not be kinder than Telegram.
* **Update.edited_message**, group chats and a re-delivered update (same ``update_id``, as
  after a lost confirmation) can be injected too.

Tests inject updates (:meth:`FakeTelegramServer.send_text`, :meth:`FakeTelegramServer.press`)
and wait for what the bot does (:meth:`FakeTelegramServer.wait_for`); every call is recorded in
:attr:`FakeTelegramServer.calls`.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import BodyPartReader, web

JSONDict = dict[str, Any]

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
# Formatting options > HTML style: the tags the Bot API accepts.
HTML_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "tg-emoji",
    "code",
    "pre",
    "blockquote",
}
# Parameters whose form values are JSON documents (PTB JSON-encodes every non-string value).
JSON_PARAMETERS = {
    "reply_markup",
    "allowed_updates",
    "commands",
    "scope",
    "entities",
    "caption_entities",
    "link_preview_options",
    "reply_parameters",
    "disable_notification",
    "protect_content",
    "show_alert",
    "drop_pending_updates",
    "disable_web_page_preview",
}
INTEGER_PARAMETERS = {"chat_id", "message_id", "offset", "limit", "timeout", "cache_time"}
# Available types > MessageEntity, type bot_command: what Telegram marks as the command. It ends
# at the first character that is not a letter, digit or underscore (``/users,`` -> ``/users``),
# optionally followed by ``@botusername``; python-telegram-bot dispatches on this entity.
BOT_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,32})?")


class ApiError(Exception):
    """An error answer of the Bot API (``ok: false``)."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass
class ApiCall:
    """One request the bot made: the method, its decoded parameters and uploaded files."""

    method: str
    params: JSONDict
    files: dict[str, bytes] = field(default_factory=dict)
    result: Any = None
    error: str | None = None

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        """The text as the user sees it (HTML parsed), for sendMessage/editMessageText."""
        if isinstance(self.result, dict):
            return str(self.result.get("text") or self.result.get("caption") or "")
        return str(self.params.get("text") or self.params.get("caption") or "")


def utf16_length(text: str) -> int:
    """Telegram counts message length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


class _TelegramHTML(HTMLParser):
    """Formatting options > HTML style: the tags allowed, balanced, and the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.visible: list[str] = []
        self.open: list[str] = []
        self.problem: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in HTML_TAGS:
            self.problem = f'unsupported start tag "{tag}"'
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.problem = f'can\'t find end tag corresponding to start tag "{tag}"'
            return
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.visible.append(data)


def parse_html(text: str) -> str:
    """The visible text of an HTML-formatted message, or ApiError 400 like the real API."""
    if "&" in text:
        # Only the four named entities (and numeric ones) are supported.
        for chunk in text.split("&")[1:]:
            name = chunk.split(";", 1)[0]
            if ";" not in chunk or not (name in {"lt", "gt", "amp", "quot"} or name[:1] == "#"):
                raise ApiError(400, "Bad Request: can't parse entities: unsupported HTML entity")
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    if parser.problem is None and parser.open:
        parser.problem = f'can\'t find end tag corresponding to start tag "{parser.open[-1]}"'
    if parser.problem is not None:
        raise ApiError(400, f"Bad Request: can't parse entities: {parser.problem}")
    return html.unescape("".join(parser.visible))


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (0, 0 for anything else)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
        return 0, 0
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


class FakeTelegramServer:
    """The Bot API for one bot token, on 127.0.0.1 at a free port."""

    def __init__(
        self,
        token: str,
        *,
        bot_id: int = 7_000_000_001,
        bot_username: str = "perpfleet_test_bot",
    ) -> None:
        self.token = token
        # Available types > User: the bot itself (getMe).
        self.bot_user: JSONDict = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "perpfleet",
            "username": bot_username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.calls: list[ApiCall] = []
        self.commands: list[JSONDict] = []
        self.commands_by_scope: dict[str, list[JSONDict]] = {}
        #: Every message of every chat as it stands now: (chat_id, message_id) -> Message.
        self.messages: dict[tuple[int, int], JSONDict] = {}
        self.deleted: list[tuple[int, int]] = []
        #: Every update ever injected, in order.
        self.update_log: list[JSONDict] = []
        self.unauthorized_attempts = 0
        self._updates: list[JSONDict] = []
        self._redelivered: list[JSONDict] = []
        self._update_ids = itertools.count(1)
        self._last_update_id = 0
        #: The ``offset`` of the latest getUpdates: every update below it was received.
        self.confirmed_offset = 0
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._callback_ids = itertools.count(1)
        self._open_queries: set[str] = set()
        self._users: dict[int, JSONDict] = {}
        self._chats: dict[int, JSONDict] = {}
        self._changed = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None)
        assert sockets
        self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        async with self._changed:  # release pending long polls at once
            self._closing = True
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def root_url(self) -> str:
        """What ``TELEGRAM_API_BASE_URL`` is set to: the server root."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """PTB's ``base_url`` (the token is appended by PTB)."""
        return f"{self.root_url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.root_url}/file/bot"

    # -- injecting updates (what users do) -----------------------------------------------

    def user(self, user_id: int, first_name: str | None = None) -> JSONDict:
        """Available types > User: a person (not a bot)."""
        found = self._users.get(user_id)
        if found is None:
            found = {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name or f"user{user_id}",
                "username": f"user{user_id}",
                "language_code": "en",
            }
            self._users[user_id] = found
        return found

    def private_chat(self, user_id: int) -> JSONDict:
        """Available types > Chat: a private chat's id is the user's id."""
        chat = self._chats.get(user_id)
        if chat is None:
            user = self.user(user_id)
            chat = {
                "id": user_id,
                "type": "private",
                "first_name": user["first_name"],
                "username": user["username"],
            }
            self._chats[user_id] = chat
        return chat

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    async def _push(self, update: JSONDict) -> JSONDict:
        async with self._changed:
            self._updates.append(update)
            self.update_log.append(update)
            self._changed.notify_all()
        return update

    def group_chat(self, chat_id: int, title: str = "perpfleet fans") -> JSONDict:
        """Available types > Chat: a group (negative id) the bot was added to."""
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = {"id": chat_id, "type": "group", "title": title}
            self._chats[chat_id] = chat
        return chat

    async def _new_update(self, payload: JSONDict) -> JSONDict:
        update_id = next(self._update_ids)
        self._last_update_id = update_id
        return await self._push({"update_id": update_id, **payload})

    async def send_text(self, user_id: int, text: str, *, chat_id: int | None = None) -> JSONDict:
        """A user writes ``text`` in their private chat with the bot (or in group ``chat_id``,
        see :meth:`group_chat`); returns the Message.

        A leading ``/command`` gets its ``bot_command`` MessageEntity, as Telegram adds it.
        """
        chat = self.private_chat(user_id) if chat_id is None else self._chats[chat_id]
        message: JSONDict = {
            "message_id": self._next_message_id(chat["id"]),
            "from": self.user(user_id),
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        entities = command_entities(text)
        if entities:
            message["entities"] = entities
        self.messages[(chat["id"], message["message_id"])] = message
        await self._new_update({"message": message})
        return message

    async def edit_text(self, user_id: int, message: JSONDict, text: str) -> JSONDict:
        """The user edits their ``message`` to read ``text`` (Update.edited_message)."""
        edited: JSONDict = {**message, "text": text, "edit_date": int(time.time())}
        edited.pop("entities", None)
        entities = command_entities(text)
        if entities:
            edited["entities"] = entities
        self.messages[(int(message["chat"]["id"]), int(message["message_id"]))] = edited
        await self._new_update({"edited_message": edited})
        return edited

    async def redeliver_last(self) -> JSONDict:
        """The latest update comes again with the same update_id, as Telegram re-sends an
        update whose confirmation (the next ``offset``) it did not get."""
        async with self._changed:
            update = self.update_log[-1]
            self._redelivered.append(update)
            self._changed.notify_all()
        return update

    async def press(self, user_id: int, message: JSONDict, data: str) -> str:
        """A user presses the inline button with callback ``data`` under ``message``.

        Getting updates > Update.callback_query; Available types > CallbackQuery. Returns the
        query id (the bot must answer it with answerCallbackQuery).
        """
        query_id = str(next(self._callback_ids))
        self._open_queries.add(query_id)
        chat_id = int(message["chat"]["id"])
        current = self.messages.get((chat_id, int(message["message_id"])), message)
        await self._new_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.user(user_id),
                    "message": current,
                    "chat_instance": f"ci-{chat_id}",
                    "data": data,
                },
            }
        )
        return query_id

    async def press_button(self, user_id: int, message: JSONDict, label: str) -> str:
        """Press the button whose text contains ``label`` under ``message`` (as it is now)."""
        return await self.press(user_id, message, self.button_data(message, label))

    def current(self, message: JSONDict) -> JSONDict:
        """``message`` as it stands now (after edits)."""
        key = (int(message["chat"]["id"]), int(message["message_id"]))
        return self.messages.get(key, message)

    def buttons(self, message: JSONDict) -> list[tuple[str, str]]:
        """Every (text, callback_data) of the message's InlineKeyboardMarkup, row by row."""
        markup = self.current(message).get("reply_markup") or {}
        return [
            (str(button["text"]), str(button.get("callback_data", "")))
            for row in markup.get("inline_keyboard", [])
            for button in row
        ]

    def button_data(self, message: JSONDict, label: str) -> str:
        for text, data in self.buttons(message):
            if label in text:
                return data
        raise AssertionError(f"no button {label!r} in {self.buttons(message)}")

    # -- waiting for the bot --------------------------------------------------------------

    def mark(self) -> int:
        """A position in :attr:`calls`; pass it as ``after`` to wait for later calls only."""
        return len(self.calls)

    async def wait_for(
        self,
        predicate: Callable[[ApiCall], bool],
        *,
        after: int = 0,
        wait_seconds: float = 60,
        what: str = "a matching Bot API call",
    ) -> ApiCall:
        """The first call (from position ``after`` on) matching ``predicate``."""

        def find() -> ApiCall | None:
            return next((call for call in self.calls[after:] if predicate(call)), None)

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(find), wait_seconds)
            except TimeoutError:
                seen = [(c.method, c.params.get("chat_id"), c.text[:80]) for c in self.calls]
                raise AssertionError(f"timed out waiting for {what}; calls: {seen}") from None
            found = find()
            assert found is not None
            return found

    async def reply_to(
        self,
        chat_id: int,
        *,
        after: int,
        methods: tuple[str, ...] = ("sendMessage", "editMessageText", "sendPhoto"),
        contains: str | None = None,
        wait_seconds: float = 60,
    ) -> ApiCall:
        """The bot's next successful message (or edit) in ``chat_id`` after ``after``."""
        return await self.wait_for(
            lambda call: (
                call.method in methods
                and call.chat_id == chat_id
                and call.error is None
                and (contains is None or contains in call.text)
            ),
            after=after,
            wait_seconds=wait_seconds,
            what=f"a {'/'.join(methods)} to chat {chat_id}"
            + (f" containing {contains!r}" if contains else ""),
        )

    def sent(self, chat_id: int | None = None, *, after: int = 0) -> list[ApiCall]:
        """Successful sendMessage/editMessageText/sendPhoto calls (to ``chat_id`` if given)."""
        return [
            call
            for call in self.calls[after:]
            if call.method in ("sendMessage", "editMessageText", "sendPhoto")
            and call.error is None
            and (chat_id is None or call.chat_id == chat_id)
        ]

    def calls_of(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    # -- the HTTP side ----------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            self.unauthorized_attempts += 1
            # The Bot API's real answer to a wrong or revoked token.
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params, files = await self._read_params(request)
        call = ApiCall(method, params, files)
        handler = getattr(self, f"_api_{method}", None)
        try:
            if handler is None:
                raise ApiError(404, "Not Found")
            result = await handler(params, files)
        except ApiError as exc:
            call.error = exc.description
            await self._record(call)
            return web.json_response(
                {"ok": False, "error_code": exc.code, "description": exc.description},
                status=exc.code,
            )
        call.result = result
        await self._record(call)
        return web.json_response({"ok": True, "result": result})

    async def _record(self, call: ApiCall) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _read_params(self, request: web.Request) -> tuple[JSONDict, dict[str, bytes]]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, bytes] = {}
        content_type = request.content_type
        if content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                return {**raw, **body}, files
        elif content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader) or part.name is None:
                    continue
                if part.filename is not None:
                    files[part.name] = bytes(await part.read())
                else:
                    raw[part.name] = await part.text()
        elif request.can_read_body:
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, str):
                    raw[key] = value
                elif isinstance(value, bytes | bytearray):
                    raw[key] = bytes(value)
                else:
                    files[key] = value.file.read()
        params: JSONDict = {}
        for key, value in raw.items():
            params[key] = _decode(key, value)
        return params, files

    # -- Bot API methods ----------------------------------------------------------------------

    async def _api_getMe(self, params: JSONDict, files: dict[str, bytes]) -> JSONDict:
        return self.bot_user

    async def _api_logOut(self, params: JSONDict, files: dict[str, bytes]) -> bool:
        return True

    async def _api_close(self, params: JSONDict, files: dict[str, bytes]) -> bool:
        return True

    async def _api_deleteWebhook(self, params: JSONDict, files: dict[str, bytes]) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _api_setMyCommands(self, params: JSONDict, files: dict[str, bytes]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError(400, 'Bad Request: parameter "commands" is required')
        for command in commands:
            name = str(command.get("command", ""))
            if not (1 <= len(name) <= 32) or not name.replace("_", "").isalnum():
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not (1 <= len(str(command.get("description", ""))) <= 256):
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        scope = params.get("scope") or {"type": "default"}
        key = json.dumps(scope, sort_keys=True)
        self.commands_by_scope[key] = commands
        if scope.get("type") == "default":
            self.commands = commands
        return True

    async def _api_getMyCommands(self, params: JSONDict, files: dict[str, bytes]) -> Any:
        scope = params.get("scope") or {"type": "default"}
        return self.commands_by_scope.get(json.dumps(scope, sort_keys=True), [])

    async def _api_getUpdates(self, params: JSONDict, files: dict[str, bytes]) -> list[JSONDict]:
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = max(0, int(params.get("timeout") or 0))
        async with self._changed:
            # An offset confirms every update before it: they are forgotten.
            if offset:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                self.confirmed_offset = max(self.confirmed_offset, offset)
                self._changed.notify_all()

            def ready() -> bool:
                return bool(self._updates or self._redelivered) or self._closing

            if not ready() and timeout:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait_for(ready), timeout)
            if self._redelivered:
                again, self._redelivered = self._redelivered, []
                return again
            return list(self._updates[:limit])

    async def wait_received(self, wait_seconds: float = 60) -> None:
        """Until the bot has confirmed (by its next getUpdates offset) every update so far."""
        last = self._last_update_id
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: self.confirmed_offset > last), wait_seconds
            )

    def _chat(self, params: JSONDict) -> JSONDict:
        chat_id = params.get("chat_id")
        if chat_id is None:
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat = self._chats.get(int(chat_id))
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _visible_text(self, text: str, params: JSONDict, *, limit: int, what: str) -> str:
        mode = str(params.get("parse_mode") or "")
        visible = parse_html(text) if mode.upper() == "HTML" else text
        if mode and mode.upper() != "HTML":
            raise ApiError(400, f"Bad Request: unsupported parse_mode {mode} in this fake")
        if utf16_length(visible) > limit:
            raise ApiError(400, f"Bad Request: {what} is too long")
        return visible

    def _check_markup(self, params: JSONDict) -> JSONDict | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                # InlineKeyboardButton.callback_data: 1-64 bytes.
                if data is not None and not (1 <= len(str(data).encode()) <= 64):
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed")
        return markup

    def _new_bot_message(self, chat: JSONDict) -> JSONDict:
        return {
            "message_id": self._next_message_id(int(chat["id"])),
            "from": self.bot_user,
            "chat": chat,
            "date": int(time.time()),
        }

    async def _api_sendMessage(self, params: JSONDict, files: dict[str, bytes]) -> JSONDict:
        chat = self._chat(params)
        text = str(params.get("text") or "")
        visible = self._visible_text(text, params, limit=MESSAGE_LIMIT, what="message")
        if not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        markup = self._check_markup(params)
        message = self._new_bot_message(chat)
        message["text"] = visible
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self.messages[(int(chat["id"]), message["message_id"])] = message
        return message

    async def _api_editMessageText(self, params: JSONDict, files: dict[str, bytes]) -> JSONDict:
        chat = self._chat(params)
        key = (int(chat["id"]), int(params.get("message_id") or 0))
        message = self.messages.get(key)
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message.get("from", {}).get("id") != self.bot_user["id"]:
            raise ApiError(400, "Bad Request: message can't be edited")
        visible = self._visible_text(
            str(params.get("text") or ""), params, limit=MESSAGE_LIMIT, what="message"
        )
        if not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        markup = self._check_markup(params)
        if visible == message.get("text") and markup == message.get("reply_markup"):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        edited = {**message, "text": visible, "edit_date": int(time.time())}
        edited.pop("reply_markup", None)
        if markup is not None and "inline_keyboard" in markup:
            edited["reply_markup"] = markup
        self.messages[key] = edited
        return edited

    async def _api_editMessageReplyMarkup(
        self, params: JSONDict, files: dict[str, bytes]
    ) -> JSONDict:
        chat = self._chat(params)
        key = (int(chat["id"]), int(params.get("message_id") or 0))
        message = self.messages.get(key)
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        edited = {**message, "edit_date": int(time.time())}
        edited.pop("reply_markup", None)
        markup = self._check_markup(params)
        if markup is not None and "inline_keyboard" in markup:
            edited["reply_markup"] = markup
        self.messages[key] = edited
        return edited

    async def _api_deleteMessage(self, params: JSONDict, files: dict[str, bytes]) -> bool:
        chat = self._chat(params)
        key = (int(chat["id"]), int(params.get("message_id") or 0))
        if key not in self.messages:
            raise ApiError(400, "Bad Request: message to delete not found")
        del self.messages[key]
        self.deleted.append(key)
        return True

    async def _api_sendPhoto(self, params: JSONDict, files: dict[str, bytes]) -> JSONDict:
        chat = self._chat(params)
        photo = files.get("photo")
        reference = params.get("photo")
        if photo is None and isinstance(reference, str) and reference.startswith("attach://"):
            photo = files.get(reference.removeprefix("attach://"))
        if photo is None:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        width, height = png_size(photo)
        if width == 0:
            raise ApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        message = self._new_bot_message(chat)
        # Available types > PhotoSize.
        message["photo"] = [
            {
                "file_id": f"photo-{chat['id']}-{message['message_id']}",
                "file_unique_id": f"u{chat['id']}x{message['message_id']}",
                "width": width,
                "height": height,
                "file_size": len(photo),
            }
        ]
        caption = params.get("caption")
        if caption:
            message["caption"] = self._visible_text(
                str(caption), params, limit=CAPTION_LIMIT, what="message caption"
            )
        self.messages[(int(chat["id"]), message["message_id"])] = message
        return message

    async def _api_sendChatAction(self, params: JSONDict, files: dict[str, bytes]) -> bool:
        self._chat(params)
        return True

    async def _api_answerCallbackQuery(self, params: JSONDict, files: dict[str, bytes]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._open_queries:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self._open_queries.discard(query_id)
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True


def _decode(key: str, value: Any) -> Any:
    """A form value as the Bot API reads it: JSON for structured fields, ints for ids."""
    if not isinstance(value, str):
        return value
    if key in JSON_PARAMETERS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    if key in INTEGER_PARAMETERS:
        try:
            return int(value)
        except ValueError:
            return value
    return value


def command_entities(text: str) -> list[JSONDict]:
    """The ``bot_command`` entity Telegram adds to a message starting with a command."""
    found = BOT_COMMAND.match(text)
    if found is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_length(found.group())}]


def message_of(call: ApiCall) -> JSONDict:
    """The Message a sendMessage/editMessageText/sendPhoto call returned."""
    assert isinstance(call.result, Mapping), f"{call.method} returned {call.result!r}"
    return dict(call.result)
