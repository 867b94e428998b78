"""Market data the paper venue reads on demand: a *tape*, instead of a stream of events.

A feed streams every change as an event and the paper venue applies each one: right for a live
venue's public data or a recording of L2. Funding history is different: hundreds of symbols
whose books (drawn around each funding row's mark) and funding change at the same few times,
and almost none of them read (no position, no order, no quote). Streaming them was most of a
funding backtest's time, so such data is handed to the venue as a :class:`MarketTape`:

* the tape keeps its *position* - the time up to which the venue has followed it - and answers
  ``snapshot``/``funding``/``book_version`` for any symbol as of that position, exactly as a feed
  that had delivered every event up to there would;
* :meth:`MarketTape.changes` moves the position along on the clock, stopping at every time a
  feed would have delivered events (same times, so the venue wakes exactly when it used to),
  and yields the symbols whose book changed there;
* the venue applies at once only the books something depends on - symbols holding a position,
  a resting order or a stop (their matching, queues, stops and liquidation run when they did) -
  and loads any other symbol's book when a request reads it (same book, same mark), by its
  best levels where the tape can give them (:meth:`MarketTape.book_top`: a quote reads no more).

A tape is a :class:`~exchange_clients.market_data.events.MarketFeed` too (``events()`` streams
the same data as events), so anything that only knows feeds can still use it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Iterable

from exchange_clients.book_changes import BookChanges
from exchange_clients.market_data.events import BookSnapshotEvent, MarketEvent
from exchange_clients.paper.book import BookTop
from exchange_clients.types import FundingRate, Market


class MarketTape(ABC):
    """One venue's market data, read as of the tape's position (see the module docstring)."""

    @property
    @abstractmethod
    def venue(self) -> str: ...

    @abstractmethod
    def markets(self) -> dict[str, Market]: ...

    @abstractmethod
    def events(self) -> AsyncIterator[MarketEvent]:
        """The same data as a stream of events (the feed contract)."""

    @abstractmethod
    def snapshot(self, symbol: str) -> BookSnapshotEvent:
        """The book of ``symbol`` as of the position (``UnknownSymbol`` before its first)."""

    @abstractmethod
    def funding(self, symbol: str) -> FundingRate:
        """The funding of ``symbol`` as of the position."""

    @abstractmethod
    def book(self, symbol: str, version: int) -> BookSnapshotEvent:
        """Book ``version`` of ``symbol`` (:meth:`book_version`), stamped when it appeared."""

    @abstractmethod
    def book_top(self, symbol: str, version: int) -> BookTop | None:
        """Book ``version`` of ``symbol`` by its best levels, drawn whole when read further
        (:class:`~exchange_clients.paper.book.BookTop`); None when the tape cannot vouch for
        the whole book from its best levels (the venue then reads :meth:`book`)."""

    @abstractmethod
    def book_version(self, symbol: str) -> int:
        """Which book ``symbol`` shows as of the position: grows by one with each new book
        (-1 before its first). Equal versions are the same book."""

    @abstractmethod
    def book_count(self, symbol: str) -> int:
        """How many books of ``symbol`` :meth:`changes` has delivered (what a feed's consumer
        would have counted: the opening snapshot and each later one)."""

    @abstractmethod
    def changes(self) -> AsyncGenerator[tuple[str, ...], None]:
        """Follow the clock from now: first every symbol with a book (the opening state, as a
        feed's stream starts), then, at each time a feed would deliver events, move the
        position there and yield the symbols whose book changed (sorted; empty when only
        funding moved). A fresh walk per call, like ``MarketFeed.events()``."""


class TapeBookChanges(BookChanges):
    """:class:`BookChanges` counted by the tape instead of per update: a funding backtest
    changes hundreds of books an hour that no strategy waits for. Waiters are woken by
    :meth:`moved` in the order the books changed, as the counted version would."""

    def __init__(self, tape: MarketTape) -> None:
        super().__init__()
        self._tape = tape

    def changed(self, symbol: str) -> None:
        """A book of ``symbol`` was delivered (already counted by the tape): wake its waiters."""
        self._wake(symbol)

    def version(self, symbols: Iterable[str]) -> int:
        tape = self._tape
        return sum(tape.book_count(symbol) for symbol in symbols)
