"""A venue's history served to a paper venue as a :class:`MarketFeed`, on the simulated clock.

Sources hand over a *factory* of time-ordered events rather than a list, so a year of funding
for 50 symbols is produced as it is replayed instead of held in memory. A stream starts at the
clock's time: everything stamped before it only builds the opening state (books, funding),
served as the snapshots and funding the feed contract opens with; what follows is emitted when
the clock reaches its ``ts``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from core.clock import Clock
from core.errors import UnknownSymbol
from exchange_clients.market_data.events import (
    BookDeltaEvent,
    BookSnapshotEvent,
    FundingEvent,
    MarketEvent,
)
from exchange_clients.types import FundingRate, Market

EventFactory = Callable[[], Iterator[MarketEvent]]


class DataError(ValueError):
    """Market data that cannot be backtested; the message names the file/row and the fix."""


@dataclass
class VenueData:
    """One venue's data: its markets and its events (a fresh iterator per call, in ts order).

    ``funding_interval_hours``: the schedule the data shows (None: the catalogue's).
    ``first_ts``/``last_ts``: the span the events cover.
    ``kept``: the events themselves when the source holds them in memory (``events`` then
    iterates exactly them): a :class:`HistoryFeed` reads a book out of them only when asked
    for it instead of applying every delta to its own copy as it goes.
    """

    venue: str
    markets: dict[str, Market]
    events: EventFactory
    first_ts: datetime
    last_ts: datetime
    funding_interval_hours: int | None = None
    origin: str = ""
    notes: list[str] = field(default_factory=list)
    kept: tuple[MarketEvent, ...] | None = None


class _Book:
    """One symbol's book as the feed last described it.

    Held as the snapshot event until a delta changes it: a funding backtest replaces hundreds
    of drawn books an hour and reads almost none of them (:meth:`HistoryFeed.snapshot` is for
    a connect or a resync), so copying each into dicts would be wasted."""

    __slots__ = ("asks", "bids", "sequence", "source", "ts")

    def __init__(self, snapshot: BookSnapshotEvent) -> None:
        self.source: BookSnapshotEvent | None = snapshot  # levels not copied yet
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.sequence = snapshot.sequence
        self.ts = snapshot.ts

    def _levels(self) -> tuple[dict[Decimal, Decimal], dict[Decimal, Decimal]]:
        source = self.source
        if source is not None:
            self.bids, self.asks, self.source = dict(source.bids), dict(source.asks), None
        return self.bids, self.asks

    def apply(self, delta: BookDeltaEvent) -> None:
        bids, asks = self._levels() if self.source is not None else (self.bids, self.asks)
        for price, size in delta.bids:  # one loop a side, written out: every replayed delta
            if size:
                bids[price] = size
            else:
                bids.pop(price, None)
        for price, size in delta.asks:
            if size:
                asks[price] = size
            else:
                asks.pop(price, None)
        self.sequence = delta.last_sequence
        self.ts = delta.ts

    def snapshot(self, venue: str, symbol: str, ts: datetime) -> BookSnapshotEvent:
        bids, asks = self._levels()
        return BookSnapshotEvent(
            venue=venue,
            symbol=symbol,
            ts=ts,
            bids=tuple(sorted(bids.items(), reverse=True)),
            asks=tuple(sorted(asks.items())),
            sequence=self.sequence,
        )


class HistoryFeed:
    """:class:`~exchange_clients.market_data.events.MarketFeed` over :class:`VenueData`."""

    def __init__(self, data: VenueData, clock: Clock) -> None:
        self._data = data
        self._clock = clock
        self._books: dict[str, _Book] = {}
        self._funding: dict[str, FundingRate] = {}
        self._pending: Iterator[MarketEvent] | None = None
        self._next: MarketEvent | None = None
        # Events held in memory (``data.kept``): a delta is not applied to the symbol's book
        # as it passes, only noted; the book catches up from the events when it is served
        # (a connect or a resync), so the replay does not keep a third copy of every book.
        self._kept = data.kept
        self._applied = 0  # how many events of the stream have been applied
        self._behind: dict[str, int] = {}  # symbol -> index of its first delta not applied
        self._catch_up(self._clock.now())

    @property
    def venue(self) -> str:
        return self._data.venue

    def markets(self) -> dict[str, Market]:
        return dict(self._data.markets)

    def snapshot(self, symbol: str) -> BookSnapshotEvent:
        book = self._books.get(symbol)
        if book is None:
            raise UnknownSymbol(
                f"no order book for {symbol} on {self.venue} at {self._clock.now().isoformat()} "
                f"in {self._data.origin}: start the backtest at or after its first snapshot",
                venue=self.venue,
            )
        first = self._behind.pop(symbol, None)
        if first is not None:  # the deltas applied since, in the order they came
            kept = self._kept
            assert kept is not None
            for index in range(first, self._applied):
                event = kept[index]
                if event.__class__ is BookDeltaEvent and event.symbol == symbol:
                    assert isinstance(event, BookDeltaEvent)
                    book.apply(event)
        return book.snapshot(self.venue, symbol, max(book.ts, self._clock.now()))

    def funding(self, symbol: str) -> FundingRate:
        rate = self._funding.get(symbol)
        if rate is None:  # nothing published yet: no funding accrues on our side either
            return FundingRate(
                venue=self.venue,
                symbol=symbol,
                rate=Decimal(0),
                interval_hours=Decimal(self._data.funding_interval_hours or 1),
                next_funding_time=None,
                ts=self._clock.now(),
            )
        return rate

    async def events(self) -> AsyncIterator[MarketEvent]:
        start = self._clock.now()
        self._restart()
        self._catch_up(start)
        for symbol in sorted(self._books):
            yield self.snapshot(symbol)
        for symbol in sorted(self._funding):
            yield FundingEvent(self._funding[symbol])
        clock = self._clock
        reached = clock.now()  # the clock is known to be at or past this (it never goes back)
        while self._next is not None:
            event = self._next
            ts = event.ts
            if ts > reached:  # most events share the time of the one before: no clock call
                now = clock.now()
                if ts > now:
                    await clock.sleep((ts - now).total_seconds())
                    now = clock.now()
                reached = now
            self._apply(event)
            self._advance()
            yield event

    def _restart(self) -> None:
        self._books.clear()
        self._funding.clear()
        self._behind.clear()
        self._applied = 0
        self._pending = self._data.events()
        self._advance()

    def _advance(self) -> None:
        assert self._pending is not None
        self._next = next(self._pending, None)

    def _catch_up(self, until: datetime) -> None:
        """Apply (without emitting) every event stamped at or before ``until``."""
        if self._pending is None:
            self._restart()
        while self._next is not None and self._next.ts <= until:
            self._apply(self._next)
            self._advance()

    def _apply(self, event: MarketEvent) -> None:
        index = self._applied
        self._applied = index + 1
        if isinstance(event, BookSnapshotEvent):
            self._books[event.symbol] = _Book(event)
            self._behind.pop(event.symbol, None)
        elif isinstance(event, BookDeltaEvent):
            book = self._books.get(event.symbol)
            if book is None:
                raise DataError(
                    f"{self._data.origin}: {self.venue} {event.symbol} delta at "
                    f"{event.ts.isoformat()} before any snapshot of its book"
                )
            if self._kept is None:
                book.apply(event)
            elif event.symbol not in self._behind:
                self._behind[event.symbol] = index
        elif isinstance(event, FundingEvent):
            self._funding[event.symbol] = event.rate
