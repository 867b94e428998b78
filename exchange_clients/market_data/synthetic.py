"""A seeded synthetic market and the feed that streams it.

:class:`SyntheticMarket` is a deterministic function of ``(seed, venue, symbol, time)``:
``mid``, ``book``, ``trades`` and ``funding_rate`` compute any moment directly (O(1) in
time, no state), so two processes on one seed see the same prices at the same moment, and a
backtest can jump to any date. The models live in small modules:

* :mod:`.price` -- fair price: random walk with volatility regimes, fading jumps, venue basis;
* :mod:`.book_model` -- N levels a side around it, spread widening with volatility;
* :mod:`.trade_model` -- trades at or through the touch;
* :mod:`.funding_model` -- hourly funding drifting and flipping sign, per venue.

The venue name is part of the key for what differs between venues (basis, book, trades,
funding premium) and not for what they share (the market's moves and the common part of
funding), so ``paper_a`` and ``paper_b`` on one seed quote the same market a few bps apart
and pay different funding: what funding arbitrage between them needs.

:class:`SyntheticFeed` samples a market on a fixed time grid and streams it as a
:class:`~exchange_clients.market_data.events.MarketFeed`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from core.clock import Clock
from core.errors import UnknownSymbol
from core.venues import VENUES
from exchange_clients.market_data.book_model import BookModel
from exchange_clients.market_data.deltas import book_delta
from exchange_clients.market_data.events import (
    BookSnapshotEvent,
    FundingEvent,
    MarketEvent,
    TradeEvent,
)
from exchange_clients.market_data.funding_model import FundingProcess
from exchange_clients.market_data.micros import (
    HOUR,
    MINUTE,
    SECOND,
    from_micros,
    seconds_to_micros,
    to_micros,
)
from exchange_clients.market_data.price import PriceProcess
from exchange_clients.market_data.symbols import DEFAULT_SYMBOLS, SymbolModel
from exchange_clients.market_data.trade_model import TradeModel
from exchange_clients.types import FundingRate, Market

SEQUENCE_UNIT = 1_000
"""A book's sequence number is its time in milliseconds since the epoch: books sampled at
increasing times (at least 1 ms apart) are numbered in order, in every process alike."""

RATE_QUANTUM = Decimal("0.00000001")
"""Funding rates are published with 8 decimal places, as Binance and most venues do."""

FUNDING_UPDATE = MINUTE
"""How often the feed re-publishes funding (the rate estimate moves continuously)."""


@dataclass(frozen=True, slots=True)
class _Symbol:
    model: SymbolModel
    market: Market
    price: PriceProcess
    book: BookModel
    trades: TradeModel
    funding: FundingProcess


def _default_interval_hours(venue: str) -> int:
    known = VENUES.get(venue)
    return known.default_funding_interval_hours if known is not None else 1


class SyntheticMarket:
    """A seeded market on one venue: every method is a pure function of its arguments.

    ``funding_interval_hours`` defaults to the venue's catalogue value (``paper_b``: 8 h,
    other paper venues: 1 h). ``levels`` is the book depth per side.
    """

    def __init__(
        self,
        seed: int,
        venue: str = "paper",
        symbols: Iterable[SymbolModel] = DEFAULT_SYMBOLS,
        funding_interval_hours: int | None = None,
        levels: int = 20,
    ) -> None:
        if levels < 1:
            raise ValueError(f"a book needs at least one level a side, not {levels}")
        hours = (
            _default_interval_hours(venue)
            if funding_interval_hours is None
            else funding_interval_hours
        )
        if hours < 1:
            raise ValueError(f"funding interval must be at least 1 hour, not {hours}")
        self.seed = seed
        self.venue = venue
        self.levels = levels
        self.funding_interval_hours = hours
        self._symbols: dict[str, _Symbol] = {}
        for model in symbols:
            price = PriceProcess(seed, venue, model)
            book = BookModel(seed, venue, model, price)
            self._symbols[model.symbol] = _Symbol(
                model=model,
                market=model.market(),
                price=price,
                book=book,
                trades=TradeModel(seed, venue, model, price, book),
                funding=FundingProcess(seed, venue, model),
            )
        if not self._symbols:
            raise ValueError("a synthetic market needs at least one symbol")

    @property
    def symbols(self) -> list[str]:
        return list(self._symbols)

    def markets(self) -> dict[str, Market]:
        return {symbol: s.market for symbol, s in self._symbols.items()}

    def mid(self, symbol: str, t: datetime) -> Decimal:
        """The midpoint of the book's touch at ``t`` (on the half-tick grid), as
        ``OrderBook.mid()`` of ``book(symbol, t)`` gives it."""
        s = self._symbol(symbol)
        bid, ask = s.book.touch(to_micros(t))
        return s.model.tick_size * (bid + ask) / 2

    def book(self, symbol: str, t: datetime) -> BookSnapshotEvent:
        s = self._symbol(symbol)
        micros = to_micros(t)
        bids, asks = s.book.levels(micros, self.levels)
        tick, step = s.model.tick_size, s.model.step_size
        return BookSnapshotEvent(
            venue=self.venue,
            symbol=symbol,
            ts=from_micros(micros),
            bids=tuple((tick * price, step * size) for price, size in bids),
            asks=tuple((tick * price, step * size) for price, size in asks),
            sequence=micros // SEQUENCE_UNIT,
        )

    def trades(self, symbol: str, start: datetime, end: datetime) -> list[TradeEvent]:
        """Trades at ``start <= ts < end``, in time order."""
        s = self._symbol(symbol)
        tick, step = s.model.tick_size, s.model.step_size
        return [
            TradeEvent(
                venue=self.venue,
                symbol=symbol,
                ts=from_micros(trade.t),
                price=tick * trade.price_ticks,
                size=step * trade.size_steps,
                taker_side=trade.taker_side,
                trade_id=trade.trade_id,
            )
            for trade in s.trades.trades(to_micros(start), to_micros(end))
        ]

    def funding_rate(self, symbol: str, t: datetime) -> FundingRate:
        """Funding as the venue shows it at ``t``.

        ``rate`` is the rate for the running interval as estimated now (interval x ``h(t)``);
        ``predicted_rate`` is what will be charged at ``next_funding_time`` (interval x
        ``h(next)``). At a boundary ``T`` itself the running interval is the one after ``T``,
        so the rate charged at ``T`` is ``funding_rate(symbol, T - 1us).predicted_rate``,
        which equals ``funding_rate(symbol, T).rate``.
        """
        s = self._symbol(symbol)
        micros = to_micros(t)
        interval = self.funding_interval_hours * HOUR
        boundary = (micros // interval + 1) * interval
        hours = self.funding_interval_hours
        return FundingRate(
            venue=self.venue,
            symbol=symbol,
            rate=_quantize_rate(s.funding.hourly(micros) * hours),
            interval_hours=Decimal(hours),
            next_funding_time=from_micros(boundary),
            predicted_rate=_quantize_rate(s.funding.hourly(boundary) * hours),
            mark_price=self.mid(symbol, t),
            ts=from_micros(micros),
        )

    def _symbol(self, symbol: str) -> _Symbol:
        try:
            return self._symbols[symbol]
        except KeyError:
            raise UnknownSymbol(f"no synthetic market for {symbol!r}", venue=self.venue) from None


def _quantize_rate(rate: float) -> Decimal:
    return Decimal(rate).quantize(RATE_QUANTUM, rounding=ROUND_HALF_EVEN)


class SyntheticFeed:
    """A :class:`MarketFeed` that samples a :class:`SyntheticMarket` every ``step_seconds``.

    Samples are taken on the grid of multiples of ``step_seconds`` since the epoch, not since
    the stream started, so every stream on one seed (in any process) emits identical books;
    when the clock is between grid points the latest one counts as "now". After each sleep
    the stream emits the trades since the previous sample, then a delta for every book that
    changed (stamped with the new sample time), then, once a minute, every symbol's funding.
    A consumer that falls behind misses no trade and no change: the next delta spans the gap.
    """

    def __init__(self, market: SyntheticMarket, clock: Clock, step_seconds: float = 0.25) -> None:
        step = seconds_to_micros(step_seconds)
        if step < SEQUENCE_UNIT or step % SEQUENCE_UNIT:
            raise ValueError(f"step must be a whole number of milliseconds, not {step_seconds}")
        self._market = market
        self._clock = clock
        self._step = step

    @property
    def venue(self) -> str:
        return self._market.venue

    @property
    def market(self) -> SyntheticMarket:
        return self._market

    def markets(self) -> dict[str, Market]:
        return self._market.markets()

    def snapshot(self, symbol: str) -> BookSnapshotEvent:
        return self._market.book(symbol, from_micros(self._sample_time()))

    def funding(self, symbol: str) -> FundingRate:
        return self._market.funding_rate(symbol, from_micros(self._sample_time()))

    async def events(self) -> AsyncIterator[MarketEvent]:
        market = self._market
        sampled = self._sample_time()
        when = from_micros(sampled)
        books = {symbol: market.book(symbol, when) for symbol in market.symbols}
        for book in books.values():
            yield book
        for symbol in market.symbols:
            yield FundingEvent(market.funding_rate(symbol, when))
        while True:
            await self._sleep_until(sampled + self._step)
            previous, sampled = sampled, self._sample_time()
            since, when = from_micros(previous), from_micros(sampled)
            trades = [t for symbol in books for t in market.trades(symbol, since, when)]
            trades.sort(key=lambda trade: trade.ts)
            for trade in trades:
                yield trade
            for symbol, before in books.items():
                after = market.book(symbol, when)
                delta = book_delta(before, after)
                if delta is not None:
                    books[symbol] = after
                    yield delta
            if sampled // FUNDING_UPDATE != previous // FUNDING_UPDATE:
                for symbol in market.symbols:
                    yield FundingEvent(market.funding_rate(symbol, when))

    def _sample_time(self) -> int:
        return to_micros(self._clock.now()) // self._step * self._step

    async def _sleep_until(self, target: int) -> None:
        while (remaining := target - to_micros(self._clock.now())) > 0:
            await self._clock.sleep(remaining / SECOND)
