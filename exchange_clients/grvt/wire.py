"""GRVT's wire format <-> our types, and its error answers -> :mod:`core.errors`.

Shapes are those of GRVT's "full" API (grvt-pysdk ``grvt_raw_types``): decimal strings for
sizes and prices, unix nanoseconds (as strings) for times, one leg per order here. Errors are
``{"code", "message", "status"}``; rejections GRVT reports inside an order's state
(``state.status == "REJECTED"`` with a ``reject_reason``) map to the same error types.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from core.errors import (
    AuthenticationFailed,
    DuplicateClientOrderId,
    ExchangeError,
    InsufficientMargin,
    InvalidOrder,
    OrderNotFound,
    OrderRejected,
    PostOnlyWouldCross,
    RateLimited,
    ReduceOnlyRejected,
    UnknownSymbol,
)
from exchange_clients.native.wire import optional_decimal, to_decimal
from exchange_clients.types import (
    Balance,
    Fill,
    Market,
    MarketStats,
    Order,
    OrderStatus,
    OrderType,
    Position,
    TimeInForce,
)

VENUE = "grvt"
ZERO = Decimal(0)
NO_LEVERAGE_KNOWN = Decimal(1)

STATUS = {
    "PENDING": OrderStatus.PENDING,
    "OPEN": OrderStatus.OPEN,
    "FILLED": OrderStatus.FILLED,
    "CANCELLED": OrderStatus.CANCELLED,
    "REJECTED": OrderStatus.REJECTED,
    "UNTRIGGERED": OrderStatus.OPEN,
}
"""GRVT order states; a resting trigger order may also be reported ``UNTRIGGERED``."""
TRIGGER_TYPES = frozenset({"STOP_LOSS", "TAKE_PROFIT"})
AUTH_CODES = frozenset({1000, 1001, 2000, 2001, 2002})
"""Session missing/expired, not permitted, and the three signature refusals."""
SESSION_CODE = 1000
NOT_FOUND_CODES = frozenset({1004, 5000})
INSTRUMENT_CODE = 3000
CREATE_ORDER_PATH = "/full/v1/create_order"


def ns_to_datetime(value: object) -> datetime:
    """Unix nanoseconds (a string or int) as an aware UTC ``datetime`` (microsecond precision)."""
    nanos = int(str(value))
    return datetime.fromtimestamp(nanos // 1000 / 1_000_000, tz=UTC)


def instrument_symbol(row: Mapping[str, Any]) -> str:
    return str(row["base"])


def market_from_wire(row: Mapping[str, Any], max_leverage: Decimal | None) -> Market | None:
    """A perpetual's ``Instrument`` record; ``None`` for other kinds."""
    if row.get("kind") != "PERPETUAL":
        return None
    min_size = to_decimal(row["min_size"])
    return Market(
        symbol=instrument_symbol(row),
        contract_id=str(row["instrument"]),
        tick_size=to_decimal(row["tick_size"]),
        step_size=min_size,
        min_size=min_size,
        min_notional=ZERO,
        max_leverage=max_leverage or NO_LEVERAGE_KNOWN,
        quote=str(row.get("quote") or "USDT"),
    )


def funding_interval_hours(row: Mapping[str, Any]) -> Decimal:
    """The instrument's ``funding_interval_hours`` (8 where it does not say)."""
    value = row.get("funding_interval_hours")
    return to_decimal(value) if value not in (None, "", 0) else Decimal(8)


def side_of(is_buying: object) -> str:
    return "buy" if bool(is_buying) else "sell"


def order_from_wire(row: Mapping[str, Any], market: Market, client_order_id: str) -> Order:
    """One ``Order`` record (single leg) in internal units."""
    leg = row["legs"][0]
    state = row.get("state") or {}
    traded = to_decimal((state.get("traded_size") or ["0"])[0])
    avg = optional_decimal((state.get("avg_fill_price") or [None])[0])
    status = STATUS.get(str(state.get("status")), OrderStatus.PENDING)
    if status is OrderStatus.OPEN and traded > 0:
        status = OrderStatus.PARTIALLY_FILLED
    is_market = bool(row.get("is_market"))
    price = to_decimal(leg.get("limit_price") or "0")
    tif = str(row.get("time_in_force"))
    reason = state.get("reject_reason")
    metadata = row.get("metadata") or {}
    trigger = metadata.get("trigger") or {}
    is_trigger = trigger.get("trigger_type") in TRIGGER_TYPES
    trigger_price = optional_decimal((trigger.get("tpsl") or {}).get("trigger_price"))
    created = metadata.get("create_time")
    updated = state.get("update_time")
    return Order(
        client_order_id=client_order_id,
        venue_order_id=str(row["order_id"]) if row.get("order_id") else None,
        symbol=market.symbol,
        side="buy" if leg.get("is_buying_asset") else "sell",
        order_type=(
            OrderType.STOP_MARKET
            if is_trigger
            else OrderType.MARKET
            if is_market
            else OrderType.LIMIT
        ),
        size=market.from_venue_size(to_decimal(leg["size"])),
        price=None if is_market else market.from_venue_price(price),
        status=status,
        filled_size=market.from_venue_size(traded),
        avg_fill_price=market.from_venue_price(avg) if avg and traded > 0 else None,
        post_only=bool(row.get("post_only")),
        reduce_only=bool(row.get("reduce_only")),
        time_in_force=TimeInForce.GTC if tif == "GOOD_TILL_TIME" else TimeInForce.IOC,
        reject_reason=None if reason in (None, "UNSPECIFIED") else str(reason),
        created_at=ns_to_datetime(created) if created else None,
        updated_at=ns_to_datetime(updated) if updated else None,
        trigger_price=(
            market.from_venue_price(trigger_price) if is_trigger and trigger_price else None
        ),
    )


