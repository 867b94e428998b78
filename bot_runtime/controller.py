"""The running bot behind its control API (:class:`bot_runtime.control.BotControl`).

Reads come from the venues (positions, balances), the trackers (resting orders) and the
strategy; actions go through the same execution stack the strategy uses, so every order the
API causes is journaled like any other.

The kill switch is in :mod:`bot_runtime.kill_switch`.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from bot_runtime.bot_stats import bot_stats, bot_trades
from bot_runtime.control import Conflict, ControlError, InvalidRequest, NeedsConfirmation, NotFound
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
from bot_runtime.kill_switch import (
    RESET_ACTION,
    KillConditionHolds,
    KillNotEngaged,
    kill_info,
    plan_reset,
)
from bot_runtime.running import RunningBot
from core.errors import ConfigError, ExchangeError
from database.repositories.audit import record_audit
from exchange_clients.rounding import round_price
from exchange_clients.types import Side
from execution.order_executor import ExecutionMode, ExecutionRequest
from trading_config.loader import load_config

ZERO = Decimal(0)
WIDE_SPREAD_PCT = Decimal("0.5")


class RuntimeControl:
    """:class:`~bot_runtime.control.BotControl` over a running bot (:class:`RunningBot`)."""

    def __init__(self, runtime: RunningBot) -> None:
        self._runtime = runtime

    @property
    def _strategy(self) -> Any:
        assert self._runtime.strategy is not None
        return self._runtime.strategy

    async def status(self) -> BotStatus:
        runtime = self._runtime
        state = (
            "stopping"
            if runtime.stopping.is_set()
            else "paused"
            if self._strategy.context.paused.is_set()
            else "running"
        )
        return BotStatus(
            name=runtime.config.name,
            strategy=runtime.config.strategy.type,
            state=state,
            uptime_seconds=round(time.monotonic() - runtime.started_monotonic, 1),
            equity=await runtime.equity(),
            venues=sorted(runtime.clients),
            risk=self._risk_state(),
            details=self._strategy.describe(),
            reconciliation=list(runtime.reconciliation_findings),
        )

    def _risk_state(self) -> RiskState:
        risk = self._runtime.risk
        kill = kill_info(risk)
        return RiskState(
            killed=risk.killed,
            paused_until=risk.paused_until,
            kill_reason=kill[0] if kill else None,
            killed_at=kill[1] if kill else None,
        )

    async def positions(self) -> list[PositionView]:
        found = []
        for venue, client in self._runtime.clients.items():
            for position in await client.positions():
                found.append(
                    PositionView(
                        id=f"{venue}:{position.symbol}",
                        venue=venue,
                        symbol=position.symbol,
                        side="long" if position.size > 0 else "short",
                        size=position.size,
                        entry_price=position.entry_price,
                        mark_price=position.mark_price,
                        liquidation_price=position.liquidation_price,
                        unrealized_pnl=position.unrealized_pnl,
                        accrued_funding=position.accrued_funding,
                        leverage=position.leverage,
                    )
                )
        return found

    async def orders(self) -> list[OrderView]:
        stack = self._runtime.stack
        if stack is None:
            return []
        found = []
        for venue, tracker in stack.trackers.items():
            for client_id, tracked in tracker.unfinished().items():
                order = tracked.order
                if not (order.status.is_resting or order.status.value == "pending"):
                    continue
                found.append(
                    OrderView(
                        client_order_id=client_id,
                        venue=venue,
                        symbol=order.symbol,
                        side=order.side,
                        type=order.order_type.value,
                        size=order.size,
                        filled_size=order.filled_size,
                        price=order.price,
                        status=order.status.value,
                        reduce_only=order.reduce_only,
                    )
                )
        return found

    async def balances(self) -> list[BalanceView]:
        found = []
        for venue, client in self._runtime.clients.items():
            balance = await client.balance()
            found.append(
                BalanceView(
                    venue=venue,
                    account=client.settings.account,
                    asset=balance.asset,
                    wallet=balance.wallet,
                    equity=balance.equity,
                    available=balance.available,
                    margin_used=balance.margin_used,
                    unrealized_pnl=balance.unrealized_pnl,
                )
            )
        return found

    async def pnl(self) -> Pnl:
        """Unrealized PnL and funding from the venues' open positions; realized PnL (after the
        fees of closed trades) and every fee paid from the strategy's own books."""
        per_venue: dict[str, PnlPart] = {}
        per_symbol: dict[str, PnlPart] = {}
        for venue, client in self._runtime.clients.items():
            venue_part = PnlPart()
            for position in await client.positions():
                part = PnlPart(unrealized=position.unrealized_pnl, funding=position.accrued_funding)
                venue_part = _add(venue_part, part)
                per_symbol[position.symbol] = _add(per_symbol.get(position.symbol, PnlPart()), part)
            per_venue[venue] = venue_part
        unrealized = sum((part.unrealized for part in per_venue.values()), ZERO)
        funding = sum((part.funding for part in per_venue.values()), ZERO)
        described = self._strategy.describe()
        realized = Decimal(described.get("realized_pnl", 0))
        return Pnl(
            realized=realized,
            unrealized=unrealized,
            funding=funding,
            fees=Decimal(described.get("fees", 0)),
            net=realized + unrealized + funding,
            per_venue=per_venue,
            per_symbol=per_symbol,
        )

    async def stats(self) -> BotStats:
        return await bot_stats(self._runtime)

    async def trades(self, page: int, per_page: int) -> TradesPage:
        return await bot_trades(self._runtime, page, per_page)

    def config(self) -> RunningConfig:
        return self._runtime.config.model_dump(mode="json", by_alias=True)

    async def pause(self) -> StateChange:
        self._strategy.context.paused.set()
        self._runtime.log.warning("paused through the control API")
        return StateChange(state="paused")

    async def resume(self) -> StateChange:
        self._strategy.context.paused.clear()
        self._runtime.log.warning("resumed through the control API")
        return StateChange(state="running")

    async def close_position(self, position_id: str, mode: CloseMode, confirm: bool) -> CloseResult:
        venue, _, symbol = position_id.partition(":")
        client = self._runtime.clients.get(venue)
        position = await client.position(symbol) if client is not None and symbol else None
        if client is None or position is None or position.size == 0:
            raise NotFound(
                f"no open position {position_id!r}", details={"position_id": position_id}
            )
        bid, ask = await client.best_bid_ask(symbol)
        spread_pct = (ask - bid) / ((ask + bid) / 2) * 100
        if spread_pct > WIDE_SPREAD_PCT and not confirm:
            raise NeedsConfirmation(
                f"the {symbol} spread on {venue} is {spread_pct:.2f}%: repeat with confirm=true",
                details={"spread_pct": spread_pct},
            )
        assert self._runtime.stack is not None
        side: Side = "sell" if position.size > 0 else "buy"
        price = None
        if mode == "limit":
            market = await client.market(symbol)
            price = round_price(market, bid if side == "sell" else ask, side)
        request = ExecutionRequest(
            symbol,
            side,
            abs(position.size),
            ExecutionMode.LIMIT_WITH_FALLBACK if mode == "limit" else ExecutionMode.MARKET,
            price=price,
            reduce_only=True,
            timeout_seconds=10,
            purpose="manual_close",
        )
        # Through the strategy, so its state and realised PnL follow the close.
        result = await self._strategy.operator_close(venue, request)
        return CloseResult(
            position_id=position_id,
            closed=result.filled_size,
            average_price=result.average_price,
            orders=[o.client_order_id for o in result.orders],
        )

    async def close_all(self) -> CloseAllResult:
        cancelled, closed = await self._strategy.operator_close_all("close_all")
        return CloseAllResult(cancelled_orders=cancelled, closed_positions=closed)

    async def reload_config(self) -> ReloadResult:
        runtime = self._runtime
        try:
            fresh = load_config(runtime.config_path)
        except ConfigError as exc:
            raise InvalidRequest(
                "the config file is invalid; the running config is kept", exc.problems
            ) from None
        problems = []
        if fresh.name != runtime.config.name or fresh.strategy.type != runtime.config.strategy.type:
            problems.append("name and strategy.type cannot change while the bot runs: restart it")
        elif set(fresh.exchanges) != set(runtime.config.exchanges):
            problems.append("exchanges cannot change while the bot runs: restart it")
        else:
            problems += self._strategy.reload_problems(fresh.strategy.params)
        if problems:
            raise InvalidRequest("the running config is kept", problems)
        runtime.config = fresh
        self._strategy.params = fresh.strategy.params
        self._strategy.context.config = fresh
        runtime.log.warning("config reloaded through the control API")
        return ReloadResult(config=self.config())

    async def stop(self) -> StateChange:
        self._runtime.request_stop("stop requested through the control API")
        return StateChange(state="stopping")

    async def reset_kill(self, request: KillResetRequest) -> KillResetResult:
        """Check against the equity now, audit, clear, save: the next step may enter again.

        The audit row is written before the switch is cleared, so no reset goes unrecorded;
        the saved state follows at once, so a restart does not bring the kill back.
        """
        runtime = self._runtime
        risk = runtime.risk
        try:
            equity = await runtime.equity()
        except ExchangeError as exc:
            raise ControlError(
                f"cannot read the equity from the venues ({exc}): the reset is checked against "
                "it, try again"
            ) from None
        risk.update_equity(equity)  # while killed: no new kill, the drawdown checked is now's
        try:
            plan = plan_reset(risk, force=request.force)
        except KillNotEngaged as exc:
            raise Conflict(str(exc)) from None
        except KillConditionHolds as exc:
            raise NeedsConfirmation(exc.message, details=dict(exc.details)) from None
        name = runtime.config.name
        if runtime.sessions is not None:
            async with runtime.sessions.begin() as session:
                await record_audit(
                    session,
                    RESET_ACTION,
                    name,
                    plan.audit_details(request.reason, through="control_api"),
                    actor=request.actor or "control-api",
                )
        risk.reset_kill()
        await self._strategy.save_state()
        runtime.log.warning(
            "kill switch reset through the control API",
            actor=request.actor,
            reason=request.reason,
            forced=plan.forced,
            was=plan.kill_reason,
        )
        return plan.result(name, risk.paused_until)


def _add(one: PnlPart, other: PnlPart) -> PnlPart:
    unrealized, funding = one.unrealized + other.unrealized, one.funding + other.funding
    return PnlPart(unrealized=unrealized, funding=funding)
