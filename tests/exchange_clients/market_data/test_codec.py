"""The recording line format: decoding is exact and strict, also for strings seen before."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from exchange_clients.market_data import codec
from exchange_clients.market_data.codec import decode_event, encode_event
from exchange_clients.market_data.events import (
    BookDeltaEvent,
    FundingEvent,
    MarketEvent,
    TradeEvent,
)
from exchange_clients.market_data.synthetic import SyntheticMarket

START = datetime(2026, 1, 1, tzinfo=UTC)


def _delta(bids: list[Any], asks: list[Any] | None = None) -> dict[str, Any]:
    return {
        "type": "delta",
        "symbol": "BTC",
        "ts": 1_767_225_600_250_000,
        "first_sequence": 2,
        "last_sequence": 3,
        "bids": bids,
        "asks": asks if asks is not None else [],
    }


def test_every_kind_of_event_survives_a_round_trip() -> None:
    market = SyntheticMarket(5, "paper")
    snapshot = market.book("BTC", START)
    events: list[MarketEvent] = [snapshot, FundingEvent(market.funding_rate("BTC", START))]
    for _ in range(2):  # the second time every string is known: same events again
        for event in events:
            assert decode_event(encode_event(event), "paper") == event
    delta = BookDeltaEvent(
        venue="paper",
        symbol="BTC",
        ts=START,
        bids=((Decimal("62733.5"), Decimal("0.310")), (Decimal("62700"), Decimal("0"))),
        asks=(),
        first_sequence=snapshot.sequence + 1,
        last_sequence=snapshot.sequence + 1,
    )
    trade = TradeEvent(
        venue="paper",
        symbol="BTC",
        ts=START,
        price=Decimal("62733.5"),
        size=Decimal("0.310"),
        taker_side="buy",
        trade_id="t1",
    )
    for event in (delta, trade, delta, trade):
        decoded = decode_event(encode_event(event), "paper")
        assert decoded == event
        assert str(decoded.ts) == str(event.ts)


def test_a_known_string_keeps_its_exact_form() -> None:
    first = decode_event(_delta([["100.10", "0.500"]]), "x")
    again = decode_event(_delta([["100.10", "0.500"], ["100.1", "0.5"]]), "x")
    assert isinstance(first, BookDeltaEvent)
    assert isinstance(again, BookDeltaEvent)
    assert [str(v) for level in again.bids for v in level] == ["100.10", "0.500", "100.1", "0.5"]
    assert first.bids[0] == again.bids[0]


@pytest.mark.parametrize(
    ("level", "message"),
    [
        (100, r"bids must be a list of \[price, size\] pairs, found 100"),
        ("10", r"bids must be a list of \[price, size\] pairs, found '10'"),
        (["1", "0", "1"], r"bids must be a list of \[price, size\] pairs"),
        ([1, "0"], "bids price must be a decimal string, found 1"),
        ([1.0, "0"], "bids price must be a decimal string, found 1.0"),
        (["1", 0], "bids size must be a decimal string, found 0"),
        (["1", ["0"]], r"bids size must be a decimal string, found \['0'\]"),
        (["1", "NaN"], "bids size must be a finite number"),
        (["1", "one"], "bids size must be a decimal string, found 'one'"),
    ],
)
def test_a_bad_level_is_refused_even_when_its_strings_were_seen(
    level: object, message: str
) -> None:
    # "1", "0" and "10" are known decimal strings by now: the checks still hold.
    decode_event(_delta([["1", "0"], ["10", "1"], ["0", "10"]]), "x")
    with pytest.raises(ValueError, match=message):
        decode_event(_delta([["1", "0"], level]), "x")


def test_the_cache_of_decimal_strings_is_bounded() -> None:
    for n in range(codec.DECIMAL_CACHE_SIZE + 10):
        decode_event(_delta([[f"{n}.5", "1"]]), "x")
    assert 0 < len(codec._decimals) <= codec.DECIMAL_CACHE_SIZE
    last = decode_event(_delta([[f"{codec.DECIMAL_CACHE_SIZE + 9}.5", "1"]]), "x")
    assert isinstance(last, BookDeltaEvent)
    assert last.bids == ((Decimal(f"{codec.DECIMAL_CACHE_SIZE + 9}.5"), Decimal(1)),)
