"""Paradex wire shapes -> our types, and error answers -> core.errors."""

from __future__ import annotations

from decimal import Decimal

from core.errors import (
    AuthenticationFailed,
    InvalidOrder,
    OrderNotFound,
    RateLimited,
    UnknownSymbol,
    VenueUnavailable,
)
from exchange_clients.paradex import wire
from exchange_clients.types import OrderStatus, OrderType

D = Decimal
MARKET_ROW = {
    "symbol": "SOL-USD-PERP",
    "base_currency": "SOL",
    "quote_currency": "USD",
    "asset_kind": "PERP",
    "order_size_increment": "0.01",
    "price_tick_size": "0.001",
    "min_notional": "10",
    "delta1_cross_margin_params": {"imf_base": "0.11"},
}


def test_markets_read_grids_and_leverage_from_the_initial_margin() -> None:
    market = wire.market_from_wire(MARKET_ROW)
    assert market is not None
    assert (market.symbol, market.contract_id) == ("SOL", "SOL-USD-PERP")
    assert (market.tick_size, market.step_size, market.min_notional) == (
        D("0.001"),
        D("0.01"),
        D(10),
    )
    assert market.max_leverage == D(9)  # 1 / 0.11 = 9.09: never rounded up
    assert wire.market_from_wire({**MARKET_ROW, "asset_kind": "PERP_OPTION"}) is None


def order_row(**changes: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": "17",
        "client_id": "ours-1",
        "market": "SOL-USD-PERP",
        "side": "SELL",
        "type": "LIMIT",
        "size": "2",
        "remaining_size": "2",
        "price": "150.5",
        "trigger_price": "0",
        "avg_fill_price": "",
        "status": "OPEN",
        "cancel_reason": "",
        "instruction": "POST_ONLY",
        "flags": [],
        "created_at": 1_700_000_000_000,
        "last_updated_at": 1_700_000_000_500,
    }
    return {**row, **changes}


def test_order_states_and_cancel_reasons_map_to_our_statuses() -> None:
    market = wire.market_from_wire(MARKET_ROW)
    assert market is not None

    def status(**changes: object) -> OrderStatus:
        return wire.order_from_wire(order_row(**changes), market, D(0)).status

    assert status(status="NEW") is OrderStatus.PENDING
    assert status() is OrderStatus.OPEN
    assert status(remaining_size="1.5") is OrderStatus.PARTIALLY_FILLED
    assert status(status="CLOSED", remaining_size="0") is OrderStatus.FILLED
    assert status(status="CLOSED", cancel_reason="USER_CANCELED") is OrderStatus.CANCELLED
    assert status(status="CLOSED", cancel_reason="POST_ONLY_WOULD_CROSS") is OrderStatus.REJECTED
    stop = wire.order_from_wire(
        order_row(
            type="STOP_MARKET",
            price="0",
            trigger_price="140",
            status="UNTRIGGERED",
            flags=["REDUCE_ONLY"],
        ),
        market,
        D(0),
    )
    assert (stop.order_type, stop.price, stop.trigger_price, stop.reduce_only) == (
        OrderType.STOP_MARKET,
        None,
        D(140),
        True,
    )
    assert stop.status is OrderStatus.OPEN
    limit = wire.order_from_wire(order_row(), market, D("0.1"))
    assert (limit.post_only, limit.side, limit.price, limit.fee_paid) == (
        True,
        "sell",
        D("150.5"),
        D("0.1"),
    )


def test_positions_are_signed_and_flat_ones_skipped() -> None:
    market = wire.market_from_wire(MARKET_ROW)
    assert market is not None
    row = {
        "market": "SOL-USD-PERP",
        "side": "SHORT",
        "size": "3",
        "status": "OPEN",
        "average_entry_price": "151",
        "unrealized_pnl": "-1.5",
        "liquidation_price": "",
    }
    position = wire.position_from_wire(row, market, D("151.5"))
    assert position is not None
    assert (position.size, position.entry_price, position.liquidation_price) == (
        D(-3),
        D(151),
        None,
    )
    assert wire.position_from_wire({**row, "size": "0"}, market, D(1)) is None


def test_errors_map_by_paradex_code() -> None:
    def error(status: int, code: str) -> type[Exception]:
        return type(wire.error_for(status, code, "detail", label="POST /v1/orders"))

    assert error(401, "INVALID_TOKEN") is AuthenticationFailed
    assert error(400, "NOT_ONBOARDED") is AuthenticationFailed
    assert error(404, "CLIENT_ORDER_ID_NOT_FOUND") is OrderNotFound
    assert error(400, "MARKET_NOT_FOUND") is UnknownSymbol
    assert error(400, "INVALID_ORDER_SIGNATURE") is InvalidOrder
    assert error(429, "RATE_LIMIT") is RateLimited
    assert error(503, "SERVICE_UNAVAILABLE") is VenueUnavailable
    assert wire.parse_error({"error": "X", "message": "m"}, 400) == ("X", "m")
    assert wire.parse_error("<html>", 502) == ("HTTP_502", "<html>")
