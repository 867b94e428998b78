"""The venue's wire format <-> our types, and its error answers -> our errors. Pure, no I/O.

Numbers are read with :func:`~exchange_clients.native.wire.to_decimal` (never via float) and
converted between venue units and ours through :class:`Market` (its quantity multiplier), so
nothing above the client sees venue units.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import (
    AuthenticationFailed,
    ExchangeError,
    InsufficientMargin,
    InvalidOrder,
    OrderNotFound,
    RateLimited,
    VenueUnavailable,
)
from exchange_clients.native.wire import ms_to_datetime, to_decimal
from exchange_clients.types import Fill, Market, Order, OrderStatus, OrderType, Side, TimeInForce

STATUS: Mapping[str, OrderStatus] = {
    "new": OrderStatus.OPEN,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "cancelled": OrderStatus.CANCELLED,
    "rejected": OrderStatus.REJECTED,
}


def side_from_wire(side: str) -> Side:
    return "buy" if side == "buy" else "sell"


def market_from_wire(row: Mapping[str, Any]) -> Market | None:
    """One listed perpetual; ``None`` for anything we do not trade."""
    if row.get("type") != "perpetual":
        return None
    return Market(
        symbol=str(row["base"]),
        contract_id=str(row["symbol"]),
        tick_size=to_decimal(row["tick_size"]),
        step_size=to_decimal(row["step_size"]),
        min_size=to_decimal(row["min_size"]),
        min_notional=to_decimal(row.get("min_notional", "0")),
        max_leverage=to_decimal(row.get("max_leverage", "10")),
    )


def order_from_wire(row: Mapping[str, Any], market: Market) -> Order:
    order_type = OrderType.MARKET if row.get("type") == "market" else OrderType.LIMIT
    price = row.get("price")
    return Order(
        client_order_id=str(row.get("client_id", "")),
        venue_order_id=str(row["id"]),
        symbol=market.symbol,
        side=side_from_wire(str(row["side"])),
        order_type=order_type,
        size=market.from_venue_size(to_decimal(row["size"])),
        price=market.from_venue_price(to_decimal(price)) if price is not None else None,
        status=STATUS.get(str(row["status"]), OrderStatus.OPEN),
        filled_size=market.from_venue_size(to_decimal(row.get("filled", "0"))),
        post_only=bool(row.get("post_only", False)),
        reduce_only=bool(row.get("reduce_only", False)),
        time_in_force=TimeInForce.IOC if row.get("tif") == "ioc" else TimeInForce.GTC,
        updated_at=ms_to_datetime(row["updated_ms"]) if "updated_ms" in row else None,
    )


def fill_from_wire(venue: str, row: Mapping[str, Any], market: Market) -> Fill:
    return Fill(
        venue=venue,
        fill_id=str(row["trade_id"]),
        client_order_id=str(row["client_id"]) if row.get("client_id") else None,
        venue_order_id=str(row["order_id"]),
        symbol=market.symbol,
        side=side_from_wire(str(row["side"])),
        price=market.from_venue_price(to_decimal(row["price"])),
        size=market.from_venue_size(to_decimal(row["size"])),
        fee=to_decimal(row.get("fee", "0")),
        liquidity="maker" if row.get("maker") else "taker",
        ts=ms_to_datetime(row["time_ms"]),
    )


def error_for(status: int, payload: Any, *, venue: str, label: str) -> ExchangeError:
    """An error answer as our error type; the message names the call, never a secret."""
    code = str(payload.get("code", "")) if isinstance(payload, Mapping) else ""
    message = f"{label}: HTTP {status} {code} {str(payload)[:200]}"
    if status in (401, 403):
        return AuthenticationFailed(message, venue=venue)
    if status == 429:
        return RateLimited(message, venue=venue)
    if status >= 500:
        return VenueUnavailable(message, venue=venue)
    if code == "ORDER_NOT_FOUND":
        return OrderNotFound(message, venue=venue)
    if code == "INSUFFICIENT_MARGIN":
        return InsufficientMargin(venue=venue, detail=message)
    return InvalidOrder(message, venue=venue)
