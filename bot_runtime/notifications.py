"""Alerts a bot pushes itself: its fills, failed atomic operations, and giving up (only the
bot knows why).

Crashes, restarts and the kill switch are seen from outside (the Telegram service's fleet
watcher); fills and atomic failures only the bot knows as they happen. The runtime does not
know who delivers them: it receives an :data:`AlertSinkFactory` (``RuntimeOptions.alerts``)
and talks to the :class:`AlertSink` it returns. Telegram is one implementation
(:mod:`telegram_bot_service.bot_alerts`), wired in by ``runbot.py``. Without a sink, or when
delivery fails, the bot trades on and logs why - an alert must never stop trading.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Protocol

import structlog

from exchange_clients.base import BaseExchangeClient
from execution.atomic import AtomicResult

log = structlog.get_logger(__name__)

# Alert kinds subscribers choose from (the telegram_subscriptions table's check constraint).
FILLS = "fills"
ATOMIC_FAILURES = "atomic_failures"
KILL_SWITCH = "kill_switch"
BOT_CRASH = "bot_crash"


class AlertSink(Protocol):
    """Delivers one alert text to whoever subscribed to ``kind``; returns how many got it."""

    async def notify(self, kind: str, text: str) -> int: ...


AlertSinkFactory = Callable[[contextlib.AsyncExitStack], Awaitable[AlertSink | None]]
"""Opens a sink for the bot's lifetime (closed with ``stack``); None when not configured."""


def _amount(value: Decimal) -> str:
    """A price or size with its own digits and thousands separators (``66,229.5``, ``0.001``)."""
    normal = value.normalize()
    if normal == normal.to_integral_value():
        normal = normal.quantize(Decimal(1))
    return f"{normal:,f}"


def _usd(value: Decimal) -> str:
    text = f"{value:,.2f}"
    return "0.00" if text == "-0.00" else text


def fill_text(
    bot: str,
    *,
    venue: str,
    symbol: str,
    side: str,
    size: Decimal,
    price: Decimal,
    fee: Decimal | None = None,
) -> str:
    fee_text = f", fee {_usd(fee)} USD" if fee is not None else ""
    return (
        f"Fill on {bot}: {side.upper()} {_amount(size)} {symbol} @ {_amount(price)} "
        f"on {venue}{fee_text}"
    )


def atomic_failure_text(bot: str, *, operation_id: str, status: str, detail: str) -> str:
    return f"Atomic operation {operation_id} of {bot} ended {status}: {detail}"


class Notifications:
    """The runtime's alerts, through an optional :class:`AlertSink`."""

    def __init__(self, bot: str, sink: AlertSink | None) -> None:
        self._bot = bot
        self._sink = sink

    @classmethod
    async def start(
        cls, bot: str, stack: contextlib.AsyncExitStack, factory: AlertSinkFactory | None
    ) -> Notifications:
        if factory is None:
            return cls(bot, None)
        try:
            sink = await factory(stack)
        except Exception as exc:
            log.warning("alerts disabled: the alert channel did not open", error=type(exc).__name__)
            return cls(bot, None)
        return cls(bot, sink)

    @property
    def enabled(self) -> bool:
        return self._sink is not None

    async def atomic_failure(self, result: AtomicResult) -> None:
        legs = ", ".join(f"{leg.leg.venue} {leg.signed_net}" for leg in result.legs)
        detail = f"residual exposure {result.residual_exposure}; legs {legs}"
        await self._send(
            ATOMIC_FAILURES,
            atomic_failure_text(
                self._bot,
                operation_id=result.operation_id,
                status=str(result.status),
                detail=detail,
            ),
        )

    async def venue_state(self, text: str) -> None:
        """Tell ``kill_switch`` subscribers about venue orders/positions the journal did not
        explain (execution.reconciliation): the start refused, entries stopped, or what was
        adopted or cancelled."""
        await self._send(KILL_SWITCH, text)

    async def bot_failed(self, text: str) -> None:
        """Tell ``bot_crash`` subscribers the bot stopped for good (it gave up)."""
        await self._send(BOT_CRASH, text)

    async def forward_fills(self, client: BaseExchangeClient) -> None:
        """Every fill of ``client``'s account, to ``fills`` subscribers (runs until cancelled)."""
        if self._sink is None:
            return
        fills = client.fills()
        try:
            async for fill in fills:
                await self._send(
                    FILLS,
                    fill_text(
                        self._bot,
                        venue=fill.venue,
                        symbol=fill.symbol,
                        side=fill.side,
                        size=fill.size,
                        price=fill.price,
                        fee=fill.fee,
                    ),
                )
        finally:
            fills.close()

    async def _send(self, kind: str, text: str) -> None:
        if self._sink is None:
            return
        try:
            await self._sink.notify(kind, text)
        except Exception as exc:  # an alert must never stop trading
            log.warning("alert not delivered", kind=kind, error=type(exc).__name__)
