"""Funding history (rows of "rate R was charged at time T") as market events.

The strategy must not see a rate before the market could: the rate charged at ``T`` is
published ``1 us`` before ``T`` (so the settlement at ``T`` charges it) and stays the
venue's "current" rate until the next one is; before the first, the rate is 0.

Funding-only data has no order book, so one is drawn around each row's mark price: a
``spread_bps`` wide touch and ``levels`` levels a side of ``depth_usd`` each, replaced at each
funding time by the next row's mark. The result states it (``notes``).

Streamed, that is three events per row (two funding messages and a drawn book): millions a
year over hundreds of symbols, almost none of them read. So the rows are also kept as columns
- a :class:`FundingTape` - that the paper venue reads on demand
(:mod:`exchange_clients.paper.tape`): the same books, funding and times, each book drawn only
when something reads it. The event stream (:func:`funding_events`, :func:`merge`) stays the
definition the tape is tested against, and what data the tape does not take goes through.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_right
from collections.abc import AsyncGenerator, AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal, getcontext
from functools import partial

from backtest.sources.feed import HistoryFeed, VenueData
from core.clock import Clock
from core.errors import UnknownSymbol
from exchange_clients.market_data.events import (
    BookSnapshotEvent,
    FundingEvent,
    Level,
    MarketEvent,
)
from exchange_clients.paper.book import BookTop, PlainLevels
from exchange_clients.paper.tape import MarketTape
from exchange_clients.types import FundingRate, Market

MICROSECOND = timedelta(microseconds=1)
DEFAULT_SPREAD_BPS = Decimal(2)
DEFAULT_DEPTH_USD = Decimal(250_000)
BOOK_LEVELS = 5
_BPS_HALVED = Decimal(20_000)  # half the spread: bps / 10,000 / 2
_LEVELS = tuple(Decimal(i) for i in range(BOOK_LEVELS))
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class FundingRow:
    funding_time: datetime
    rate: Decimal
    interval_hours: Decimal
    mark_price: Decimal | None


@dataclass(frozen=True, slots=True)
class BookShape:
    spread_bps: Decimal = DEFAULT_SPREAD_BPS
    depth_usd: Decimal = DEFAULT_DEPTH_USD

    def note(self) -> str:
        return (
            f"order books drawn around each funding row's mark price: {self.spread_bps} bps "
            f"touch, {BOOK_LEVELS} levels a side of {self.depth_usd} USD"
        )


def market_for(symbol: str, price: Decimal) -> Market:
    """A listing for data that has none: ~6 significant digits of price, ~10 USD size steps."""
    magnitude = math.floor(math.log10(price)) if price > 0 else 0
    tick = Decimal(1).scaleb(magnitude - 5)
    step_exp = min(0, math.floor(math.log10(10 / float(price)))) if price > 0 else 0
    step = Decimal(1).scaleb(step_exp)
    return Market(
        symbol=symbol,
        contract_id=symbol,
        tick_size=tick,
        step_size=step,
        min_size=step,
        min_notional=Decimal(0),
        max_leverage=Decimal(20),
    )


def drawn_book(
    venue: str, market: Market, ts: datetime, mark: Decimal, shape: BookShape
) -> BookSnapshotEvent:
    # Every price is worked out as the definition reads (offset = half + twice * level;
    # (mark -/+ offset) / tick floored/ceiled, times tick) - or, where that is the same
    # Decimal (see _exact_at), as (mark -/+ offset) floored/ceiled to the tick in one step:
    # a funding backtest draws hundreds of these per scan, so the loop keeps to locals.
    tick = market.tick_size
    half = mark * shape.spread_bps / _BPS_HALVED
    twice = 2 * half
    exact_at = _exact_at(mark, half, tick)
    bids: list[Level] = []
    asks: list[Level] = []
    size: Decimal | None = None  # the same on every level: worked out once, if a level fits
    last_bid = last_ask = _ZERO
    for i in _LEVELS:
        offset = half + twice * i
        if exact_at is not None:
            bid = (mark - offset).quantize(tick, ROUND_FLOOR)
            ask = (mark + offset).quantize(tick, ROUND_CEILING)
        else:
            bid = ((mark - offset) / tick).to_integral_value(ROUND_FLOOR) * tick
            ask = ((mark + offset) / tick).to_integral_value(ROUND_CEILING) * tick
        if i:
            if bid >= last_bid:
                bid = last_bid - tick
            if ask <= last_ask:
                ask = last_ask + tick
        if bid <= 0:
            break
        if size is None:
            step = market.step_size
            size = max(step, (shape.depth_usd / mark / step).to_integral_value(ROUND_DOWN) * step)
        bids.append((bid, size))
        asks.append((ask, size))
        last_bid, last_ask = bid, ask
    sequence = int(ts.timestamp() * 1_000_000)
    if exact_at is None or not _plain(exact_at, size, last_bid):
        return BookSnapshotEvent(venue, market.symbol, ts, tuple(bids), tuple(asks), sequence)
    # Vouched for: the paper book takes the levels without reading each back as text.
    plain: tuple[int, str | None, str | None] = (0, None, None)  # no level: no places
    if bids:
        plain = (exact_at, str(bids[0][0]), str(asks[0][0])) if size else (exact_at, None, None)
    drawn_asks = tuple(asks)
    return BookSnapshotEvent(
        venue,
        market.symbol,
        ts,
        PlainLevels.vouched(bids, drawn_asks, plain),
        drawn_asks,
        sequence,
    )


def drawn_top(market: Market, mark: Decimal, shape: BookShape) -> tuple[Level, Level] | None:
    """The best bid and ask levels :func:`drawn_book` draws around ``mark`` (the same digits)
    when it vouches for the book's levels and both sides have one with size; else None (draw
    the book). A quote reads no more of a book: the other levels are drawn when read.

    Vouched for as :func:`drawn_book` would: every price exact (:func:`_exact_at`) and the
    lowest bid at least 1e-6. That is known from the touch: each bid is at least the one
    before it less a tick, or its own offset (``half + 2 * half * level``) below the mark less
    a tick, so the lowest of five is at least ``mark - 9 half - 5 ticks`` (then positive: no
    level is cut off either). Level 0's offset is ``half``: the same prices when quantized."""
    tick = market.tick_size
    half = mark * shape.spread_bps / _BPS_HALVED
    places = _exact_at(mark, half, tick)
    if places is None or places > _MAX_PLACES or mark - 9 * half - 5 * tick < _PLAIN_LOWEST:
        return None
    step = market.step_size
    size = max(step, (shape.depth_usd / mark / step).to_integral_value(ROUND_DOWN) * step)
    if type(size) is not Decimal or size <= 0:
        return None
    return (
        ((mark - half).quantize(tick, ROUND_FLOOR), size),
        ((mark + half).quantize(tick, ROUND_CEILING), size),
    )


