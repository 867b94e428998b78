"""What every delta-book public source shares: whole-book events from a kept book, funding polls.

A :class:`~exchange_clients.market_data.live.LiveFeed` takes whole books only, so a venue that
streams deltas (Binance, Aster, Backpack, Lighter) keeps its book with its own client code
(:mod:`exchange_clients.book_sync`, the venue's stream) and publishes the top of that book, in
internal units, after every change it applied. Sequences are ours and per symbol, so a book
re-snapshotted after a drop (when the venue's own numbers may restart) still counts up.
Funding is polled over REST where the venue streams none a paper account can use.

A book that cannot be trusted (the stream dropped, a gap was seen) is withdrawn: an empty
snapshot is published once, so the paper venue stops matching against prices that may be gone
(its mark stays the last mid) until the rebuilt book is published.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

from core.errors import ExchangeError, UnknownSymbol, VenueUnavailable
from core.logging_setup import get_logger
from core.tasks import TaskSupervisor
from exchange_clients.market_data.events import BookSnapshotEvent, MarketEvent
from exchange_clients.market_data.live import LiveSourceSettings, Sink
from exchange_clients.order_book import OrderBook
from exchange_clients.types import Market

if TYPE_CHECKING:
    from exchange_clients.book_sync import SyncedBooks

log = get_logger(__name__)

Levels = tuple[tuple[Decimal, Decimal], ...]

BOOK_DEPTH = 100
"""Levels per side a paper venue sees: deep enough for any order a paper bot walks through."""
FUNDING_POLL_SECONDS = 60.0


_M = TypeVar("_M")


def configured_markets(venue: str, symbols: Sequence[str], listed: Mapping[str, _M]) -> list[_M]:
    """The venue's markets of the configured ``symbols``, in their order; one clear error
    naming every symbol the venue does not list."""
    unknown = [symbol for symbol in symbols if symbol not in listed]
    if unknown:
        raise UnknownSymbol(f"live market data: no market for {', '.join(unknown)}", venue=venue)
    return [listed[symbol] for symbol in symbols]


def setting(settings: LiveSourceSettings, name: str, default: float) -> float:
    """A numeric ``extra`` setting (``book_depth``, ``funding_poll_seconds``)."""
    return float(str(settings.extra.get(name, default)))


class BookPublisher:
    """Whole-book events for one venue's live books, each symbol numbered from 1."""

    def __init__(self, venue: str, depth: int = BOOK_DEPTH) -> None:
        self.venue = venue
        self.depth = depth
        self._sink: Sink | None = None
        self._sequences: dict[str, itertools.count[int]] = {}
        self._withdrawn: set[str] = set()

    def attach(self, sink: Sink) -> None:
        self._sink = sink

    def emit(self, event: MarketEvent) -> None:
        if self._sink is None:
            raise VenueUnavailable("live source is not started", venue=self.venue)
        self._sink(event)

    def publish(self, market: Market, book: OrderBook) -> None:
        """The top ``depth`` levels of ``book`` (venue units) as a snapshot in internal units;
        nothing while the book waits for a resync (it may not be served)."""
        if book.needs_resync or book.sequence is None:
            return
        self._withdrawn.discard(market.symbol)
        bids, asks = book.depth(self.depth)

        def internal(levels: list[tuple[Decimal, Decimal]]) -> Levels:
            if market.quantity_multiplier == 1:  # venue units are ours: nothing to convert
                return tuple(levels)
            return tuple(
                (market.from_venue_price(price), market.from_venue_size(size))
                for price, size in levels
            )

        self._snapshot(market.symbol, internal(bids), internal(asks))

    def withdraw(self, symbol: str) -> None:
        """``symbol``'s book may not be served until it is rebuilt: publish it empty, once."""
        if symbol not in self._withdrawn and symbol in self._sequences:
            self._withdrawn.add(symbol)
            self._snapshot(symbol, (), ())

    def _snapshot(self, symbol: str, bids: Levels, asks: Levels) -> None:
        counter = self._sequences.setdefault(symbol, itertools.count(1))
        self.emit(
            BookSnapshotEvent(
                venue=self.venue,
                symbol=symbol,
                ts=datetime.now(UTC),
                bids=bids,
                asks=asks,
                sequence=next(counter),
            )
        )


