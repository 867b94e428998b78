"""Stop orders on the wire, both dialects: what is sent, and the algo lifecycle read back
(shapes from Binance's "New Algo Order" answer and "Event: Algo Order Update")."""

from __future__ import annotations

from decimal import Decimal

from exchange_clients.binance_style.stops import (
    order_from_algo,
    order_from_algo_event,
    stop_params,
)
from exchange_clients.types import Market, OrderRequest, OrderStatus, OrderType

D = Decimal
PEPE = Market(
    symbol="PEPE",
    contract_id="1000PEPEUSDT",
    tick_size=D("0.0000001") / 1000,
    step_size=D(1000),
    min_size=D(1000),
    min_notional=D(5),
    max_leverage=D(50),
    quantity_multiplier=D(1000),
    quote="USDT",
)
REQUEST = OrderRequest(
    symbol="PEPE",
    side="sell",
    size=D(2_000_000),
    order_type=OrderType.STOP_MARKET,
    client_order_id="sl-pepe",
    reduce_only=True,
    trigger_price=D("0.0000115"),
)


def test_algo_dialect_sends_a_conditional_algo_order_on_the_mark_in_venue_units() -> None:
    assert dict(stop_params(REQUEST, PEPE, "algo")) == {
        "algoType": "CONDITIONAL",
        "symbol": "1000PEPEUSDT",
        "side": "SELL",
        "type": "STOP_MARKET",
        "quantity": "2000",
        "triggerPrice": "0.0115",
        "workingType": "MARK_PRICE",
        "reduceOnly": "true",
        "clientAlgoId": "sl-pepe",
    }


def test_order_dialect_sends_stop_price_on_the_order_endpoint() -> None:
    params = dict(stop_params(REQUEST, PEPE, "order"))
    assert (params["type"], params["stopPrice"], params["newClientOrderId"]) == (
        "STOP_MARKET",
        "0.0115",
        "sl-pepe",
    )
    assert params["reduceOnly"] == "true"
    assert "triggerPrice" not in params


ALGO_ROW = {
    "algoId": 3358,
    "clientAlgoId": "sl-pepe",
    "algoType": "CONDITIONAL",
    "orderType": "STOP_MARKET",
    "symbol": "1000PEPEUSDT",
    "side": "SELL",
    "positionSide": "BOTH",
    "timeInForce": "GTC",
    "quantity": "2000",
    "algoStatus": "NEW",
    "triggerPrice": "0.0115000",
    "price": "0",
    "workingType": "MARK_PRICE",
    "closePosition": False,
    "priceProtect": False,
    "reduceOnly": True,
    "createTime": 1763458576201,
    "updateTime": 1763458576201,
    "triggerTime": 0,
    "goodTillDate": 0,
}


def test_an_algo_order_reads_back_in_internal_units_under_its_own_id_space() -> None:
    order = order_from_algo(ALGO_ROW, PEPE)
    assert (order.venue_order_id, order.client_order_id, order.status) == (
        "algo:3358",
        "sl-pepe",
        OrderStatus.OPEN,
    )
    assert (order.size, order.trigger_price, order.order_type) == (
        D(2_000_000),
        D("0.0000115"),
        OrderType.STOP_MARKET,
    )


def test_finished_is_filled_when_the_triggered_order_executed_cancelled_when_not() -> None:
    executed = {**ALGO_ROW, "algoStatus": "FINISHED", "executedQty": "2000", "avgPrice": "0.0114"}
    nothing = {**ALGO_ROW, "algoStatus": "FINISHED", "executedQty": "0", "avgPrice": "0"}
    filled = order_from_algo(executed, PEPE)
    assert (filled.status, filled.filled_size, filled.avg_fill_price) == (
        OrderStatus.FILLED,
        D(2_000_000),
        D("0.0000114"),
    )
    assert order_from_algo(nothing, PEPE).status is OrderStatus.CANCELLED


def test_algo_update_events_map_each_status() -> None:
    event = {
        "caid": "sl-pepe",
        "aid": 2148719,
        "at": "CONDITIONAL",
        "o": "STOP_MARKET",
        "s": "1000PEPEUSDT",
        "S": "SELL",
        "ps": "BOTH",
        "f": "GTC",
        "q": "2000",
        "X": "NEW",
        "ai": "",
        "ap": "0.00000",
        "aq": "0.00000",
        "act": "0",
        "tp": "0.0115",
        "p": "0",
        "wt": "MARK_PRICE",
        "R": True,
        "tt": 0,
        "rm": "",
    }
    expected = {
        "NEW": OrderStatus.OPEN,
        "TRIGGERING": OrderStatus.OPEN,
        "TRIGGERED": OrderStatus.OPEN,
        "CANCELED": OrderStatus.CANCELLED,
        "REJECTED": OrderStatus.REJECTED,
        "EXPIRED": OrderStatus.EXPIRED,
    }
    for wire_status, status in expected.items():
        order = order_from_algo_event({**event, "X": wire_status}, PEPE)
        assert (order.status, order.venue_order_id) == (status, "algo:2148719")
    done = order_from_algo_event({**event, "X": "FINISHED", "aq": "2000", "ap": "0.0114"}, PEPE)
    assert (done.status, done.filled_size) == (OrderStatus.FILLED, D(2_000_000))