_PLAIN_LOWEST = Decimal("0.000001")  # the lowest price str() writes without an exponent
_MAX_EXACT_DIGITS = 27  # under the 28 of the default context, with a digit to spare
_MAX_PLACES = 30  # what plain_snapshot takes


def _exact_at(mark: Decimal, half: Decimal, tick: Decimal) -> int | None:
    """The tick's decimal places when every price :func:`drawn_book` works out is exact and
    written with them - so ``x.quantize(tick, FLOOR)`` is the definition's ``(x / tick).
    to_integral_value(FLOOR) * tick``, digit for digit (CEILING alike) - else None.

    That holds with the tick a power of ten (coefficient 1, exponent ``t`` at most 0), mark's
    and half's exponents both at most ``t`` and every figure short enough that no step
    rounds. Then each step keeps to the exponent rules: an offset (``half * (1 + 2 i)``) has
    half's exponent, ``mark -/+ offset`` the smaller ``e`` of mark's and half's; divided by
    the tick its exponent is ``e - t`` (at most 0), 0 once integral, ``t`` times the tick - as
    quantizing to the tick gives; a level moved a tick past the one before it (``last -/+
    tick``) has exponent ``t`` too. (Asked for every book drawn: kept to plain operations.)"""
    if type(mark) is not Decimal or type(half) is not Decimal or type(tick) is not Decimal:
        return None
    tick_text = str(tick)
    t = _TICK_POWERS.get(tick_text, _UNSEEN)
    if t is _UNSEEN:
        t = _TICK_POWERS[tick_text] = _tick_power(tick_text)
    if t is None:
        return None
    e = _exponent(str(mark))
    half_exponent = _exponent(str(half))
    if half_exponent < e:
        e = half_exponent
    if e > t:
        return None
    # The largest magnitude any step reaches: below twice the largest of the mark, the widest
    # offset (< 10 half) and the ticks a level moves by (< 10 ticks; t + 1 <= 1).
    top = mark.adjusted()
    widest = half.adjusted() + 1
    if widest > top:
        top = widest
    if t + 1 > top:
        top = t + 1
    if top + 2 - e > _MAX_EXACT_DIGITS or getcontext().prec <= _MAX_EXACT_DIGITS:
        return None
    return -t


