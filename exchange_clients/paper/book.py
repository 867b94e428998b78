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

Most of the time the two are the same: nothing was taken, or every level we took from has been
reported again since. Then there is one book - ``paper`` *is* ``feed`` - and a level of market
data is applied once. A take copies the feed book into a paper book of its own and notes the
prices it took from; the paper book is fed alongside the feed book until the feed has reported
each of those prices again (or a snapshot replaced everything), and is then dropped. Every
order-path query is a plain ``OrderBook`` call with no overlay arithmetic either way.

One thing differs from keeping two books at all times, and only after malformed market data:
a delta that raises part-way (a negative size, an unparsable price) leaves the feed book
broken, refusing updates until the next snapshot; while the books were the same, orders placed
on the engine directly before that snapshot match against what the feed book holds (the levels
before the bad one applied) rather than the levels as they were. (A malformed snapshot keeps
the paper book as it was, as before.) Through
:class:`~exchange_clients.paper.client.PaperExchangeClient` nothing can: such an error stops
its feed and the venue answers every request with ``VenueUnavailable`` until it reconnects,
which loads new snapshots.

Snapshots are loaded lazily. A backtest over funding history replaces hundreds of books an
hour that nobody reads (no order, no resting order, no quote on that symbol): loading each
into two books was most of its time. So a snapshot is kept as given, with the one thing every
snapshot needs at once - the feed's mid, the account's mark - worked out exactly as the
loaded book would give it (same value, same digits); the best levels (a quote) are answered
from it the same way. The books are loaded on the first read of ``feed`` or ``paper``, a
match, a take or a delta. A snapshot whose levels
:func:`~exchange_clients.order_book.plain_snapshot` cannot vouch for (unsorted, repeated,
exponent notation, malformed) is loaded at once, so a bad level raises exactly when it did.
A snapshot a tape gives by its best levels (:class:`BookTop`) is held by them alone, and drawn
only when something reads past them (:meth:`PaperBook.apply_top`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import NamedTuple

from exchange_clients.market_data.events import BookSnapshotEvent
from exchange_clients.order_book import (
    BookSide,
    Level,
    OrderBook,
    plain_snapshot,
    price_at_scale,
)
from exchange_clients.types import Side


class PlainLevels(tuple[Level, ...]):
    """The bids of a snapshot whose maker vouches for it, with its asks: what
    :func:`~exchange_clients.order_book.plain_snapshot` would check is known to hold, so
    :meth:`PaperBook.apply_snapshot` need not check it again (a funding backtest draws its
    books - :func:`backtest.sources.funding.drawn_book` - and knows how their prices are
    written as it works them out; reading every level back as text was most of holding one).

    Vouched for ``asks`` (the very tuple: any other asks are checked as always): prices and
    sizes are ``Decimal`` (not a subclass), best first with no repeats (bids falling, asks
    rising), sizes not negative, every price written without exponent or sign with at most 30
    decimal places; ``plain`` is what ``plain_snapshot(bids, asks)`` answers (the most places
    a price is written with, the text of each side's first price with size or None)."""

    asks: tuple[Level, ...]
    plain: tuple[int, str | None, str | None]

    @classmethod
    def vouched(
        cls,
        bids: Sequence[Level],
        asks: tuple[Level, ...],
        plain: tuple[int, str | None, str | None],
    ) -> PlainLevels:
        made = cls(bids)
        made.asks = asks
        made.plain = plain
        return made


class BookTop(NamedTuple):
    """A snapshot known by its best levels - all a quote reads of it - whose maker draws the
    whole of it only when something reads further: ``draw()`` returns it, its levels vouched
    for (:class:`PlainLevels`) and its best ones ``bid`` and ``ask`` (the same digits), each
    with size. A funding backtest quotes hundreds of books a scan that nothing reads past the
    touch (:func:`backtest.sources.funding.drawn_top`)."""

    bid: Level
    ask: Level
    sequence: int
    draw: Callable[[], BookSnapshotEvent]


class PaperBook:
    """One symbol's book as the paper venue matches against it. Not thread-safe."""

    __slots__ = (
        "_feed",
        "_mid",
        "_paper",
        "_pending",
        "_taken_asks",
        "_taken_bids",
        "_touch_ask",
        "_touch_bid",
        "_undrawn",
    )

    def __init__(self, symbol: str) -> None:
        self._feed = OrderBook(symbol)
        # The feed's levels net of what we took, while they differ; None: the same as the
        # feed book, which serves as the paper book.
        self._paper: OrderBook | None = None
        # The prices the paper book differs from the feed book at (taken, not reported since).
        self._taken_bids: set[Decimal] = set()
        self._taken_asks: set[Decimal] = set()
        # The last snapshot while nothing has read it: (bids, asks, sequence, price scale).
        self._pending: tuple[tuple[Level, ...], tuple[Level, ...], int | None, int] | None = None
        self._mid: Decimal | None = None  # the pending snapshot's mid
        # The pending snapshot's best prices with size, as the loaded book writes them (worked
        # out for the mid; None: no such level): the best levels a quote reads every step.
        self._touch_bid: Decimal | None = None
        self._touch_ask: Decimal | None = None
        # The pending snapshot while only its best levels are known (its levels not drawn).
        self._undrawn: BookTop | None = None

    @property
    def feed(self) -> OrderBook:
        """Exactly what the feed said (a pending snapshot loaded first)."""
        if self._pending is not None:
            self._load()
        return self._feed

    @property
    def paper(self) -> OrderBook:
        """The feed's levels net of what we took (a pending snapshot loaded first); to read:
        while nothing taken is outstanding it is the feed book itself."""
        if self._pending is not None:
            self._load()
        paper = self._paper
        return self._feed if paper is None else paper

    @property
    def pending(self) -> bool:
        """Whether the last snapshot is still held as given, not loaded into the books."""
        return self._pending is not None

    @property
    def shared(self) -> bool:
        """Whether the paper book is the feed book (nothing taken is outstanding)."""
        return self._paper is None

    def _load(self) -> None:
        if self._undrawn is not None:
            self._draw()
        assert self._pending is not None
        bids, asks, sequence, _ = self._pending
        self._pending = None
        self._feed.apply_snapshot(bids, asks, sequence)
        self._share()

    def _share(self) -> None:
        """The books are the same again: one book serves as both."""
        self._paper = None
        if self._taken_bids:  # (most snapshots replace a book nothing was taken from)
            self._taken_bids.clear()
        if self._taken_asks:
            self._taken_asks.clear()

    def _own_paper(self) -> OrderBook:
        """The paper book as a book of its own, copied from the feed book when shared."""
        paper = self._paper
        if paper is None:
            paper = self._paper = _accepting(self.feed.copy())
        return paper

    # -- feed data --------------------------------------------------------------------------

    def apply_snapshot(
        self, bids: Sequence[Level], asks: Sequence[Level], sequence: int | None
    ) -> None:
        """Replace the book; everything we took is forgotten (the snapshot is the truth).

        Held as given until something needs the books (see the module docstring)."""
        plain: tuple[int, str | None, str | None] | None
        if type(bids) is PlainLevels and bids.asks is asks:  # checked by its maker
            plain = bids.plain
        else:
            bids, asks = tuple(bids), tuple(asks)  # the caller may reuse its lists
            plain = plain_snapshot(bids, asks)
        if plain is None:  # loaded now: a malformed level raises here, as it always did
            if self._pending is not None:  # what a failing load leaves is on top of it
                self._load()
            # Into a new book: when a level raises, the one it replaces is still whole and
            # stays the paper book (which a failed snapshot never reached), the broken new
            # one being the feed book; loading into a cleared book is the same as into it.
            feed = OrderBook(self._feed.symbol)
            try:
                feed.apply_snapshot(bids, asks, sequence)
            except BaseException:
                if self._paper is None:
                    self._paper = _accepting(self._feed)
                self._feed = feed
                raise
            self._feed = feed
            self._share()
            return
        scale, bid, ask = plain
        self._share()  # replaced: what we took is forgotten, whenever the snapshot loads
        self._undrawn = None
        self._pending = (bids, asks, sequence, scale)
        best_bid = self._touch_bid = None if bid is None else _at_scale(bids, bid, scale)
        best_ask = self._touch_ask = None if ask is None else _at_scale(asks, ask, scale)
        self._mid = None if best_bid is None or best_ask is None else (best_bid + best_ask) / 2

    def apply_top(self, top: BookTop) -> None:
        """:meth:`apply_snapshot` of ``top.draw()``, held by its best levels: they answer the
        mid and a quote (``depth(1)``) as the drawn snapshot would; anything reading further
        draws it then and holds it as :meth:`apply_snapshot` would have."""
        self._share()
        self._undrawn = top
        self._pending = ((), (), top.sequence, 0)  # the levels and their scale: when drawn
        bid = self._touch_bid = top.bid[0]
        ask = self._touch_ask = top.ask[0]
        self._mid = (bid + ask) / 2

    def _draw(self) -> None:
        """Hold the whole snapshot of the top held (vouched for: nothing is loaded yet)."""
        top = self._undrawn
        assert top is not None
        drawn = top.draw()
        self.apply_snapshot(drawn.bids, drawn.asks, drawn.sequence)

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
        paper = self._paper
        if paper is not None:
            paper.apply_update(
                bids, asks, first_sequence=first_sequence, last_sequence=last_sequence
            )
            # A price the feed reports again holds the feed's size in both books.
            taken = self._taken_bids
            if taken:
                for price, _ in bids:
                    taken.discard(price)
            taken = self._taken_asks
            if taken:
                for price, _ in asks:
                    taken.discard(price)
            if not self._taken_bids and not self._taken_asks:
                self._share()
        return True

    def feed_mid(self) -> Decimal | None:
        """The feed book's mid (the mark), without loading a pending snapshot."""
        if self._pending is not None:
            return self._mid
        return self._feed.mid()

    @property
    def sequence(self) -> int | None:
        """The feed book's sequence, without loading a pending snapshot."""
        if self._pending is not None:
            return self._pending[2]
        return self._feed.sequence

    def depth(self, n: int) -> tuple[list[Level], list[Level]]:
        """The paper book's best ``n`` levels a side (``OrderBook.depth``); a pending snapshot
        is answered from its levels, as the loaded book would (nothing is taken from it yet)."""
        pending = self._pending
        if pending is None or n < 0:
            paper = self._paper
            return (self._feed if paper is None else paper).depth(n)
        undrawn = self._undrawn
        if n == 1:  # a quote: the best prices are known (the mid's), only their sizes are read
            if undrawn is not None:
                return [undrawn.bid], [undrawn.ask]
            return _touch(pending[0], self._touch_bid), _touch(pending[1], self._touch_ask)
        if undrawn is not None:
            self._draw()
            pending = self._pending
            assert pending is not None
        bids, asks, _, scale = pending
        return _best(bids, n, scale), _best(asks, n, scale)

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
        paper = self._own_paper()
        changes = [
            (price, paper.size_at(book_side, price) - quantity) for price, quantity in levels
        ]
        if taker_side == "buy":
            paper.apply_update((), changes)
            self._taken_asks.update(price for price, _ in levels)
        else:
            paper.apply_update(changes, ())
            self._taken_bids.update(price for price, _ in levels)


def _accepting(book: OrderBook) -> OrderBook:
    """``book`` as a paper book: one that takes updates. A paper book of its own was never
    refused one (the feed book refused them first), so one made from a feed book waiting for
    a resync gets its levels alone."""
    if not book.needs_resync:
        return book
    paper = OrderBook(book.symbol)
    bids, asks = book.depth(max(book.levels("bid"), book.levels("ask")))
    paper.apply_snapshot(bids, asks, book.sequence)
    return paper


def _at_scale(levels: tuple[Level, ...], text: str, scale: int) -> Decimal:
    """``price_at_scale(text, scale)`` for ``text``, the best price with size of ``levels``
    (a :func:`plain_snapshot` answer): that price itself when it is already written with
    ``scale`` places (the same digits and exponent; a snapshot's prices mostly share theirs),
    without taking its text apart again."""
    point = text.find(".")
    if (scale == 0) if point < 0 else (len(text) - point - 1 == scale):
        for price, size in levels:
            if size:
                return price
    return price_at_scale(text, scale)


def _touch(levels: tuple[Level, ...], price: Decimal | None) -> list[Level]:
    """``_best(levels, 1, scale)`` given its price (the first level with size, at ``scale``)."""
    if price is None:
        return []
    for _, size in levels:  # there is one: ``price`` is a level's with size
        if size:
            break
    return [(price, size)]


def _best(levels: tuple[Level, ...], n: int, scale: int) -> list[Level]:
    """The first ``n`` levels with size, priced as a book of ``scale`` places writes them."""
    best: list[Level] = []
    for price, size in levels:
        if len(best) >= n:
            break
        if size:
            best.append((price_at_scale(price, scale), size))
    return best
