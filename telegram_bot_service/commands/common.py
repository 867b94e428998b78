"""Small helpers every command module uses: replying in HTML, arguments, the control API.

Handlers raise :class:`~fleet.api.FleetError` (or any ``TradingError``) for what the user
should read; :func:`telegram_bot_service.app.on_error` turns it into one reply. Control API
calls get a timeout, so a hung bot cannot hang the Telegram service.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from fleet.api import BotInfo, ControlClient, FleetError
from telegram_bot_service.formatting import (
    MESSAGE_LIMIT,
    clip,
    escape,
    split_visible,
    utf16_length,
    visible_text,
)
from telegram_bot_service.services import Services
from trading_config.schema import NAME_PATTERN

HTML = ParseMode.HTML
T = TypeVar("T")


def args_of(context: ContextTypes.DEFAULT_TYPE) -> list[str]:
    return list(context.args or [])


async def reply(
    update: Update, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Answer in the update's chat (HTML).

    Telegram refuses a message over 4096 characters (UTF-16 units, after HTML parsing). Long
    outputs are paginated where they are built (:func:`~telegram_bot_service.formatting.
    pre_pages`); this is the net under everything else (a list of 300 bot names, an echoed
    argument): such a reply goes out as plain-text pages, cut after a few, never as an error.
    """
    message = update.effective_message
    if message is None:
        return None
    visible = visible_text(text)
    if utf16_length(visible) <= MESSAGE_LIMIT:
        return await message.reply_text(text, parse_mode=HTML, reply_markup=markup)
    pages = split_visible(visible)
    sent: Message | None = None
    for number, page in enumerate(pages, start=1):
        last = number == len(pages)
        sent = await message.reply_text(page, reply_markup=markup if last else None)
    return sent


async def reply_pages(update: Update, pages: Sequence[str]) -> None:
    for page in pages:
        await reply(update, page)


async def edit(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the text (and buttons) of the message whose button was pressed."""
    query = update.callback_query
    if query is None:
        await reply(update, text, markup)
        return
    visible = visible_text(text)
    mode: ParseMode | None = HTML
    if utf16_length(visible) > MESSAGE_LIMIT:  # one message can only become one message
        text, mode = split_visible(visible, max_pages=1)[0], None
    try:
        await query.edit_message_text(text, parse_mode=mode, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in str(exc):
            raise


async def ask_bot(
    services: Services, name: str, what: str, request: Callable[[ControlClient], Awaitable[T]]
) -> T:
    """One request to bot ``name``'s control API (``what`` names it in a timeout message),
    within the service's per-call timeout: ``await ask_bot(services, name, "pnl", lambda bot:
    bot.pnl())``."""
    seconds = services.control_timeout_seconds
    try:
        return await asyncio.wait_for(request(services.fleet.control(name)), seconds)
    except TimeoutError:
        raise FleetError(
            f"bot {name} did not answer within {seconds:g} s ({what}): it may be hung; "
            f"see /status {name}, or /restart {name}"
        ) from None


async def running_bots(services: Services) -> list[BotInfo]:
    return sorted((b for b in await services.fleet.list_bots() if b.running), key=lambda b: b.name)


async def need_bot_argument(update: Update, services: Services, usage: str) -> None:
    """Reply with the usage line and the running bots' names."""
    names = [bot.name for bot in await running_bots(services)]
    known = ", ".join(escape(name) for name in names) if names else "none running"
    await reply(update, f"Usage: {escape(usage)}\nRunning bots: {known}")


def bot_name(text: str) -> str:
    """``text`` if it can name a bot (the config schema's name rule), else one readable line.

    A 4000-character or odd-lettered "name" never reaches supervisord or a log line.
    """
    if not re.fullmatch(NAME_PATTERN, text):
        raise FleetError(
            f"there is no bot named {clip(text, 40)!r}: bot names are lowercase letters, "
            "digits, _ and - (see /bots)"
        )
    return text


async def require_running(services: Services, name: str) -> BotInfo:
    """The bot, which must be running (its control API answers only then)."""
    info = await services.fleet.status(bot_name(name))
    if not info.running:
        raise FleetError(f"{name} is not running (state {info.state})")
    return info