_UNSEEN = -1  # (a tick's power is at most 0, or None)
_TICK_POWERS: dict[str, int | None] = {}  # a tick's text -> _tick_power


def _tick_power(text: str) -> int | None:
    """The exponent of a tick written ``text`` when it is a power of ten at most 1 (its
    coefficient 1), else None."""
    if "E" in text:  # 1E-8, 1E+1
        coefficient, _, power = text.partition("E")
        t = int(power) if coefficient == "1" else None
    elif text.replace(".", "").lstrip("0") == "1":
        t = _exponent(text)
    else:
        return None  # not a power of ten (or written with more digits: 0.010)
    return None if t is None or t > 0 else t  # a multiple of 10 prints in exponent form


def _exponent(text: str) -> int:
    """The exponent of a finite ``Decimal`` from its text (``str``): minus its places when
    written plainly, else the written exponent less the places of the digits before it."""
    if "E" not in text:
        point = text.find(".")
        return 0 if point < 0 else point + 1 - len(text)
    digits, _, power = text.partition("E")
    point = digits.find(".")
    return int(power) - (0 if point < 0 else len(digits) - point - 1)


def _plain(places: int, size: Decimal | None, lowest: Decimal) -> bool:
    """Whether :func:`drawn_book` can vouch for its levels (:class:`~exchange_clients.paper.
    book.PlainLevels`), every price written with ``places`` places (:func:`_exact_at`): none
    is in exponent form when the lowest (the last bid) is at least 1e-6, and sizes are one
    ``Decimal``, not negative, on every level. Prices are best first (each level strictly
    past the last) and positive by construction."""
    if size is None:  # no level: nothing to vouch for but the empty sides
        return True
    return type(size) is Decimal and size >= 0 and lowest.adjusted() >= -6 and places <= _MAX_PLACES


def funding_events(
    venue: str,
    market: Market,
    rows: Sequence[FundingRow],
    shape: BookShape | None,
) -> Iterator[MarketEvent]:
    """Events of one symbol, in time order. ``shape`` None: the data has its own books."""
    for index, row in enumerate(rows):
        mark, funding_time = row.mark_price, row.funding_time
        if shape is not None and index == 0 and mark is not None:
            interval = _interval(row.interval_hours)
            yield drawn_book(venue, market, funding_time - interval, mark, shape)
        yield FundingEvent(published_rate(venue, market.symbol, row, settled=False))
        if shape is not None and mark is not None:
            yield drawn_book(venue, market, funding_time, mark, shape)
        yield FundingEvent(published_rate(venue, market.symbol, row, settled=True))


def published_rate(venue: str, symbol: str, row: FundingRow, *, settled: bool) -> FundingRate:
    """The venue's funding message for ``row``: before its funding time (``T - 1 us``, the
    rate as predicted for ``T``) or once settled (``T + 1 us``, naming the next funding time
    one interval on). The event stream and the tape publish the same two."""
    # Positional: a funding backtest publishes one of these per row read, and a dataclass
    # takes its fields by position in about half the time it takes them by keyword.
    funding_time = row.funding_time
    if settled:
        return FundingRate(
            venue,
            symbol,
            row.rate,  # rate
            row.interval_hours,
            funding_time + _interval(row.interval_hours),  # next_funding_time
            None,  # predicted_rate
            row.mark_price,
            funding_time + MICROSECOND,  # ts
        )
    return FundingRate(
        venue,
        symbol,
        row.rate,  # rate
        row.interval_hours,
        funding_time,  # next_funding_time
        row.rate,  # predicted_rate
        row.mark_price,
        funding_time - MICROSECOND,  # ts
    )


_INTERVALS: dict[Decimal, timedelta] = {}


def _interval(hours: Decimal) -> timedelta:
    interval = _INTERVALS.get(hours)
    if interval is None:
        interval = _INTERVALS[hours] = timedelta(hours=float(hours))
    return interval


