"""Paradex wire format <-> our types, and its error answers -> ``core.errors``.

Shapes from the Paradex REST API (``/v1``) as its official SDK models them: markets
(``symbol`` ``BTC-USD-PERP``, ``base_currency``, ``price_tick_size``, ``order_size_increment``,
``min_notional``, ``asset_kind``), orders (``status`` ``NEW`` / ``UNTRIGGERED`` / ``OPEN`` /
``CLOSED`` with a ``cancel_reason``; ``size`` and ``remaining_size``; ``avg_fill_price``),
fills (``liquidity`` ``MAKER`` / ``TAKER``, ``fee`` in USDC), positions (signed ``size``).
Errors are ``{"error": "<CODE>", "message": "..."}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from core.errors import (
    AuthenticationFailed,
    ExchangeError,
    InsufficientMargin,
    InvalidOrder,
    OrderNotFound,
    PostOnlyWouldCross,
    RateLimited,
    ReduceOnlyRejected,
    UnknownSymbol,
    VenueUnavailable,
)
from exchange_clients.native.wire import (
    ms_to_datetime,
    optional_decimal,
    to_decimal,
)
from exchange_clients.types import (
    FeeSchedule,
    Fill,
    Market,
    MarketStats,
    Order,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TimeInForce,
)

VENUE = "paradex"

ORDER_TYPE_WIRE = {
    OrderType.LIMIT: "LIMIT",
    OrderType.MARKET: "MARKET",
    OrderType.STOP_MARKET: "STOP_MARKET",
}
ORDER_TYPE_OURS = {wire: ours for ours, wire in ORDER_TYPE_WIRE.items()}

AUTH_CODES = {
    "INVALID_TOKEN",
    "UNAUTHORIZED_ERROR",
    "INVALID_STARKNET_SIGNATURE",
    "STARKNET_SIGNATURE_VERIFICATION_FAILED",
    "INVALID_STARKNET_ADDRESS",
    "INVALID_ETHEREUM_ADDRESS",
    "PUBLIC_KEY_INVALID",
    "NOT_ONBOARDED",
    "INVALID_TIMESTAMP",
    "ACCOUNT_NOT_FOUND",
}
NOT_FOUND_CODES = {"ORDER_ID_NOT_FOUND", "CLIENT_ORDER_ID_NOT_FOUND", "NOT_FOUND"}
INVALID_ORDER_CODES = {
    "VALIDATION_ERROR",
    "BINDING_ERROR",
    "INVALID_REQUEST_PARAMETER",
    "INVALID_ORDER_SIGNATURE",
    "DUPLICATED_CLIENT_ID",
    "ORDER_IS_CLOSED",
    "ORDER_IS_NOT_OPEN",
    "MARKET_NOT_OPEN",
}

CANCEL_REASONS_AS_ERRORS: dict[str, type[ExchangeError]] = {
    "POST_ONLY_WOULD_CROSS": PostOnlyWouldCross,
    "REDUCE_ONLY_WOULD_INCREASE": ReduceOnlyRejected,
}
"""Paradex accepts an order (``NEW``) and closes it at once for these: for us a refusal."""


def side_of(wire: str) -> Side:
    return "buy" if wire.upper() == "BUY" else "sell"


def side_to_wire(side: Side) -> str:
    return "BUY" if side == "buy" else "SELL"


def parse_error(payload: Any, status: int) -> tuple[str, str]:
    """``(code, message)`` of an error answer (``HTTP_<status>`` when it has none)."""
    if isinstance(payload, Mapping):
        return str(payload.get("error") or f"HTTP_{status}"), str(payload.get("message") or "")
    return f"HTTP_{status}", str(payload)[:200]


def error_for(status: int, code: str, message: str, *, label: str) -> ExchangeError:
    """The exception for one error answer (``label`` = ``METHOD /path``)."""
    text = f"{label}: {code} {message}".strip()
    if code in AUTH_CODES or status == 401:
        return AuthenticationFailed(
            f"{label}: Paradex refused the account's Stark signature or token ({code} "
            f"{message}); check l1_private_key",
            venue=VENUE,
        )
    if code in NOT_FOUND_CODES or status == 404:
        return OrderNotFound(text, venue=VENUE)
    if code in ("MARKET_NOT_FOUND", "INVALID_SYMBOL"):
        return UnknownSymbol(text, venue=VENUE)
    if code == "NOT_ENOUGH_MARGIN":
        return InsufficientMargin(venue=VENUE, detail=f"{code} {message}")
    if code in INVALID_ORDER_CODES:
        return InvalidOrder(text, venue=VENUE)
    if status == 429 or code == "RATE_LIMIT":
        return RateLimited(text, venue=VENUE)
    if status >= 500 or code in ("SERVICE_UNAVAILABLE", "INTERNAL_ERROR"):
        return VenueUnavailable(text, venue=VENUE)
    return ExchangeError(text, venue=VENUE)


def market_from_wire(row: Mapping[str, Any]) -> Market | None:
    """A ``/v1/markets`` row; ``None`` for anything but a perpetual."""
    if row.get("asset_kind") != "PERP":
        return None
    params = row.get("delta1_cross_margin_params") or {}
    imf = optional_decimal(params.get("imf_base"))
    max_leverage = (Decimal(1) / imf).to_integral_value(ROUND_FLOOR) if imf else Decimal(20)
    step = to_decimal(row["order_size_increment"])
    return Market(
        symbol=str(row["base_currency"]),
        contract_id=str(row["symbol"]),
        tick_size=to_decimal(row["price_tick_size"]),
        step_size=step,
        min_size=step,
        min_notional=to_decimal(row.get("min_notional") or "0"),
        max_leverage=max_leverage,
        quote=str(row.get("quote_currency") or "USD"),
    )


def _status(row: Mapping[str, Any], filled: Decimal, size: Decimal) -> OrderStatus:
    status = str(row.get("status"))
    if status == "NEW":
        return OrderStatus.PENDING
    if status in ("OPEN", "UNTRIGGERED"):
        return OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.OPEN
    reason = str(row.get("cancel_reason") or "")
    if filled >= size and size > 0:
        return OrderStatus.FILLED
    if reason in CANCEL_REASONS_AS_ERRORS or reason in ("NOT_ENOUGH_MARGIN",):
        return OrderStatus.REJECTED if filled == 0 else OrderStatus.CANCELLED
    return OrderStatus.CANCELLED


def order_from_wire(row: Mapping[str, Any], market: Market, fee_paid: Decimal) -> Order:
    """A ``/v1/orders`` record (REST answer or ``orders`` stream notification)."""
    size = to_decimal(row["size"])
    remaining = to_decimal(row.get("remaining_size", row["size"]))
    filled = size - remaining
    order_type = ORDER_TYPE_OURS.get(str(row.get("type")), OrderType.LIMIT)
    price = optional_decimal(row.get("price"))
    trigger = optional_decimal(row.get("trigger_price"))
    average = optional_decimal(row.get("avg_fill_price"))
    instruction = str(row.get("instruction") or "GTC")
    created, updated = row.get("created_at"), row.get("last_updated_at")
    reason = str(row.get("cancel_reason") or "") or None
    return Order(
        client_order_id=str(row.get("client_id") or ""),
        venue_order_id=str(row["id"]),
        symbol=market.symbol,
        side=side_of(str(row["side"])),
        order_type=order_type,
        size=market.from_venue_size(size),
        price=market.from_venue_price(price) if order_type is OrderType.LIMIT and price else None,
        status=_status(row, filled, size),
        filled_size=market.from_venue_size(filled),
        avg_fill_price=market.from_venue_price(average) if average and filled else None,
        fee_paid=fee_paid,
        post_only=instruction == "POST_ONLY",
        reduce_only="REDUCE_ONLY" in (row.get("flags") or []),
        time_in_force=TimeInForce.IOC if instruction == "IOC" else TimeInForce.GTC,
        reject_reason=reason,
        created_at=ms_to_datetime(created) if created else None,
        updated_at=ms_to_datetime(updated) if updated else None,
        trigger_price=market.from_venue_price(trigger)
        if order_type is OrderType.STOP_MARKET and trigger
        else None,
    )


def fill_from_wire(row: Mapping[str, Any], market: Market, client_order_id: str | None) -> Fill:
    """A ``/v1/fills`` row or ``fills`` notification (``liquidity`` ``MAKER`` / ``TAKER``)."""
    return Fill(
        venue=VENUE,
        fill_id=str(row["id"]),
        client_order_id=client_order_id,
        venue_order_id=str(row["order_id"]),
        symbol=market.symbol,
        side=side_of(str(row["side"])),
        price=market.from_venue_price(to_decimal(row["price"])),
        size=market.from_venue_size(to_decimal(row["size"])),
        fee=to_decimal(row.get("fee") or "0"),
        liquidity="maker" if str(row.get("liquidity", "")).upper() == "MAKER" else "taker",
        ts=ms_to_datetime(int(row["created_at"])),
        fee_asset=str(row.get("fee_currency") or "USDC"),
    )


def position_from_wire(row: Mapping[str, Any], market: Market, mark: Decimal) -> Position | None:
    """A ``/v1/positions`` row (``size`` signed: negative for a short); ``None`` when flat."""
    size = to_decimal(row.get("size") or "0")
    if size == 0 or row.get("status") == "CLOSED":
        return None
    if row.get("side") == "SHORT" and size > 0:
        size = -size
    liquidation = optional_decimal(row.get("liquidation_price"))
    leverage = optional_decimal(row.get("leverage"))
    return Position(
        symbol=market.symbol,
        size=market.from_venue_size(size),
        entry_price=market.from_venue_price(to_decimal(row["average_entry_price"])),
        mark_price=market.from_venue_price(mark),
        liquidation_price=market.from_venue_price(liquidation) if liquidation else None,
        unrealized_pnl=to_decimal(row.get("unrealized_pnl") or "0"),
        leverage=leverage if leverage else None,
    )


def fees_from_account_info(info: Mapping[str, Any]) -> FeeSchedule:
    """``GET /v1/account/info`` ``fees``: the account's own perpetual maker/taker rates."""
    fees = info.get("fees") or {}
    return FeeSchedule(
        maker=to_decimal(fees["maker_rate"]),
        taker=to_decimal(fees["taker_rate"]),
        source="account",
    )


def stats_from_summary(row: Mapping[str, Any], market: Market) -> MarketStats:
    """24 h volume (USD notional) and open interest (base asset, valued at the mark)."""
    volume = optional_decimal(row.get("volume_24h"))
    interest = optional_decimal(row.get("open_interest"))
    mark = optional_decimal(row.get("mark_price"))
    return MarketStats(
        symbol=market.symbol,
        volume_24h_usd=volume,
        open_interest_usd=interest * mark if interest is not None and mark is not None else None,
    )
