"""Value types: requests validate themselves, conversions and derived figures are exact."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from exchange_clients.types import (
    Balance,
    BookSnapshot,
    Fill,
    FundingRate,
    Market,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    TimeInForce,
    _slot_init,
)


def request(**changes: object) -> OrderRequest:
    fields: dict[str, object] = {
        "symbol": "BTC",
        "side": "buy",
        "size": Decimal("0.01"),
        "order_type": OrderType.LIMIT,
        "client_order_id": "c-1",
        "price": Decimal(60000),
    }
    fields.update(changes)
    return OrderRequest(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"side": "long"}, "side must be 'buy' or 'sell', not 'long'"),
        ({"client_order_id": ""}, "every order needs a client order id"),
        ({"size": Decimal(0)}, "order size must be positive, not 0"),
        ({"price": None}, "a limit order needs a positive price, not None"),
        ({"order_type": OrderType.MARKET}, "a market order takes no price"),
        (
            {"post_only": True, "time_in_force": TimeInForce.IOC},
            "post-only applies to resting (GTC) limit orders only",
        ),
    ],
)
def test_invalid_requests_are_refused(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        request(**changes)


def test_kilo_contracts_convert_both_ways_exactly() -> None:
    kpepe = Market(
        symbol="PEPE",
        contract_id="kPEPE",
        tick_size=Decimal("0.0000001"),
        step_size=Decimal(1000),
        min_size=Decimal(1000),
        min_notional=Decimal(10),
        max_leverage=Decimal(10),
        quantity_multiplier=Decimal(1000),
    )
    assert kpepe.to_venue_size(Decimal(250000)) == Decimal(250)
    assert kpepe.to_venue_price(Decimal("0.0000123")) == Decimal("0.0123")
    assert kpepe.from_venue_price(kpepe.to_venue_price(Decimal("0.0000123"))) == Decimal(
        "0.0000123"
    )
    assert kpepe.from_venue_size(Decimal(250)) == Decimal(250000)


def test_market_refuses_a_non_positive_grid() -> None:
    with pytest.raises(ValueError, match="BTC: tick_size must be positive"):
        Market("BTC", "BTCUSDT", Decimal(0), Decimal("0.001"), Decimal(0), Decimal(5), Decimal(20))


def test_funding_rates_compare_per_hour() -> None:
    eight_hourly = FundingRate("binance", "BTC", Decimal("0.0001"), Decimal(8), None)
    hourly = FundingRate("hyperliquid", "BTC", Decimal("0.0000125"), Decimal(1), None)
    assert eight_hourly.hourly_rate == hourly.hourly_rate == Decimal("0.0000125")
    assert hourly.apr == Decimal("0.1095")


def test_balance_available_never_negative() -> None:
    assert Balance(Decimal(1000), Decimal(-50), Decimal(200)).available == Decimal(750)
    assert Balance(Decimal(100), Decimal(-150), Decimal(10)).available == 0


def test_final_and_resting_statuses() -> None:
    assert {s for s in OrderStatus if s.is_final} == {
        OrderStatus.FILLED,
        OrderStatus.CANCELLED,
        OrderStatus.REJECTED,
        OrderStatus.EXPIRED,
        OrderStatus.FAILED,
    }
    assert OrderStatus.LOST.is_final is False  # still polled for late fills
    assert OrderStatus.PENDING_CANCEL.is_resting
    assert {s for s in OrderStatus if s.is_resting} == {
        OrderStatus.OPEN,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_CANCEL,
    }


def test_a_balance_from_what_venues_report_keeps_margin_in_use_non_negative() -> None:
    balance = Balance.from_available(Decimal(1000), Decimal(-50), Decimal(700), asset="USDT")
    assert balance.margin_used == Decimal(250)
    assert balance.available == Decimal(700)
    assert balance.asset == "USDT"
    assert Balance.from_available(Decimal(10), Decimal(5), Decimal(20)).margin_used == 0


@pytest.mark.parametrize("cls", [Order, Fill, Position, Balance, FundingRate, BookSnapshot])
def test_slot_inits_take_what_the_dataclass_init_took(cls: type) -> None:
    """The hot value types' faster ``__init__``: the dataclass's parameters and defaults."""
    made = dataclasses.make_dataclass(  # the same fields, with the dataclass's own __init__
        "Made",
        [(f.name, f.type, f) for f in dataclasses.fields(cls)],
        frozen=True,
        slots=True,
    )
    assert inspect.signature(cls) == inspect.signature(made)
    init = vars(cls)["__init__"]
    assert (init.__module__, init.__qualname__) == (cls.__module__, f"{cls.__qualname__}.__init__")


def test_a_slot_init_sets_every_field_and_keeps_the_value_frozen() -> None:
    ts = datetime(2026, 1, 1, tzinfo=UTC)
    book = BookSnapshot("BTC", ((Decimal(1), Decimal(2)),), (), ts)
    assert (book.symbol, book.bids, book.asks, book.ts, book.sequence) == (
        "BTC",
        ((Decimal(1), Decimal(2)),),
        (),
        ts,
        None,
    )
    assert book == BookSnapshot(symbol="BTC", bids=book.bids, asks=(), ts=ts, sequence=None)
    assert dataclasses.replace(book, sequence=3).sequence == 3
    assert copy.deepcopy(book) == book
    with pytest.raises(dataclasses.FrozenInstanceError):
        book.symbol = "ETH"  # type: ignore[misc]
    with pytest.raises(TypeError):
        BookSnapshot("BTC", (), ())  # type: ignore[call-arg]


def test_a_slot_init_runs_post_init_and_refuses_field_factories() -> None:
    @_slot_init
    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        size: Decimal

        def __post_init__(self) -> None:
            if self.size <= 0:
                raise ValueError("size")

    assert Checked(Decimal(1)).size == 1
    with pytest.raises(ValueError, match="size"):
        Checked(Decimal(0))
    with pytest.raises(TypeError, match="only plain fields"):

        @_slot_init
        @dataclasses.dataclass(frozen=True, slots=True)
        class Listed:
            items: list[int] = dataclasses.field(default_factory=list)
