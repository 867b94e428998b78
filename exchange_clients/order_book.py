"""L2 order book for one symbol: REST snapshot + WebSocket deltas, sequence checks, depth queries.

Every venue client keeps one ``OrderBook`` per symbol (snapshot, then deltas, resynced on a
sequence gap) and the paper venue matches orders against it, so it is both on the hottest path
we have (every level of every depth message) and the source of the prices we trade at.

Representation, and why
    Prices and sizes are exact ``Decimal`` at the API; inside, each side is a ``dict`` from an
    integer price key to the size ``Decimal`` plus a ``list`` of the keys kept sorted with
    ``bisect``. A key is the price scaled by ``10**scale``; ``scale`` starts at 0 and only ever
    widens (rescaling every key once) when a price with more decimal places arrives, so any
    finite price is represented exactly and "64123.50" and "64123.5" are the same level.

    Integer keys rather than ``Decimal`` keys because hashing a freshly parsed ``Decimal``
    costs ~0.3-0.4 us (it is computed modulo a prime) and every wire level is a fresh object,
    while an ``int`` hashes and compares for free. A price reaches its key through its text:
    the wire string as sent, or ``str()`` of a ``Decimal`` (exact, ~0.05 us). Texts already
    seen are remembered (a dict hit, ~0.04 us, instead of ~0.2 us of parsing); levels near the
    touch are revisited all the time, so almost every lookup hits. Texts that are not plain
    digits with an optional point ("1E-7", "-5") go through ``Decimal.as_integer_ratio``,
    which is exact and ignores the caller's decimal context.

    A sorted ``list`` rather than a tree because books are at most a few thousand levels per
    side and almost all changes touch existing levels (a dict store). New and emptied levels
    cost a C ``bisect`` plus a pointer ``memmove`` of a few KB. Bids and asks are both kept
    ascending: the best bid is the last key, the best ask the first.

    Prices come back equal in value to what was given but written with the book's scale
    (64124 may come back as ``Decimal("64124.00")``). Sizes are stored as the ``Decimal`` the
    caller gave (or parsed from the wire string), so nothing is rounded. The edge of a
    slippage band is decided exactly, in integers; results that need arithmetic (``mid``,
    VWAP, notionals) are ``Decimal`` under the current context (28 digits by default).

Sequence numbers
    Venues number their depth messages differently; ``apply_update`` takes the union:
    ``first_sequence``/``last_sequence`` (Binance ``U``/``u``, Backpack ``U``/``u``; a venue
    with one number per message passes it as both) and ``previous_sequence`` (Binance futures
    ``pu``). Stale messages are dropped; a gap marks the book as needing a new snapshot and
    every later update is refused until one arrives, because a book that silently misses a
    level change would quote and fill at prices that do not exist.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, Context, Decimal
from typing import Literal, TypeVar

from core.errors import TradingError

Side = Literal["buy", "sell"]
"""The *taker's* side: a buy walks the asks, a sell walks the bids."""

BookSide = Literal["bid", "ask"]
"""A side of the book itself."""

Level = tuple[Decimal, Decimal]
"""``(price, size)``."""

_ZERO = Decimal(0)
_MAX_SCALE = 30
"""Prices with more decimal places, or beyond 1e30, are refused: no venue quotes them, and
keys stay small ints."""
_POW10: tuple[int, ...] = tuple(10**places for places in range(_MAX_SCALE + 1))
_REMEMBERED_TEXTS = 65_536
"""Price texts whose key is remembered; all forgotten at once when full (a few MB at most)."""
_L = TypeVar("_L", tuple[Decimal, Decimal], Sequence[str])
_EXACT = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)
"""Turns keys back into prices without rounding, whatever the caller's context is."""


class OrderBookError(TradingError):
    """The book cannot do what was asked; the subclasses say why."""


class SequenceGap(OrderBookError):
    """A depth message does not follow the last one applied: at least one was missed."""


class BookNeedsResync(OrderBookError):
    """An update arrived for a book that needs a new snapshot first."""


class CrossedBook(OrderBookError):
    """The best bid is at or above the best ask after applying venue data."""


class InsufficientDepth(OrderBookError):
    """The book does not hold enough size to fill the requested amount."""