def merge(streams: Sequence[Iterator[MarketEvent]]) -> Iterator[MarketEvent]:
    """Several time-ordered streams as one, ties in the order of ``streams`` (deterministic):
    events ordered by (ts, stream position, order within the stream).

    Funding data stamps every symbol's events with the same few times, so the streams are
    grouped by the time of their next event (one bucket per time, the times in a heap)
    instead of each event going through a heap of all streams: about half the cost."""
    iterators = [iter(stream) for stream in streams]
    heads: dict[int, MarketEvent] = {}
    waiting: dict[datetime, list[int]] = {}  # time -> streams whose next event has it
    times: list[datetime] = []  # heap of the keys of ``waiting``

    def wait(position: int, event: MarketEvent) -> None:
        heads[position] = event
        ts = event.ts
        bucket = waiting.get(ts)
        if bucket is None:
            waiting[ts] = [position]
            heapq.heappush(times, ts)
        else:
            bucket.append(position)

    for position, iterator in enumerate(iterators):
        first = next(iterator, None)
        if first is not None:
            wait(position, first)
    while times:
        ts = heapq.heappop(times)
        positions = waiting.pop(ts)
        positions.sort()
        for position in positions:
            event: MarketEvent | None = heads.pop(position)
            iterator = iterators[position]
            while event is not None:
                yield event
                event = next(iterator, None)
                # Its next event goes on now if nothing can come before it: stamped at this
                # time (it precedes the later streams) or, out of order, earlier.
                if event is not None and event.ts > ts:
                    wait(position, event)
                    break


class _SymbolTape:
    """One symbol's rows as columns: funding times (sorted) with their rows, drawn on demand.

    Book versions: 0 is the opening book (row 0's mark, one interval before its funding time),
    ``i + 1`` the book drawn at row ``i``'s funding time. Funding as of ``t``: row ``i``'s
    first message (``T - 1 us``, with the predicted rate) until ``T + 1 us``, then its second
    (the next funding time one interval on), exactly as :func:`funding_events` publishes.

    Symbols with the same times share one ``schedule`` (and the same lists of times): a read
    of one symbol's version or funding index as of a position answers every symbol of its
    schedule (:class:`FundingTapeFeed` keeps it for the position)."""

    __slots__ = (
        "book",
        "book_times",
        "book_version",
        "market",
        "rate",
        "rate_index",
        "rate_settled",
        "rows",
        "schedule",
        "times",
    )

    def __init__(self, market: Market, rows: Sequence[FundingRow]) -> None:
        self.market = market
        self.rows = rows
        self.times = [row.funding_time for row in rows]
        first = rows[0]
        self.book_times = [first.funding_time - _interval(first.interval_hours), *self.times]
        # The last book drawn and the last rate published (reads move forward: one is kept).
        self.book_version = -1
        self.book: BookSnapshotEvent | None = None
        self.rate_index = -1
        self.rate_settled = False
        self.rate: FundingRate | None = None
        self.schedule = -1  # set by FundingTape: the index of the symbols sharing its times


