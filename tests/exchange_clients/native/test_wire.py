"""The wire scalars every native venue shares (exchange_clients/native/wire.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from exchange_clients.native.wire import (
    FillFormat,
    datetime_to_ms,
    ms_field,
    ms_to_datetime,
    optional_decimal,
    to_decimal,
    wire_decimal,
)
from exchange_clients.types import Market, Side


def test_wire_numbers_never_go_through_float() -> None:
    assert to_decimal("0.1") + to_decimal("0.2") == D("0.3")
    assert to_decimal(7) == D(7)
    assert to_decimal(D("1.5")) == D("1.5")
    for inexact in (0.1, True):
        with pytest.raises(ValueError, match="exact number"):
            to_decimal(inexact)
    with pytest.raises(ValueError, match="not a number"):
        to_decimal("abc")


def test_absent_fields_are_none_not_zero() -> None:
    assert optional_decimal(None) is None
    assert optional_decimal("") is None
    assert optional_decimal("0") == D(0)


def test_decimals_go_on_the_wire_plain() -> None:
    assert wire_decimal(D("1E+3")) == "1000"
    assert wire_decimal(D("0.000100")) == "0.0001"


def test_milliseconds_round_trip_as_aware_utc() -> None:
    when = ms_to_datetime("1700000000123")
    assert when == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
    assert datetime_to_ms(when) == 1700000000123


def _side(word: str) -> Side:
    return "buy" if word == "B" else "sell"


KPEPE = Market(
    symbol="KPEPE",
    contract_id="kPEPE",
    tick_size=D("0.000001"),
    step_size=D(1),
    min_size=D(1),
    min_notional=D(0),
    max_leverage=D(10),
    quantity_multiplier=D(1000),
    quote="USDC",
)
WHEN = datetime(2026, 1, 2, tzinfo=UTC)
ROW = {"id": 7, "oid": 9, "s": "B", "px": "2", "sz": "3", "fee": "0.1", "flag": True}


def test_a_fill_format_reads_a_record_in_internal_units() -> None:
    keys = ("id", "oid", "s", "px", "sz", "fee", "asset")
    fmt = FillFormat(keys, _side, lambda _: WHEN, maker="flag")
    fill = fmt.read("venue", ROW, KPEPE, "cid-1")
    assert (fill.fill_id, fill.venue_order_id, fill.client_order_id) == ("7", "9", "cid-1")
    assert (fill.symbol, fill.side, fill.ts) == ("KPEPE", "buy", WHEN)
    assert (fill.price, fill.size, fill.fee) == (D("0.002"), D(3000), D("0.1"))
    assert (fill.liquidity, fill.fee_asset) == ("maker", "USDC")  # no asset named: the quote
    taker_flagged = FillFormat(keys, _side, lambda _: WHEN, taker="flag", fee_asset="USDT")
    no_fee = {key: value for key, value in ROW.items() if key != "fee"}
    fill = taker_flagged.read("venue", {**no_fee, "asset": ""}, KPEPE, None)
    assert (fill.liquidity, fill.fee_asset, fill.fee) == ("taker", "USDT", D(0))


def test_a_millisecond_time_field_is_read_by_key() -> None:
    assert ms_field("T")({"T": 1_767_312_000_000}) == datetime(2026, 1, 2, tzinfo=UTC)
