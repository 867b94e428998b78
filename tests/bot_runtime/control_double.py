"""An in-memory bot behind the :class:`bot_runtime.control.BotControl` protocol.

Why a double and not mocks: the HTTP layer's tests should state what a client sees (status
changes after a pause, a closed position disappears, a failed reload keeps the old config), and
that needs something that keeps state and keeps the protocol's rules. This one is small but
honest: values are ``Decimal`` like the runtime's, errors are the protocol's errors, and every
read returns a copy so a test cannot pass by mutating the bot's state through a response.

The runtime's real implementation gets its own end-to-end tests; the HTTP tests take a
``control`` fixture, so they can be pointed at the real one later.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot_runtime.control import (
    JSON,
    CloseMode,
    ControlError,
    InvalidRequest,
    NeedsConfirmation,
    NotFound,
)

WIDE_SPREAD_PCT = Decimal("0.5")
STARTED_AT = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def sample_positions() -> list[JSON]:
    return [
        {
            "id": "pos-btc",
            "venue": "paper",
            "symbol": "BTC",
            "side": "long",
            "size": Decimal("0.1"),
            "entry_price": Decimal("100.10"),
            "mark_price": Decimal("101.25"),
            "pnl": Decimal("0.115"),
            "spread_pct": Decimal("0.02"),
            "opened_at": dt.datetime(2025, 1, 2, 4, 0, tzinfo=dt.UTC),
        },
        {
            "id": "pos-eth",
            "venue": "paper",
            "symbol": "ETH",
            "side": "short",
            "size": Decimal("2.50000000"),
            "entry_price": Decimal("3000.5"),
            "mark_price": Decimal("2999.75"),
            "pnl": Decimal("1.875"),
            "spread_pct": Decimal("0.8"),  # wide: closing asks for confirmation
            "opened_at": dt.datetime(2025, 1, 2, 5, 0, tzinfo=dt.UTC),
        },
    ]


def sample_orders() -> list[JSON]:
    return [
        {
            "client_order_id": "grid-0001",
            "venue": "paper",
            "symbol": "BTC",
            "side": "buy",
            "size": Decimal("0.001"),
            "price": Decimal("99.9"),
            "status": "open",
            "purpose": "entry",
        },
        {
            "client_order_id": "grid-0002",
            "venue": "paper",
            "symbol": "BTC",
            "side": "sell",
            "size": Decimal("0.1"),
            "price": Decimal("100.90"),
            "status": "open",
            "purpose": "take_profit",
        },
    ]


def sample_config() -> JSON:
    return {
        "name": "grid-test",
        "strategy": {
            "type": "grid",
            "params": {"exchange": "paper", "ticker": "BTC", "grid_step": Decimal("0.25")},
        },
        "exchanges": {"paper": {}},
    }


@dataclass
class InMemoryBotControl:
    """A bot that trades nothing but keeps its state and the protocol's rules."""

    name: str = "grid-test"
    strategy: str = "grid"
    venues: list[str] = field(default_factory=lambda: ["paper"])
    positions_: list[JSON] = field(default_factory=sample_positions)
    orders_: list[JSON] = field(default_factory=sample_orders)
    config_: JSON = field(default_factory=sample_config)
    #: What the next reload reads from "the file"; ``next_config_problems`` non-empty = invalid.
    next_config: JSON = field(default_factory=sample_config)
    next_config_problems: list[str] = field(default_factory=list)
    wallet: Decimal = Decimal("1000.00")
    realized: Decimal = Decimal("12.5")
    funding: Decimal = Decimal("-0.0375")
    fees: Decimal = Decimal("1.2")
    uptime_seconds: int = 3600
    paused: bool = False
    stop_requested: bool = False
    closed: list[tuple[str, CloseMode]] = field(default_factory=list)

    # -- reading ---------------------------------------------------------------------------

    @property
    def state(self) -> str:
        if self.stop_requested:
            return "stopping"
        return "paused" if self.paused else "running"

    def _unrealized(self) -> Decimal:
        return sum((Decimal(p["pnl"]) for p in self.positions_), Decimal(0))

    async def status(self) -> JSON:
        return {
            "name": self.name,
            "strategy": self.strategy,
            "state": self.state,
            "started_at": STARTED_AT,
            "uptime_seconds": self.uptime_seconds,
            "equity": self.wallet + self._unrealized(),
            "venues": list(self.venues),
        }

    async def positions(self) -> list[JSON]:
        return copy.deepcopy(self.positions_)

    async def orders(self) -> list[JSON]:
        return copy.deepcopy(self.orders_)

    async def balances(self) -> list[JSON]:
        unrealized = self._unrealized()
        margin_used = sum(
            (Decimal(p["size"]) * Decimal(p["entry_price"]) / 5 for p in self.positions_),
            Decimal(0),
        )
        return [
            {
                "venue": venue,
                "wallet": self.wallet,
                "equity": self.wallet + unrealized,
                "available": self.wallet + unrealized - margin_used,
                "margin_used": margin_used,
                "unrealized_pnl": unrealized,
            }
            for venue in self.venues
        ]

    async def pnl(self) -> JSON:
        unrealized = self._unrealized()
        net = self.realized + unrealized + self.funding - self.fees
        totals = {
            "realized": self.realized,
            "unrealized": unrealized,
            "funding": self.funding,
            "fees": self.fees,
            "net": net,
        }
        per_symbol: dict[str, Any] = {}
        for position in self.positions_:
            per_symbol[position["symbol"]] = {"unrealized": position["pnl"]}
        return {
            "totals": totals,
            "per_venue": {venue: dict(totals) for venue in self.venues},
            "per_symbol": per_symbol,
        }

    def config(self) -> JSON:
        return copy.deepcopy(self.config_)

    # -- acting ----------------------------------------------------------------------------

    def _refuse_when_stopping(self, action: str) -> None:
        if self.stop_requested:
            raise ControlError(f"cannot {action}: the bot is stopping")

    async def pause(self) -> JSON:
        self._refuse_when_stopping("pause")
        entries = [o for o in self.orders_ if o["purpose"] == "entry"]
        self.orders_ = [o for o in self.orders_ if o["purpose"] != "entry"]
        self.paused = True
        return {"state": self.state, "cancelled_orders": [o["client_order_id"] for o in entries]}

    async def resume(self) -> JSON:
        self._refuse_when_stopping("resume")
        self.paused = False
        return {"state": self.state}

    async def close_position(self, position_id: str, mode: CloseMode, confirm: bool) -> JSON:
        self._refuse_when_stopping("close a position")
        position = next((p for p in self.positions_ if p["id"] == position_id), None)
        if position is None:
            raise NotFound("no open position with this id", details={"position_id": position_id})
        spread = Decimal(position["spread_pct"])
        if spread > WIDE_SPREAD_PCT and not confirm:
            raise NeedsConfirmation(
                f"the spread is {spread}% (above {WIDE_SPREAD_PCT}%): repeat with confirm=true",
                details={"spread_pct": spread, "position_id": position_id},
            )
        self.positions_.remove(position)
        self.closed.append((position_id, mode))
        return {
            "closed": position_id,
            "mode": mode,
            "size": position["size"],
            "realized_pnl": position["pnl"],
        }

    async def close_all(self) -> JSON:
        self._refuse_when_stopping("close all")
        cancelled = [o["client_order_id"] for o in self.orders_]
        closed = [p["id"] for p in self.positions_]
        self.closed.extend((position_id, "market") for position_id in closed)
        self.orders_ = []
        self.positions_ = []
        return {"cancelled_orders": cancelled, "closed_positions": closed}

    async def reload_config(self) -> JSON:
        if self.next_config_problems:
            raise InvalidRequest(
                "the config file does not validate; the running config is unchanged",
                list(self.next_config_problems),
            )
        self.config_ = copy.deepcopy(self.next_config)
        return {"reloaded": True, "config": copy.deepcopy(self.config_)}

    async def stop(self) -> JSON:
        self.stop_requested = True
        return {"state": self.state}
