"""Venue-side stop-losses (``OrderType.STOP_MARKET``) on Binance-style venues: the two dialects.

* **Algo service** (Binance USD-M since 2025-12-09, change log 2025-11-06): conditional orders
  (STOP_MARKET, TAKE_PROFIT_MARKET, STOP, TAKE_PROFIT, TRAILING_STOP_MARKET) are refused by
  ``POST /fapi/v1/order`` (``-4120``) and live in the Algo Service: ``POST/GET/DELETE
  /fapi/v1/algoOrder`` (``algoType=CONDITIONAL``, ``triggerPrice``, ``clientAlgoId``),
  ``GET /fapi/v1/openAlgoOrders``, ``DELETE /fapi/v1/algoOpenOrders``, and the user-stream
  event ``ALGO_UPDATE`` (``caid``/``aid``/``X`` = NEW, TRIGGERING, TRIGGERED, FINISHED,
  CANCELED, REJECTED, EXPIRED; ``ai``/``aq``/``ap`` = the triggered order's id, filled
  quantity and average price). When the mark price crosses the trigger the service sends a
  market order to the matching engine under the same client id; its fills arrive as ordinary
  ``ORDER_TRADE_UPDATE`` events with ``ot=STOP_MARKET``. An algo order has its own id space,
  so its venue order id here is ``algo:<algoId>`` (cancel and status know where to ask).
* **Order endpoint** (Aster, which follows Binance's pre-2025 API): ``POST /fapi/v{1,3}/order``
  with ``type=STOP_MARKET`` and ``stopPrice``; the order keeps one ``orderId`` from resting to
  filled, and events carry ``ot=STOP_MARKET`` and ``sp`` (the stop price).

Both trigger on the mark price (``workingType=MARK_PRICE``): the last trade price can be
pushed through a stop by one thin print, the mark cannot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from exchange_clients.binance_style.signing import Params
from exchange_clients.binance_style.wire import STATUS, side_from_wire, side_to_wire
from exchange_clients.native.wire import ms_to_datetime, to_decimal, wire_decimal
from exchange_clients.types import (
    ZERO,
    Market,
    Order,
    OrderRequest,
    OrderStatus,
    TimeInForce,
)
from exchange_clients.types import (
    OrderType as Kind,
)

Dialect = Literal["algo", "order"]
ALGO_PREFIX = "algo:"
WORKING_TYPE = "MARK_PRICE"
STOP_TYPE = "STOP_MARKET"

ALGO_STATUS: dict[str, OrderStatus] = {
    "NEW": OrderStatus.OPEN,
    "TRIGGERING": OrderStatus.OPEN,
    "TRIGGERED": OrderStatus.OPEN,  # sent to the matching engine, not filled yet
    "CANCELED": OrderStatus.CANCELLED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
}


def is_algo_id(venue_order_id: str) -> bool:
    return venue_order_id.startswith(ALGO_PREFIX)


def algo_venue_id(algo_id: object) -> str:
    return f"{ALGO_PREFIX}{algo_id}"


def algo_id_of(venue_order_id: str) -> str:
    return venue_order_id.removeprefix(ALGO_PREFIX)


def stop_params(request: OrderRequest, market: Market, dialect: Dialect) -> Params:
    """The parameters of a reduce-only STOP_MARKET in the venue's dialect."""
    assert request.trigger_price is not None
    trigger = wire_decimal(market.to_venue_price(request.trigger_price))
    common = [
        ("symbol", market.contract_id),
        ("side", side_to_wire(request.side)),
        ("type", STOP_TYPE),
        ("quantity", wire_decimal(market.to_venue_size(request.size))),
    ]
    if dialect == "algo":
        return [
            ("algoType", "CONDITIONAL"),
            *common,
            ("triggerPrice", trigger),
            ("workingType", WORKING_TYPE),
            ("reduceOnly", "true"),
            ("clientAlgoId", request.client_order_id),
        ]
    return [
        *common,
        ("stopPrice", trigger),
        ("workingType", WORKING_TYPE),
        ("reduceOnly", "true"),
        ("newClientOrderId", request.client_order_id),
        ("newOrderRespType", "RESULT"),
    ]


def _finished(executed: Any) -> OrderStatus:
    """FINISHED = the triggered market order ended in the matching engine. It executed what
    the market (and, reduce-only, the position) allowed: FILLED when anything executed, the
    rest never existed as exposure; CANCELLED when nothing did."""
    return OrderStatus.FILLED if to_decimal(executed or "0") > 0 else OrderStatus.CANCELLED


