"""The paper venue's matching engine and account: pure, synchronous, in memory.

No asyncio, no database, no clock of its own (``now`` is injected): the client feeds it market
data and requests and persists what :meth:`PaperEngine.drain` returns, and the same engine runs
under the benchmark and the property tests.

Matching rules
--------------
* **Market orders and IOC limits** walk the book best price first (an IOC limit stops at its
  price). What the book cannot fill is cancelled: the order ends ``FILLED``, ``CANCELLED``
  with ``filled_size > 0``, or ``EXPIRED`` when nothing filled. One :class:`Fill` per price
  level taken, with the taker fee (notional x taker rate). Liquidity we take stays gone from
  the paper's book until the feed reports that level again (:mod:`.book`), so back-to-back
  market orders slip further, as they would on the venue.
* **GTC limits** that cross take what is at or better than their price, then rest the
  remainder. **Post-only** orders that would cross (buy price >= best ask, sell <= best bid)
  are rejected with :class:`PostOnlyWouldCross`; nothing is created.
* **Resting limits** are filled as maker, at their own price, with the maker fee, when trades
  reach them through the queue ahead of them or the book moves through their price: the
  queue model is in :mod:`.resting`.
* **Reduce-only** orders are rejected (:class:`ReduceOnlyRejected`) when the position is flat
  or on the order's side, and sized down to the position; resting ones are sized down again,
  or cancelled, whenever the position shrinks or flips.
* **STOP_MARKET** orders (always reduce-only) rest without a price until the mark crosses
  their trigger (a sell stop fires when the mark falls to or below it, a buy stop when it
  rises to or above it); then they execute as a market order walking the book, as taker, and
  end like one. One that would fire at once is refused (:class:`InvalidOrder`, as Binance's
  "order would immediately trigger"). Like resting reduce-only limits they are sized down or
  cancelled when the position shrinks, closes or flips. Triggers are checked after every book
  change, before liquidation, so a stop gets its chance first.
* A client order id is never reused, finished orders included (:class:`DuplicateClientOrderId`),
  and ids starting with ``liq-`` are reserved for forced liquidations.
* Rejected orders (invalid, duplicate, post-only, margin, reduce-only) do not exist afterwards.

Events
------
Each request or feed event records one order update per order it changed, with the order's
state after that step (a market order walking three levels is one update, ``FILLED``), and
one fill per price level or resting fill. :meth:`PaperEngine.drain` hands them over, oldest
first, together with what the store must write.

Account rules (cross margin, USD; formulas in :mod:`.margin`)
-------------------------------------------------------------
* Positions keep ``entry_notional`` (|size| x entry price) rather than the entry price, so
  increases are exact sums and ``wallet + unrealised PnL`` changes by exactly
  ``fill PnL at mark - fees + funding``; a flip closes the position and opens the rest at the
  fill price. Realised PnL goes to the wallet; accrued funding restarts with each new position.
* The mark is the mid of the feed's book (without our own takes); while the book has no mid,
  the feed's mark (from its funding messages), else the last mid seen.
* An order that adds exposure needs ``available >= its initial margin + taker fee`` on the
  notional that opens exposure, else :class:`InsufficientMargin`; resting orders reserve that
  initial margin (:func:`.margin.opening_orders_margin`).
* Funding is settled at each funding time of the profile: ``amount = -size x mark x rate``
  (longs pay when the rate is positive), added to the wallet and the position's accrued funding.
* When a feed book update or a funding settlement leaves equity below the maintenance
  requirement, the account is liquidated: every resting order is cancelled and every position
  is closed by a reduce-only market order (``liq-<n>``) through the book, paying the taker fee.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from core.errors import (
    DuplicateClientOrderId,
    InsufficientMargin,
    InvalidOrder,
    OrderNotFound,
    PostOnlyWouldCross,
    ReduceOnlyRejected,
    UnknownSymbol,
    VenueUnavailable,
)
from core.logging_setup import get_logger
from exchange_clients.order_book import Level
from exchange_clients.paper.account import account_totals, open_positions
from exchange_clients.paper.book import BookTop
from exchange_clients.paper.changes import EngineChanges, FillEvent, OrderEvent
from exchange_clients.paper.margin import opening_orders_margin
from exchange_clients.paper.profiles import PaperProfile
from exchange_clients.paper.resting import cap_queues, fill_crossed, fill_from_trade
from exchange_clients.paper.state import (
    AccountRecord,
    AccountSnapshot,
    FundingPayment,
    OrderState,
    PositionRecord,
)
from exchange_clients.paper.symbol_state import SymbolState
from exchange_clients.rounding import check_order_size, on_grid, round_size
from exchange_clients.types import (
    Balance,
    BookSnapshot,
    FundingRate,
    Market,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TimeInForce,
)

log = get_logger(__name__)

_ZERO = Decimal(0)
LIQUIDATION_PREFIX = "liq-"
_OPEN = OrderStatus.OPEN
_PARTIALLY_FILLED = OrderStatus.PARTIALLY_FILLED
_FILLED = OrderStatus.FILLED
_CANCELLED = OrderStatus.CANCELLED
_RESTING = frozenset({OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED})
_MARKET = OrderType.MARKET
_STOP = OrderType.STOP_MARKET
_IOC = TimeInForce.IOC


class PaperEngine:
    """Orders, positions and collateral of one paper account, matched against feed books."""

    def __init__(
        self,
        *,
        venue: str,
        account: str,
        profile: PaperProfile,
        markets: Mapping[str, Market],
        wallet: Decimal,
        now: Callable[[], datetime],
    ) -> None:
        self.venue = venue
        self.account = account
        self.profile = profile
        self.wallet = wallet
        self.never_fill: frozenset[str] | set[str] = frozenset()
        """Symbols whose orders never fill (fault injection: "a leg that never fills")."""
        self._maker_fee = profile.maker_fee
        self._taker_fee = profile.taker_fee
        self._now = now
        self._symbols = {
            symbol: SymbolState(market, profile.leverage_for(market))
            for symbol, market in markets.items()
        }
        self._next_seq = 1
        self._orders: dict[str, OrderState] = {}
        self._by_client_id: dict[str, OrderState] = {}
        self._client_ids: set[str] = set()
        self._funding_settled_until = profile.last_funding_time(now())
        self._order_log: list[OrderEvent] = []
        self._fill_log: list[FillEvent] = []
        self._dirty_orders: dict[int, OrderState] = {}
        self._dirty_positions: set[str] = set()
        self._funding_log: list[FundingPayment] = []
        self._account_dirty = False
        # The symbols holding a position, in market order (None: to be worked out again, after
        # a fill). Every book change checks liquidation; a scan of every market each time was
        # a measurable part of a many-symbol backtest.
        self._held: list[SymbolState] | None = None
        # The symbols with a position, a resting order or a stop (None: to be worked out again
        # after a fill or an order resting or leaving): what a venue reading its market data on
        # demand must keep up to date (:meth:`active_symbols`).
        self._active: frozenset[str] | None = None
        self._next_funding: tuple[datetime, datetime] | None = None
        # The last balance and positions read, with the wallet they were read at; forgotten by
        # every method that can change the account (:meth:`_forget_reads`). A runtime and its
        # strategy read both several times between two market events (equity for the kill
        # switch, then for the step; the position to manage): they are the same values, and
        # rebuilding the positions (liquidation prices) was a tenth of an L2 backtest.
        self._balance_read: tuple[Decimal, Balance] | None = None
        self._positions_read: tuple[Decimal, tuple[Position, ...]] | None = None

    # -- restart ------------------------------------------------------------------------------

    def restore(self, snapshot: AccountSnapshot) -> None:
        """Resume a persisted account. Call before any market data or order.

        A position or resting order on a symbol the feed no longer lists raises
        ``UnknownSymbol``: dropping it silently would falsify the account.
        """
        self._forget_reads()
        account = snapshot.account
        self.wallet = account.wallet
        self._next_seq = account.next_order_seq
        self._funding_settled_until = account.funding_settled_until
        for symbol, leverage in account.leverage.items():
            if symbol in self._symbols:  # a market no longer listed has nothing to lever
                self._symbols[symbol].leverage = leverage
        self._client_ids |= snapshot.client_order_ids
        self._held = None
        self._active = None
        for position in snapshot.positions:
            sym = self._symbol(position.symbol)
            sym.size = position.size
            sym.entry_notional = position.entry_notional
            sym.accrued_funding = position.accrued_funding
        for order in snapshot.open_orders:
            self._register(order)
            self._symbol(order.symbol).rest(order)
            self._active = None

    # -- queries ------------------------------------------------------------------------------

    def markets(self) -> dict[str, Market]:
        return {symbol: sym.market for symbol, sym in self._symbols.items()}

    def market(self, symbol: str) -> Market:
        """One listed market (``UnknownSymbol`` when not listed)."""
        return self._symbol(symbol).market

    def order(
        self,
        symbol: str,
        *,
        venue_order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> OrderState:
        """An order of this session or a resting one from before a restart."""
        if venue_order_id is not None:
            found = self._orders.get(venue_order_id)
        elif client_order_id is not None:
            found = self._by_client_id.get(client_order_id)
        else:
            raise ValueError("give venue_order_id or client_order_id")
        if found is None or found.symbol != symbol:
            raise OrderNotFound(
                f"{symbol}: no order {venue_order_id or client_order_id!r}", venue=self.venue
            )
        return found

    def open_orders(self, symbol: str | None = None) -> list[OrderState]:
        """Resting orders in the order they were placed."""
        symbols = [self._symbol(symbol)] if symbol is not None else self._symbols.values()
        return sorted((o for sym in symbols for o in sym.resting()), key=lambda o: o.seq)

    def balance(self) -> Balance:
        wallet = self.wallet
        read = self._balance_read
        if read is not None and read[0] is wallet:
            return read[1]
        account = account_totals(self._symbols.values())
        balance = Balance(
            wallet=wallet,
            unrealized_pnl=account.unrealized_pnl,
            margin_used=account.margin_used,
        )
        self._balance_read = (wallet, balance)
        return balance

    def positions(self) -> list[Position]:
        """Every open position (a new list each call: the caller may keep or change it)."""
        wallet = self.wallet
        read = self._positions_read
        if read is None or read[0] is not wallet:
            # Over the held symbols only (in market order, as all of them): the others add
            # nothing, and a many-symbol account holds few.
            held = self._held
            if held is None:
                held = self._held = [sym for sym in self._symbols.values() if sym.size]
            read = self._positions_read = (wallet, tuple(open_positions(held, wallet)))
        return list(read[1])

    def leverage(self, symbol: str) -> Decimal:
        return self._symbol(symbol).leverage

    def held_symbols(self) -> list[str]:
        """The symbols holding a position, in market order."""
        held = self._held
        if held is None:
            held = self._held = [sym for sym in self._symbols.values() if sym.size]
        return [sym.symbol for sym in held]

    def active_symbols(self) -> frozenset[str]:
        """The symbols whose book changes matter the moment they happen: those holding a
        position (mark, liquidation), a resting order (queues, crossed fills) or a stop. Any
        other symbol's book can be loaded when something reads it (:meth:`refresh_book`)."""
        active = self._active
        if active is None:
            active = self._active = frozenset(
                symbol
                for symbol, sym in self._symbols.items()
                if sym.size or sym.bids or sym.asks or sym.stops
            )
        return active

    def best_prices(self, symbol: str) -> tuple[Decimal | None, Decimal | None]:
        """The paper book's best bid and ask prices (what ``book_snapshot(symbol, 1)`` shows)."""
        bids, asks = self._symbol(symbol).book.depth(1)
        return (bids[0][0] if bids else None, asks[0][0] if asks else None)

    def book_snapshot(self, symbol: str, depth: int) -> BookSnapshot:
        """The paper's book (feed levels net of what we took)."""
        book = self._symbol(symbol).book
        bids, asks = book.depth(depth)
        return BookSnapshot(
            symbol=symbol,
            bids=tuple(bids),
            asks=tuple(asks),
            ts=self._now(),
            sequence=book.sequence,
        )

    def funding_rate(self, symbol: str) -> FundingRate:
        """The feed's funding expressed on this venue's funding interval.

        The last one built is kept per symbol with what it was built from (the feed's rate
        object, the next funding time, the mark object - all it shows besides constants): a
        position check reads the rates a scan read, and a symbol whose feed rate and mark stay
        shows the same (frozen) value until the next funding time. Positional construction:
        by keyword cost a microsecond more, on tens of thousands of calls a backtest month."""
        sym = self._symbol(symbol)
        feed = sym.funding
        if feed is None:
            raise VenueUnavailable(f"{symbol}: no funding rate received yet", venue=self.venue)
        next_time = self._next_funding_after(self._now())
        mark = sym.mark
        read = sym.funding_read
        if read is not None and read[0] is feed and read[2] is mark and read[1] == next_time:
            return read[3]
        predicted = feed.predicted_rate
        feed_hours = feed.interval_hours
        hours = self.profile.funding_interval_hours
        rate = FundingRate(
            self.venue,
            symbol,
            # _per_interval, inlined
            feed.rate if feed_hours == hours else feed.rate / feed_hours * hours,
            Decimal(hours),
            next_time,
            predicted
            if predicted is None or feed_hours == hours
            else predicted / feed_hours * hours,
            mark,
            feed.ts,
        )
        sym.funding_read = (feed, next_time, mark, rate)
        return rate

    # -- orders -------------------------------------------------------------------------------

    def place(self, request: OrderRequest, *, fill_cap: Decimal | None = None) -> OrderState:
        """Accept, match and maybe rest an order; raises (creating nothing) when refused.

        ``fill_cap`` (fault injection) limits what a market/IOC order may fill to that
        fraction of its size, rounded down to the step.
        """
        self._forget_reads()
        client_order_id = request.client_order_id
        if client_order_id in self._client_ids:
            raise DuplicateClientOrderId(client_order_id, venue=self.venue)
        if client_order_id.startswith(LIQUIDATION_PREFIX):
            raise InvalidOrder(
                f"client order ids starting with {LIQUIDATION_PREFIX!r} are reserved for "
                "liquidations",
                venue=self.venue,
            )
        sym = self._symbol(request.symbol)
        is_buy = request.side == "buy"
        price = request.price
        book = sym.book
        best = book.best_price(not is_buy)
        self._validate(sym, request, best)
        size = request.size
        if request.reduce_only:
            closable = -sym.size if is_buy else sym.size
            if closable <= 0:
                raise ReduceOnlyRejected(
                    f"{sym.symbol}: reduce-only {request.side} would open or increase the "
                    f"position ({sym.size})",
                    venue=self.venue,
                )
            size = min(size, closable)
        if request.order_type is _STOP:
            return self._place_stop(sym, request, size)
        taking = request.order_type is _MARKET or request.time_in_force is _IOC
        crosses = best is not None and (
            price is None or (price >= best if is_buy else price <= best)
        )
        if crosses and request.post_only:
            raise PostOnlyWouldCross(
                f"{sym.symbol}: post-only {request.side} at {price} would cross the best "
                f"{'ask' if is_buy else 'bid'} {best}",
                venue=self.venue,
            )
        levels: list[Level] = []
        if crosses and sym.symbol not in self.never_fill:
            wanted = size
            if fill_cap is not None and taking:
                wanted = round_size(sym.market, size * fill_cap)
            if wanted:
                levels = book.walk(request.side, wanted, price)
        if not request.reduce_only:
            # What the order adds: the levels it takes now, and (GTC) the rest at its price.
            added_size = added_notional = _ZERO
            for level_price, level_size in levels:
                added_size += level_size
                added_notional += level_price * level_size
            if not taking and price is not None:
                added_notional += (size - added_size) * price
                added_size = size
            if added_size:
                self._check_margin(sym, is_buy, added_size, added_notional)

        order = self._new_order(request, size)
        if levels:
            self._take(sym, order, levels)
        if taking:
            self._finish_taker(order)
        elif order.remaining:
            assert price is not None  # a GTC order is a limit order
            order.queue_ahead = book.size_at(is_buy, price)
            sym.rest(order)
            self._active = None
        self._log(order)
        if levels:
            self._after_position_change(sym)
        return order

    def _place_stop(self, sym: SymbolState, request: OrderRequest, size: Decimal) -> OrderState:
        """Rest a STOP_MARKET order until the mark crosses its trigger."""
        trigger = request.trigger_price
        assert trigger is not None  # OrderRequest guarantees it
        mark = sym.mark
        if mark is not None and _crossed(request.side == "buy", trigger, mark):
            raise InvalidOrder(
                f"{sym.symbol}: {request.side} stop at {trigger} would trigger immediately "
                f"(mark {mark})",
                venue=self.venue,
            )
        order = self._new_order(request, size)
        sym.rest(order)
        self._active = None
        self._log(order)
        return order

    def cancel(
        self,
        symbol: str,
        *,
        venue_order_id: str | None = None,
        client_order_id: str | None = None,
    ) -> OrderState:
        """Cancel a resting order; a finished one is returned unchanged."""
        self._forget_reads()
        order = self.order(symbol, venue_order_id=venue_order_id, client_order_id=client_order_id)
        if order.status in _RESTING:
            self._cancel(self._symbols[symbol], order)
        return order

    def set_leverage(self, symbol: str, leverage: Decimal) -> Decimal:
        """Change a symbol's leverage; refused when the account could not carry the margin."""
        self._forget_reads()
        sym = self._symbol(symbol)
        if not 1 <= leverage <= sym.market.max_leverage:
            raise InvalidOrder(
                f"{symbol}: leverage {leverage} is outside 1..{sym.market.max_leverage}",
                venue=self.venue,
            )
        previous, sym.leverage = sym.leverage, leverage
        if leverage < previous:
            account = account_totals(self._symbols.values())
            equity = self.wallet + account.unrealized_pnl
            if account.margin_used > equity:
                sym.leverage = previous
                raise InsufficientMargin(account.margin_used, max(_ZERO, equity), venue=self.venue)
        self._account_dirty = True
        return leverage

    # -- market data --------------------------------------------------------------------------

    def apply_book_snapshot(
        self,
        symbol: str,
        bids: Sequence[Level],
        asks: Sequence[Level],
        sequence: int | None = None,
    ) -> None:
        self._forget_reads()
        sym = self._symbol(symbol)
        sym.book.apply_snapshot(bids, asks, sequence)
        self._after_book_change(sym, None, None)

    def refresh_book(
        self,
        symbol: str,
        bids: Sequence[Level],
        asks: Sequence[Level],
        sequence: int | None = None,
    ) -> None:
        """Load a snapshot the feed published while the symbol was not active (no position,
        no resting order, no stop), when something first reads it. Applied then, it changed
        only the book and the mark - which is all this does: the account-wide liquidation
        check its arrival ran is the caller's to run when it arrived
        (:meth:`check_liquidation`)."""
        self._forget_reads()
        sym = self._symbol(symbol)
        if symbol in self.active_symbols():
            raise ValueError(f"{symbol} is active: apply its snapshot when it arrives")
        sym.book.apply_snapshot(bids, asks, sequence)
        mid = sym.book.feed_mid()
        if mid is not None:
            sym.mark = mid

    def refresh_top(self, symbol: str, top: BookTop) -> None:
        """:meth:`refresh_book` with the snapshot ``top.draw()``, held by its best levels
        (:meth:`PaperBook.apply_top`): the same book and mark, its levels drawn when read."""
        self._forget_reads()
        sym = self._symbol(symbol)
        if symbol in self.active_symbols():
            raise ValueError(f"{symbol} is active: apply its snapshot when it arrives")
        book = sym.book
        book.apply_top(top)
        sym.mark = book.feed_mid()

    def check_liquidation(self) -> None:
        """What every book change ends with: liquidate when equity is below maintenance."""
        self._forget_reads()
        self._check_liquidation()

    def apply_book_delta(
        self,
        symbol: str,
        bids: Sequence[Level],
        asks: Sequence[Level],
        *,
        first_sequence: int | None = None,
        last_sequence: int | None = None,
    ) -> bool:
        """Apply a delta; False when stale. Raises ``SequenceGap``: resync with a snapshot."""
        self._forget_reads()
        sym = self._symbol(symbol)
        if not sym.book.apply_update(bids, asks, first_sequence, last_sequence):
            return False
        self._after_book_change(sym, bids, asks)
        return True

    def apply_trade(self, symbol: str, price: Decimal, size: Decimal, taker_side: Side) -> None:
        """A trade printed on the venue: fills our resting orders it reached (:mod:`.resting`)."""
        self._forget_reads()
        sym = self._symbol(symbol)
        if symbol not in self.never_fill:
            fill_from_trade(sym, price, size, taker_side, self._fill_resting, self._touched)

    def apply_funding_rate(self, rate: FundingRate) -> None:
        """The feed's funding (restated per this venue's interval when charged).

        Its ``mark_price`` is the mark only while the book has no mid: funding messages come
        a minute or more apart, so their mark is stale next to the book.

        The balance and positions read before stay valid unless the mark changes (the rate is
        in neither until :meth:`settle_funding` pays it): a funding strategy reads every
        symbol's rate between two position checks, and forgetting them each time rebuilt
        every position for each leg checked.
        """
        sym = self._symbol(rate.symbol)
        sym.funding = rate
        mark = rate.mark_price
        if mark is not None and sym.mark is not mark and sym.book.feed_mid() is None:
            self._forget_reads()
            sym.mark = mark

    def settle_funding(self) -> None:
        """Charge or pay funding for every funding time passed since the last settlement."""
        self._forget_reads()
        interval = self.profile.funding_interval
        due = self._funding_settled_until + interval
        now = self._now()
        if due > now:
            return
        while due <= now:
            for sym in self._symbols.values():
                if sym.size and sym.funding is not None:
                    self._pay_funding(sym, due)
            self._funding_settled_until = due
            due += interval
        self._account_dirty = True
        self._check_liquidation()

    def next_funding_time(self) -> datetime:
        return self._funding_settled_until + self.profile.funding_interval

    # -- persistence --------------------------------------------------------------------------

    @property
    def has_changes(self) -> bool:
        return bool(
            self._order_log
            or self._fill_log
            or self._dirty_orders
            or self._dirty_positions
            or self._funding_log
            or self._account_dirty
        )

    def account_record(self) -> AccountRecord:
        return AccountRecord(
            wallet=self.wallet,
            next_order_seq=self._next_seq,
            funding_settled_until=self._funding_settled_until,
            leverage={symbol: sym.leverage for symbol, sym in self._symbols.items()},
        )

    def drain(self) -> EngineChanges:
        """Take everything that changed since the last drain."""
        changes = EngineChanges(
            venue=self.venue,
            order_events=self._order_log,
            fill_events=self._fill_log,
            orders=list(self._dirty_orders.values()),
            positions=[
                PositionRecord(
                    symbol=symbol,
                    size=self._symbols[symbol].size,
                    entry_notional=self._symbols[symbol].entry_notional,
                    accrued_funding=self._symbols[symbol].accrued_funding,
                )
                for symbol in sorted(self._dirty_positions)
            ],
            funding=self._funding_log,
            account=self.account_record(),
        )
        self._order_log = []
        self._fill_log = []
        self._dirty_orders = {}
        self._dirty_positions = set()
        self._funding_log = []
        self._account_dirty = False
        return changes

    # -- internals: orders --------------------------------------------------------------------

    def _forget_reads(self) -> None:
        """The account may change: the next balance and positions are computed afresh."""
        self._balance_read = None
        self._positions_read = None

    def _symbol(self, symbol: str) -> SymbolState:
        try:
            return self._symbols[symbol]
        except KeyError:
            raise UnknownSymbol(f"no market for {symbol!r}", venue=self.venue) from None

    def _validate(self, sym: SymbolState, request: OrderRequest, best: Decimal | None) -> None:
        market = sym.market
        if not on_grid(request.size, market.step_size):
            raise InvalidOrder(
                f"{sym.symbol}: size {request.size} is not a multiple of the step "
                f"{market.step_size}",
                venue=self.venue,
            )
        price = request.price
        if price is not None and not on_grid(price, market.tick_size):
            raise InvalidOrder(
                f"{sym.symbol}: price {price} is not a multiple of the tick {market.tick_size}",
                venue=self.venue,
            )
        trigger = request.trigger_price
        if trigger is not None and not on_grid(trigger, market.tick_size):
            raise InvalidOrder(
                f"{sym.symbol}: trigger price {trigger} is not a multiple of the tick "
                f"{market.tick_size}",
                venue=self.venue,
            )
        # A market order's notional is judged at the touch (or the mark on an empty book), a
        # stop's at its trigger (where it will execute).
        reference = (
            price
            if price is not None
            else trigger
            if trigger is not None
            else best
            if best is not None
            else sym.mark
        )
        if reference is None:
            if request.size < market.min_size:
                raise InvalidOrder(
                    f"{sym.symbol}: size {request.size} is below the minimum {market.min_size}",
                    venue=self.venue,
                )
        else:
            try:
                check_order_size(market, request.size, reference)
            except InvalidOrder as exc:
                raise InvalidOrder(str(exc), venue=self.venue) from None

    def _check_margin(
        self, sym: SymbolState, is_buy: bool, size: Decimal, notional: Decimal
    ) -> None:
        """Refuse an order whose opening part needs more than the available collateral."""
        before = sym.orders_margin()
        if is_buy:
            after = opening_orders_margin(
                sym.size,
                sym.buy_size + size,
                sym.buy_notional + notional,
                sym.sell_size,
                sym.sell_notional,
                sym.leverage,
            )
        else:
            after = opening_orders_margin(
                sym.size,
                sym.buy_size,
                sym.buy_notional,
                sym.sell_size + size,
                sym.sell_notional + notional,
                sym.leverage,
            )
        initial_margin = after - before
        if initial_margin <= 0:
            return
        # initial margin x leverage is the notional that opens exposure; it pays taker fee.
        required = initial_margin + initial_margin * sym.leverage * self._taker_fee
        account = account_totals(self._symbols.values())
        available = max(_ZERO, self.wallet + account.unrealized_pnl - account.margin_used)
        if required > available:
            raise InsufficientMargin(required, available, venue=self.venue)

    def _new_order(self, request: OrderRequest, size: Decimal) -> OrderState:
        seq = self._next_seq
        self._next_seq = seq + 1
        self._account_dirty = True
        now = self._now()
        order = OrderState(
            seq=seq,
            venue_order_id=f"{self.account}:{seq}",
            client_order_id=request.client_order_id,
            symbol=request.symbol,
            side=request.side,
            order_type=request.order_type,
            time_in_force=request.time_in_force,
            size=size,
            price=request.price,
            status=_OPEN,
            post_only=request.post_only,
            reduce_only=request.reduce_only,
            created_at=now,
            updated_at=now,
            trigger_price=request.trigger_price,
        )
        self._register(order)
        return order

    def _register(self, order: OrderState) -> None:
        self._orders[order.venue_order_id] = order
        self._by_client_id[order.client_order_id] = order
        self._client_ids.add(order.client_order_id)

    def _log(self, order: OrderState) -> None:
        self._order_log.append(
            (
                order,
                order.status,
                order.size,
                order.filled_size,
                order.filled_notional,
                order.fee_paid,
                order.updated_at,
            )
        )
        self._dirty_orders[order.seq] = order

    def _take(self, sym: SymbolState, order: OrderState, levels: list[Level]) -> None:
        """Fill a taker order level by level (one fill each) and remove what it took.

        The hot path of market orders: :meth:`_execute` unrolled over the levels.
        """
        now = self._now()
        fee_rate = self._taker_fee
        is_buy = order.is_buy
        fill_log = self._fill_log
        filled, filled_notional, fees, count = (
            order.filled_size,
            order.filled_notional,
            order.fee_paid,
            order.fill_count,
        )
        for price, size in levels:
            notional = price * size
            fee = notional * fee_rate
            filled += size
            filled_notional += notional
            fees += fee
            count += 1
            self.wallet -= fee
            self._fill_position(sym, is_buy, size, price)
            fill_log.append((order, count, price, size, fee, "taker", now))
        order.filled_size, order.filled_notional, order.fee_paid, order.fill_count = (
            filled,
            filled_notional,
            fees,
            count,
        )
        order.status = _FILLED if filled == order.size else _PARTIALLY_FILLED
        order.updated_at = now
        sym.book.take(order.side, levels)

    def _finish_taker(self, order: OrderState) -> None:
        """A market/IOC order is done after its walk: what did not fill is cancelled."""
        if order.remaining:
            order.status = _CANCELLED if order.filled_size else OrderStatus.EXPIRED
            order.updated_at = self._now()

    def _execute(self, sym: SymbolState, order: OrderState, price: Decimal, size: Decimal) -> None:
        """Book one maker fill: the order, the fee, the position and realised PnL."""
        notional = price * size
        fee = notional * self._maker_fee
        order.filled_size += size
        order.filled_notional += notional
        order.fee_paid += fee
        order.fill_count += 1
        order.status = _FILLED if order.filled_size == order.size else _PARTIALLY_FILLED
        now = self._now()
        order.updated_at = now
        self.wallet -= fee
        self._fill_position(sym, order.is_buy, size, price)
        self._fill_log.append((order, order.fill_count, price, size, fee, "maker", now))

    def _fill_position(self, sym: SymbolState, is_buy: bool, size: Decimal, price: Decimal) -> None:
        held = sym.size
        self._held = None
        self._active = None
        self._dirty_positions.add(sym.symbol)
        self._account_dirty = True
        if not held or (held > 0) == is_buy:  # opening or adding
            sym.entry_notional += size * price
            sym.size = held + size if is_buy else held - size
            return
        quantity = abs(held)
        closing = min(size, quantity)
        released = (
            sym.entry_notional if closing == quantity else sym.entry_notional * closing / quantity
        )
        proceeds = closing * price
        self.wallet += proceeds - released if held > 0 else released - proceeds
        sym.entry_notional -= released
        opened = size - closing
        sym.size = held + size if is_buy else held - size
        if opened:  # flipped: the rest opens a new position at this price
            sym.entry_notional = opened * price
        if closing == quantity:
            sym.accrued_funding = _ZERO

    def _cancel(self, sym: SymbolState, order: OrderState) -> None:
        sym.unrest(order)
        self._active = None
        order.status = _CANCELLED
        order.updated_at = self._now()
        self._log(order)

    def _fill_resting(self, sym: SymbolState, order: OrderState, size: Decimal) -> None:
        """A maker fill of a resting order at its own price."""
        assert order.price is not None
        if not order.reduce_only:
            sym.reserve(order, -size)
        self._execute(sym, order, order.price, size)
        self._log(order)
        if order.status is _FILLED:
            sym.unrest(order)
            self._active = None
        self._after_position_change(sym)

    def _after_position_change(self, sym: SymbolState) -> None:
        """Keep resting reduce-only orders within the position: shrink them or cancel them."""
        for order in list(sym.reduce_only):
            closable = -sym.size if order.is_buy else sym.size
            if closable <= 0:
                self._cancel(sym, order)
            elif order.remaining > closable:
                order.size = order.filled_size + closable
                order.updated_at = self._now()
                self._log(order)

    # -- internals: market data ---------------------------------------------------------------

    def _after_book_change(
        self, sym: SymbolState, bids: Sequence[Level] | None, asks: Sequence[Level] | None
    ) -> None:
        if sym.bids:
            cap_queues(sym, True, bids, self._touched)
        if sym.asks:
            cap_queues(sym, False, asks, self._touched)
        if sym.symbol not in self.never_fill:
            fill_crossed(sym, self._fill_resting)
        mid = sym.book.feed_mid()
        if mid is not None:
            sym.mark = mid
        if sym.stops:
            self._fire_stops(sym)
        self._check_liquidation()

    def _fire_stops(self, sym: SymbolState) -> None:
        """Execute every resting stop whose trigger the mark has crossed, oldest first."""
        mark = sym.mark
        if mark is None or sym.symbol in self.never_fill:
            return
        for order in [o for o in sym.stops if _crossed(o.is_buy, o.trigger_price, mark)]:
            if order.status not in _RESTING:  # cancelled by an earlier stop's fill
                continue
            sym.unrest(order)
            self._active = None
            closable = -sym.size if order.is_buy else sym.size
            wanted = min(order.remaining, max(closable, _ZERO))
            levels = sym.book.walk(order.side, wanted, None) if wanted else []
            if levels:
                self._take(sym, order, levels)
            self._finish_taker(order)
            self._log(order)
            if levels:
                self._after_position_change(sym)

    def _touched(self, order: OrderState) -> None:
        """An order changed in a way the streams do not show (its queue): persist it."""
        self._dirty_orders[order.seq] = order

    def _next_funding_after(self, now: datetime) -> datetime:
        """The profile's next funding time after ``now``, remembered for the last ``now``: a
        funding strategy asks every symbol's rate at the same moment."""
        cached = self._next_funding
        if cached is None or cached[0] != now:
            cached = self._next_funding = (now, self.profile.next_funding_time(now))
        return cached[1]

    def _per_interval(self, rate: Decimal, interval_hours: Decimal) -> Decimal:
        """A feed rate restated for this venue's interval (unchanged when they agree)."""
        hours = self.profile.funding_interval_hours
        return rate if interval_hours == hours else rate / interval_hours * hours

    def _pay_funding(self, sym: SymbolState, at: datetime) -> None:
        assert sym.funding is not None
        rate = self._per_interval(sym.funding.rate, sym.funding.interval_hours)
        mark = sym.mark_price()
        amount = -sym.size * mark * rate
        self.wallet += amount
        sym.accrued_funding += amount
        self._dirty_positions.add(sym.symbol)
        self._funding_log.append(
            FundingPayment(
                symbol=sym.symbol,
                paid_at=at,
                rate=rate,
                position_size=sym.size,
                mark_price=mark,
                amount=amount,
            )
        )

    # -- internals: risk ----------------------------------------------------------------------

    def _check_liquidation(self) -> None:
        held = self._held
        if held is None:
            held = self._held = [sym for sym in self._symbols.values() if sym.size]
        if not held:
            return
        # Only positions count towards equity and maintenance (the terms and the order of
        # account_totals; its margin, a division a position, is not needed here).
        upnl = maintenance = _ZERO
        for sym in held:
            mark = sym.mark_price()
            upnl += sym.unrealized_pnl(mark)
            maintenance += abs(sym.size) * mark * sym.mmr
        equity = self.wallet + upnl
        if equity < maintenance:
            self._liquidate(equity, maintenance)

    def _liquidate(self, equity: Decimal, maintenance: Decimal) -> None:
        log.warning(
            "paper account liquidated",
            venue=self.venue,
            account=self.account,
            equity=str(equity),
            maintenance=str(maintenance),
        )
        for sym in self._symbols.values():
            for order in list(sym.resting()):
                self._cancel(sym, order)
        for sym in self._symbols.values():
            if not sym.size:
                continue
            side: Side = "sell" if sym.size > 0 else "buy"
            size = abs(sym.size)
            request = OrderRequest(
                symbol=sym.symbol,
                side=side,
                size=size,
                order_type=_MARKET,
                client_order_id=f"{LIQUIDATION_PREFIX}{self._next_seq}",
                reduce_only=True,
                time_in_force=_IOC,
            )
            order = self._new_order(request, size)
            levels = sym.book.walk(side, size, None)
            if levels:
                self._take(sym, order, levels)
            self._finish_taker(order)
            self._log(order)


def _crossed(is_buy: bool, trigger: Decimal | None, mark: Decimal) -> bool:
    """Whether ``mark`` has reached a stop's trigger: a buy stop from below, a sell from above."""
    assert trigger is not None
    return mark >= trigger if is_buy else mark <= trigger
