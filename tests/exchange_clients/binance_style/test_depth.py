"""The documented local-book procedure, event by event: buffered events older than the
snapshot are dropped, the first applied one straddles ``lastUpdateId``, later ones chain by
``pu``, and a broken chain starts a resync (Binance "How to manage a local order book
correctly")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from exchange_clients.binance_style.websocket import DepthStream
from exchange_clients.book_sync import BookState
from exchange_clients.order_book import OrderBook

SNAPSHOT = {
    "lastUpdateId": 100,
    "bids": [["99.0", "1"], ["98.0", "2"]],
    "asks": [["101.0", "1"], ["102.0", "2"]],
}


def event(first: int, last: int, previous: int, bids: Any = (), asks: Any = ()) -> dict[str, Any]:
    return {
        "e": "depthUpdate",
        "s": "BTCUSDT",
        "U": first,
        "u": last,
        "pu": previous,
        "b": [list(level) for level in bids],
        "a": [list(level) for level in asks],
    }


async def snapshot(contract_id: str) -> Any:
    return SNAPSHOT


def buffering_stream() -> tuple[DepthStream, BookState]:
    stream = DepthStream(venue="test", ws_url="ws://127.0.0.1:9", snapshot=snapshot)
    state = BookState("BTCUSDT", OrderBook("BTCUSDT"))
    stream.books.states["BTCUSDT"] = state
    return stream, state


async def test_buffered_events_are_filtered_against_the_snapshot() -> None:
    stream, state = buffering_stream()
    stream._on_message(event(90, 95, 89, bids=[("99.0", "7")]))  # older than the snapshot
    stream._on_message(  # straddles lastUpdateId 100, combined-stream wrapped
        {"stream": "btcusdt@depth@100ms", "data": event(96, 102, 95, asks=[("101.0", "0")])}
    )
    stream._on_message(event(103, 104, 102, bids=[("99.5", "3")]))
    assert not state.ready.is_set()
    await stream.books.take_snapshot(state)
    assert state.ready.is_set()
    book = state.book
    assert book.sequence == 104
    assert book.best_bid() == (Decimal("99.5"), Decimal(3))
    assert book.size_at("bid", Decimal("99.0")) == Decimal(1)  # the stale event was dropped
    assert book.best_ask() == (Decimal("102.0"), Decimal(2))  # 101 removed by the straddler
    assert stream.gaps == 0


async def test_a_broken_pu_chain_marks_a_gap_and_buffers_until_a_new_snapshot() -> None:
    stream, state = buffering_stream()
    await stream.books.take_snapshot(state)
    stream._on_message(event(101, 103, 100, bids=[("99.0", "5")]))
    stream._on_message(event(107, 108, 106, bids=[("99.0", "9")]))  # 104..106 never arrived
    assert stream.gaps == 1
    assert not state.ready.is_set()
    assert state.buffer == []
    assert state.book.size_at("bid", Decimal("99.0")) == Decimal(5)
    if state.resync is not None:
        await state.resync
