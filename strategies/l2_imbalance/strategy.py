"""The order-book imbalance scalper, with its hard limits and the kill switch they trip.

Each step (when a ticker's book moves, where the venue client signals it - the paper venue -
and at the latest every :attr:`L2ImbalanceStrategy.interval_seconds`):

1. **Equity watch**: the venue's equity against ``daily_loss_limit_usd`` (loss since the UTC
   day's start) and ``max_drawdown_usd`` (fall from the peak). Reaching either trips the kill
   switch: every resting order cancelled, every position on the venue closed at market
   (reduce-only), the risk manager's kill switch engaged (the pre-trade gate then refuses every
   new exposure, a restart stays killed, ``fleet reset-kill`` clears it) and the bot stopped.
2. Per ticker, the book (``depth_levels`` levels) is read and shown to the freshness guard.
3. **Exits** of an open position, whichever first: the mid ``take_profit_pct`` in favour,
   ``stop_loss_pct`` against, or the position older than ``time_stop_seconds`` - closed at
   market, reduce-only. Exits never wait for a fresh book. A position the venue no longer
   holds (its stop fired, or closed by hand) is booked and forgotten.
   **Venue-side stop**: where the venue has trigger orders (``supports_trigger_orders``) an
   open position also rests one reduce-only STOP_MARKET at the stop-loss price (on the tick grid
   away from the entry: a backstop that never fires before the bot's own stop), placed when the
   entry fills and moved (new first, then old cancelled) if the size changes - it protects the
   position while this process is dead. The take-profit and the time stop stay in the bot.
4. **Entry**, when the ticker holds no position and no entry is working: the imbalance signal
   (:mod:`.signal`); the freshness guard (:class:`~core.errors.DataStale`); the per-trade
   notional cap at the prices the book would fill it at; the instrument's exposure cap as a
   share of equity; then the bot's risk manager. At market, or with ``maker_entry`` post-only
   at the touch, cancelled after ``maker_entry_timeout_seconds``.

Every order goes through the venue's :class:`~execution.order_executor.OrderExecutor`: a client
order id journaled before it is sent, the pre-trade gate on the way.

On a stop (not the kill switch) the maker entries are cancelled but each open position keeps
its venue stop: the position outlives the process, so does its protection; a restart adopts the
stop, the state's trades and any position it does not know of (exits apply, nothing is added).

A refused entry or a tripped limit is kept as its error (:attr:`breaches`, newest last; the
type says which limit) and logged when the kind of refusal changes (a stale book refuses every
step, 4 times a second: one line, not a flood).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from core.errors import (
    DailyLossLimitBreached,
    DrawdownLimitBreached,
    ExchangeError,
    RiskLimitBreached,
    TimeStopReached,
)
from exchange_clients.rounding import round_size, round_to_step
from exchange_clients.types import BookSnapshot, Market, Order, Position, Side, opposite
from execution.journal import JournaledOrder
from execution.order_executor import ExecutionMode, ExecutionRequest, ExecutionResult
from strategies.base_strategy import BaseStrategy, StrategyContext
from strategies.l2_imbalance.exits import ExitRules, ExitSignal, due_exit
from strategies.l2_imbalance.freshness import BookFreshness
from strategies.l2_imbalance.limits import (
    HUNDRED,
    EquityWatch,
    check_instrument_exposure,
    check_trade_notional,
)
from strategies.l2_imbalance.params import L2ImbalanceParams
from strategies.l2_imbalance.signal import entry_side, imbalance
from strategies.risk import EntryProposal, PortfolioSnapshot

ZERO = Decimal(0)
ENTRY, EXIT, STOP, KILL = "l2_entry", "l2_exit", "l2_stop", "l2_kill"
MAX_BREACHES = 50  # the newest refusals kept for describe() and tests


@dataclass
class Trade:
    """One open position of one ticker, as the strategy entered it."""

    symbol: str
    side: Side
    size: Decimal
    entry_price: Decimal
    entry_fee: Decimal
    opened_at: datetime
    stop_id: str | None = None

    def key(self) -> tuple[Any, ...]:
        """Equal exactly when :meth:`to_json` is (the time's offset stands in for its ISO
        form), at a fraction of its cost: what the step compares to decide on a save."""
        opened = self.opened_at
        return (
            self.symbol,
            self.side,
            self.size,
            self.entry_price,
            self.entry_fee,
            opened,
            opened.utcoffset(),
            self.stop_id,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "side": self.side,
            "size": self.size,
            "entry_price": self.entry_price,
            "entry_fee": self.entry_fee,
            "opened_at": self.opened_at.isoformat(),
            "stop_id": self.stop_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Trade:
        side: Side = "buy" if data["side"] == "buy" else "sell"
        return cls(
            str(data["symbol"]),
            side,
            Decimal(str(data["size"])),
            Decimal(str(data["entry_price"])),
            Decimal(str(data["entry_fee"])),
            datetime.fromisoformat(str(data["opened_at"])),
            data.get("stop_id"),
        )


@dataclass
class MakerEntry:
    """A post-only entry resting at the touch."""

    client_id: str
    side: Side
    placed_at: datetime


class L2ImbalanceStrategy(BaseStrategy[L2ImbalanceParams]):
    interval_seconds = 0.25

    def __init__(self, context: StrategyContext, params: L2ImbalanceParams) -> None:
        super().__init__(context, params)
        self.venue = params.exchange
        self.tickers = tuple(params.tickers)
        self.client = context.clients[self.venue]
        self.executor = context.executors[self.venue]
        self.tracker = context.trackers[self.venue]
        self.markets: dict[str, Market] = {}
        self.rules = ExitRules(
            take_profit_pct=params.take_profit_pct,
            stop_loss_pct=params.stop_loss_pct,
            time_stop=timedelta(seconds=float(params.time_stop_seconds)),
        )
        self.freshness = BookFreshness(
            max_age=timedelta(seconds=float(params.max_book_age_seconds)),
            quiet=timedelta(seconds=float(params.resync_quiet_seconds)),
        )
        self.watch = EquityWatch(params.daily_loss_limit_usd, params.max_drawdown_usd)
        self.maker_timeout = timedelta(seconds=float(params.maker_entry_timeout_seconds))
        self.trades: dict[str, Trade] = {}
        self.entries: dict[str, MakerEntry] = {}
        self.breaches: list[RiskLimitBreached] = []
        self.realized_pnl = ZERO
        self.closed_trades = 0
        self.stopped = False
        self.stop_reason: str | None = None
        self._reconnects = self.client.reconnects()
        self._saved: tuple[Any, ...] | None = None  # the state last saved, as _state_key
        self._book_changes = self.client.book_changes()
        self._book_version: int | None = None  # of the books the last step read
        self._interval: asyncio.Future[None] | None = None  # see wait_next_step

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        await super().start()
        for symbol in self.tickers:
            self.markets[symbol] = await self.client.market(symbol)
        await self._adopt()
        if self.client.supports_trigger_orders:
            self.log.info("stop-loss also rests on the venue as a reduce-only STOP_MARKET")
        else:
            self.log.warning(
                "stop-loss lives in the bot only: the venue has no trigger orders, so a "
                "position is unprotected while this process is down",
                venue=self.venue,
            )
        if self.context.risk.killed:
            self.log.warning("the kill switch is engaged: exits only, no entries")

    async def _adopt(self) -> None:
        """After a restart: re-track each trade's venue stop (cancel any other), and take on a
        position the state does not know (a crash between the fill and the save) so its
        exits, the time stop included, still apply."""
        stops = {t.stop_id for t in self.trades.values() if t.stop_id is not None}
        for journaled in await self.context.journal.unfinished():
            if not self.keeps_resting(journaled):
                continue
            try:
                order = await self.client.order_status(
                    journaled.symbol, client_order_id=journaled.client_order_id
                )
            except ExchangeError as exc:
                self.log.warning(
                    "could not adopt a stop",
                    order=journaled.client_order_id,
                    error=str(exc),
                )
                continue
            self.tracker.track(order)
            await self.tracker.apply_order(order)
            if order.client_order_id not in stops and order.status.is_resting:
                self.log.warning("stray venue stop cancelled", order=order.client_order_id)
                await self.executor.cancel(order.symbol, order.client_order_id)
        for symbol in self.tickers:
            position = await self.client.position(symbol)
            if position is not None and position.size != 0 and symbol not in self.trades:
                await self._adopt_position(position, self.context.clock.now())

    async def _adopt_position(self, position: Position, now: datetime) -> None:
        """Manage a position the strategy did not open (or lost track of): its exits apply,
        the time stop counted from now; nothing is ever added to it."""
        self.log.warning(
            "position adopted: exits apply from now",
            symbol=position.symbol,
            size=str(position.size),
        )
        await self._opened(
            Trade(
                position.symbol,
                position.side,
                abs(position.size),
                position.entry_price,
                ZERO,
                now,
            )
        )

    def keeps_resting(self, order: JournaledOrder) -> bool:
        """Venue stops survive a restart (they protect the position meanwhile); a maker entry
        does not (the signal that placed it is long gone)."""
        return order.venue == self.venue and order.symbol in self.tickers and order.purpose == STOP

    async def cleanup(self, *, cancel_orders: bool) -> list[str]:
        """On a stop: cancel the maker entries, but leave each open position's venue stop
        resting - the position outlives this process, so must its protection (the next start
        adopts it). The kill switch, which flattens, cancels everything."""
        self._reconnects.close()
        if self._interval is not None:
            self._interval.cancel()
        cancelled = []
        if cancel_orders:
            for symbol, entry in list(self.entries.items()):
                await self.executor.cancel(symbol, entry.client_id)
                cancelled.append(entry.client_id)
            kept = sorted(t.stop_id for t in self.trades.values() if t.stop_id is not None)
            if kept:
                self.log.info("venue stops left resting for the open positions", stops=kept)
        await self.save_state()
        return cancelled

    async def should_execute(self) -> bool:
        return not self.stopped

    # --- the step --------------------------------------------------------------------------

    async def wait_next_step(self, sleep: Callable[[float], Awaitable[None]]) -> None:
        """Step again as soon as a ticker's book moves, where the venue client counts book
        changes (the paper venue, whatever feeds it); at the latest after
        :attr:`interval_seconds`, which the exits and the time stop need without any update.
        Elsewhere: every :attr:`interval_seconds`.

        The interval's ``sleep`` runs as one task that outlives the waits it bounds: started
        by the first wait after the previous one ended, it ends whichever wait is pending when
        it does, so a wait still lasts at most the interval (the timer started no later than
        the wait). A book move wakes the waiting task directly. A sleep task per wait cost
        the tick-to-order path its creation and first step (the runtime's sleep is a
        ``wait_for``: two tasks and a timer) on every book move, ~20-30 us."""
        changes, seen = self._book_changes, self._book_version
        if changes is None or seen is None:
            await sleep(self.interval_seconds)
            return
        moved = changes.next_change(self.tickers, seen)
        if moved.done():
            await asyncio.sleep(0)  # moved during the step: go again, after the others ran
            return
        timer = self._interval
        if timer is not None and timer.done():  # it ended during the step: a step ran since
            timer.result()  # a failed sleep raises here
            timer = None
        if timer is None:
            timer = self._interval = asyncio.ensure_future(sleep(self.interval_seconds))
        end = functools.partial(_end_wait, moved)
        timer.add_done_callback(end)
        try:
            await moved
        finally:
            timer.remove_done_callback(end)
            moved.cancel()
            if timer.done():  # it ended this wait (or came with the move): the next starts anew
                self._interval = None
                if not timer.cancelled():
                    timer.exception()  # raised by this wait when it ended it

    async def execute_strategy(self) -> None:
        now = self.context.clock.now()
        if self._book_changes is not None:  # before the books are read: a later move counts
            self._book_version = self._book_changes.version(self.tickers)
        while self._reconnects.pending():
            # Stamped when learnt, on the strategy's clock (the event carries the wall time).
            await self._reconnects.__anext__()
            self.freshness.reconnected(now)
        equity = (await self.client.balance()).equity
        try:
            self.watch.check(equity, now)
        except (DailyLossLimitBreached, DrawdownLimitBreached) as breach:
            await self.kill(breach, equity)
            return
        for symbol in self.tickers:
            await self._step_symbol(symbol, equity, now)
        if self._state_key() != self._saved:  # a write per change, not one per 0.25 s step
            await self.save_state()

    async def _step_symbol(self, symbol: str, equity: Decimal, now: datetime) -> None:
        book = await self.client.order_book(symbol, depth=self.params.depth_levels)
        self.freshness.observe(book, now)
        if symbol in self.entries:
            await self._settle_entry(symbol, now)
        trade = self.trades.get(symbol)
        if trade is not None:
            await self._manage(trade, book, now)
        elif symbol not in self.entries:
            await self._maybe_enter(symbol, book, equity, now)

    # --- entries ---------------------------------------------------------------------------

    async def _maybe_enter(
        self, symbol: str, book: BookSnapshot, equity: Decimal, now: datetime
    ) -> None:
        if self.context.risk.killed or self.context.paused.is_set():
            return
        side = entry_side(
            imbalance(book, self.params.depth_levels),
            self.params.buy_ratio,
            self.params.sell_ratio,
        )
        if side is None:
            return
        market = self.markets[symbol]
        try:
            self.freshness.check(book, now)
            sized = self._size(market, side, book)
            if sized is None:
                return
            size, notional = sized
            check_trade_notional(symbol, notional, self.params.max_trade_notional_usd)
            check_instrument_exposure(
                symbol, notional, equity, self.params.max_instrument_exposure_pct
            )
        except RiskLimitBreached as refused:
            self._record(refused)
            return
        open_positions = [p for p in await self.client.positions() if p.size != 0]
        held = next((p for p in open_positions if p.symbol == symbol), None)
        if held is not None:  # one position per instrument: never add to one
            await self._adopt_position(held, now)
            return
        decision = self.context.risk.evaluate_entry(
            EntryProposal(self.name, symbol, {self.venue: notional}),
            PortfolioSnapshot(
                equity=equity,
                exposure_by_venue={self.venue: sum((p.notional for p in open_positions), ZERO)},
                open_positions=len(open_positions),
            ),
        )
        if not decision.allowed:
            return
        if decision.allowed_notional < notional:
            size = round_size(market, size * decision.allowed_notional / notional)
            if size < market.min_size:
                return
        if self.params.maker_entry:
            await self._enter_maker(symbol, side, size, book, now)
        else:
            await self._enter_market(symbol, side, size, now)

    def _size(
        self, market: Market, side: Side, book: BookSnapshot
    ) -> tuple[Decimal, Decimal] | None:
        """The entry's size and its notional at the prices it would fill at (the touch for a
        maker entry, the book walked for a market one); None when it cannot be sized."""
        best_bid, best_ask = book.best_bid, book.best_ask
        if best_bid is None or best_ask is None:
            return None
        size = round_size(market, self.params.order_notional_usd / ((best_bid + best_ask) / 2))
        if size < market.min_size:
            self.log.info("entry below the market's minimum size", symbol=market.symbol)
            return None
        if self.params.maker_entry:
            return size, size * (best_bid if side == "buy" else best_ask)
        left, notional = size, ZERO
        for price, available in book.asks if side == "buy" else book.bids:
            taken = min(left, available)
            notional += taken * price
            left -= taken
            if left <= 0:
                return size, notional
        self.log.info(
            "book too thin: the entry would walk past the levels read",
            symbol=market.symbol,
            levels=self.params.depth_levels,
        )
        return None

    async def _enter_market(self, symbol: str, side: Side, size: Decimal, now: datetime) -> None:
        result = await self.executor.execute(
            ExecutionRequest(symbol, side, size, ExecutionMode.MARKET, purpose=ENTRY)
        )
        price = result.average_price
        if price is None or result.filled_size <= 0:
            self.log.warning("market entry did not fill", symbol=symbol, side=side)
            return
        fee = sum((o.fee_paid for o in result.orders), ZERO)
        await self._opened(Trade(symbol, side, result.filled_size, price, fee, now))

    async def _enter_maker(
        self, symbol: str, side: Side, size: Decimal, book: BookSnapshot, now: datetime
    ) -> None:
        price = book.best_bid if side == "buy" else book.best_ask
        assert price is not None
        order = await self.executor.submit(
            symbol, side, size, price=price, post_only=True, purpose=ENTRY
        )
        if order is None:
            self.log.info("maker entry refused (it would have crossed)", symbol=symbol)
            return
        self.entries[symbol] = MakerEntry(order.client_order_id, side, now)
        self.log.info("maker entry resting", symbol=symbol, side=side, price=str(price))

    async def _settle_entry(self, symbol: str, now: datetime) -> None:
        """A maker entry that finished opens the trade with what filled; one resting past
        ``maker_entry_timeout_seconds`` is cancelled first (a partial fill still opens)."""
        entry = self.entries[symbol]
        order = self.tracker.get(entry.client_id).order
        if not order.status.is_final:
            if now - entry.placed_at < self.maker_timeout:
                return
            order = await self.executor.cancel(symbol, entry.client_id)
            if not order.status.is_final:
                return  # the cancel's outcome arrives on the stream; settled next step
        del self.entries[symbol]
        self.tracker.forget(entry.client_id)
        if order.filled_size > 0 and order.avg_fill_price is not None:
            await self._opened(
                Trade(
                    symbol,
                    entry.side,
                    order.filled_size,
                    order.avg_fill_price,
                    order.fee_paid,
                    now,
                )
            )

    async def _opened(self, trade: Trade) -> None:
        self.trades[trade.symbol] = trade
        self.log.info(
            "position opened",
            symbol=trade.symbol,
            side=trade.side,
            size=str(trade.size),
            price=str(trade.entry_price),
        )
        await self._sync_stop(trade)

    # --- open positions --------------------------------------------------------------------

    async def _manage(self, trade: Trade, book: BookSnapshot, now: datetime) -> None:
        position = await self.client.position(trade.symbol)
        held = ZERO if position is None else position.size
        if held == 0 or (held > 0) != (trade.side == "buy"):
            self._closed_elsewhere(trade)
            return
        if abs(held) != trade.size:
            trade.size = abs(held)
        exit_signal = due_exit(
            self.rules,
            trade.side,
            trade.entry_price,
            trade.opened_at,
            _mid(book, position),
            now,
        )
        if exit_signal is not None:
            await self._exit(trade, exit_signal)
        else:
            await self._sync_stop(trade)

    async def _exit(self, trade: Trade, signal: ExitSignal) -> None:
        if signal.kind == "time_stop":
            self._record(TimeStopReached(f"{trade.symbol}: {signal.reason}"))
        self.log.info("exit", symbol=trade.symbol, kind=signal.kind, reason=signal.reason)
        result = await self._close(
            trade,
            ExecutionRequest(
                trade.symbol,
                opposite(trade.side),
                trade.size,
                ExecutionMode.MARKET,
                reduce_only=True,
                purpose=EXIT,
            ),
        )
        if result.flat or result.complete:
            await self._drop(trade)

    async def _close(self, trade: Trade, request: ExecutionRequest) -> ExecutionResult:
        """Send a closing order for ``trade`` and book what it filled."""
        result = await self.executor.execute(request)
        price = result.average_price
        if price is not None and result.filled_size > 0:
            fee = sum((o.fee_paid for o in result.orders), ZERO)
            self._book(trade, min(result.filled_size, trade.size), price, fee)
        return result

    def _book(self, trade: Trade, size: Decimal, price: Decimal, exit_fee: Decimal) -> None:
        """Book the realised PnL (after fees) of ``size`` of ``trade`` closed at ``price``."""
        direction = 1 if trade.side == "buy" else -1
        entry_fee = trade.entry_fee * size / trade.size if trade.size else ZERO
        pnl = (price - trade.entry_price) * size * direction - entry_fee - exit_fee
        self.realized_pnl += pnl
        self.closed_trades += 1
        self.context.risk.record_trade(pnl)
        trade.entry_fee -= entry_fee
        trade.size -= size
        self.log.info(
            "trade closed",
            symbol=trade.symbol,
            size=str(size),
            price=str(price),
            pnl=str(pnl),
        )

    def _closed_elsewhere(self, trade: Trade) -> None:
        """The venue holds no position any more: its stop fired (booked from the stop's
        fills), or it was closed outside the strategy."""
        stop = self._stop_order(trade)
        if stop is not None and stop.filled_size > 0 and stop.avg_fill_price is not None:
            self._book(
                trade,
                min(stop.filled_size, trade.size),
                stop.avg_fill_price,
                stop.fee_paid,
            )
            self.log.warning("venue stop fired", symbol=trade.symbol)
        else:
            self.log.warning("position closed outside the strategy", symbol=trade.symbol)
        if trade.stop_id is not None:
            self.tracker.forget(trade.stop_id)
        del self.trades[trade.symbol]

    async def _drop(self, trade: Trade) -> None:
        """The trade is closed: cancel its venue stop and forget it."""
        await self._cancel_stop(trade)
        self.trades.pop(trade.symbol, None)

    # --- the venue-side stop ---------------------------------------------------------------

    def _stop_order(self, trade: Trade) -> Order | None:
        if trade.stop_id is None or not self.tracker.is_tracked(trade.stop_id):
            return None
        return self.tracker.get(trade.stop_id).order

    def stop_trigger(self, trade: Trade) -> Decimal:
        """``stop_loss_pct`` from the entry, on the tick grid away from the entry: the backstop
        for a dead process fires at or just past the bot's own stop-loss, never before it."""
        market = self.markets[trade.symbol]
        move = trade.entry_price * self.params.stop_loss_pct / HUNDRED
        if trade.side == "buy":
            return round_to_step(trade.entry_price - move, market.tick_size, ROUND_FLOOR)
        return round_to_step(trade.entry_price + move, market.tick_size, ROUND_CEILING)

    async def _sync_stop(self, trade: Trade) -> None:
        """Keep one resting venue stop for the trade's whole size (where the venue can)."""
        if not self.client.supports_trigger_orders or trade.size <= 0:
            return
        current = self._stop_order(trade)
        if current is not None and current.status.is_resting and current.size == trade.size:
            return
        side = opposite(trade.side)
        trigger = self.stop_trigger(trade)
        if current is not None and current.status.is_resting:
            placed = await self.executor.replace_stop(
                current.client_order_id,
                trade.symbol,
                side,
                trade.size,
                trigger,
                purpose=STOP,
            )
        else:
            placed = await self.executor.place_stop(
                trade.symbol, side, trade.size, trigger, purpose=STOP
            )
        if placed is None:
            # Typically the mark is already through it: the bot-side stop-loss closes now.
            self.log.warning("venue stop refused; the bot-side stop acts", trigger=str(trigger))
            return
        trade.stop_id = placed.client_order_id
        self.log.info(
            "venue stop placed",
            symbol=trade.symbol,
            trigger=str(trigger),
            size=str(trade.size),
        )

    async def _cancel_stop(self, trade: Trade) -> None:
        stop = self._stop_order(trade)
        if stop is not None and not stop.status.is_final:
            await self.executor.cancel(trade.symbol, stop.client_order_id)
        if trade.stop_id is not None:
            self.tracker.forget(trade.stop_id)
        trade.stop_id = None

    # --- the kill switch -------------------------------------------------------------------

    async def kill(self, breach: RiskLimitBreached, equity: Decimal) -> None:
        """Cancel every resting order, close every position on the venue, engage the risk
        manager's kill switch and stop the bot. Each failure is logged and the rest still
        tried; the stop is asked whatever happened."""
        self._record(breach)
        reason = f"{type(breach).__name__}: {breach}"
        self.log.critical("KILL SWITCH", reason=reason)
        self._engage_risk_kill(reason, equity)
        try:
            try:
                await self.cancel_resting()
            except Exception as exc:
                self.log.error("kill switch: cancelling failed", error=str(exc))
            for position in [p for p in await self.client.positions() if p.size != 0]:
                try:
                    await self.close_position(self.venue, ExecutionRequest.closing(position, KILL))
                except Exception as exc:
                    self.log.error(
                        "kill switch: close failed; the position stays open",
                        symbol=position.symbol,
                        error=str(exc),
                    )
        finally:
            self.entries.clear()
            self.stopped = True
            self.stop_reason = reason
            self.context.stop_requested.set()
            await self.save_state()

    def _engage_risk_kill(self, reason: str, equity: Decimal) -> None:
        """Engage the bot's kill switch in its risk manager: the pre-trade gate refuses every
        new exposure from now, the state saved with it keeps a restarted bot killed, and the
        operator's reset (control API, ``fleet reset-kill``) clears it as any other."""
        peak = self.watch.peak if self.watch.peak is not None else equity
        self.context.risk.trip(reason, equity, peak)

    async def close_position(self, venue: str, request: ExecutionRequest) -> ExecutionResult:
        """A close from outside (control API, kill switch): booked against the trade."""
        trade = self.trades.get(request.symbol) if venue == self.venue else None
        if trade is None:
            return await self.context.executors[venue].execute(request)
        result = await self._close(trade, request)
        if result.flat or result.complete:
            await self._drop(trade)
        return result

    # --- state -----------------------------------------------------------------------------

    def _record(self, breach: RiskLimitBreached) -> None:
        repeated = bool(self.breaches) and type(self.breaches[-1]) is type(breach)
        self.breaches = [*self.breaches[-(MAX_BREACHES - 1) :], breach]
        if not repeated:
            self.log.warning("limit", limit=type(breach).__name__, reason=str(breach))

    async def save_state(self) -> None:
        saving = self._state_key()  # what the save writes: a change during it is saved next
        await super().save_state()
        self._saved = saving

    def _state_key(self) -> tuple[Any, ...]:
        """:meth:`state` as a value equal exactly when it is, without building it: the step
        compares it with the last save's on every step (4 a second), and it rarely changes."""
        watch = self.watch
        return (
            {symbol: trade.key() for symbol, trade in self.trades.items()},
            watch.peak,
            watch.day,
            watch.day_start,
            self.realized_pnl,
            self.closed_trades,
        )

    def state(self) -> dict[str, Any]:
        return {
            "trades": {symbol: trade.to_json() for symbol, trade in self.trades.items()},
            "watch": self.watch.state(),
            "realized_pnl": self.realized_pnl,
            "closed_trades": self.closed_trades,
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        self.trades = {
            symbol: Trade.from_json(data)
            for symbol, data in (state.get("trades") or {}).items()
            if symbol in self.tickers
        }
        self.watch.restore(state.get("watch") or {})
        self.realized_pnl = Decimal(str(state.get("realized_pnl", 0)))
        self.closed_trades = int(state.get("closed_trades", 0))

    def describe(self) -> dict[str, Any]:
        return {
            "positions": {
                symbol: f"{trade.side} {trade.size} @ {trade.entry_price}"
                for symbol, trade in self.trades.items()
            },
            "maker_entries": sorted(self.entries),
            "realized_pnl": self.realized_pnl,
            "closed_trades": self.closed_trades,
            "last_limit": (
                f"{type(self.breaches[-1]).__name__}: {self.breaches[-1]}"
                if self.breaches
                else None
            ),
            "stopped": self.stop_reason,
        }


def _mid(book: BookSnapshot, position: Position | None) -> Decimal | None:
    """The book's mid; the position's mark when a side of the book is empty."""
    bid, ask = book.best_bid, book.best_ask  # properties: each read once
    if bid is not None and ask is not None:
        return (bid + ask) / 2
    return position.mark_price if position is not None else None


def _end_wait(moved: asyncio.Future[None], timer: asyncio.Future[None]) -> None:
    """The interval is over (or its sleep failed): the wait for a book move ends with it."""
    if moved.done() or timer.cancelled():
        return
    error = timer.exception()
    if error is not None:
        moved.set_exception(error)
    else:
        moved.set_result(None)