class FundingPoller:
    """Re-reads funding every ``seconds``; a failed read is logged and tried next time.

    The loop runs under a :class:`TaskSupervisor`: should it die of something the loop does
    not expect (a bug in a venue's parsing, say), the failure is logged with its traceback and
    the poller starts again - it waits ``seconds`` before each read, so a poll that always
    fails retries at the polling pace, never in a tight loop. ``restarts`` counts them.
    """

    def __init__(self, venue: str, seconds: float, poll: Callable[[], Awaitable[None]]) -> None:
        self._venue = venue
        self._seconds = seconds
        self._poll = poll
        self._tasks: TaskSupervisor | None = None
        self.restarts = 0

    @property
    def running(self) -> bool:
        return self._tasks is not None and self._tasks.running > 0

    def start(self) -> None:
        self._tasks = TaskSupervisor(f"{self._venue}-feed", on_failure=self._died)
        self._tasks.spawn(self._run(), name="funding")

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, None
        if tasks is not None:
            await tasks.aclose()

    def _died(self, task: str, error: BaseException) -> None:
        """Logged with its traceback already: keep polling (a live feed never stops reading)."""
        if self._tasks is not None:
            self.restarts += 1
            log.warning("live_funding_poller_restarted", venue=self._venue, error=repr(error))
            self._tasks.spawn(self._run(), name=task)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._seconds)
            try:
                await self._poll()
            except (ExchangeError, KeyError, ValueError, TypeError) as exc:
                # Down (VenueUnavailable) or an answer we cannot read: try again next time.
                log.warning("live_funding_poll_failed", venue=self._venue, error=str(exc))


__all__ = [
    "BOOK_DEPTH",
    "FUNDING_POLL_SECONDS",
    "BookPublisher",
    "FundingPoller",
    "Levels",
    "setting",
]


class SyncedBookSource:
    """What a live source shares when its venue's stream keeps the books (:class:`SyncedBooks`).

    Binance-style venues and Backpack differ in how they list markets and read funding, not in
    how a kept book becomes events: published whole while it is in sync, withdrawn while it
    waits for a new snapshot (a gap) and all at once when the stream drops; stopping takes the
    funding poller, the stream and the REST session down in that order. A subclass sets
    ``_books``, ``_poller`` and ``_markets`` (by contract id) and says where its books are
    and how its connections close.
    """

    venue: str
    _symbols: Sequence[str]
    _books: BookPublisher
    _poller: FundingPoller
    _markets: dict[str, Market]

    def _synced_books(self) -> SyncedBooks:
        raise NotImplementedError

    async def _open_rest(self) -> None:
        raise NotImplementedError

    async def _list_markets(self) -> dict[str, Market]:
        """Every perpetual the venue lists, by our symbol."""
        raise NotImplementedError

    async def _push_funding(self) -> None:
        raise NotImplementedError

    async def _start_stream(self) -> None:
        raise NotImplementedError

    async def _close_connections(self) -> None:
        """Close the stream, then the REST session."""
        raise NotImplementedError

    async def start(self, sink: Sink) -> dict[str, Market]:
        """List the markets, read funding, then stream every configured book; each is
        published once its snapshot is applied. A failure part-way closes what was opened."""
        self._books.attach(sink)
        await self._open_rest()
        try:
            listed = await self._list_markets()
            self._markets = {
                m.contract_id: m for m in configured_markets(self.venue, self._symbols, listed)
            }
            await self._push_funding()
            await self._start_stream()
            for contract_id in self._markets:
                await self._synced_books().book(contract_id)  # subscribes, snapshots, waits
            self.publish_all()
        except BaseException:
            await self.stop()
            raise
        self._poller.start()
        return {market.symbol: market for market in self._markets.values()}

    async def stop(self) -> None:
        await self._poller.stop()
        await self._close_connections()

    def publish(self, contract_id: str) -> None:
        """The book if it is in sync; withdrawn while it waits for a new snapshot (a gap)."""
        market = self._markets.get(contract_id)
        state = self._synced_books().states.get(contract_id)
        if market is None or state is None:
            return
        if state.ready.is_set():
            self._books.publish(market, state.book)
        else:
            self._books.withdraw(market.symbol)

    def publish_all(self) -> None:
        for contract_id in self._markets:
            self.publish(contract_id)

    def withdraw_all(self) -> None:
        for market in self._markets.values():
            self._books.withdraw(market.symbol)

    def publish_after_snapshot(self, contract_id: str) -> None:
        """Publish ``contract_id`` once the REST snapshot being returned has been applied:
        :class:`SyncedBooks` applies it (and the deltas buffered meanwhile) without yielding."""
        asyncio.get_running_loop().call_soon(self.publish, contract_id)
