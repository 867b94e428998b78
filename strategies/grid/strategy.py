"""A one-directional grid: post-only entries inside the touch, a take-profit for every fill.

Each step of a long grid (a short grid mirrors it):

1. **Stop price**: the mid at or below ``stop_price`` cancels everything, closes the position
   at market (reduce-only) and stops the bot.
2. **Fills**: an entry that finished with fills gets a reduce-only take-profit for what filled,
   ``take_profit`` % on margin away (``take_profit / target_leverage`` % in price); a
   take-profit that filled books its PnL (fees included) with the risk manager.
3. **Protection**: with ``stop_loss_enabled``, a lot whose loss on margin reaches
   ``stop_loss_percentage`` is closed at market; a lot older than ``position_timeout_minutes``
   is recovered by ``recovery_mode``: ``aggressive`` closes it at market, ``hedge`` moves its
   take-profit to break-even (entry plus round-trip fees) so the next bounce exits it flat,
   ``none`` leaves it.
   **Venue-side stop**: with ``stop_loss_enabled`` on a venue with trigger orders
   (``supports_trigger_orders``), the position also carries one reduce-only STOP_MARKET on the
   venue at ``stop_loss_percentage`` on margin from the position's average entry, for its
   whole size - re-placed (new one first, then the old one cancelled) whenever the size or
   the average entry changes, cancelled when flat. It is what protects the position when
   this process or its host is dead; while the bot runs its lot-by-lot stop-loss above acts
   first for the worst lots. A venue without trigger orders keeps only the bot-side stop,
   and the start-up log says so. When the venue stop fires, its exit is booked against the
   open lots and their take-profits are cancelled.
4. **Entry**: at most one resting entry, post-only ``post_only_tick_multiplier`` ticks inside
   the touch (never crossing). A new one needs: not paused (``pause_price``, the control API),
   fewer than ``max_orders`` take-profits, margin within ``max_margin_usd``, its take-profit at
   least ``grid_step`` % from every existing one, a cooldown of ``wait_time`` scaled by how
   full the grid is (x (1 + open take-profits / max_orders)), and the risk manager's yes. An
   entry the touch has left more than ``grid_step`` % behind is cancelled and re-placed.

Restart: the orders are the state. Resting entries and take-profits are found in the journal
(reconciled against the venue before the strategy starts) and adopted, never duplicated; a
position not covered by take-profits (a crash between a fill and its take-profit) gets one.
Resting venue stops are adopted too: the newest is kept, any other cancelled (a crash in the
middle of a replace leaves two), then the next step syncs it with the position; a stop that
fired while the bot was down is booked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from core.errors import ExchangeError
from exchange_clients.rounding import round_size, round_to_step
from exchange_clients.types import Market, Order, Position, opposite
from execution.journal import JournaledOrder
from execution.order_executor import ExecutionMode, ExecutionRequest, ExecutionResult
from strategies.base_strategy import BaseStrategy, StrategyContext
from strategies.grid.params import GridParams
from strategies.risk import EntryProposal, PortfolioSnapshot

ZERO = Decimal(0)
HUNDRED = Decimal(100)
ENTRY, TAKE_PROFIT, EXIT, STOP = "grid_entry", "grid_tp", "grid_exit", "grid_stop"


@dataclass
class Lot:
    """One filled entry and the take-profit order that closes it."""

    take_profit_id: str
    entry_price: Decimal
    entry_fee_per_unit: Decimal
    opened_at: datetime
    recovered: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "take_profit_id": self.take_profit_id,
            "entry_price": self.entry_price,
            "entry_fee_per_unit": self.entry_fee_per_unit,
            "opened_at": self.opened_at.isoformat(),
            "recovered": self.recovered,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Lot:
        return cls(
            str(data["take_profit_id"]),
            Decimal(data["entry_price"]),
            Decimal(data["entry_fee_per_unit"]),
            datetime.fromisoformat(str(data["opened_at"])),
            bool(data.get("recovered", False)),
        )


class GridStrategy(BaseStrategy[GridParams]):
    interval_seconds = 1.0

    def __init__(self, context: StrategyContext, params: GridParams) -> None:
        super().__init__(context, params)
        self.venue, self.symbol, self.side = params.exchange, params.ticker, params.direction
        self.direction = 1 if self.side == "buy" else -1
        self.client = context.clients[self.venue]
        self.executor = context.executors[self.venue]
        self.tracker = context.trackers[self.venue]
        self.market: Market | None = None
        self.entry_id: str | None = None
        self.stop_id: str | None = None
        """The venue-side stop-loss (a resting reduce-only STOP_MARKET), when there is one."""
        self.lots: dict[str, Lot] = {}
        self.last_entry_at: datetime | None = None
        self.stopped = False
        self.stop_reason: str | None = None
        self.realized_pnl = ZERO  # after fees
        self.fees = ZERO  # every fee paid, booked from each order's fills as it settles
        self.trades = 0
        self._warned_stuck: set[str] = set()

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        await super().start()
        self.market = await self.client.market(self.symbol)
        applied = await self.client.set_leverage(self.symbol, self.params.target_leverage)
        if applied != self.params.target_leverage:
            self.log.warning(
                "venue applied another leverage",
                asked=str(self.params.target_leverage),
                applied=str(applied),
            )
        await self._adopt_resting()
        if self.params.stop_loss_enabled:
            if self.venue_stops:
                self.log.info(
                    "stop-loss rests on the venue as a reduce-only STOP_MARKET "
                    "(protects the position while the bot is down)",
                    venue=self.venue,
                )
            else:
                self.log.warning(
                    "stop-loss lives in the bot only: the venue has no trigger orders, so a "
                    "position is unprotected while the bot is down",
                    venue=self.venue,
                )
        self.log.info(
            "grid started",
            venue=self.venue,
            symbol=self.symbol,
            side=self.side,
            take_profits=len(self.lots),
            entry=self.entry_id,
        )

    @property
    def venue_stops(self) -> bool:
        """Whether the stop-loss also rests on the venue (enabled, and the venue can)."""
        return self.params.stop_loss_enabled and self.client.supports_trigger_orders

    def keeps_resting(self, order: JournaledOrder) -> bool:
        return (
            order.venue == self.venue
            and order.symbol == self.symbol
            and order.purpose in (ENTRY, TAKE_PROFIT, STOP)
        )

    async def _adopt_resting(self) -> None:
        """Track the grid's resting orders found in the (reconciled) journal."""
        known_lots, self.lots = self.lots, {}
        entry_id, self.entry_id = self.entry_id, None
        stop_id, self.stop_id = self.stop_id, None
        stops: list[Order] = []
        for journaled in await self.context.journal.unfinished():
            if not self.keeps_resting(journaled):
                continue
            try:
                order = await self.client.order_status(
                    self.symbol, client_order_id=journaled.client_order_id
                )
            except ExchangeError as exc:
                self.log.warning(
                    "could not adopt an order", order=journaled.client_order_id, error=str(exc)
                )
                continue
            self.tracker.track(order)
            await self.tracker.apply_order(order)
            if journaled.purpose == ENTRY:
                self.entry_id = order.client_order_id
            elif journaled.purpose == STOP:
                if order.status.is_resting:
                    stops.append(order)
            elif order.status.is_resting:
                lot = known_lots.get(order.client_order_id) or self._lot_from_take_profit(
                    order, journaled.created_at
                )
                self.lots[order.client_order_id] = lot
        await self._adopt_stops(stops)
        fired = None
        if self.stop_id is None and stop_id is not None:
            fired = await self._finished_order(stop_id)
        # Orders that finished while the bot was down: a take-profit that filled is booked; an
        # entry that filled gets its take-profit from its own fill price in the next step.
        stopped_out: list[tuple[Lot, Decimal]] = []
        for client_id, lot in known_lots.items():
            if client_id not in self.lots:
                finished = await self._finished_order(client_id)
                if finished is not None and finished.filled_size > 0:
                    self._book(lot, finished)
                if finished is not None and finished.remaining_size > 0:
                    stopped_out.append((lot, finished.remaining_size))
        if fired is not None and fired.filled_size > 0 and fired.avg_fill_price is not None:
            self._book_stop(fired, stopped_out)
        if self.entry_id is None and entry_id is not None:
            finished = await self._finished_order(entry_id)
            if finished is not None and finished.filled_size > 0:
                self.tracker.track(finished)
                self.entry_id = entry_id
        self.log.info(
            "grid orders adopted",
            take_profits=sorted(self.lots),
            entry=self.entry_id,
            previous_entry=entry_id,
            venue_stop=self.stop_id,
        )

    async def _adopt_stops(self, stops: list[Order]) -> None:
        """Keep the newest resting venue stop; cancel the others (a replace cut short)."""
        if not stops:
            return
        *extra, newest = sorted(stops, key=lambda o: (o.created_at is None, o.created_at))
        for order in extra:
            self.log.warning("duplicate venue stop found; cancelling", order=order.client_order_id)
            await self.executor.cancel(self.symbol, order.client_order_id)
            self.tracker.forget(order.client_order_id)
        self.stop_id = newest.client_order_id

    async def _finished_order(self, client_id: str) -> Order | None:
        try:
            order = await self.client.order_status(self.symbol, client_order_id=client_id)
        except ExchangeError as exc:
            self.log.warning(
                "a saved order is unknown to the venue", order=client_id, error=str(exc)
            )
            return None
        return order if order.status.is_final else None

    def _lot_from_take_profit(self, order: Order, created_at: datetime) -> Lot:
        """A lot rebuilt from its take-profit alone (its entry price follows from the TP)."""
        assert order.price is not None
        entry = order.price / (1 + self.direction * self._take_profit_move())
        return Lot(order.client_order_id, entry, ZERO, created_at)

    async def should_execute(self) -> bool:
        return not self.stopped

    async def execute_strategy(self) -> None:
        market = self.market
        assert market is not None, "start() first"
        bid, ask = await self.client.best_bid_ask(self.symbol)
        mid = (bid + ask) / 2
        if self._beyond(self.params.stop_price, mid, stop=True):
            await self._stop_everything(f"price {mid} reached stop_price {self.params.stop_price}")
            return
        await self._settle_entry()
        await self._settle_stop()
        await self._settle_take_profits()
        await self._protect(mid)
        position = await self.client.position(self.symbol)  # after protection closed lots
        await self._cover(position)
        await self._sync_stop(position, mid)
        await self._maybe_enter(bid, ask, mid, position)

    # --- steps -----------------------------------------------------------------------------

    async def _settle_entry(self) -> None:
        """An entry that finished: a take-profit for what it filled."""
        if self.entry_id is None:
            return
        entry = self.tracker.get(self.entry_id).order
        if not entry.status.is_final:
            return
        self.entry_id = None
        self.fees += entry.fee_paid
        if entry.filled_size > 0 and entry.avg_fill_price is not None:
            fee_per_unit = entry.fee_paid / entry.filled_size
            await self._place_take_profit(
                entry.filled_size, entry.avg_fill_price, fee_per_unit, self.context.clock.now()
            )
        await self.save_state()

    async def _settle_take_profits(self) -> None:
        for client_id, lot in list(self.lots.items()):
            take_profit = self.tracker.get(client_id).order
            if not take_profit.status.is_final:
                continue
            del self.lots[client_id]
            if take_profit.filled_size > 0 and take_profit.avg_fill_price is not None:
                self._book(lot, take_profit)
            self.tracker.forget(client_id)
            await self.save_state()

    def _book_exit(
        self,
        lots: list[tuple[Lot, Decimal]],
        exit_price: Decimal,
        exit_fee_per_unit: Decimal,
        reason: str = "the stop",
    ) -> None:
        """Book lots closed together by one market exit, as one trade."""
        pnl = ZERO
        for lot, size in lots:
            pnl += (
                self.direction * (exit_price - lot.entry_price) * size
                - (lot.entry_fee_per_unit + exit_fee_per_unit) * size
            )
            self.fees += exit_fee_per_unit * size
        self.realized_pnl += pnl
        self.trades += 1
        self.context.risk.record_trade(pnl)
        self.log.warning(f"grid closed at {reason}", exit=str(exit_price), pnl=str(pnl))

    def _book(self, lot: Lot, closing: Order) -> Decimal:
        assert closing.avg_fill_price is not None
        size = closing.filled_size
        pnl = (
            self.direction * (closing.avg_fill_price - lot.entry_price) * size
            - closing.fee_paid
            - lot.entry_fee_per_unit * size
        )
        self.realized_pnl += pnl
        self.fees += closing.fee_paid
        self.trades += 1
        self.context.risk.record_trade(pnl)
        self.log.info(
            "grid lot closed",
            entry=str(lot.entry_price),
            exit=str(closing.avg_fill_price),
            size=str(size),
            pnl=str(pnl),
            realized=str(self.realized_pnl),
        )
        return pnl

    async def _settle_stop(self) -> None:
        """The venue stop fired: book its exit against every open lot and drop them."""
        if self.stop_id is None:
            return
        stop = self.tracker.get(self.stop_id).order
        if not stop.status.is_final:
            return
        self.stop_id = None
        self.tracker.forget(stop.client_order_id)
        if stop.filled_size <= 0 or stop.avg_fill_price is None:
            await self.save_state()
            return
        closed: list[tuple[Lot, Decimal]] = []
        for client_id, lot in list(self.lots.items()):
            take_profit = self.tracker.get(client_id).order
            if not take_profit.status.is_final:  # a venue may leave reduce-only orders resting
                take_profit = await self.executor.cancel(self.symbol, client_id)
            if take_profit.filled_size > 0:
                self._book(lot, take_profit)
            if take_profit.remaining_size > 0:
                closed.append((lot, take_profit.remaining_size))
            self.tracker.forget(client_id)
            del self.lots[client_id]
        self._book_stop(stop, closed)
        await self.save_state()

    def _book_stop(self, stop: Order, lots: list[tuple[Lot, Decimal]]) -> None:
        """Book what a fired venue stop sold (bought) against the lots it closed."""
        assert stop.avg_fill_price is not None
        closed, left = [], stop.filled_size
        for lot, size in lots:  # oldest first, as far as the stop went
            if left > 0:
                closed.append((lot, min(size, left)))
                left -= min(size, left)
        if closed:
            fee_per_unit = stop.fee_paid / stop.filled_size
            self._book_exit(closed, stop.avg_fill_price, fee_per_unit, "the venue stop")

    def _stop_trigger(self, position: Position) -> Decimal:
        """``stop_loss_percentage`` on margin from the average entry, on the tick grid,
        rounded away from the entry (never closer than asked)."""
        assert self.market is not None
        assert self.params.stop_loss_percentage is not None
        move = self.params.stop_loss_percentage / self.params.target_leverage / HUNDRED
        trigger = position.entry_price * (1 - self.direction * move)
        mode = ROUND_FLOOR if self.side == "buy" else ROUND_CEILING
        return round_to_step(trigger, self.market.tick_size, mode)

    async def _sync_stop(self, position: Position | None, mid: Decimal) -> None:
        """Keep exactly one venue stop matching the position (size, average entry), or none."""
        current = self.tracker.get(self.stop_id).order if self.stop_id is not None else None
        held = self.direction * position.size if position is not None else ZERO
        if position is None or held <= 0 or not self.venue_stops:
            if current is not None and not current.status.is_final:
                await self.executor.cancel(self.symbol, current.client_order_id)
                self.log.info("venue stop cancelled", stop=current.client_order_id)
            if current is not None:
                self.tracker.forget(current.client_order_id)
                self.stop_id = None
                await self.save_state()
            return
        trigger = self._stop_trigger(position)
        size = abs(position.size)
        if current is not None and (current.trigger_price, current.remaining_size) == (
            trigger,
            size,
        ):
            return
        if (mid <= trigger) if self.side == "buy" else (mid >= trigger):
            return  # already through it: the bot-side stop-loss closes what is due
        side = opposite(self.side)
        if current is None or current.status.is_final:
            placed = await self.executor.place_stop(self.symbol, side, size, trigger, purpose=STOP)
        else:
            placed = await self.executor.replace_stop(
                current.client_order_id, self.symbol, side, size, trigger, purpose=STOP
            )
            if placed is not None:
                self.tracker.forget(current.client_order_id)
        if placed is None:
            self.log.error("venue stop refused; retried next step", trigger=str(trigger))
            return
        self.stop_id = placed.client_order_id
        self.log.info("venue stop placed", trigger=str(trigger), size=str(size))
        await self.save_state()

    async def _protect(self, mid: Decimal) -> None:
        """Stop-loss and stuck-lot recovery, lot by lot."""
        now = self.context.clock.now()
        timeout = self.params.position_timeout_minutes
        for client_id, lot in list(self.lots.items()):
            loss_pct = -self.direction * (mid - lot.entry_price) / lot.entry_price * HUNDRED
            loss_on_margin = loss_pct * self.params.target_leverage
            limit = self.params.stop_loss_percentage
            if self.params.stop_loss_enabled and limit is not None and loss_on_margin >= limit:
                await self._close_lot(client_id, lot, f"stop-loss: {loss_on_margin:.2f}% on margin")
                continue
            if timeout is None or now - lot.opened_at < timedelta(minutes=timeout):
                continue
            mode = self.params.recovery_mode
            if mode == "aggressive":
                await self._close_lot(client_id, lot, f"stuck for over {timeout} min (aggressive)")
            elif mode == "hedge" and not lot.recovered:
                await self._break_even(client_id, lot)
            elif mode == "none" and client_id not in self._warned_stuck:
                self._warned_stuck.add(client_id)
                self.log.warning("grid lot stuck; recovery_mode is none", take_profit=client_id)

    async def _close_lot(self, client_id: str, lot: Lot, reason: str) -> None:
        take_profit = await self.executor.cancel(self.symbol, client_id)
        del self.lots[client_id]
        if take_profit.filled_size > 0:
            self._book(lot, take_profit)  # part of it had filled: that part is closed already
        left = take_profit.size - take_profit.filled_size
        if left > 0:
            result = await self.executor.execute(
                ExecutionRequest(
                    self.symbol,
                    opposite(self.side),
                    left,
                    ExecutionMode.MARKET,
                    reduce_only=True,
                    purpose=EXIT,
                )
            )
            for order in result.orders:
                if order.filled_size:
                    self._book(lot, order)
        self.log.warning("grid lot closed early", reason=reason, take_profit=client_id)
        await self.save_state()

    async def _break_even(self, client_id: str, lot: Lot) -> None:
        """Move a stuck lot's take-profit to entry plus round-trip fees."""
        take_profit = await self.executor.cancel(self.symbol, client_id)
        del self.lots[client_id]
        if take_profit.filled_size > 0:
            self._book(lot, take_profit)
        left = take_profit.size - take_profit.filled_size
        if left <= 0:
            await self.save_state()
            return
        fees = lot.entry_fee_per_unit * 2
        price = self._round_exit_price(lot.entry_price + self.direction * fees)
        await self._place_take_profit(
            left,
            lot.entry_price,
            lot.entry_fee_per_unit,
            lot.opened_at,
            price=price,
            recovered=True,
        )
        self.log.warning("stuck grid lot moved to break-even", take_profit=str(price))
        await self.save_state()

    async def _cover(self, position: Position | None) -> None:
        """Give a take-profit to any part of the position that has none (after a crash)."""
        market = self.market
        assert market is not None
        held = self.direction * position.size if position is not None else ZERO
        covered = sum((self.tracker.get(cid).order.remaining_size for cid in self.lots), ZERO)
        if self.entry_id is not None:
            covered += self.tracker.get(self.entry_id).order.filled_size
        uncovered = round_size(market, held - covered)
        if position is None or uncovered < max(market.min_size, market.step_size):
            return
        self.log.warning("position part without a take-profit; covering", size=str(uncovered))
        await self._place_take_profit(
            uncovered, position.entry_price, ZERO, self.context.clock.now()
        )

    async def _maybe_enter(
        self, bid: Decimal, ask: Decimal, mid: Decimal, position: Position | None
    ) -> None:
        market = self.market
        assert market is not None
        paused = self.context.paused.is_set() or self._beyond(self.params.pause_price, mid)
        if self.entry_id is not None:
            entry = self.tracker.get(self.entry_id).order
            wanted = self._entry_price(bid, ask)  # where it would go now, inside the touch
            drift = abs(wanted - (entry.price or wanted)) / wanted * HUNDRED
            if paused or drift > self.params.grid_step:
                await self.executor.cancel(self.symbol, self.entry_id)
            return
        if paused or len(self.lots) >= self.params.max_orders or not self._cooled_down():
            return
        price = self._entry_price(bid, ask)
        size = round_size(market, self.params.order_notional_usd / price)
        if size < max(market.min_size, market.step_size) or size * price < market.min_notional:
            self.log.warning("order_notional_usd is below the venue minimum", size=str(size))
            return
        margin = self._margin_in_use() + size * price / self.params.target_leverage
        if margin > self.params.max_margin_usd:
            return
        take_profit = self._take_profit_price(price)
        if not self._spaced(take_profit):
            return
        if not await self._risk_allows(size * price, position):
            return
        order = await self.executor.submit(
            self.symbol, self.side, size, price=price, post_only=True, purpose=ENTRY
        )
        self.last_entry_at = self.context.clock.now()
        if order is not None:
            self.entry_id = order.client_order_id
            self.log.info("grid entry placed", price=str(price), size=str(size))
        await self.save_state()

    async def _risk_allows(self, notional: Decimal, position: Position | None) -> bool:
        balance = await self.client.balance()
        exposure = position.notional if position is not None else ZERO
        decision = self.context.risk.evaluate_entry(
            EntryProposal(
                "grid", self.symbol, {self.venue: notional}, opens_position=position is None
            ),
            PortfolioSnapshot(
                equity=balance.equity,
                exposure_by_venue={self.venue: exposure},
                open_positions=0 if position is None else 1,
            ),
        )
        # A grid entry is one fixed-size order: a resize means "not now".
        return decision.allowed and decision.allowed_notional >= notional

    async def _stop_everything(self, reason: str) -> None:
        self.log.warning("grid stop price reached: closing everything", reason=reason)
        await self.cancel_resting()
        open_lots: list[tuple[Lot, Decimal]] = []
        for client_id, lot in self.lots.items():
            take_profit = self.tracker.get(client_id).order
            if take_profit.filled_size > 0:
                self._book(lot, take_profit)  # the part that took profit before the stop
            if take_profit.remaining_size > 0:
                open_lots.append((lot, take_profit.remaining_size))
        self.entry_id, self.lots = None, {}
        position = await self.client.position(self.symbol)
        if position is not None and position.size != 0:
            result = await self.executor.execute(ExecutionRequest.closing(position, EXIT))
            exit_price = result.average_price
            if exit_price is not None and result.filled_size > 0:
                fee_per_unit = sum((o.fee_paid for o in result.orders), ZERO) / result.filled_size
                covered = sum((size for _, size in open_lots), ZERO)
                if result.filled_size > covered:  # a part with no take-profit (a partial entry)
                    open_lots.append(
                        (
                            Lot("", position.entry_price, ZERO, self.context.clock.now()),
                            result.filled_size - covered,
                        )
                    )
                self._book_exit(open_lots, exit_price, fee_per_unit)
        await self._sync_stop(None, ZERO)  # flat now: the venue stop goes
        self.stopped, self.stop_reason = True, reason
        await self.save_state()
        self.context.stop_requested.set()

    async def cancel_resting(self) -> list[str]:
        """Every resting order but the venue stop, which stays to protect the position after
        the bot stops (it is the point of having it on the venue); with no position it goes."""
        stop_id = self.stop_id
        if stop_id is None or await self.client.position(self.symbol) is None:
            return await super().cancel_resting()
        cancelled = []
        for client_id, tracked in self.tracker.unfinished().items():
            resting = tracked.status.is_resting or tracked.status.value == "pending"
            if resting and client_id != stop_id:
                await self.executor.cancel(tracked.order.symbol, client_id)
                cancelled.append(client_id)
        self.log.info("venue stop left resting to protect the position", stop=stop_id)
        return cancelled

    async def close_position(self, venue: str, request: ExecutionRequest) -> ExecutionResult:
        """The operator closes the grid's position: its take-profits are cancelled (what they
        filled is booked), the close is booked against the open lots, which are forgotten."""
        if (venue, request.symbol) != (self.venue, self.symbol):
            return await super().close_position(venue, request)
        open_lots: list[tuple[Lot, Decimal]] = []
        for client_id, lot in self.lots.items():
            take_profit = self.tracker.get(client_id).order
            if not take_profit.status.is_final:
                take_profit = await self.executor.cancel(self.symbol, client_id)
            if take_profit.filled_size > 0:
                self._book(lot, take_profit)
            if take_profit.remaining_size > 0:
                open_lots.append((lot, take_profit.remaining_size))
            self.tracker.forget(client_id)
        self.lots = {}
        position = await self.client.position(self.symbol)
        result = await super().close_position(venue, request)
        if position is None or result.average_price is None:
            return result
        closed, left = [], result.filled_size
        for lot, size in open_lots:  # the oldest lots first, as far as the close went
            if left > 0:
                closed.append((lot, min(size, left)))
                left -= min(size, left)
        if left > 0:  # a part no take-profit covered (a partial entry, a crash)
            closed.append((Lot("", position.entry_price, ZERO, self.context.clock.now()), left))
        fee_per_unit = sum((o.fee_paid for o in result.orders), ZERO) / result.filled_size
        self._book_exit(closed, result.average_price, fee_per_unit, "the operator's close")
        if await self.client.position(self.symbol) is None:
            await self._sync_stop(None, ZERO)  # flat: the venue stop goes with the position
        return result

    # --- prices and gates ------------------------------------------------------------------

    def _take_profit_move(self) -> Decimal:
        """The price move (fraction) that earns ``take_profit`` % on margin."""
        return self.params.take_profit / self.params.target_leverage / HUNDRED

    def _take_profit_price(self, entry: Decimal) -> Decimal:
        return self._round_exit_price(entry * (1 + self.direction * self._take_profit_move()))

    def _round_exit_price(self, price: Decimal) -> Decimal:
        """Exit prices round away from the entry (never take less profit than asked)."""
        assert self.market is not None
        mode = ROUND_CEILING if self.side == "buy" else ROUND_FLOOR
        return round_to_step(price, self.market.tick_size, mode)

    def _entry_price(self, bid: Decimal, ask: Decimal) -> Decimal:
        """Post-only, ``post_only_tick_multiplier`` ticks inside the touch, never crossing."""
        assert self.market is not None
        tick = self.market.tick_size
        inside = tick * self.params.post_only_tick_multiplier
        if self.side == "buy":
            return max(bid, min(bid + inside, ask - tick))
        return min(ask, max(ask - inside, bid + tick))

    def _spaced(self, take_profit: Decimal) -> bool:
        """At least ``grid_step`` % from every resting take-profit."""
        for client_id in self.lots:
            other = self.tracker.get(client_id).order.price
            if other and abs(take_profit - other) / other * HUNDRED < self.params.grid_step:
                return False
        return True

    def _cooled_down(self) -> bool:
        if self.last_entry_at is None:
            return True
        density = Decimal(len(self.lots)) / Decimal(self.params.max_orders)
        wait = self.params.wait_time * (1 + density)
        return self.context.clock.now() - self.last_entry_at >= timedelta(seconds=float(wait))

    def _margin_in_use(self) -> Decimal:
        return (
            sum(
                (
                    self.tracker.get(cid).order.remaining_size * lot.entry_price
                    for cid, lot in self.lots.items()
                ),
                ZERO,
            )
            / self.params.target_leverage
        )

    def _beyond(self, level: Decimal | None, mid: Decimal, *, stop: bool = False) -> bool:
        """Whether ``mid`` is past a stop level (adverse side) or a pause level (favourable)."""
        if level is None:
            return False
        adverse = (mid <= level) if self.side == "buy" else (mid >= level)
        favourable = (mid >= level) if self.side == "buy" else (mid <= level)
        return adverse if stop else favourable

    async def _place_take_profit(
        self,
        size: Decimal,
        entry_price: Decimal,
        fee_per_unit: Decimal,
        opened_at: datetime,
        *,
        price: Decimal | None = None,
        recovered: bool = False,
    ) -> None:
        """A reduce-only take-profit for a lot (at ``take_profit`` unless ``price`` is given)."""
        price = price or self._take_profit_price(entry_price)
        order = await self.executor.submit(
            self.symbol,
            opposite(self.side),
            size,
            price=price,
            reduce_only=True,
            purpose=TAKE_PROFIT,
        )
        if order is None:
            self.log.error("take-profit refused; retried next step", size=str(size))
            return
        self.lots[order.client_order_id] = Lot(
            order.client_order_id, entry_price, fee_per_unit, opened_at, recovered
        )
        self.log.info("take-profit placed", price=str(price), size=str(size))

    def _venue_stop_price(self) -> Decimal | None:
        if self.stop_id is None:
            return None
        return self.tracker.get(self.stop_id).order.trigger_price

    def reload_problems(self, params: GridParams) -> list[str]:
        fixed = ("exchange", "ticker", "direction")
        return [
            f"strategy.params.{name} cannot change while the grid runs (restart the bot)"
            for name in fixed
            if getattr(params, name) != getattr(self.params, name)
        ]

    # --- state and status ------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        return {
            "entry_id": self.entry_id,
            "stop_id": self.stop_id,
            "lots": [lot.to_json() for lot in self.lots.values()],
            "last_entry_at": self.last_entry_at.isoformat() if self.last_entry_at else None,
            "stopped": self.stopped,
            "stop_reason": self.stop_reason,
            "realized_pnl": self.realized_pnl,
            "fees": self.fees,
            "trades": self.trades,
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        self.entry_id = state.get("entry_id")
        self.stop_id = state.get("stop_id")
        self.lots = {
            lot.take_profit_id: lot for lot in (Lot.from_json(d) for d in state.get("lots", []))
        }
        last = state.get("last_entry_at")
        self.last_entry_at = datetime.fromisoformat(last) if last else None
        self.stopped = bool(state.get("stopped", False))
        self.stop_reason = state.get("stop_reason")
        self.realized_pnl = Decimal(state.get("realized_pnl", 0))
        self.fees = Decimal(state.get("fees", 0))
        self.trades = int(state.get("trades", 0))

    def describe(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "symbol": self.symbol,
            "direction": self.side,
            "take_profits": len(self.lots),
            "entry_resting": self.entry_id is not None,
            "venue_stop": self._venue_stop_price(),
            "realized_pnl": self.realized_pnl,
            "fees": self.fees,
            "trades": self.trades,
            "stopped": self.stopped,
            "stop_reason": self.stop_reason,
        }