def _stop_order(
    *,
    market: Market,
    client_id: str,
    venue_id: str,
    side: str,
    quantity: Any,
    trigger: Any,
    status: OrderStatus,
    executed: Any,
    average: Any,
    reduce_only: bool,
    created: Any,
    updated: Any,
    fee_paid: Any = ZERO,
) -> Order:
    filled = market.from_venue_size(to_decimal(executed or "0"))
    avg = to_decimal(average or "0")
    return Order(
        client_order_id=client_id,
        venue_order_id=venue_id,
        symbol=market.symbol,
        side=side_from_wire(side),
        order_type=Kind.STOP_MARKET,
        size=market.from_venue_size(to_decimal(quantity)),
        price=None,
        status=status,
        filled_size=filled,
        avg_fill_price=market.from_venue_price(avg) if filled > 0 and avg > 0 else None,
        fee_paid=fee_paid,
        reduce_only=reduce_only,
        time_in_force=TimeInForce.GTC,
        trigger_price=market.from_venue_price(to_decimal(trigger)),
        created_at=ms_to_datetime(int(created)) if isinstance(created, int) and created else None,
        updated_at=ms_to_datetime(int(updated)) if isinstance(updated, int) and updated else None,
    )


def _algo_status(raw: Any, executed: Any) -> OrderStatus:
    """An algo order's status (REST and ALGO_UPDATE name it alike): FINISHED is filled or
    cancelled by what executed."""
    raw_status = str(raw)
    if raw_status == "FINISHED":
        return _finished(executed)
    return ALGO_STATUS.get(raw_status, OrderStatus.OPEN)


def order_from_algo(data: Mapping[str, Any], market: Market) -> Order:
    """An algo order as ``POST/GET algoOrder`` and ``openAlgoOrders`` return it."""
    status = _algo_status(data.get("algoStatus", "NEW"), data.get("executedQty"))
    return _stop_order(
        market=market,
        client_id=str(data.get("clientAlgoId", "")),
        venue_id=algo_venue_id(data["algoId"]),
        side=str(data["side"]),
        quantity=data["quantity"],
        trigger=data["triggerPrice"],
        status=status,
        executed=data.get("executedQty"),
        average=data.get("avgPrice"),
        reduce_only=bool(data.get("reduceOnly", True)),
        created=data.get("createTime"),
        updated=data.get("updateTime"),
    )


def order_from_algo_event(o: Mapping[str, Any], market: Market, fee_paid: Any = ZERO) -> Order:
    """The ``o`` object of an ``ALGO_UPDATE`` event."""
    status = _algo_status(o.get("X", "NEW"), o.get("aq"))
    return _stop_order(
        market=market,
        client_id=str(o.get("caid", "")),
        venue_id=algo_venue_id(o["aid"]),
        side=str(o["S"]),
        quantity=o["q"],
        trigger=o["tp"],
        status=status,
        executed=o.get("aq"),
        average=o.get("ap"),
        reduce_only=bool(o.get("R", True)),
        created=None,
        updated=o.get("tt") or None,
        fee_paid=fee_paid,
    )


def is_stop_row(data: Mapping[str, Any]) -> bool:
    """A REST order row (``order``/``openOrders``) that is, or was, a STOP_MARKET."""
    return STOP_TYPE in (data.get("type"), data.get("origType"))


def is_stop_event(o: Mapping[str, Any]) -> bool:
    """An ``ORDER_TRADE_UPDATE`` of a STOP_MARKET (resting, or triggered into a market order)."""
    return STOP_TYPE in (o.get("o"), o.get("ot"))


def stop_from_row(data: Mapping[str, Any], market: Market) -> Order:
    """A STOP_MARKET as the order endpoint shows it (``stopPrice``)."""
    return _stop_order(
        market=market,
        client_id=str(data.get("clientOrderId", "")),
        venue_id=str(data["orderId"]),
        side=str(data["side"]),
        quantity=data["origQty"],
        trigger=data.get("stopPrice", "0"),
        status=STATUS.get(str(data["status"]), OrderStatus.OPEN),
        executed=data.get("executedQty"),
        average=data.get("avgPrice"),
        reduce_only=bool(data.get("reduceOnly", False)),
        created=data.get("time", data.get("updateTime")),
        updated=data.get("updateTime"),
    )


def stop_from_event(
    o: Mapping[str, Any], market: Market, venue_id: str, fee_paid: Any = ZERO
) -> Order:
    """A STOP_MARKET from an ``ORDER_TRADE_UPDATE`` (``sp`` = its stop price), published
    under ``venue_id`` (the algo order's id for a triggered algo order)."""
    return _stop_order(
        market=market,
        client_id=str(o.get("c", "")),
        venue_id=venue_id,
        side=str(o["S"]),
        quantity=o["q"],
        trigger=o.get("sp", "0"),
        status=STATUS.get(str(o["X"]), OrderStatus.OPEN),
        executed=o.get("z"),
        average=o.get("ap"),
        reduce_only=bool(o.get("R", False)),
        created=None,
        updated=o.get("T"),
        fee_paid=fee_paid,
    )
