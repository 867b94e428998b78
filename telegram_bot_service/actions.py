"""Inline-button dialogues (pick a config, confirm a stop ...) without trusting the button.

Callback data is limited to 64 bytes and comes back from the client, so it carries only a
short random key and the choice (``a:<key>:<choice>``); what the dialogue is about (the bot,
the config, the step) stays here, with who started it and the role it needs. Pressing a
button is checked again: the presser must be the user who started the dialogue and still have
the role. Dialogues expire, and a final step removes its entry, so a double tap cannot stop a
bot twice.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from telegram_bot_service.caller import caller_of
from telegram_bot_service.roles import Role

log = structlog.get_logger(__name__)

CALLBACK_PREFIX = "a"
CALLBACK_PATTERN = r"^a:[0-9a-f]{8}:"
CANCEL = "cancel"
EXPIRY_SECONDS = 15 * 60
MAX_PENDING = 1000


@dataclass
class Pending:
    """One open dialogue."""

    key: str
    user_id: int
    kind: str
    role: Role
    data: dict[str, Any] = field(default_factory=dict)
    created: float = field(default_factory=time.monotonic)


ActionHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, Pending, str], Awaitable[None]]


class PendingActions:
    """Open dialogues by key, and the handler of each dialogue kind."""

    def __init__(self) -> None:
        self._items: OrderedDict[str, Pending] = OrderedDict()
        self._handlers: dict[str, ActionHandler] = {}

    def register(self, kind: str, handler: ActionHandler) -> None:
        self._handlers[kind] = handler

    def open(self, user_id: int, kind: str, role: Role, **data: Any) -> Pending:
        self._expire()
        key = secrets.token_hex(4)
        while key in self._items:
            key = secrets.token_hex(4)
        pending = Pending(key, user_id, kind, role, dict(data))
        self._items[key] = pending
        while len(self._items) > MAX_PENDING:
            self._items.popitem(last=False)
        return pending

    def close(self, pending: Pending) -> bool:
        """Forget the dialogue; False when it was already closed (a second tap)."""
        return self._items.pop(pending.key, None) is not None

    def _expire(self) -> None:
        now = time.monotonic()
        for key in [k for k, p in self._items.items() if now - p.created > EXPIRY_SECONDS]:
            del self._items[key]

    @staticmethod
    def button(pending: Pending, label: str, choice: str) -> InlineKeyboardButton:
        data = f"{CALLBACK_PREFIX}:{pending.key}:{choice}"
        if len(data.encode()) > 64:
            raise ValueError(f"callback data too long: {choice!r}")
        return InlineKeyboardButton(label, callback_data=data)

    def keyboard(
        self, pending: Pending, rows: list[list[tuple[str, str]]], *, cancel: bool = True
    ) -> InlineKeyboardMarkup:
        """Rows of (label, choice) buttons, plus a Cancel row."""
        buttons = [[self.button(pending, label, choice) for label, choice in row] for row in rows]
        if cancel:
            buttons.append([self.button(pending, "Cancel", CANCEL)])
        return InlineKeyboardMarkup(buttons)

    async def dispatch(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The CallbackQueryHandler for every ``a:`` button."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        _, key, choice = query.data.split(":", 2)
        self._expire()
        pending = self._items.get(key)
        if pending is None:
            await query.answer("This dialogue has expired; start again.")
            await _drop_keyboard(update)
            return
        caller = caller_of(context)
        if caller.telegram_id != pending.user_id:
            await query.answer("These buttons belong to someone else.")
            return
        if caller.role < pending.role:
            await query.answer(f"This needs the {pending.role.label} role.")
            return
        if choice == CANCEL:
            self.close(pending)
            await query.answer("Cancelled")
            if query.message is not None:
                await query.edit_message_text("Cancelled.")
            return
        handler = self._handlers.get(pending.kind)
        if handler is None:
            await query.answer("Unknown action.")
            return
        await handler(update, context, pending, choice)


async def _drop_keyboard(update: Update) -> None:
    query = update.callback_query
    if query is not None and query.message is not None:
        try:
            await query.edit_message_reply_markup(None)
        except Exception:  # the message may be gone or unchanged: nothing to do
            log.debug("could not remove an expired keyboard", exc_info=True)