def fill_from_wire(row: Mapping[str, Any], market: Market, client_order_id: str | None) -> Fill:
    """One ``Fill`` record; GRVT's ``fee`` is positive when paid (a rebate is negative)."""
    return Fill(
        venue=VENUE,
        fill_id=str(row["trade_id"]),
        client_order_id=client_order_id,
        venue_order_id=str(row["order_id"]),
        symbol=market.symbol,
        side="buy" if row.get("is_buyer") else "sell",
        price=market.from_venue_price(to_decimal(row["price"])),
        size=market.from_venue_size(to_decimal(row["size"])),
        fee=to_decimal(row.get("fee") or "0"),
        liquidity="taker" if row.get("is_taker") else "maker",
        ts=ns_to_datetime(row["event_time"]),
        fee_asset=market.quote,
    )


def position_from_wire(row: Mapping[str, Any], market: Market) -> Position | None:
    size = to_decimal(row["size"])
    if size == 0:
        return None
    liquidation = optional_decimal(row.get("est_liquidation_price"))
    return Position(
        symbol=market.symbol,
        size=market.from_venue_size(size),
        entry_price=market.from_venue_price(to_decimal(row["entry_price"])),
        mark_price=market.from_venue_price(to_decimal(row["mark_price"])),
        liquidation_price=market.from_venue_price(liquidation) if liquidation else None,
        unrealized_pnl=to_decimal(row.get("unrealized_pnl") or "0"),
        leverage=optional_decimal(row.get("leverage")),
    )


def balance_from_summary(summary: Mapping[str, Any]) -> Balance:
    """``account_summary``: wallet = the settle currency's spot balance."""
    currency = str(summary.get("settle_currency") or "USDT")
    wallet = ZERO
    for row in summary.get("spot_balances") or []:
        if row.get("currency") == currency:
            wallet = to_decimal(row["balance"])
    return Balance.from_available(
        wallet,
        to_decimal(summary.get("unrealized_pnl") or "0"),
        to_decimal(summary.get("available_balance") or "0"),
        asset=currency,
    )


def market_stats_from_ticker(market: Market, ticker: Mapping[str, Any] | None) -> MarketStats:
    """24 h quote volume (taker buys + sells) and open interest (base) valued at the mark."""
    if ticker is None:
        return MarketStats(market.symbol, None, None)
    buy = optional_decimal(ticker.get("buy_volume_24h_q"))
    sell = optional_decimal(ticker.get("sell_volume_24h_q"))
    volume = buy + sell if buy is not None and sell is not None else None
    interest = optional_decimal(ticker.get("open_interest"))
    mark = optional_decimal(ticker.get("mark_price"))
    value = (
        market.from_venue_size(interest) * market.from_venue_price(mark)
        if interest is not None and mark is not None
        else None
    )
    return MarketStats(market.symbol, volume, value)


class SessionRefused(AuthenticationFailed):
    """Code 1000: the session is missing or expired (the call was not processed)."""


def rejection(order: Order, venue: str = VENUE) -> ExchangeError:
    """The error for an order GRVT answered ``REJECTED``."""
    reason = order.reject_reason or "UNSPECIFIED"
    message = f"{order.symbol} order {order.client_order_id!r} rejected: {reason}"
    if reason == "FAIL_POST_ONLY":
        return PostOnlyWouldCross(message, venue=venue)
    if reason in ("FAIL_REDUCE_ONLY", "REDUCE_ONLY_LIMIT"):
        return ReduceOnlyRejected(message, venue=venue)
    if reason == "OVERLAPPING_CLIENT_ORDER_ID":
        return DuplicateClientOrderId(order.client_order_id, venue=venue)
    if reason == "BELOW_MARGIN":
        return InsufficientMargin(venue=venue, detail=reason)
    if reason in ("INSTRUMENT_INVALID", "INSTRUMENT_DEACTIVATED"):
        return UnknownSymbol(message, venue=venue)
    return OrderRejected(message, venue=venue)


def parse_error(payload: Any, status: int) -> tuple[int, str]:
    """``(code, message)`` of an error answer, whatever its shape."""
    if isinstance(payload, Mapping):
        try:
            code = int(str(payload.get("code")))
        except ValueError:
            code = 0
        return code, str(payload.get("message") or "")[:200]
    return 0, str(payload)[:200] or f"HTTP {status}"


def error_for(status: int, code: int, message: str, *, venue: str, label: str) -> ExchangeError:
    """Our error for a refused request (the venue's message never carries our key)."""
    text = f"{label}: {message} (code {code}, HTTP {status})"
    if status == 429 or code == 1006:
        return RateLimited(text, venue=venue)
    if code == SESSION_CODE:
        return SessionRefused(text, venue=venue)
    if code in AUTH_CODES or status in (401, 403):
        return AuthenticationFailed(text, venue=venue)
    if code in NOT_FOUND_CODES or status == 404:
        return OrderNotFound(text, venue=venue)
    if code == INSTRUMENT_CODE:
        return UnknownSymbol(text, venue=venue)
    if status == 400 and label.endswith(CREATE_ORDER_PATH):
        return InvalidOrder(text, venue=venue)
    return ExchangeError(text, venue=venue)
