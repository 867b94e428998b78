"""The history feed keeps a book as its snapshot event until a delta changes it; what it serves
(``snapshot``, on a connect or a resync) must be the book as the events describe it either way."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from backtest.sources.feed import HistoryFeed, VenueData
from core.clock import ManualClock
from exchange_clients.market_data.events import BookDeltaEvent, BookSnapshotEvent, MarketEvent
from exchange_clients.types import Market

D = Decimal
START = datetime(2025, 1, 1, tzinfo=UTC)
MARKET = Market("BTC", "BTC", D("0.5"), D("0.01"), D("0.01"), D(0), D(20))


def _at(seconds: int) -> datetime:
    return START + timedelta(seconds=seconds)


# Levels as a recording may hold them: unsorted, with a zero size kept by the snapshot.
SNAPSHOT = BookSnapshotEvent(
    "v",
    "BTC",
    _at(0),
    ((D("99.5"), D("1")), (D("100"), D("2")), (D("98"), D("0"))),
    ((D("101"), D("3")), (D("100.5"), D("1"))),
    10,
)
DELTA = BookDeltaEvent(
    "v", "BTC", _at(5), ((D("100"), D("0")), (D("99"), D("4"))), ((D("100.5"), D("2")),), 11, 11
)


def _feed(events: list[MarketEvent], at: datetime) -> HistoryFeed:
    def stream() -> Iterator[MarketEvent]:
        return iter(events)

    data = VenueData("v", {"BTC": MARKET}, stream, _at(0), _at(10))
    return HistoryFeed(data, ManualClock(at))


def test_a_book_no_delta_touched_is_served_sorted_as_before() -> None:
    served = _feed([SNAPSHOT], _at(1)).snapshot("BTC")
    assert served.bids == ((D("100"), D("2")), (D("99.5"), D("1")), (D("98"), D("0")))
    assert served.asks == ((D("100.5"), D("1")), (D("101"), D("3")))
    assert (served.sequence, served.ts) == (10, _at(1))


def test_deltas_apply_on_top_of_a_held_snapshot() -> None:
    served = _feed([SNAPSHOT, DELTA], _at(6)).snapshot("BTC")
    assert served.bids == ((D("99.5"), D("1")), (D("99"), D("4")), (D("98"), D("0")))
    assert served.asks == ((D("100.5"), D("2")), (D("101"), D("3")))
    assert (served.sequence, served.ts) == (11, _at(6))


def test_a_new_snapshot_replaces_a_changed_book() -> None:
    later = BookSnapshotEvent("v", "BTC", _at(8), ((D("90"), D("1")),), ((D("91"), D("1")),), 20)
    served = _feed([SNAPSHOT, DELTA, later], _at(9)).snapshot("BTC")
    assert (served.bids, served.asks, served.sequence) == (
        ((D("90"), D("1")),),
        ((D("91"), D("1")),),
        20,
    )
