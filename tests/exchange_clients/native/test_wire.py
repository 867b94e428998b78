"""The wire scalars every native venue shares (exchange_clients/native/wire.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

import pytest

from exchange_clients.native.wire import (
    datetime_to_ms,
    ms_to_datetime,
    optional_decimal,
    to_decimal,
    wire_decimal,
)


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
