"""The paper venue's view of one symbol's book: the feed's L2 book minus what we took from it.

Real liquidity does not come back the instant after a market order eats it, so a paper venue
that matched every order against the untouched feed book would let back-to-back market orders
fill at the same prices again and again. Two :class:`~exchange_clients.order_book.OrderBook`
copies are therefore kept:

* ``feed`` - exactly what the feed said. The mark price is its mid: our own market orders must
  not move our own mark (a big buy would otherwise show itself a profit by lifting the mid).
* ``paper`` - the same levels with the liquidity we took removed. Orders match against it.
  A level the feed reports again overwrites what we took (the venue's new size already
  reflects, or has refilled, it); a snapshot replaces everything.

Feeding both costs a second dict/list update per level of market data, which is cheap next to
everything else a feed message causes; in exchange every order-path query is a plain
``OrderBook`` call with no overlay arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from exchange_clients.order_book import BookSide, Level, OrderBook
from exchange_clients.types import Side


class PaperBook:
    """One symbol's book as the paper venue matches against it. Not thread-safe."""

    __slots__ = ("feed", "paper")

    def __init__(self, symbol: str) -> None:
        self.feed = OrderBook(symbol)
        self.paper = OrderBook(symbol)

    # -- feed data --------------------------------------------------------------------------

    def apply_snapshot(
        self, bids: Sequence[Level], asks: Sequence[Level], sequence: int | None
    ) -> None:
        """Replace the book; everything we took is forgotten (the snapshot is the truth)."""
        self.feed.apply_snapshot(bids, asks, sequence)
        self.paper.apply_snapshot(bids, asks, sequence)

    def apply_update(
        self,
        bids: Sequence[Level],
        asks: Sequence[Level],
        first_sequence: int | None,
        last_sequence: int | None,
    ) -> bool:
        """Apply a delta; False when stale. Raises ``SequenceGap``/``BookNeedsResync``."""
        if not self.feed.apply_update(
            bids, asks, first_sequence=first_sequence, last_sequence=last_sequence
        ):
            return False
        self.paper.apply_update(
            bids, asks, first_sequence=first_sequence, last_sequence=last_sequence
        )
        return True

    # -- queries ----------------------------------------------------------------------------

    def size_at(self, bid: bool, price: Decimal) -> Decimal:
        """Size resting at ``price`` on the bid (``bid=True``) or ask side of the paper book."""
        return self.paper.size_at("bid" if bid else "ask", price)

    def best_price(self, bid: bool) -> Decimal | None:
        """Best price of the paper book (what an order would trade against)."""
        level = self.paper.best_bid() if bid else self.paper.best_ask()
        return None if level is None else level[0]

    def feed_best_price(self, bid: bool) -> Decimal | None:
        """Best price as the feed reports it (the venue's view, without our takes)."""
        level = self.feed.best_bid() if bid else self.feed.best_ask()
        return None if level is None else level[0]

    def walk(self, taker_side: Side, size: Decimal, limit: Decimal | None) -> list[Level]:
        """The ``(price, size)`` a taker on ``taker_side`` would get for ``size``, best first.

        Stops at ``limit`` (a buy takes nothing above it, a sell nothing below) and when the
        book runs out (the result then adds up to less than ``size``). Changes nothing.
        """
        levels = self.paper.fill_walk(taker_side, size)
        if limit is None:
            return levels
        buy = taker_side == "buy"
        for index, (price, _) in enumerate(levels):
            if price > limit if buy else price < limit:
                return levels[:index]
        return levels

    def take(self, taker_side: Side, levels: list[Level]) -> None:
        """Remove liquidity a taker got (a :meth:`walk` result) until the feed refreshes it."""
        book_side: BookSide = "ask" if taker_side == "buy" else "bid"
        changes = [
            (price, self.paper.size_at(book_side, price) - quantity) for price, quantity in levels
        ]
        if taker_side == "buy":
            self.paper.apply_update((), changes)
        else:
            self.paper.apply_update(changes, ())