class OrderBook:
    """The L2 book of one symbol.

    Not thread-safe: it belongs to the event loop of the client that feeds it.
    """

    __slots__ = (
        "_ask_keys",
        "_asks",
        "_bid_keys",
        "_bids",
        "_from_snapshot",
        "_keys_by_text",
        "_prices_by_key",
        "_resync_reason",
        "_scale",
        "_sequence",
        "symbol",
    )

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self._bids: dict[int, Decimal] = {}
        self._asks: dict[int, Decimal] = {}
        self._bid_keys: list[int] = []  # ascending: best bid last
        self._ask_keys: list[int] = []  # ascending: best ask first
        self._scale = 0
        self._keys_by_text: dict[str, int] = {}  # price text -> key at the current scale
        self._prices_by_key: dict[int, Decimal] = {}  # key -> its price at the current scale
        self._sequence: int | None = None
        self._from_snapshot = False  # no update applied since the snapshot
        self._resync_reason: str | None = None

    def __repr__(self) -> str:
        return (
            f"OrderBook({self.symbol!r}, bid={self.best_bid()}, ask={self.best_ask()}, "
            f"levels={len(self._bids)}/{len(self._asks)}, sequence={self._sequence})"
        )

    # -- state -----------------------------------------------------------------------------------

    @property
    def sequence(self) -> int | None:
        """Sequence number of the last snapshot or update applied, if the venue sends one."""
        return self._sequence

    @property
    def needs_resync(self) -> bool:
        """True after a sequence gap (or ``invalidate``) until the next snapshot."""
        return self._resync_reason is not None

    def invalidate(self, reason: str) -> None:
        """Refuse updates until the next snapshot, e.g. after the depth stream reconnected."""
        self._resync_reason = reason

    # -- writing ---------------------------------------------------------------------------------

    def apply_snapshot(
        self,
        bids: Iterable[Level],
        asks: Iterable[Level],
        sequence: int | None = None,
        *,
        raise_on_cross: bool = False,
    ) -> None:
        """Replace the whole book with ``(price, size)`` levels and clear a pending resync.

        Zero sizes are skipped. If a level is malformed the book is left empty and marked
        ``needs_resync``.
        """
        self._snapshot(self._level, bids, asks, sequence, raise_on_cross)

    def apply_wire_snapshot(
        self,
        bids: Iterable[Sequence[str]],
        asks: Iterable[Sequence[str]],
        sequence: int | None = None,
        *,
        raise_on_cross: bool = False,
    ) -> None:
        """``apply_snapshot`` for levels as parsed JSON gives them: ``[["64123.5", "0.015"]]``."""
        self._snapshot(self._wire_level, bids, asks, sequence, raise_on_cross)

    def apply_update(
        self,
        bids: Iterable[Level],
        asks: Iterable[Level],
        *,
        first_sequence: int | None = None,
        last_sequence: int | None = None,
        previous_sequence: int | None = None,
        raise_on_cross: bool = False,
    ) -> bool:
        """Apply level changes; size 0 removes a level (a missing one is fine).

        Returns False, changing nothing, when the message is stale (``last_sequence`` is not
        newer than the book); True when applied. Raises ``SequenceGap`` when it does not follow
        on, and ``BookNeedsResync`` for every update after that until the next snapshot; see
        ``_accepts`` for the exact rules. Raises ``CrossedBook`` *after* applying when
        ``raise_on_cross`` and the book ends up crossed: the book keeps what the venue sent.
        A malformed level (not a number, negative size) raises with the levels before it
        applied and the book marked ``needs_resync``.
        """
        if not self._accepts(first_sequence, last_sequence, previous_sequence):
            return False
        self._update(self._update_side, bids, asks, last_sequence, raise_on_cross)
        return True

    def apply_wire_update(
        self,
        bids: Iterable[Sequence[str]],
        asks: Iterable[Sequence[str]],
        *,
        first_sequence: int | None = None,
        last_sequence: int | None = None,
        previous_sequence: int | None = None,
        raise_on_cross: bool = False,
    ) -> bool:
        """``apply_update`` for levels as parsed JSON gives them: ``[["64123.5", "0"]]``.

        Prices and sizes are parsed exactly, with no float in between.
        """
        if not self._accepts(first_sequence, last_sequence, previous_sequence):
            return False
        self._update(self._wire_update_side, bids, asks, last_sequence, raise_on_cross)
        return True

    # -- reading ---------------------------------------------------------------------------------

    def best_bid(self) -> Level | None:
        keys = self._bid_keys
        return (self._price(keys[-1]), self._bids[keys[-1]]) if keys else None

    def best_ask(self) -> Level | None:
        keys = self._ask_keys
        return (self._price(keys[0]), self._asks[keys[0]]) if keys else None

    def mid(self) -> Decimal | None:
        if not (self._bid_keys and self._ask_keys):
            return None
        return (self._price(self._bid_keys[-1]) + self._price(self._ask_keys[0])) / 2

    def spread(self) -> Decimal | None:
        """Best ask minus best bid (zero or negative when the book is crossed)."""
        if not (self._bid_keys and self._ask_keys):
            return None
        return self._price(self._ask_keys[0]) - self._price(self._bid_keys[-1])

    @property
    def is_crossed(self) -> bool:
        """Best bid at or above best ask: the venue's data is inconsistent or we missed some."""
        return bool(self._bid_keys and self._ask_keys and self._bid_keys[-1] >= self._ask_keys[0])

    def levels(self, side: BookSide) -> int:
        """Number of price levels on one side of the book."""
        return len(self._sizes(side))

    def size_at(self, side: BookSide, price: Decimal) -> Decimal:
        """Size resting at exactly ``price`` on one side of the book; 0 when there is none.

        A price finer than any seen so far widens the book's scale, which changes no value.
        """
        sizes = self._sizes(side)
        text = str(price)
        key = self._keys_by_text.get(text)
        return sizes.get(self._key_of_text(text) if key is None else key, _ZERO)

    def depth(self, n: int) -> tuple[list[Level], list[Level]]:
        """The best ``n`` levels of each side, best first: ``(bids, asks)``."""
        if n < 0:
            raise ValueError(f"depth must be >= 0, not {n}")
        # Read on every strategy step: slices of the key lists and the remembered prices,
        # not two generators (each level a generator resume and a call, ~2x the cost).
        known = self._prices_by_key
        price = self._price
        bids, asks = self._bids, self._asks
        return (
            [(known.get(key) or price(key), bids[key]) for key in self._bid_keys[: -n - 1 : -1]],
            [(known.get(key) or price(key), asks[key]) for key in self._ask_keys[:n]],
        )

    def fill_walk(self, side: Side, size: Decimal) -> list[Level]:
        """The ``(price, size)`` levels a taker on ``side`` would take for ``size``, best first.

        Partial when the book runs out: the sizes then add up to everything on that side.
        """
        if not size > 0:
            raise ValueError(f"size must be > 0, not {size}")
        remaining = size
        taken: list[Level] = []
        for price, available in self._best_first(_taken_side(side)):
            take = min(available, remaining)
            taken.append((price, take))
            remaining -= take
            if not remaining:
                break
        return taken

    def average_fill_price(self, side: Side, size: Decimal) -> Decimal:
        """Volume-weighted price a taker on ``side`` would pay or receive for ``size``.

        Raises ``InsufficientDepth`` when that side holds less than ``size``.
        """
        taken = self.fill_walk(side, size)
        available = sum((q for _, q in taken), _ZERO)
        if available < size:
            raise InsufficientDepth(
                f"{self.symbol}: cannot {side} {size}: only {available} available in the book"
            )
        return sum((p * q for p, q in taken), _ZERO) / size

    def notional_within_slippage(self, side: Side, max_slippage_pct: Decimal) -> Decimal:
        """Quote notional (sum of price * size) a taker on ``side`` can trade without paying
        more than ``max_slippage_pct`` percent away from the touch; 0 for an empty side."""
        return sum((p * q for p, q in self._within_slippage(side, max_slippage_pct)), _ZERO)

    def size_within_slippage(self, side: Side, max_slippage_pct: Decimal) -> Decimal:
        """Base size a taker on ``side`` can trade within ``max_slippage_pct`` percent."""
        return sum((q for _, q in self._within_slippage(side, max_slippage_pct)), _ZERO)

    def copy(self) -> OrderBook:
        """An independent book with the same levels and sequence state (O(levels))."""
        clone = OrderBook(self.symbol)
        clone._bids = self._bids.copy()
        clone._asks = self._asks.copy()
        clone._bid_keys = self._bid_keys.copy()
        clone._ask_keys = self._ask_keys.copy()
        clone._scale = self._scale
        clone._sequence = self._sequence
        clone._from_snapshot = self._from_snapshot
        clone._resync_reason = self._resync_reason
        return clone

    # -- internals: sequence rules and bookkeeping -----------------------------------------------

    def _accepts(self, first: int | None, last: int | None, previous: int | None) -> bool:
        """Whether an update with these numbers applies (False: stale); raises on a gap.

        - no ``last`` (venue without sequence numbers) or no book sequence yet: apply;
        - ``last <= sequence``: stale, drop;
        - ``previous`` given: must equal ``sequence`` (Binance futures ``pu``), except that
          the first message after a snapshot straddles it (``U <= lastUpdateId <= u``), so
          its ``pu`` may be older than the snapshot;
        - otherwise ``first`` given: must be ``<= sequence + 1`` (Binance ``U``, Backpack
          ``U = previous u + 1``).
        """
        if self._resync_reason is not None:
            raise BookNeedsResync(
                f"{self.symbol}: update refused until a new snapshot ({self._resync_reason})"
            )
        if last is None:
            if first is not None or previous is not None:
                raise ValueError("first_sequence/previous_sequence need last_sequence too")
            return True
        if first is not None and first > last:
            raise ValueError(f"first_sequence {first} is after last_sequence {last}")
        current = self._sequence
        if current is None:
            return True
        if last <= current:
            return False
        if previous is not None:
            if previous != current and not (self._from_snapshot and previous < current):
                self._gap(f"expected previous_sequence {current}, received {previous}")
        elif first is not None and first > current + 1:
            self._gap(f"expected first_sequence <= {current + 1}, received {first}")
        return True

    def _gap(self, detail: str) -> None:
        self._resync_reason = f"sequence gap: {detail}"
        raise SequenceGap(f"{self.symbol}: {self._resync_reason}")

    def _snapshot(
        self,
        convert: Callable[[_L], tuple[int, Decimal]],
        bids: Iterable[_L],
        asks: Iterable[_L],
        sequence: int | None,
        raise_on_cross: bool,
    ) -> None:
        self._clear()
        self._sequence = sequence
        self._from_snapshot = sequence is not None
        self._resync_reason = None
        try:
            self._load(self._bids, self._bid_keys, map(convert, bids))
            self._load(self._asks, self._ask_keys, map(convert, asks))
        except BaseException as exc:
            self._clear()  # rather than half a book
            self._broken(exc)
            raise
        if raise_on_cross:
            self._check_not_crossed()

    def _clear(self) -> None:
        for sizes, keys in ((self._bids, self._bid_keys), (self._asks, self._ask_keys)):
            sizes.clear()
            keys.clear()
        self._scale = 0
        self._keys_by_text.clear()
        self._prices_by_key.clear()

    def _update(
        self,
        update_side: Callable[[dict[int, Decimal], list[int], Iterable[_L]], None],
        bids: Iterable[_L],
        asks: Iterable[_L],
        last_sequence: int | None,
        raise_on_cross: bool,
    ) -> None:
        try:
            update_side(self._bids, self._bid_keys, bids)
            update_side(self._asks, self._ask_keys, asks)
        except BaseException as exc:
            self._broken(exc)
            raise
        if last_sequence is not None:
            self._sequence = last_sequence
        self._from_snapshot = False
        if raise_on_cross:
            self._check_not_crossed()

    def _broken(self, exc: BaseException) -> None:
        """Applying stopped half-way: the book now matches no state the venue ever had."""
        self._resync_reason = f"applying levels failed: {exc!r}"

    def _check_not_crossed(self) -> None:
        if self.is_crossed:
            raise CrossedBook(
                f"{self.symbol}: book crossed at sequence {self._sequence}: best bid "
                f"{self._price(self._bid_keys[-1])} >= best ask {self._price(self._ask_keys[0])}"
            )

    # -- internals: levels -----------------------------------------------------------------------

    def _level(self, level: Level) -> tuple[int, Decimal]:
        price, size = level
        return self._key_of_text(str(price)), size

    def _wire_level(self, level: Sequence[str]) -> tuple[int, Decimal]:
        price, size = level
        return self._key_of_text(price), Decimal(size)

    def _load(
        self, sizes: dict[int, Decimal], keys: list[int], levels: Iterable[tuple[int, Decimal]]
    ) -> None:
        """Fill one side of an emptied book, then sort its keys once (no insort per level)."""
        for key, size in levels:
            if size > _ZERO:
                sizes[key] = size
            elif size:
                raise ValueError(f"{self.symbol}: negative size {size}")
            else:
                sizes.pop(key, None)
        keys[:] = sorted(sizes)

    # The two hot loops differ only in how a level's text and size are had; they are not merged
    # because a call or a branch per level costs several percent of the loop.

    def _update_side(
        self, sizes: dict[int, Decimal], keys: list[int], levels: Iterable[Level]
    ) -> None:
        known = self._keys_by_text
        for price, size in levels:
            try:
                key = known[str(price)]
            except KeyError:
                key = self._key_of_text(str(price))
            if size > _ZERO:
                if key not in sizes:
                    insort(keys, key)
                sizes[key] = size
            elif size:
                raise ValueError(f"{self.symbol}: negative size {size}")
            elif sizes.pop(key, None) is not None:
                del keys[bisect_left(keys, key)]

    def _wire_update_side(
        self, sizes: dict[int, Decimal], keys: list[int], levels: Iterable[Sequence[str]]
    ) -> None:
        # Deliberately the same loop as _update_side, specialised for price text: sharing it
        # through a callback costs a call per level on the hottest path of every venue feed.
        known = self._keys_by_text
        for price, size_text in levels:
            try:
                key = known[price]
            except KeyError:
                key = self._key_of_text(price)
            size = Decimal(size_text)
            if size > _ZERO:
                if key not in sizes:
                    insort(keys, key)
                sizes[key] = size
            elif size:
                raise ValueError(f"{self.symbol}: negative size {size}")
            elif sizes.pop(key, None) is not None:
                del keys[bisect_left(keys, key)]

    def _key_of_text(self, text: str) -> int:
        """The key of a price written as ``text`` ("64123.50", ".5", "1E-7"), remembered."""
        whole, _, fraction = text.partition(".")
        digits = whole + fraction
        if digits.isdecimal() and len(fraction) <= _MAX_SCALE:
            # Widen to the places as written, not as needed, so that "64123.50" is exact as is.
            self._widen(len(fraction))
            key = int(digits) * _POW10[self._scale - len(fraction)]
        else:  # sign, exponent, spaces or junk: Decimal judges
            key = self._key_of_decimal(Decimal(text))
        remembered = self._keys_by_text
        if len(remembered) >= _REMEMBERED_TEXTS:
            remembered.clear()
        remembered[text] = key
        return key

    def _key_of_decimal(self, price: Decimal) -> int:
        """The key of ``price``, widening the scale to its decimal places if they are more."""
        # The range check comes first: as_integer_ratio() of "1E+999999999" would build a
        # billion-digit int.
        if not (price.is_finite() and -_MAX_SCALE <= price.adjusted() <= _MAX_SCALE):
            raise ValueError(f"{self.symbol}: price {price} is not a number within 1e+-30")
        numerator, denominator = price.as_integer_ratio()
        for places in range(self._scale, _MAX_SCALE + 1):
            if _POW10[places] % denominator == 0:
                break
        else:
            raise ValueError(f"{self.symbol}: price {price} has more than 30 decimal places")
        self._widen(places)
        return numerator * _POW10[places] // denominator

    def _widen(self, places: int) -> None:
        """Rescale every key to ``places`` decimal places (nothing to do if already as fine)."""
        if places <= self._scale:
            return
        factor = _POW10[places - self._scale]
        for sizes, keys in ((self._bids, self._bid_keys), (self._asks, self._ask_keys)):
            rescaled = {key * factor: size for key, size in sizes.items()}
            sizes.clear()
            sizes.update(rescaled)
            keys[:] = [key * factor for key in keys]
        self._scale = places
        self._keys_by_text.clear()
        self._prices_by_key.clear()

    def _price(self, key: int) -> Decimal:
        """The level's price, remembered: the levels near the touch are read on every depth
        query (a ``scaleb`` ~0.5 us each; a dict hit ~0.05 us). The same value and exponent
        either way; forgotten when the scale widens."""
        price = self._prices_by_key.get(key)
        if price is None:
            prices = self._prices_by_key
            if len(prices) >= _REMEMBERED_TEXTS:
                prices.clear()
            price = prices[key] = Decimal(key).scaleb(-self._scale, _EXACT)
        return price

    def _sizes(self, side: BookSide) -> dict[int, Decimal]:
        if side == "bid":
            return self._bids
        if side == "ask":
            return self._asks
        raise ValueError(f"side must be 'bid' or 'ask', not {side!r}")

    def _side(self, book_side: BookSide) -> tuple[dict[int, Decimal], Iterator[int]]:
        """The sizes of one side and its keys, best first."""
        if book_side == "bid":
            return self._bids, reversed(self._bid_keys)
        return self._asks, iter(self._ask_keys)

    def _best_first(self, book_side: BookSide) -> Iterator[Level]:
        sizes, keys = self._side(book_side)
        for key in keys:
            yield self._price(key), sizes[key]

    def _within_slippage(self, side: Side, max_slippage_pct: Decimal) -> Iterator[Level]:
        if max_slippage_pct < 0:
            raise ValueError(f"max_slippage_pct must be >= 0, not {max_slippage_pct}")
        numerator, denominator = max_slippage_pct.as_integer_ratio()
        sizes, keys = self._side(_taken_side(side))
        touch: int | None = None
        for key in keys:
            if touch is None:
                touch = key
            # |price - touch| / touch > pct / 100, in integers: exact at the edge of the band
            # however many digits the prices and the percentage have.
            elif abs(key - touch) * 100 * denominator > touch * numerator:
                return
            yield self._price(key), sizes[key]


