"""Alerts to subscribed users: fills, atomic-execution failures, kill switches, crashed bots.

:class:`Notifier` sends one text to every user subscribed to an event kind (``/subscribe``).
It needs only a ``telegram.Bot`` and the database, not the running Application, so other
components (a bot process reporting its fills or a failed atomic operation) can send alerts
too: :func:`standalone_notifier` builds one from ``TELEGRAM_BOT_TOKEN`` and the database, and
:func:`notify_fill` / :func:`notify_atomic_failure` send the texts the bot runtime words
(:mod:`bot_runtime.notifications`); :mod:`telegram_bot_service.bot_alerts` is the runtime's
Telegram alert sink. Texts are scrubbed of
registered secrets before leaving; a user who cannot be reached is logged and skipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot
from telegram.error import TelegramError

from bot_runtime.notifications import (
    ATOMIC_FAILURES,
    BOT_CRASH,
    FILLS,
    KILL_SWITCH,
    AlertSink,
    atomic_failure_text,
    fill_text,
)
from core.redaction import scrub
from database.engine import create_engine, session_maker
from database.models.telegram import EVENT_KINDS
from telegram_bot_service import users
from telegram_bot_service.settings import TelegramSettings

log = structlog.get_logger(__name__)

assert set(EVENT_KINDS) == {FILLS, ATOMIC_FAILURES, KILL_SWITCH, BOT_CRASH}


class Notifier:
    """Sends alerts through ``bot`` to the users subscribed in the database."""

    def __init__(self, bot: Bot, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._bot = bot
        self._sessions = sessions

    async def notify(self, kind: str, text: str) -> int:
        """Send ``text`` to every subscriber of ``kind``; returns how many received it."""
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}: expected one of {EVENT_KINDS}")
        async with self._sessions() as session:
            recipients = await users.subscribers(session, kind)
        delivered = 0
        safe = scrub(text)
        for chat_id in recipients:
            try:
                await self._bot.send_message(chat_id, safe)
            except TelegramError as exc:
                log.warning("alert not delivered", kind=kind, telegram_id=chat_id, error=str(exc))
            else:
                delivered += 1
        return delivered


async def notify_fill(
    sink: AlertSink,
    bot: str,
    *,
    venue: str,
    symbol: str,
    side: str,
    size: Decimal,
    price: Decimal,
    fee: Decimal | None = None,
) -> int:
    """Tell ``fills`` subscribers about one fill of ``bot``."""
    text = fill_text(bot, venue=venue, symbol=symbol, side=side, size=size, price=price, fee=fee)
    return await sink.notify(FILLS, text)


async def notify_atomic_failure(
    sink: AlertSink, bot: str, *, operation_id: str, status: str, detail: str
) -> int:
    """Tell ``atomic_failures`` subscribers that a multi-leg operation did not complete."""
    text = atomic_failure_text(bot, operation_id=operation_id, status=status, detail=detail)
    return await sink.notify(ATOMIC_FAILURES, text)


@asynccontextmanager
async def standalone_notifier(
    settings: TelegramSettings | None = None, database_url: str | None = None
) -> AsyncIterator[Notifier]:
    """A Notifier for a process other than the Telegram service (token from the environment)."""
    resolved = settings or TelegramSettings.from_env()
    engine = create_engine(database_url)
    bot = Bot(resolved.token.reveal(), base_url=resolved.bot_url, base_file_url=resolved.file_url)
    try:
        async with bot:
            yield Notifier(bot, session_maker(engine))
    finally:
        await engine.dispose()
