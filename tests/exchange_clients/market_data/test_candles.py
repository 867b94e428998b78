"""1-minute candles from trades, silent minutes filled, 5m/1h aggregation, the rolling store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from exchange_clients.market_data.candles import (
    Candle,
    CandleBuilder,
    CandleStore,
    aggregate,
    floor_time,
)

D = Decimal
T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def minute(index: int, close: str, volume: str = "1", *, o: str | None = None) -> Candle:
    price = D(close)
    start = D(o) if o is not None else price
    return Candle(
        "hyperliquid",
        "BTC",
        "1m",
        at(index),
        start,
        max(start, price),
        min(start, price),
        price,
        D(volume),
        1,
    )


def test_trades_of_one_minute_make_one_candle_closed_by_the_next_minute() -> None:
    builder = CandleBuilder("hyperliquid", "BTC")
    assert builder.add_trade(at(0.1), D("100"), D("1")) == []
    assert builder.add_trade(at(0.5), D("103"), D("2")) == []
    assert builder.add_trade(at(0.9), D("99"), D("0.5")) == []
    [closed] = builder.add_trade(at(1.2), D("101"), D("1"))
    assert (closed.open, closed.high, closed.low, closed.close) == (D(100), D(103), D(99), D(99))
    assert closed.volume == D("3.5")
    assert closed.trades == 3
    assert closed.open_time == T0
    assert closed.close_time == at(1)


def test_silent_minutes_close_flat_at_the_last_close() -> None:
    builder = CandleBuilder("hyperliquid", "BTC")
    builder.add_trade(at(0.2), D("100"), D("1"))
    closed = builder.close_due(at(3.5))
    assert [c.open_time for c in closed] == [at(0), at(1), at(2)]
    assert [c.volume for c in closed] == [D(1), D(0), D(0)]
    assert {c.close for c in closed} == {D(100)}
    assert builder.close_due(at(3.9)) == []  # minute 3 still open


def test_a_late_trade_of_a_closed_minute_is_ignored() -> None:
    builder = CandleBuilder("hyperliquid", "BTC")
    builder.add_trade(at(0.2), D("100"), D("1"))
    builder.add_trade(at(1.2), D("101"), D("1"))
    assert builder.add_trade(at(0.9), D("50"), D("1")) == []
    assert builder.current is not None
    assert builder.current.low == D(101)


def test_a_seeded_open_minute_is_continued_by_trades() -> None:
    builder = CandleBuilder("hyperliquid", "BTC")
    builder.seed(minute(0, "100", "5", o="98"))
    builder.add_trade(at(0.8), D("104"), D("1"))
    [closed] = builder.close_due(at(1))
    assert (closed.open, closed.high, closed.close, closed.volume) == (D(98), D(104), D(104), D(6))


def test_aggregate_takes_first_open_extremes_last_close_and_summed_volume() -> None:
    parts = [minute(0, "101", "1", o="100"), minute(1, "99", "2", o="101"), minute(2, "102", "3")]
    whole = aggregate(parts, "5m", T0)
    assert (whole.open, whole.high, whole.low, whole.close) == (D(100), D(102), D(99), D(102))
    assert whole.volume == D(6)
    assert whole.interval == "5m"


def test_the_store_completes_5m_and_1h_candles_and_skips_a_partial_first_bucket() -> None:
    store = CandleStore()
    stored: list[Candle] = []
    for index in range(3, 125):  # starts at 12:03: the 12:00 bucket is partial
        stored += store.add(minute(index, str(100 + index % 7)))
    fives = store.candles("BTC", "5m")
    assert fives[0].open_time == at(5)  # 12:00-12:05 was seen only in part
    assert all(c.close_time <= at(125) for c in fives)
    assert len(fives) == 24  # 12:05 .. 14:00
    hours = store.candles("BTC", "1h")
    assert [c.open_time for c in hours] == [at(60)]  # 12:xx partial, 13:00 whole, 14:00 open
    assert hours[0].volume == D(60)
    assert sum(1 for c in stored if c.interval == "5m") == 24
    assert store.add(minute(50, "1")) == []  # already stored: ignored


def test_the_store_keeps_only_its_capacity() -> None:
    store = CandleStore(capacity=10)
    for index in range(30):
        store.add(minute(index, "100"))
    assert len(store.candles("BTC", "1m")) == 10
    assert store.closes("BTC", "1m", 3) == [D(100)] * 3


def test_candles_are_checked() -> None:
    with pytest.raises(ValueError, match="do not bracket"):
        Candle("v", "BTC", "1m", T0, D(100), D(99), D(98), D(100), D(1))
    with pytest.raises(ValueError, match="unknown candle interval"):
        Candle("v", "BTC", "2m", T0, D(100), D(100), D(100), D(100), D(1))
    assert floor_time(at(7.5), "5m") == at(5)