def plain_snapshot(
    bids: Sequence[Level], asks: Sequence[Level]
) -> tuple[int, str | None, str | None] | None:
    """``(scale, best bid, best ask)`` of a snapshot: the decimal places an ``OrderBook``
    loaded with it writes its prices with, and the text of the best price with size on each
    side (None: no such level); or None when the levels are not ones this function vouches
    for.

    It vouches for ``Decimal`` levels that :meth:`OrderBook.apply_snapshot` loads without
    raising and without reordering: prices best first with no repeats (bids falling, asks
    rising), written without an exponent or sign and with at most 30 decimal places, sizes
    not negative. For those, the loaded book's answers follow from the levels as given
    (:func:`price_at_scale`), so a holder of a snapshot that nobody may read
    (:class:`exchange_clients.paper.book.PaperBook`) need not load it to answer its mid or
    its best levels.
    """
    scale = 0
    touch: list[str | None] = []
    try:
        for levels, falling in ((bids, True), (asks, False)):
            previous: Decimal | None = None
            best: str | None = None
            for price, size in levels:
                if type(price) is not Decimal or type(size) is not Decimal or size < _ZERO:
                    return None
                if previous is not None and (price >= previous if falling else price <= previous):
                    return None
                previous = price
                text = str(price)
                whole, _, fraction = text.partition(".")
                if not (whole + fraction).isdecimal() or len(fraction) > _MAX_SCALE:
                    return None
                if len(fraction) > scale:
                    scale = len(fraction)
                if best is None and size:
                    best = text
            touch.append(best)
    except (ArithmeticError, TypeError, ValueError):  # NaN sizes, levels that are not pairs
        return None
    return scale, touch[0], touch[1]


def price_at_scale(price: Decimal | str, scale: int) -> Decimal:
    """``price`` (or its text) as a book of ``scale`` decimal places returns it (a
    :func:`plain_snapshot` level: no sign, no exponent, at most ``scale`` places)."""
    whole, _, fraction = str(price).partition(".")
    key = int(whole + fraction) * _POW10[scale - len(fraction)]
    return Decimal(key).scaleb(-scale, _EXACT)


def _taken_side(side: Side) -> BookSide:
    """The side of the book a taker on ``side`` takes from."""
    if side == "buy":
        return "ask"
    if side == "sell":
        return "bid"
    raise ValueError(f"side must be 'buy' or 'sell', not {side!r}")
