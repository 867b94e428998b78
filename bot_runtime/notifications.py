"""Alerts a bot pushes to Telegram subscribers itself: its fills, failed atomic operations,
and giving up (only the bot knows why).

Crashes, restarts and the kill switch are seen from outside by the Telegram service's fleet
watcher; fills and atomic failures only the bot knows as they happen. Enabled when the bot's
environment has ``TELEGRAM_BOT_TOKEN`` (the fleet's supervisord passes its environment on);
without it, or if Telegram is unreachable, the bot trades on and logs why.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Awaitable
from typing import TYPE_CHECKING

import structlog

from exchange_clients.base import BaseExchangeClient
from execution.atomic import AtomicResult

if TYPE_CHECKING:
    from telegram_bot_service.notifications import Notifier

log = structlog.get_logger(__name__)


class Notifications:
    def __init__(self, bot: str, notifier: Notifier | None) -> None:
        self._bot = bot
        self._notifier = notifier

    @classmethod
    async def start(cls, bot: str, stack: contextlib.AsyncExitStack) -> Notifications:
        if not os.environ.get("TELEGRAM_BOT_TOKEN"):
            return cls(bot, None)
        from telegram_bot_service.notifications import standalone_notifier

        try:
            notifier = await stack.enter_async_context(standalone_notifier())
        except Exception as exc:
            log.warning("Telegram notifications disabled", error=type(exc).__name__)
            return cls(bot, None)
        return cls(bot, notifier)

    @property
    def enabled(self) -> bool:
        return self._notifier is not None

    async def atomic_failure(self, result: AtomicResult) -> None:
        if self._notifier is None:
            return
        from telegram_bot_service.notifications import notify_atomic_failure

        legs = ", ".join(f"{leg.leg.venue} {leg.signed_net}" for leg in result.legs)
        detail = f"residual exposure {result.residual_exposure}; legs {legs}"
        await self._send(
            notify_atomic_failure(
                self._notifier,
                self._bot,
                operation_id=result.operation_id,
                status=str(result.status),
                detail=detail,
            )
        )

    async def bot_failed(self, text: str) -> None:
        """Tell ``bot_crash`` subscribers the bot stopped for good (it gave up)."""
        if self._notifier is None:
            return
        from telegram_bot_service.notifications import BOT_CRASH

        await self._send(self._notifier.notify(BOT_CRASH, text))

    async def forward_fills(self, client: BaseExchangeClient) -> None:
        """Every fill of ``client``'s account, to ``fills`` subscribers (runs until cancelled)."""
        if self._notifier is None:
            return
        from telegram_bot_service.notifications import notify_fill

        fills = client.fills()
        try:
            async for fill in fills:
                await self._send(
                    notify_fill(
                        self._notifier,
                        self._bot,
                        venue=fill.venue,
                        symbol=fill.symbol,
                        side=fill.side,
                        size=fill.size,
                        price=fill.price,
                        fee=fill.fee,
                    )
                )
        finally:
            fills.close()

    async def _send(self, sending: Awaitable[int]) -> None:
        try:
            await sending
        except Exception as exc:  # a notification must never stop trading
            log.warning("Telegram notification failed", error=type(exc).__name__)
