"""When market data fills our resting orders: the queue model of the paper venue.

Our resting orders are not in the feed's book, so whether the venue would have filled them is
inferred from what the feed shows:

* ``queue_ahead`` is the book's size at the order's price when it started resting (0 on a new
  level): that many units trade before ours do. When the feed shrinks that level below it,
  orders ahead of ours were cancelled and the queue shrinks with it; growth does not count
  (newcomers queue behind us).
* A trade *at* the order's price, by an opposite taker, consumes the queue first and fills the
  order with what is left. Several of our orders at one price share the trade in time
  priority, each behind its own ``queue_ahead`` (which counts only the feed's size, so the
  feed size a trade already used up is subtracted for every order behind).
* A trade *through* the price (a sell taker below a buy order's price) shows that everything
  at our price traded: the queue is cleared and the order fills up to the trade's size, our
  better-priced orders first.
* A book whose opposite best price moves strictly through the order's price (best ask < buy
  price) fills the order's whole remainder.

Every fill is at the order's own price, as maker; the functions here decide which orders fill
and by how much, and hand each fill to the engine (``fill``), which does the accounting. Queue
changes are reported through ``touched`` so they get persisted.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from decimal import Decimal

from exchange_clients.order_book import Level
from exchange_clients.paper.state import OrderState
from exchange_clients.paper.symbol_state import SymbolState
from exchange_clients.types import OrderStatus, Side

Fill = Callable[[SymbolState, OrderState, Decimal], None]
Touched = Callable[[OrderState], None]

_ZERO = Decimal(0)
_RESTING = frozenset({OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED})


def cap_queues(
    sym: SymbolState, bid: bool, changed: Sequence[Level] | None, touched: Touched
) -> None:
    """After a book change (``changed`` levels, or None for a snapshot): queues <= level size."""
    index = sym.bids if bid else sym.asks
    prices = list(index) if changed is None else [p for p, _ in changed if p in index]
    for price in prices:
        size = sym.book.size_at(bid, price)
        for order in index[price]:
            if order.queue_ahead > size:
                order.queue_ahead = size
                touched(order)


def fill_crossed(sym: SymbolState, fill: Fill) -> None:
    """Fill resting orders the feed's opposite best price moved strictly through."""
    bid_prices, ask_prices = sym.bid_prices, sym.ask_prices
    if bid_prices:
        best_ask = sym.book.feed_best_price(False)
        while best_ask is not None and bid_prices and bid_prices[-1] > best_ask:
            for order in list(sym.bids[bid_prices[-1]]):
                if order.status in _RESTING:
                    fill(sym, order, order.remaining)
    if ask_prices:
        best_bid = sym.book.feed_best_price(True)
        while best_bid is not None and ask_prices and ask_prices[0] < best_bid:
            for order in list(sym.asks[ask_prices[0]]):
                if order.status in _RESTING:
                    fill(sym, order, order.remaining)


def fill_from_trade(
    sym: SymbolState,
    price: Decimal,
    size: Decimal,
    taker_side: Side,
    fill: Fill,
    touched: Touched,
) -> None:
    """Fill what a public trade reached, best price first, never more than its size in all."""
    if taker_side == "sell":
        prices, index = sym.bid_prices, sym.bids
        if not prices or prices[-1] < price:
            return
        reached = prices[bisect_left(prices, price) :][::-1]
    else:
        prices, index = sym.ask_prices, sym.asks
        if not prices or prices[0] > price:
            return
        reached = prices[: bisect_right(prices, price)]
    pool = size
    for level_price in reached:
        level = index.get(level_price)
        if level is not None:
            if level_price == price:
                pool = _trade_at_level(sym, level, pool, fill, touched)
            else:
                pool = _trade_through_level(sym, level, pool, fill, touched)


def _trade_through_level(
    sym: SymbolState, level: list[OrderState], pool: Decimal, fill: Fill, touched: Touched
) -> Decimal:
    for order in list(level):
        if order.status not in _RESTING:
            continue
        if order.queue_ahead:
            order.queue_ahead = _ZERO
            touched(order)
        if pool:
            size = min(order.remaining, pool)
            pool -= size
            fill(sym, order, size)
    return pool


def _trade_at_level(
    sym: SymbolState, level: list[OrderState], pool: Decimal, fill: Fill, touched: Touched
) -> Decimal:
    orders = [order for order in level if order.status in _RESTING]
    consumed = _ZERO  # feed size ahead of us this trade used up so far
    for order in orders:
        ahead = order.queue_ahead - consumed
        if ahead > 0:
            used = min(pool, ahead)
            pool -= used
            consumed += used
        if pool and order.status in _RESTING:
            size = min(order.remaining, pool)
            pool -= size
            fill(sym, order, size)
    if consumed:
        for order in orders:
            if order.status in _RESTING and order.queue_ahead:
                order.queue_ahead = max(_ZERO, order.queue_ahead - consumed)
                touched(order)
    return pool
