"""The signal portfolio: many signal strategies in one bot, one risk gate, one book.

Every step (1 s):

1. **Market state**: due candles closed (watchdog reconnect on silence), funding/OI and
   Polymarket polled when due (:mod:`.market`); the venue's mid per asset.
2. **Exits** of every open position, whichever first: stop-loss, take-profit (prices fixed at
   entry from ``stop_loss_pct`` / ``take_profit_pct``) or ``timeout_minutes`` - closed at
   market, reduce-only. A position the venue no longer holds is forgotten.
3. Every ``evaluation_interval_seconds``: one :class:`MarketSnapshot` per asset, every enabled
   signal strategy evaluated on it, every evaluation recorded (``signals`` table, passes
   included) with ``acted_on`` and the reason when not acted on. A signal is acted on when:
   confidence >= ``min_confidence``; the asset holds nothing (one position per asset: the
   venue nets) - or holds the opposite direction, which is then **reversed** (closed, and
   the new entry tried); its strategy holds fewer than ``max_positions_per_strategy``; the
   size (:mod:`.sizing`) is at least the market's minimum; the total exposure stays within
   ``max_exposure_pct`` of equity; the risk manager allows it (kill switch, daily-loss
   pause, loss cooldown, its caps) - and the order goes through. ``CLOSE`` closes the
   asset's position when its strategy holds it.
4. Every ``mark_to_market_seconds``: each open position marked at the mid (``signal_trades``
   row updated), PnL kept per strategy and per asset.

Entries use the bot's ``execution.default_mode`` (market, limit, limit_with_fallback,
aggressive_limit) with ``limit_timeout_seconds`` and ``aggressive_attempts``; every order
goes through the venue's :class:`~execution.order_executor.OrderExecutor` (client order id
journaled before sending, pre-trade gate on the way).
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ExchangeError, RiskLimitBreached
from database.models import SignalTrade
from database.repositories import signals as signal_rows
from exchange_clients.market_data.candles import Candle
from exchange_clients.polymarket.client import PolymarketMarket
from exchange_clients.rounding import round_size
from exchange_clients.types import Market, Side
from execution.order_executor import ExecutionMode, ExecutionRequest, ExecutionResult
from execution.pricing import AggressiveLimitParams
from strategies.base_strategy import BaseStrategy, StrategyContext
from strategies.risk import EntryProposal, PortfolioSnapshot
from strategies.signal_portfolio.funding_source import FundingReading, minute_of
from strategies.signal_portfolio.market import MarketState, data_hosts
from strategies.signal_portfolio.params import SignalPortfolioParams, signal_specs
from strategies.signal_portfolio.signals import registry
from strategies.signal_portfolio.signals.types import Direction, Signal
from strategies.signal_portfolio.sizing import SizingRules, TradeRecord, size_entry

ZERO = Decimal(0)
HUNDRED = Decimal(100)
ENTRY, EXIT = "signal_entry", "signal_exit"
RECENT = 50  # evaluations kept for describe()


@dataclass
class Holding:
    """The one open position of an asset, owned by the signal strategy that opened it."""

    strategy: str
    asset: str
    direction: Direction
    size: Decimal
    entry_price: Decimal
    entry_fee: Decimal
    stop_price: Decimal
    take_profit_price: Decimal
    opened_at: datetime
    trade_id: int | None = None
    signal_id: int | None = None
    unrealized: Decimal = ZERO

    @property
    def side(self) -> Side:
        return "buy" if self.direction is Direction.LONG else "sell"

    def pnl_at(self, price: Decimal) -> Decimal:
        sign = 1 if self.direction is Direction.LONG else -1
        return (price - self.entry_price) * self.size * sign

    def to_json(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "asset": self.asset,
            "direction": self.direction.value,
            "size": self.size,
            "entry_price": self.entry_price,
            "entry_fee": self.entry_fee,
            "stop_price": self.stop_price,
            "take_profit_price": self.take_profit_price,
            "opened_at": self.opened_at.isoformat(),
            "trade_id": self.trade_id,
            "signal_id": self.signal_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Holding:
        return cls(
            str(data["strategy"]),
            str(data["asset"]),
            Direction(str(data["direction"])),
            Decimal(str(data["size"])),
            Decimal(str(data["entry_price"])),
            Decimal(str(data["entry_fee"])),
            Decimal(str(data["stop_price"])),
            Decimal(str(data["take_profit_price"])),
            datetime.fromisoformat(str(data["opened_at"])),
            data.get("trade_id"),
            data.get("signal_id"),
        )


@dataclass
class Outcome:
    """What became of one evaluation: acted on or not (and why), the position it opened."""

    acted_on: bool
    reason: str | None
    opened: Holding | None = None


class SignalPortfolioStrategy(BaseStrategy[SignalPortfolioParams]):
    interval_seconds = 1.0

    def __init__(self, context: StrategyContext, params: SignalPortfolioParams) -> None:
        super().__init__(context, params)
        self.venue = params.exchange
        self.assets = tuple(params.assets)
        self.client = context.clients[self.venue]
        self.executor = context.executors[self.venue]
        self.signals = [registry.build(name, raw) for name, raw in signal_specs(params.signals)]
        self.rules = SizingRules(
            risk_pct=params.risk_pct,
            stop_loss_pct=params.stop_loss_pct,
            min_confidence=params.min_confidence,
            full_size_confidence=params.full_size_confidence,
            kelly_min_trades=params.kelly_min_trades,
        )
        self.timeout = timedelta(minutes=params.timeout_minutes)
        self.evaluate_every = timedelta(seconds=float(params.evaluation_interval_seconds))
        self.mark_every = timedelta(seconds=float(params.mark_to_market_seconds))
        execution = context.config.execution
        self.mode = ExecutionMode(execution.default_mode)
        self.limit_timeout = float(execution.limit_timeout_seconds)
        self.chase = AggressiveLimitParams(attempts=execution.aggressive_attempts)
        replay = context.market_replay
        if replay is not None:  # a backtest: the venue's history, on the simulated clock
            params.check_replayable()
        self.market = MarketState(
            params,
            data_hosts(context.config, params) if replay is None else None,
            self.client,
            replay=None if replay is None else functools.partial(replay, params.exchange),
            on_candles=self._save_candles,
            on_polymarket=self._save_polymarket,
            on_funding=self._save_funding,
        )
        self.markets: dict[str, Market] = {}
        self.holdings: dict[str, Holding] = {}
        self.records: dict[str, TradeRecord] = {}
        self.realized_by_strategy: dict[str, Decimal] = {}
        self.realized_by_asset: dict[str, Decimal] = {}
        self.evaluations = 0
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.marks = 0
        self._next_evaluation: datetime | None = None
        self._next_mark: datetime | None = None

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        await super().start()
        for asset in self.assets:
            self.markets[asset] = await self.client.market(asset)
        await self.market.start(self.context.clock.now())
        self.log.info(
            "signal portfolio started",
            signals=[s.name for s in self.signals],
            assets=list(self.assets),
            entry_mode=self.mode.value,
        )

    async def cleanup(self, *, cancel_orders: bool) -> list[str]:
        try:
            return await super().cleanup(cancel_orders=cancel_orders)
        finally:
            await self.market.stop()

    async def should_execute(self) -> bool:
        return not self.context.stop_requested.is_set()

    async def execute_strategy(self) -> None:
        now = self.context.clock.now()
        await self.market.refresh(now)
        prices = {asset: await self.market.price(asset) for asset in self.assets}
        await self._exits(prices, now)
        if self._next_evaluation is None or now >= self._next_evaluation:
            self._next_evaluation = now + self.evaluate_every
            await self.evaluate(prices, now)
        if self._next_mark is None or now >= self._next_mark:
            self._next_mark = now + self.mark_every
            await self._mark(prices, now)

    # --- evaluation --------------------------------------------------------------------------

    async def evaluate(self, prices: Mapping[str, Decimal | None], now: datetime) -> None:
        """One snapshot per asset, every signal strategy on it, every evaluation recorded."""
        evaluations: list[signal_rows.Evaluation] = []
        opened: list[tuple[int, Holding]] = []
        for asset in self.assets:
            price = prices.get(asset)
            if price is None:
                continue
            snapshot = self.market.snapshot(asset, price, now)
            for strategy in self.signals:
                signal = strategy.evaluate(snapshot)
                if signal is None:
                    outcome = Outcome(False, "no signal")
                else:
                    outcome = await self._act(signal, now)
                if outcome.opened is not None:
                    opened.append((len(evaluations), outcome.opened))
                evaluations.append(self._evaluation(strategy.name, asset, signal, outcome, now))
        self.evaluations += len(evaluations)
        for evaluation in evaluations:
            if evaluation.direction is not None:
                self.recent.append(
                    {
                        "strategy": evaluation.strategy,
                        "asset": evaluation.asset,
                        "direction": evaluation.direction,
                        "acted_on": evaluation.acted_on,
                        "reason": evaluation.reason,
                    }
                )

        async def work(session: AsyncSession) -> None:
            ids = await signal_rows.add_signals(session, evaluations)
            for index, holding in opened:
                holding.signal_id = ids[index]
                holding.trade_id = await signal_rows.open_trade(session, self._trade_row(holding))

        if evaluations:
            await self.context.journal.committer.run(work)
        if opened:
            await self.save_state()

    def _evaluation(
        self,
        strategy: str,
        asset: str,
        signal: Signal | None,
        outcome: Outcome,
        now: datetime,
    ) -> signal_rows.Evaluation:
        if signal is None:
            return signal_rows.Evaluation(
                self.context.bot_name, strategy, asset, self.venue, now, False, outcome.reason
            )
        return signal_rows.Evaluation(
            self.context.bot_name,
            strategy,
            asset,
            self.venue,
            signal.ts,
            outcome.acted_on,
            outcome.reason,
            direction=signal.direction.value,
            confidence=signal.confidence,
            entry_price=signal.entry_price,
            metadata=dict(signal.metadata),
        )

    async def _act(self, signal: Signal, now: datetime) -> Outcome:
        """Take ``signal`` through the gate and, when it passes, into a position."""
        asset, held = signal.asset, self.holdings.get(signal.asset)
        if signal.direction is Direction.CLOSE:
            if held is None or held.strategy != signal.strategy:
                return Outcome(False, f"CLOSE: {signal.strategy} holds nothing on {asset}")
            closed = await self._close(held, "close_signal", now)
            return Outcome(closed, None if closed else "the close did not fill")
        if signal.confidence < self.rules.min_confidence:
            return Outcome(
                False,
                f"confidence {signal.confidence:.2f} below min_confidence "
                f"{self.rules.min_confidence}",
            )
        reversed_note = ""
        if held is not None:
            if held.direction is signal.direction:
                return Outcome(
                    False, f"{asset} already {held.direction.value} (opened by {held.strategy})"
                )
            if held.trade_id is None:
                return Outcome(False, f"{asset} was opened this tick by {held.strategy}")
            if not await self._close(held, "reversal", now):
                return Outcome(False, f"reversal: closing {held.strategy}'s position failed")
            reversed_note = f"reversed {held.strategy}'s {held.direction.value}; "
        mine = sum(1 for h in self.holdings.values() if h.strategy == signal.strategy)
        if mine >= self.params.max_positions_per_strategy:
            return self._refused(
                reversed_note,
                f"{signal.strategy} holds {mine} positions, max_positions_per_strategy "
                f"{self.params.max_positions_per_strategy}",
            )
        refusal, size = await self._gate(signal)
        if refusal is not None:
            return self._refused(reversed_note, refusal)
        holding, failure = await self._enter(signal, size, now)
        if holding is None:
            return self._refused(reversed_note, failure or "the entry did not fill")
        return Outcome(True, reversed_note.rstrip("; ") or None, holding)

    @staticmethod
    def _refused(reversed_note: str, reason: str) -> Outcome:
        """A refused entry; acted on all the same when a reversal closed a position first."""
        if reversed_note:
            return Outcome(True, f"{reversed_note}new entry refused: {reason}")
        return Outcome(False, reason)

    async def _gate(self, signal: Signal) -> tuple[str | None, Decimal]:
        """Size the entry and put it through every limit: (refusal, size)."""
        market = self.markets[signal.asset]
        equity = (await self.client.balance()).equity
        record = self.records.get(signal.strategy, TradeRecord())
        sizing = size_entry(self.rules, equity, signal.entry_price, signal.confidence, record)
        if sizing.quantity <= 0:
            return sizing.reason, ZERO
        size = round_size(market, sizing.quantity)
        price = signal.entry_price
        exposure = await self._exposure()
        cap = equity * self.params.max_exposure_pct / HUNDRED
        if exposure + size * price > cap:
            headroom = cap - exposure
            size = round_size(market, headroom / price) if headroom > 0 else ZERO
            if size <= 0 or size < market.min_size:
                return (
                    f"exposure {exposure:.2f} USD at the {self.params.max_exposure_pct}% of "
                    f"equity cap ({cap:.2f} USD)",
                    ZERO,
                )
        if size < market.min_size or size * price < market.min_notional:
            return (
                f"size {size} ({sizing.reason}) below the market's minimum "
                f"{market.min_size} / {market.min_notional} USD",
                ZERO,
            )
        decision = self.context.risk.evaluate_entry(
            EntryProposal(
                strategy=f"signal_portfolio:{signal.strategy}",
                symbol=signal.asset,
                notional_by_venue={self.venue: size * price},
            ),
            PortfolioSnapshot(
                equity=equity,
                exposure_by_venue={self.venue: exposure},
                open_positions=len(self.holdings),
            ),
        )
        if not decision.allowed:
            return f"risk {decision.verdict.value}: {decision.reason}", ZERO
        if decision.allowed_notional < size * price:
            size = round_size(market, decision.allowed_notional / price)
            if size < market.min_size or size <= 0:
                return f"risk resized below the minimum: {decision.reason}", ZERO
        return None, size

    async def _exposure(self) -> Decimal:
        total = ZERO
        for holding in self.holdings.values():
            price = await self.market.price(holding.asset) or holding.entry_price
            total += holding.size * price
        return total

    async def _enter(
        self, signal: Signal, size: Decimal, now: datetime
    ) -> tuple[Holding | None, str | None]:
        side: Side = "buy" if signal.direction is Direction.LONG else "sell"
        price = None
        if self.mode in (ExecutionMode.LIMIT, ExecutionMode.LIMIT_WITH_FALLBACK):
            bid, ask = await self.client.best_bid_ask(signal.asset)
            price = bid if side == "buy" else ask
        request = ExecutionRequest(
            signal.asset,
            side,
            size,
            self.mode,
            price=price,
            timeout_seconds=self.limit_timeout,
            aggressive=self.chase,
            purpose=ENTRY,
        )
        try:
            result = await self.executor.execute(request)
        except RiskLimitBreached as exc:
            return None, f"pre-trade gate: {exc}"
        except ExchangeError as exc:
            return None, f"entry failed: {exc}"
        filled, average = result.filled_size, result.average_price
        if filled <= 0 or average is None:
            return None, None
        stop = self.params.stop_loss_pct / HUNDRED
        target = self.params.take_profit_pct / HUNDRED
        long = signal.direction is Direction.LONG
        holding = Holding(
            strategy=signal.strategy,
            asset=signal.asset,
            direction=signal.direction,
            size=filled,
            entry_price=average,
            entry_fee=_fees(result),
            stop_price=average * (1 - stop if long else 1 + stop),
            take_profit_price=average * (1 + target if long else 1 - target),
            opened_at=now,
        )
        self.holdings[signal.asset] = holding
        self.log.info(
            "signal position opened",
            strategy=signal.strategy,
            asset=signal.asset,
            direction=signal.direction.value,
            size=str(filled),
            price=str(average),
            confidence=str(signal.confidence),
        )
        return holding, None

    # --- exits -------------------------------------------------------------------------------

    async def _exits(self, prices: Mapping[str, Decimal | None], now: datetime) -> None:
        for holding in list(self.holdings.values()):
            position = await self.client.position(holding.asset)
            held = ZERO if position is None else position.size
            if held == 0 or (held > 0) != (holding.direction is Direction.LONG):
                self.log.warning("position closed outside the strategy", asset=holding.asset)
                await self._record_close(holding, holding.entry_price, "closed_outside", ZERO, now)
                continue
            reason = exit_due(holding, prices.get(holding.asset), now, self.timeout)
            if reason is not None:
                await self._close(holding, reason, now)

    async def _close(self, holding: Holding, reason: str, now: datetime) -> bool:
        """Close ``holding`` at market (reduce-only); True when it is closed."""
        request = ExecutionRequest(
            holding.asset,
            "sell" if holding.side == "buy" else "buy",
            holding.size,
            ExecutionMode.MARKET,
            reduce_only=True,
            purpose=EXIT,
        )
        result = await self.executor.execute(request)
        return await self._book_close(holding, result, reason, now)

    async def _book_close(
        self, holding: Holding, result: ExecutionResult, reason: str, now: datetime
    ) -> bool:
        filled, price = result.filled_size, result.average_price
        if filled <= 0 or price is None:
            self.log.warning("exit did not fill", asset=holding.asset, reason=reason)
            return False
        closed = min(filled, holding.size)
        share = closed / holding.size
        entry_fee = holding.entry_fee * share
        pnl = holding.pnl_at(price) * share - entry_fee - _fees(result)
        if closed < holding.size:  # partly closed: the rest stays open, booked when it goes
            holding.size -= closed
            holding.entry_fee -= entry_fee
            self._book(holding, pnl)
            return False
        await self._record_close(holding, price, reason, pnl, now)
        return True

    def _book(self, holding: Holding, pnl: Decimal) -> None:
        self.records.setdefault(holding.strategy, TradeRecord()).add(pnl)
        self.realized_by_strategy[holding.strategy] = (
            self.realized_by_strategy.get(holding.strategy, ZERO) + pnl
        )
        self.realized_by_asset[holding.asset] = (
            self.realized_by_asset.get(holding.asset, ZERO) + pnl
        )
        self.context.risk.record_trade(pnl)

    async def _record_close(
        self, holding: Holding, price: Decimal, reason: str, pnl: Decimal, now: datetime
    ) -> None:
        if reason != "closed_outside":
            self._book(holding, pnl)
        self.holdings.pop(holding.asset, None)
        self.log.info(
            "signal position closed",
            strategy=holding.strategy,
            asset=holding.asset,
            reason=reason,
            price=str(price),
            pnl=str(pnl),
        )
        if holding.trade_id is not None:
            trade_id = holding.trade_id

            async def work(session: AsyncSession) -> None:
                await signal_rows.close_trade(
                    session, trade_id, exit_price=price, reason=reason, realized=pnl, ts=now
                )

            await self.context.journal.committer.run(work)
        await self.save_state()

    async def close_position(self, venue: str, request: ExecutionRequest) -> ExecutionResult:
        """An operator's close of an asset the portfolio holds: booked to its strategy."""
        holding = self.holdings.get(request.symbol) if venue == self.venue else None
        result = await self.context.executors[venue].execute(request)
        if holding is not None:
            await self._book_close(holding, result, "operator", self.context.clock.now())
        return result

    # --- mark to market ----------------------------------------------------------------------

    async def _mark(self, prices: Mapping[str, Decimal | None], now: datetime) -> None:
        marked: list[tuple[int, Decimal, Decimal]] = []
        for holding in self.holdings.values():
            price = prices.get(holding.asset)
            if price is None:
                continue
            holding.unrealized = holding.pnl_at(price)
            if holding.trade_id is not None:
                marked.append((holding.trade_id, price, holding.unrealized))
        self.marks += 1
        if not marked:
            return

        async def work(session: AsyncSession) -> None:
            for trade_id, price, unrealized in marked:
                await signal_rows.mark_trade(session, trade_id, price, unrealized, now)

        await self.context.journal.committer.run(work)
        self.log.info(
            "mark to market",
            positions=len(marked),
            unrealized=str(sum((u for _, _, u in marked), ZERO)),
        )

    # --- storage -----------------------------------------------------------------------------

    def _trade_row(self, holding: Holding) -> SignalTrade:
        return SignalTrade(
            bot=self.context.bot_name,
            strategy=holding.strategy,
            asset=holding.asset,
            venue=self.venue,
            direction=holding.direction.value,
            size=holding.size,
            entry_price=holding.entry_price,
            stop_price=holding.stop_price,
            take_profit_price=holding.take_profit_price,
            entry_fee=holding.entry_fee,
            opened_at=holding.opened_at,
            signal_id=holding.signal_id,
            status="open",
        )

    async def _save_candles(self, candles: Sequence[Candle]) -> None:
        async def work(session: AsyncSession) -> None:
            await signal_rows.upsert_candles(session, candles)

        await self.context.journal.committer.run(work)

    async def _save_funding(self, readings: Sequence[FundingReading], now: datetime) -> None:
        rows = [
            {
                "venue": "hyperliquid",
                "asset": r.asset,
                "ts": minute_of(now),
                "funding_rate": r.funding_rate,
                "open_interest_usd": r.open_interest_usd,
                "mark_price": r.mark_price,
                "source": r.source,
            }
            for r in readings
        ]

        async def work(session: AsyncSession) -> None:
            await signal_rows.upsert_funding_oi(session, rows)

        await self.context.journal.committer.run(work)

    async def _save_polymarket(self, markets: Sequence[PolymarketMarket], now: datetime) -> None:
        rows = [
            {
                "market_id": m.market_id,
                "asset": m.asset,
                "question": m.question,
                "yes_is_up": m.yes_is_up,
                "yes_price": m.yes_price,
                "no_price": m.no_price,
                "volume_24h": m.volume_24h,
                "liquidity": m.liquidity,
                "end_time": m.end_time,
                "ts": now,
            }
            for m in markets
        ]

        async def work(session: AsyncSession) -> None:
            await signal_rows.add_polymarket_snapshots(session, rows)

        await self.context.journal.committer.run(work)

    # --- state -------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {
            "holdings": {asset: h.to_json() for asset, h in self.holdings.items()},
            "records": {name: r.to_json() for name, r in self.records.items()},
            "realized_by_strategy": dict(self.realized_by_strategy),
            "realized_by_asset": dict(self.realized_by_asset),
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        self.holdings = {
            asset: Holding.from_json(data)
            for asset, data in (state.get("holdings") or {}).items()
            if asset in self.assets
        }
        self.records = {
            name: TradeRecord.from_json(dict(data))
            for name, data in (state.get("records") or {}).items()
        }
        self.realized_by_strategy = {
            k: Decimal(str(v)) for k, v in (state.get("realized_by_strategy") or {}).items()
        }
        self.realized_by_asset = {
            k: Decimal(str(v)) for k, v in (state.get("realized_by_asset") or {}).items()
        }

    def describe(self) -> dict[str, Any]:
        unrealized_by_strategy: dict[str, Decimal] = {}
        for holding in self.holdings.values():
            unrealized_by_strategy[holding.strategy] = (
                unrealized_by_strategy.get(holding.strategy, ZERO) + holding.unrealized
            )
        return {
            "positions": {
                asset: f"{h.strategy} {h.direction.value} {h.size} @ {h.entry_price}"
                for asset, h in self.holdings.items()
            },
            "realized_by_strategy": dict(self.realized_by_strategy),
            "realized_by_asset": dict(self.realized_by_asset),
            "unrealized_by_strategy": unrealized_by_strategy,
            "evaluations": self.evaluations,
            "recent_signals": list(self.recent)[-10:],
            "market": self.market.describe(),
        }


def exit_due(
    holding: Holding, price: Decimal | None, now: datetime, timeout: timedelta
) -> str | None:
    """Why ``holding`` must close now (stop_loss, take_profit, timeout), or None."""
    if price is not None:
        long = holding.direction is Direction.LONG
        if (price <= holding.stop_price) if long else (price >= holding.stop_price):
            return "stop_loss"
        if (price >= holding.take_profit_price) if long else (price <= holding.take_profit_price):
            return "take_profit"
    if now - holding.opened_at >= timeout:
        return "timeout"
    return None


def _fees(result: ExecutionResult) -> Decimal:
    return sum((order.fee_paid for order in result.orders), ZERO)