class FundingTape:
    """Funding-only history of one venue, read on demand (:mod:`exchange_clients.paper.tape`).

    Called, it is the venue data's event factory (:func:`funding_events` merged): the same data
    as a stream, for anything that reads feeds. :meth:`feed` binds it to a clock as the
    :class:`~exchange_clients.paper.tape.MarketTape` a paper venue follows without an event per
    row: books are drawn only for the symbols something reads, when it reads them.

    Only for rows that all have a mark price, in strictly increasing time per symbol (what
    :func:`funding_tape` checks); other data goes through events.
    """

    def __init__(
        self,
        venue: str,
        markets: dict[str, Market],
        by_symbol: dict[str, list[FundingRow]],
        shape: BookShape,
        *,
        origin: str,
        funding_interval_hours: int | None,
    ) -> None:
        self.venue = venue
        self.markets = markets
        self.shape = shape
        self.origin = origin
        self.funding_interval_hours = funding_interval_hours
        self._by_symbol = by_symbol
        self.symbols = {
            symbol: _SymbolTape(markets[symbol], by_symbol[symbol]) for symbol in markets
        }
        self.timeline = self._timeline()
        self.times = [ts for ts, _ in self.timeline]

    def __call__(self) -> Iterator[MarketEvent]:
        return merge(
            [
                funding_events(
                    self.venue, self.markets[symbol], self._by_symbol[symbol], self.shape
                )
                for symbol in sorted(self._by_symbol)
            ]
        )

    def _timeline(self) -> list[tuple[datetime, tuple[str, ...]]]:
        """Every time the event stream has events, with the symbols whose book changes then.

        Symbols sharing their funding times (most do) are laid out once, and share one
        schedule (their lists of times: the first symbol's)."""
        groups: dict[tuple[datetime, ...], list[str]] = {}
        for symbol in sorted(self.symbols):
            tape = self.symbols[symbol]
            groups.setdefault((tape.book_times[0], *tape.times), []).append(symbol)
        for schedule, members in enumerate(groups.values()):
            first = self.symbols[members[0]]
            for symbol in members:
                tape = self.symbols[symbol]
                tape.schedule, tape.times, tape.book_times = (
                    schedule,
                    first.times,
                    first.book_times,
                )
        books: dict[datetime, list[str]] = {}
        times: set[datetime] = set()
        for key, symbols in groups.items():
            opening, funding_times = key[0], key[1:]
            times.add(opening)
            books.setdefault(opening, []).extend(symbols)
            for ts in funding_times:
                books.setdefault(ts, []).extend(symbols)
            times.update(funding_times)
            times.update(ts - MICROSECOND for ts in funding_times)
            times.update(ts + MICROSECOND for ts in funding_times)
        return [(ts, tuple(sorted(books.get(ts, ())))) for ts in sorted(times)]

    def feed(self, clock: Clock) -> FundingTapeFeed:
        return FundingTapeFeed(self, clock)


def funding_tape(
    venue: str,
    markets: dict[str, Market],
    by_symbol: dict[str, list[FundingRow]],
    shape: BookShape,
    *,
    origin: str,
    funding_interval_hours: int | None,
) -> FundingTape | None:
    """The rows as a tape, or None when they must go through events: a row without a positive
    mark (no book drawn at it; its funding message sets the mark) or times not strictly
    increasing (the merge's tie order decides)."""
    for rows in by_symbol.values():
        previous: datetime | None = None
        for row in rows:
            if row.mark_price is None or row.mark_price <= 0:
                return None
            if previous is not None and row.funding_time - previous <= 2 * MICROSECOND:
                return None
            previous = row.funding_time
    return FundingTape(
        venue,
        markets,
        by_symbol,
        shape,
        origin=origin,
        funding_interval_hours=funding_interval_hours,
    )


