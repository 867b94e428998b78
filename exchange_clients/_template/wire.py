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
from exchange_clients.native.wire import ms_to_datetime, optional_decimal, to_decimal
from exchange_clients.types import (
    FeeSchedule,
    Fill,
    Market,
    MarketStats,
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)

STATUS: Mapping[str, OrderStatus] = {
    "new": OrderStatus.OPEN,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "cancelled": OrderStatus.CANCELLED,
    "rejected": OrderStatus.REJECTED,
}


ORDER_TYPES: Mapping[str, OrderType] = {
    "limit": OrderType.LIMIT,
    "market": OrderType.MARKET,
    "stop_market": OrderType.STOP_MARKET,
}
"""The venue's order types; ``stop_market`` is its reduce-only trigger order (a venue without
one keeps ``supports_trigger_orders = False`` and refuses ``STOP_MARKET`` with InvalidOrder)."""
ORDER_TYPE_WIRE = {ours: theirs for theirs, ours in ORDER_TYPES.items()}

PUBLISHED_FEES = FeeSchedule(
    maker=to_decimal("0.0002"), taker=to_decimal("0.0005"), source="published"
)
"""The venue's public base schedule: what :meth:`fees` answers where the venue has no endpoint
for an account's own tier (cite the page it comes from)."""


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
    order_type = ORDER_TYPES.get(str(row.get("type")), OrderType.LIMIT)
    price = row.get("price")
    trigger = optional_decimal(row.get("trigger_price"))
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
        trigger_price=market.from_venue_price(trigger) if trigger is not None else None,
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


def fees_from_wire(row: Mapping[str, Any]) -> FeeSchedule:
    """The account's own tier (fractions of notional; a negative maker fee is a rebate)."""
    return FeeSchedule(
        maker=to_decimal(row["maker"]), taker=to_decimal(row["taker"]), source="account"
    )


def stats_from_wire(row: Mapping[str, Any], market: Market) -> MarketStats:
    """One 24 h ticker: quote volume as is, open interest (venue units) at the mark price."""
    interest, mark = optional_decimal(row.get("open_interest")), optional_decimal(row.get("mark"))
    return MarketStats(
        symbol=market.symbol,
        volume_24h_usd=optional_decimal(row.get("quote_volume")),
        open_interest_usd=interest * mark if interest is not None and mark is not None else None,
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
