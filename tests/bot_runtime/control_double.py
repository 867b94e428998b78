"""An in-memory bot behind the :class:`bot_runtime.control.BotControl` protocol.

Why a double and not mocks: the HTTP layer's tests should state what a client sees (status
changes after a pause, a closed position disappears, a failed reload keeps the old config), and
that needs something that keeps state and keeps the protocol's rules. This one is small but
honest: values are ``Decimal`` like the runtime's, answers are the contract's models and errors
the protocol's errors, and every read is built afresh so a test cannot pass by mutating the
bot's state through a response.

The runtime's real implementation gets its own end-to-end tests; the HTTP tests take a
``control`` fixture, so they can be pointed at the real one later.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from analytics.daily import daily
from analytics.performance import analyse
from analytics.records import EquityPoint, FillRecord, FundingRecord
from analytics.trades import reconstruct
from bot_runtime.bot_stats import stats_view, trades_page
from bot_runtime.control import (
    JSON,
    Conflict,
    ControlError,
    InvalidRequest,
    NeedsConfirmation,
    NotFound,
)
from bot_runtime.control_models import (
    BalanceView,
    BotStats,
    BotStatus,
    CloseAllResult,
    CloseMode,
    CloseResult,
    KillResetRequest,
    KillResetResult,
    OrderView,
    Pnl,
    PnlPart,
    PositionView,
    ReloadResult,
    RiskState,
    RunningConfig,
    StateChange,
    TradesPage,
)

WIDE_SPREAD_PCT = Decimal("0.5")


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
            "unrealized_pnl": Decimal("0.115"),
            "spread_pct": Decimal("0.02"),
        },
        {
            "id": "pos-eth",
            "venue": "paper",
            "symbol": "ETH",
            "side": "short",
            "size": Decimal("-2.50000000"),
            "entry_price": Decimal("3000.5"),
            "mark_price": Decimal("2999.75"),
            "unrealized_pnl": Decimal("1.875"),
            "spread_pct": Decimal("0.8"),  # wide: closing asks for confirmation
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
            "type": "limit",
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
            "type": "limit",
            "status": "open",
            "reduce_only": True,
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
    killed: bool = False  # the risk manager's kill switch
    #: While killed: the drawdown that tripped it still holds (a reset needs force).
    drawdown_holds: bool = False
    resets: list[KillResetRequest] = field(default_factory=list)
    stop_requested: bool = False
    closed: list[tuple[str, CloseMode]] = field(default_factory=list)
    #: The journal as analytics reads it: /stats and /trades are computed from these.
    fills_: list[FillRecord] = field(default_factory=list)
    funding_: list[FundingRecord] = field(default_factory=list)
    equity_: list[EquityPoint] = field(default_factory=list)

    # -- reading ---------------------------------------------------------------------------

    @property
    def state(self) -> str:
        if self.stop_requested:
            return "stopping"
        return "paused" if self.paused else "running"

    def _unrealized(self) -> Decimal:
        return sum((Decimal(p["unrealized_pnl"]) for p in self.positions_), Decimal(0))

    async def status(self) -> BotStatus:
        return BotStatus(
            name=self.name,
            strategy=self.strategy,
            state=self.state,
            uptime_seconds=self.uptime_seconds,
            equity=self.wallet + self._unrealized(),
            venues=list(self.venues),
            risk=RiskState(killed=self.killed),
            details={"trades": 3},
        )

    async def positions(self) -> list[PositionView]:
        return [PositionView.model_validate(p) for p in self.positions_]

    async def orders(self) -> list[OrderView]:
        return [OrderView.model_validate(o) for o in self.orders_]

    async def balances(self) -> list[BalanceView]:
        unrealized = self._unrealized()
        margin_used = sum(
            (abs(Decimal(p["size"])) * Decimal(p["entry_price"]) / 5 for p in self.positions_),
            Decimal(0),
        )
        return [
            BalanceView(
                venue=venue,
                wallet=self.wallet,
                equity=self.wallet + unrealized,
                available=self.wallet + unrealized - margin_used,
                margin_used=margin_used,
                unrealized_pnl=unrealized,
            )
            for venue in self.venues
        ]

    async def stats(self) -> BotStats:
        """What the runtime computes, over this bot's records (the records' own span)."""
        performance = analyse(self.fills_, self.funding_, self.equity_)
        days = daily(self.fills_, self.funding_)
        return stats_view(performance, days, len(self.equity_))

    async def trades(self, page: int, per_page: int) -> TradesPage:
        return trades_page(reconstruct(self.fills_).trades, page, per_page)

    async def pnl(self) -> Pnl:
        """``realized`` is after fees, as the strategies book it; ``fees`` is reported too."""
        unrealized = self._unrealized()
        per_symbol: dict[str, PnlPart] = {}
        for position in self.positions_:
            per_symbol[position["symbol"]] = PnlPart(unrealized=position["unrealized_pnl"])
        return Pnl(
            realized=self.realized,
            unrealized=unrealized,
            funding=self.funding,
            fees=self.fees,
            net=self.realized + unrealized + self.funding,
            per_venue={
                v: PnlPart(unrealized=unrealized, funding=self.funding) for v in self.venues
            },
            per_symbol=per_symbol,
        )

    def config(self) -> RunningConfig:
        return copy.deepcopy(self.config_)

    # -- acting ----------------------------------------------------------------------------

    def _refuse_when_stopping(self, action: str) -> None:
        if self.stop_requested:
            raise ControlError(f"cannot {action}: the bot is stopping")

    async def pause(self) -> StateChange:
        self._refuse_when_stopping("pause")
        entries = [o for o in self.orders_ if o["purpose"] == "entry"]
        self.orders_ = [o for o in self.orders_ if o["purpose"] != "entry"]
        self.paused = True
        cancelled = [o["client_order_id"] for o in entries]
        return StateChange(state="paused", cancelled_orders=cancelled)

    async def resume(self) -> StateChange:
        self._refuse_when_stopping("resume")
        self.paused = False
        return StateChange(state="running")

    async def close_position(self, position_id: str, mode: CloseMode, confirm: bool) -> CloseResult:
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
        self.realized += position["unrealized_pnl"]
        return CloseResult(
            position_id=position_id,
            closed=abs(position["size"]),
            average_price=position["mark_price"],
            orders=[f"close-{position_id}"],
        )

    async def close_all(self) -> CloseAllResult:
        self._refuse_when_stopping("close all")
        cancelled = [o["client_order_id"] for o in self.orders_]
        closed = [p["id"] for p in self.positions_]
        self.closed.extend((position_id, "market") for position_id in closed)
        self.orders_ = []
        self.positions_ = []
        return CloseAllResult(cancelled_orders=cancelled, closed_positions=closed)

    async def reload_config(self) -> ReloadResult:
        if self.next_config_problems:
            raise InvalidRequest(
                "the config file does not validate; the running config is unchanged",
                list(self.next_config_problems),
            )
        self.config_ = copy.deepcopy(self.next_config)
        return ReloadResult(config=copy.deepcopy(self.config_))

    async def stop(self) -> StateChange:
        self.stop_requested = True
        return StateChange(state="stopping")

    async def reset_kill(self, request: KillResetRequest) -> KillResetResult:
        if not self.killed:
            raise Conflict("the kill switch is not engaged: there is nothing to reset")
        if self.drawdown_holds and not request.force:
            raise NeedsConfirmation(
                "the drawdown that tripped the kill switch still holds: 12.50% from the peak "
                "equity 1000.00 USD to 875.00 USD (limit 10%); repeat with force",
                details={"drawdown_pct": Decimal("12.50"), "limit_pct": Decimal(10)},
            )
        self.killed = False
        self.resets.append(request)
        return KillResetResult(
            bot=self.name,
            kill_reason="drawdown 12.5% from peak equity 1000 USD to 875 USD reached the 10% limit",
            killed_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            forced=self.drawdown_holds,
            drawdown_pct=Decimal("12.50"),
            peak_equity=self.wallet,
        )