class FundingTapeFeed(MarketTape):
    """A :class:`FundingTape` followed on one clock (one per paper venue)."""

    def __init__(self, tape: FundingTape, clock: Clock) -> None:
        self._tape = tape
        self._clock = clock
        self._move(clock.now())
        self._started: datetime | None = None  # where the last walk of changes() began
        self._events: HistoryFeed | None = None

    @property
    def venue(self) -> str:
        return self._tape.venue

    def markets(self) -> dict[str, Market]:
        return dict(self._tape.markets)

    def events(self) -> AsyncIterator[MarketEvent]:
        if self._events is None:
            tape = self._tape
            first = min(t.book_times[0] for t in tape.symbols.values())
            last = max(t.times[-1] for t in tape.symbols.values())
            data = VenueData(
                tape.venue,
                tape.markets,
                tape,
                first,
                last,
                funding_interval_hours=tape.funding_interval_hours,
                origin=tape.origin,
            )
            self._events = HistoryFeed(data, self._clock)
        return self._events.events()

    def _move(self, position: datetime) -> None:
        """Follow the tape up to ``position``; with the bounds :meth:`funding` compares
        funding times with (a row's rate is published 1 us before its time, settled 1 us
        after), worked out once per move instead of once per read; and each schedule's book
        version and funding row as of it, found once per move by the first read (a scan reads
        hundreds of symbols sharing a few schedules)."""
        self._position = position
        self._published_by = position + MICROSECOND
        self._settled_by = position - MICROSECOND
        self._versions: dict[int, int] = {}  # schedule -> book version
        self._published: dict[int, tuple[int, bool]] = {}  # schedule -> (row, settled)

    def _symbol(self, symbol: str) -> _SymbolTape:
        found = self._tape.symbols.get(symbol)
        if found is None:
            raise UnknownSymbol(f"no market for {symbol!r}", venue=self.venue)
        return found

    def book_version(self, symbol: str) -> int:
        tape = self._tape.symbols.get(symbol)
        if tape is None:
            tape = self._symbol(symbol)  # raises UnknownSymbol
        version = self._versions.get(tape.schedule)
        if version is None:
            version = bisect_right(tape.book_times, self._position) - 1
            self._versions[tape.schedule] = version
        return version

    def book_count(self, symbol: str) -> int:
        started = self._started
        tape = self._tape.symbols.get(symbol)
        if started is None or tape is None:
            return 0
        at_start = bisect_right(tape.book_times, started) - 1
        now = bisect_right(tape.book_times, self._position) - 1
        return now - at_start + (1 if at_start >= 0 else 0)

    def snapshot(self, symbol: str) -> BookSnapshotEvent:
        version = self.book_version(symbol)
        if version < 0:
            raise UnknownSymbol(
                f"no order book for {symbol} on {self.venue} at "
                f"{self._clock.now().isoformat()} in {self._tape.origin}: start the backtest at "
                "or after its first snapshot",
                venue=self.venue,
            )
        book = self.book(symbol, version)
        now = self._clock.now()
        if book.ts >= now:
            return book
        return BookSnapshotEvent(
            venue=book.venue,
            symbol=symbol,
            ts=now,
            bids=book.bids,
            asks=book.asks,
            sequence=book.sequence,
        )

    def book(self, symbol: str, version: int) -> BookSnapshotEvent:
        """Book ``version`` of ``symbol`` (:meth:`book_version`), drawn once."""
        tape = self._symbol(symbol)
        book = tape.book
        if book is None or tape.book_version != version:
            row = tape.rows[version - 1 if version > 0 else 0]  # (not max(): a call a book)
            assert row.mark_price is not None  # funding_tape() takes only rows with marks
            owner = self._tape
            book = drawn_book(
                owner.venue, tape.market, tape.book_times[version], row.mark_price, owner.shape
            )
            tape.book_version = version
            tape.book = book
        return book

    def book_top(self, symbol: str, version: int) -> BookTop | None:
        """Book ``version`` of ``symbol`` by its best levels (:func:`drawn_top`), drawn
        whole by :meth:`book` when read further."""
        tape = self._symbol(symbol)
        row = tape.rows[version - 1 if version > 0 else 0]
        assert row.mark_price is not None  # funding_tape() takes only rows with marks
        top = drawn_top(tape.market, row.mark_price, self._tape.shape)
        if top is None:
            return None
        sequence = int(tape.book_times[version].timestamp() * 1_000_000)  # as drawn_book's
        return BookTop(top[0], top[1], sequence, partial(self.book, symbol, version))

    def funding(self, symbol: str) -> FundingRate:
        tape = self._tape.symbols.get(symbol)
        if tape is None:
            tape = self._symbol(symbol)  # raises UnknownSymbol
        published = self._published.get(tape.schedule)
        if published is None:
            times = tape.times
            index = bisect_right(times, self._published_by) - 1
            published = (index, index >= 0 and times[index] <= self._settled_by)
            self._published[tape.schedule] = published
        index, settled = published
        if index < 0:  # nothing published yet: no funding accrues on our side either
            return FundingRate(
                venue=self.venue,
                symbol=symbol,
                rate=Decimal(0),
                interval_hours=Decimal(self._tape.funding_interval_hours or 1),
                next_funding_time=None,
                ts=self._clock.now(),
            )
        rate = tape.rate
        if rate is None or tape.rate_index != index or tape.rate_settled is not settled:
            rate = published_rate(self.venue, symbol, tape.rows[index], settled=settled)
            tape.rate_index, tape.rate_settled, tape.rate = index, settled, rate
        return rate

    async def changes(self) -> AsyncGenerator[tuple[str, ...], None]:
        clock = self._clock
        start = self._started = clock.now()
        self._move(start)
        symbols = self._tape.symbols
        yield tuple(s for s in sorted(symbols) if symbols[s].book_times[0] <= start)
        timeline = self._tape.timeline
        reached = start  # the clock is known to be at or past this (it never goes back)
        for index in range(bisect_right(self._tape.times, start), len(timeline)):
            ts, changed = timeline[index]
            if ts > reached:
                now = clock.now()
                if ts > now:
                    await clock.sleep((ts - now).total_seconds())
                    now = clock.now()
                reached = now
            self._move(ts)
            yield changed
