"""Publish-once rules shared by every native venue (exchange_clients/native/ledger.py)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from decimal import Decimal as D

from exchange_clients.native.ledger import PublishLedger
from exchange_clients.types import Fill, Order, OrderStatus, OrderType, TimeInForce


def order(status: OrderStatus, filled: str) -> Order:
    return Order(
        client_order_id="c1",
        venue_order_id="9",
        symbol="BTC",
        side="buy",
        order_type=OrderType.LIMIT,
        size=D(2),
        price=D(100),
        status=status,
        filled_size=D(filled),
        time_in_force=TimeInForce.GTC,
    )


def fill(fill_id: str, size: str, price: str, fee: str) -> Fill:
    return Fill(
        venue="v",
        fill_id=fill_id,
        client_order_id="c1",
        venue_order_id="9",
        symbol="BTC",
        side="buy",
        price=D(price),
        size=D(size),
        fee=D(fee),
        liquidity="maker",
        ts=datetime(2024, 1, 1, tzinfo=UTC),
    )


def test_an_order_state_is_news_once_and_stale_or_late_states_are_dropped() -> None:
    ledger = PublishLedger()
    assert ledger.take_order(order(OrderStatus.OPEN, "0"))
    assert not ledger.take_order(order(OrderStatus.OPEN, "0"))  # a replay
    assert ledger.take_order(order(OrderStatus.PARTIALLY_FILLED, "1"))
    assert not ledger.take_order(order(OrderStatus.OPEN, "0"))  # out of order
    assert ledger.take_order(order(OrderStatus.CANCELLED, "1"))
    assert not ledger.take_order(order(OrderStatus.FILLED, "2"))  # after the final state


def test_a_fill_is_taken_once_and_summed_into_its_order() -> None:
    ledger = PublishLedger()
    first, second = fill("1", "1", "100", "0.1"), fill("2", "1", "102", "0.2")
    assert ledger.take_fill(first)
    assert ledger.take_fill(second)
    assert not ledger.take_fill(dataclasses.replace(first))
    assert ledger.fees("9") == D("0.3")
    assert ledger.average_price("9") == D(101)
    assert ledger.fees(None) == 0
    assert ledger.average_price("other") is None
    assert not ledger.claim_fill(PublishLedger.fill_key("BTC", "2"))
