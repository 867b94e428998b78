"""The atomic result is concluded once and reports every order it saw."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchange_clients.types import Order, OrderStatus, OrderType
from execution.atomic import AtomicResult, AtomicStatus, Leg, LegResult
from execution.atomic.result import ResultAlreadyConcluded

D = Decimal


def filled(client_id: str, side: str, size: str, price: str) -> Order:
    return Order(
        client_order_id=client_id,
        venue_order_id=client_id,
        symbol="BTC",
        side="buy" if side == "buy" else "sell",
        order_type=OrderType.MARKET,
        size=D(size),
        price=None,
        status=OrderStatus.FILLED,
        filled_size=D(size),
        avg_fill_price=D(price),
        fee_paid=D("0.01"),
    )


def test_a_result_is_concluded_once() -> None:
    result = AtomicResult("op-1", [LegResult(Leg("paper_a", "BTC", "buy", D(1)))])
    result.conclude(AtomicStatus.ROLLED_BACK)
    with pytest.raises(ResultAlreadyConcluded, match="already concluded rolled_back"):
        result.conclude(AtomicStatus.COMPLETED)
    assert result.status is AtomicStatus.ROLLED_BACK


def test_legs_report_net_entry_fees_and_slippage() -> None:
    buy = LegResult(Leg("paper_a", "BTC", "buy", D(1)), reference_price=D(100))
    buy.apply(filled("e1", "buy", "0.6", "100"))
    buy.apply(filled("e2", "buy", "0.4", "101"))
    buy.apply(filled("r1", "sell", "0.25", "99"))
    sell = LegResult(Leg("paper_b", "BTC", "sell", D(1)), reference_price=D(100))
    sell.apply(filled("s1", "sell", "0.75", "99"))
    result = AtomicResult("op-2", [buy, sell])
    assert (buy.opened, buy.closed, buy.net, buy.signed_net) == (
        D(1),
        D("0.25"),
        D("0.75"),
        D("0.75"),
    )
    assert buy.entry_price == D("100.4")
    assert buy.slippage_bps == D(40)  # paid 0.4 % above the touch
    assert sell.slippage_bps == D(100)  # sold 1 % below it: worse, so positive
    assert result.net_exposure == 0
    assert result.fees == D("0.04")
    assert result.order_ids == ["e1", "e2", "r1", "s1"]
    stored = result.to_json()
    assert stored["legs"][0]["net"] == D("0.75")
    assert [o["client_order_id"] for o in stored["legs"][1]["orders"]] == ["s1"]
