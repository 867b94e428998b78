"""Messages that may hold a secret leave the chat before anything else is done with them.

While /add_account waits for a secret field, *every* message the user sends in that chat is
deleted first — whatever it starts with (a base64 secret can start with ``/`` and would look
like a command), whoever the user has become meanwhile (demoted or removed), edited or not.
The gate (:class:`~telegram_bot_service.auth.Gate`) calls :func:`shred` before it even looks
the user up, so no later refusal or handler choice can leave a secret standing in the chat.
"""

from __future__ import annotations

import structlog
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

log = structlog.get_logger(__name__)

EXPECTING_KEY = "perpfleet.secret_expected_in_chat"
SHREDDED_KEY = "perpfleet.shredded"


def expect_secret(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    """The next messages of this user in ``chat_id`` may be secrets: delete them on arrival."""
    if context.user_data is not None:
        context.user_data[EXPECTING_KEY] = chat_id


def stop_expecting(context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.user_data is not None:
        context.user_data.pop(EXPECTING_KEY, None)


def expecting(context: ContextTypes.DEFAULT_TYPE) -> bool:
    return context.user_data is not None and EXPECTING_KEY in context.user_data


async def shred(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Delete the update's message if a secret is expected in its chat; remember the outcome."""
    data = context.user_data
    message = update.message or update.edited_message
    if data is None or message is None or data.get(EXPECTING_KEY) != message.chat_id:
        return
    try:
        await message.delete()
    except TelegramError as exc:
        log.warning("could not delete a message that may hold a secret", error=str(exc))
        data[SHREDDED_KEY] = (message.message_id, False)
    else:
        data[SHREDDED_KEY] = (message.message_id, True)


def shredded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool | None:
    """True (deleted), False (deletion failed) or None (not handled by :func:`shred`)."""
    data = context.user_data
    message = update.effective_message
    if data is None or message is None:
        return None
    found = data.get(SHREDDED_KEY)
    if isinstance(found, tuple) and found[0] == message.message_id:
        return bool(found[1])
    return None
