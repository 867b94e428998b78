"""Per-symbol state of a paper account: the book, the position, and our resting orders.

Resting orders sit in FIFO lists per price (``bids``/``asks``) with the prices kept sorted
ascending (best bid last, best ask first), so matching a trade or a book move visits only the
price levels it reaches. ``buy_size``/``buy_notional`` (and the sell pair) total the remaining
size and notional of resting non-reduce-only orders, so the margin they reserve is computed
without visiting them - placing an order stays O(1) however many rest.

Resting STOP_MARKET orders have no price: they wait in ``stops`` (always reduce-only, so they
reserve no margin) until the mark crosses their trigger.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

from exchange_clients.paper.book import PaperBook
from exchange_clients.paper.margin import opening_orders_margin
from exchange_clients.paper.profiles import maintenance_margin_rate
from exchange_clients.paper.state import OrderState
from exchange_clients.types import FundingRate, Market

_ZERO = Decimal(0)


class SymbolState:
    """One symbol of one account. ``size`` is signed; ``entry_notional`` = |size| x entry."""

    __slots__ = (
        "accrued_funding",
        "ask_prices",
        "asks",
        "bid_prices",
        "bids",
        "book",
        "buy_notional",
        "buy_size",
        "entry_notional",
        "funding",
        "funding_read",
        "leverage",
        "mark",
        "market",
        "mmr",
        "reduce_only",
        "sell_notional",
        "sell_size",
        "size",
        "stops",
        "symbol",
    )

    def __init__(self, market: Market, leverage: Decimal) -> None:
        self.market = market
        self.symbol = market.symbol
        self.mmr = maintenance_margin_rate(market)
        self.book = PaperBook(market.symbol)
        self.leverage = leverage
        self.size = _ZERO
        self.entry_notional = _ZERO
        self.accrued_funding = _ZERO
        self.bids: dict[Decimal, list[OrderState]] = {}
        self.bid_prices: list[Decimal] = []
        self.asks: dict[Decimal, list[OrderState]] = {}
        self.ask_prices: list[Decimal] = []
        self.buy_size = _ZERO
        self.buy_notional = _ZERO
        self.sell_size = _ZERO
        self.sell_notional = _ZERO
        self.reduce_only: list[OrderState] = []
        self.stops: list[OrderState] = []
        self.mark: Decimal | None = None
        self.funding: FundingRate | None = None
        # The engine's last funding_rate() answer and what it was built from (feed rate,
        # next funding time, mark): see PaperEngine.funding_rate.
        self.funding_read: tuple[FundingRate, datetime, Decimal | None, FundingRate] | None = None

    # -- position -----------------------------------------------------------------------------

    def mark_price(self) -> Decimal:
        """The mark, or the entry price before the book has ever had both sides."""
        if self.mark is not None:
            return self.mark
        return self.entry_notional / abs(self.size) if self.size else _ZERO

    def unrealized_pnl(self, mark: Decimal) -> Decimal:
        if self.size > 0:
            return self.size * mark - self.entry_notional
        return self.entry_notional + self.size * mark

    def orders_margin(self) -> Decimal:
        return opening_orders_margin(
            self.size,
            self.buy_size,
            self.buy_notional,
            self.sell_size,
            self.sell_notional,
            self.leverage,
        )

    # -- resting orders -----------------------------------------------------------------------

    def resting(self) -> Iterator[OrderState]:
        for index in (self.bids, self.asks):
            for level in index.values():
                yield from level
        yield from self.stops

    def rest(self, order: OrderState) -> None:
        """Index a resting order behind the others at its price and reserve its margin."""
        if order.trigger_price is not None:
            self.stops.append(order)
            self.reduce_only.append(order)
            return
        price = order.price
        assert price is not None
        prices, index = (
            (self.bid_prices, self.bids) if order.is_buy else (self.ask_prices, self.asks)
        )
        level = index.get(price)
        if level is None:
            index[price] = [order]
            insort(prices, price)
        else:
            level.append(order)
        if order.reduce_only:
            self.reduce_only.append(order)
        else:
            self.reserve(order, order.remaining)

    def unrest(self, order: OrderState) -> None:
        """Take a resting order out of the index and release what it still reserves."""
        if order.trigger_price is not None:
            self.stops.remove(order)
            self.reduce_only.remove(order)
            return
        price = order.price
        assert price is not None
        prices, index = (
            (self.bid_prices, self.bids) if order.is_buy else (self.ask_prices, self.asks)
        )
        level = index[price]
        level.remove(order)
        if not level:
            del index[price]
            del prices[bisect_left(prices, price)]
        if order.reduce_only:
            self.reduce_only.remove(order)
        else:
            self.reserve(order, -order.remaining)

    def reserve(self, order: OrderState, size: Decimal) -> None:
        """Add ``size`` of a non-reduce-only order at its price to the totals (negative: remove)."""
        assert order.price is not None
        if order.is_buy:
            self.buy_size += size
            self.buy_notional += size * order.price
        else:
            self.sell_size += size
            self.sell_notional += size * order.price
