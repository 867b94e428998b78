"""The risk manager's limits as the executors' pre-trade gate (:mod:`execution.pre_trade`).

The strategy-facing :meth:`RiskManager.evaluate_entry` sizes entries (resizing toward a cap is
its job); this gate is the backstop every order meets, whether or not its strategy asked first:

* reduce-only orders, and orders that shrink the symbol's position, always pass;
* with the kill switch tripped or entries paused (daily loss, cooldown), nothing else passes;
* otherwise the order is refused when, at the current price, it would take the symbol's
  position beyond ``max_position_notional_usd``, the venue's open notional beyond
  ``max_exposure_per_venue_usd``, the bot's beyond ``max_total_exposure_usd``, or open a new
  position beyond ``max_open_positions``.

Only what a configured limit needs is read from the venues (nothing at all when no limit is
set and entries are allowed): the gate sits on every order's path. Caps are compared with a
small tolerance (:data:`CAP_TOLERANCE`): the strategy sizes at its own
price while the gate prices at the current mid a moment later, and an entry sized exactly to a
cap must not be refused for a tick of drift. Resting orders are not counted as exposure (each
is checked when it is placed against the position at that moment; a fill cannot add more than
the order that passed).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from core.errors import (
    EntriesPaused,
    ExposureLimitBreached,
    KillSwitchEngaged,
    OpenPositionsLimitBreached,
    PositionLimitBreached,
)
from exchange_clients.base import BaseExchangeClient
from exchange_clients.types import OrderRequest, Position
from strategies.risk import RiskManager
from trading_config.schema import RiskConfig

CAP_TOLERANCE = Decimal("0.005")
"""An order may exceed a cap by this fraction of it (price drift between sizing and sending)."""

_ZERO = Decimal(0)


class RiskGate:
    """:class:`execution.pre_trade.PreTradeGate` over a bot's risk manager and its clients."""

    def __init__(self, risk: RiskManager, clients: Mapping[str, BaseExchangeClient]) -> None:
        self._risk = risk
        self._clients = clients

    async def check(self, client: BaseExchangeClient, order: OrderRequest) -> None:
        if order.reduce_only:
            return
        limits = self._risk.config
        if not (self._risk.killed or self._risk.paused_until is not None or _has_caps(limits)):
            return  # nothing could refuse it: no venue reads on the order path
        position = await client.position(order.symbol)
        current = position.size if position is not None else _ZERO
        signed = order.size if order.side == "buy" else -order.size
        after = current + signed
        if abs(after) <= abs(current):
            return  # it reduces (or keeps) the position: closing is always allowed
        where = f"{client.name} {order.symbol} {order.side} {order.size}"
        if self._risk.killed:
            raise KillSwitchEngaged(f"refused {where}: the kill switch is tripped")
        paused = self._risk.paused_until
        if paused is not None:
            raise EntriesPaused(f"refused {where}: entries are paused until {paused.isoformat()}")
        price = order.price if order.price is not None else await self._mid(client, order.symbol)
        added = (abs(after) - abs(current)) * price
        position_after = abs(after) * price

        cap = limits.max_position_notional_usd
        if cap is not None and position_after > cap * (1 + CAP_TOLERANCE):
            raise PositionLimitBreached(
                f"refused {where}: the {order.symbol} position would be {_usd(position_after)}, "
                f"over risk.max_position_notional_usd {_usd(cap)}"
            )
        cap = limits.max_exposure_per_venue_usd
        if cap is not None:
            venue_after = await _exposure(client) + added
            if venue_after > cap * (1 + CAP_TOLERANCE):
                raise ExposureLimitBreached(
                    f"refused {where}: {client.name} exposure would be {_usd(venue_after)}, "
                    f"over risk.max_exposure_per_venue_usd {_usd(cap)}"
                )
        cap = limits.max_total_exposure_usd
        if cap is not None:
            total_after = sum([await _exposure(c) for c in self._venues(client)], _ZERO) + added
            if total_after > cap * (1 + CAP_TOLERANCE):
                raise ExposureLimitBreached(
                    f"refused {where}: total exposure would be {_usd(total_after)}, "
                    f"over risk.max_total_exposure_usd {_usd(cap)}"
                )
        most = limits.max_open_positions
        if most is not None and current == 0:
            symbols = {
                (c.name, p.symbol) for c in self._venues(client) for p in await _open_positions(c)
            }
            if len(symbols) >= most:
                raise OpenPositionsLimitBreached(
                    f"refused {where}: {len(symbols)} positions are open, "
                    f"risk.max_open_positions is {most}"
                )

    def _venues(self, client: BaseExchangeClient) -> list[BaseExchangeClient]:
        """``client`` and the bot's other clients (each venue counted once)."""
        others = [c for name, c in self._clients.items() if name != client.name]
        return [client, *others]

    @staticmethod
    async def _mid(client: BaseExchangeClient, symbol: str) -> Decimal:
        bid, ask = await client.best_bid_ask(symbol)
        return (bid + ask) / 2


async def _open_positions(client: BaseExchangeClient) -> list[Position]:
    return [p for p in await client.positions() if p.size != 0]


async def _exposure(client: BaseExchangeClient) -> Decimal:
    return sum((p.notional for p in await _open_positions(client)), _ZERO)


def _has_caps(limits: RiskConfig) -> bool:
    return any(
        cap is not None
        for cap in (
            limits.max_position_notional_usd,
            limits.max_exposure_per_venue_usd,
            limits.max_total_exposure_usd,
            limits.max_open_positions,
        )
    )


def _usd(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01'))} USD"
