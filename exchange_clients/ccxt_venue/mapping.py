"""ccxt's unified structures -> our value types, exactly.

The client sets ``exchange.number = str``, so ccxt hands numbers back as the strings it
read off the wire and they become ``Decimal`` unchanged. Some ccxt code paths still
compute floats (averages, costs); :func:`to_decimal` turns a float into the ``Decimal`` of
its shortest repr, which is the original decimal text for any value of up to 15
significant digits (every price and size a venue quotes), never the float's binary
expansion (0.1 -> 0.1, not 0.1000000000000000055...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from exchange_clients.types import (
    ZERO,
    FeeSchedule,
    Fill,
    FundingRate,
    Market,
    Order,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TimeInForce,
)

Unified = Mapping[str, Any]

_STATUSES = {
    "open": OrderStatus.OPEN,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELLED,
    "cancelled": OrderStatus.CANCELLED,
    "canceling": OrderStatus.PENDING_CANCEL,
    "expired": OrderStatus.EXPIRED,
    "rejected": OrderStatus.REJECTED,
}


def to_decimal(value: object) -> Decimal | None:
    """A ccxt number (str, int or float) as an exact ``Decimal``; ``None`` stays ``None``."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int | str | Decimal):
        return Decimal(value)
    raise TypeError(f"not a number: {value!r}")


def required_decimal(value: object, what: str) -> Decimal:
    result = to_decimal(value)
    if result is None:
        raise ValueError(f"ccxt gave no {what}")
    return result


def from_ms(value: object) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(int(str(value)) / 1000, tz=UTC)


def is_usd_linear_perpetual(market: Unified) -> bool:
    """A USD(T/C)-settled linear swap that trades now: the only contracts we list."""
    return bool(
        market.get("swap")
        and market.get("linear")
        and market.get("settle") in ("USDT", "USDC", "USD")
        and market.get("active") is not False
    )


_SCALED_BASE = re.compile(r"(1000+|1M)([A-Z][A-Z0-9]*)")


def base_and_multiplier(base: str) -> tuple[str, Decimal]:
    """Our symbol and units per contract unit for ccxt's base: ``1000PEPE`` -> (PEPE, 1000).

    Venues list very cheap coins in bundles (Binance/Bybit ``1000PEPE``, ``1MBABYDOGE``);
    ccxt keeps the bundle as the base, we trade the coin itself.
    """
    match = _SCALED_BASE.fullmatch(base)
    if match is None:
        return base, Decimal(1)
    scale = match.group(1)
    return match.group(2), Decimal(1_000_000) if scale == "1M" else Decimal(scale)


def market_from_ccxt(market: Unified, precision_mode_is_tick_size: bool) -> Market:
    """Our ``Market`` (internal units: base asset) from a ccxt market.

    ``contractSize`` is how many base units one contract holds (1000 for 1000PEPE-style
    contracts once ccxt has normalised the base, or e.g. 0.01 BTC on some venues).
    """
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}
    symbol, bundle = base_and_multiplier(str(market["base"]))
    multiplier = (to_decimal(market.get("contractSize")) or Decimal(1)) * bundle
    tick = _grid(precision.get("price"), precision_mode_is_tick_size)
    step = _grid(precision.get("amount"), precision_mode_is_tick_size)
    min_size = to_decimal((limits.get("amount") or {}).get("min")) or step
    min_notional = to_decimal((limits.get("cost") or {}).get("min")) or ZERO
    max_leverage = to_decimal((limits.get("leverage") or {}).get("max")) or Decimal(20)
    return Market(
        symbol=symbol,
        contract_id=str(market["id"]),
        tick_size=tick,
        step_size=step * multiplier,
        min_size=min_size * multiplier,
        min_notional=min_notional,
        max_leverage=max_leverage,
        quantity_multiplier=multiplier,
        quote=str(market.get("settle") or "USD"),
    )


def _grid(value: object, tick_size_mode: bool) -> Decimal:
    number = to_decimal(value)
    if number is None:
        raise ValueError("market has no precision")
    if tick_size_mode:
        return number
    return Decimal(1).scaleb(-int(number))  # DECIMAL_PLACES mode: 2 -> 0.01


_TRIGGER_PENDING = ("TRIGGERING", "TRIGGERED")
"""Binance Algo Service states ccxt reports as ``closed``: the stop fired, its market order is
still in the matching engine (not filled yet)."""


def is_trigger_order(order: Unified) -> bool:
    """A stop (trigger) order: ccxt names its trigger price and it is not a plain limit."""
    return order.get("triggerPrice") is not None and order.get("type") != "limit"


def order_status(order: Unified) -> OrderStatus:
    status = _STATUSES.get(str(order.get("status")), OrderStatus.OPEN)
    filled = to_decimal(order.get("filled")) or ZERO
    if status is OrderStatus.FILLED and is_trigger_order(order) and filled == 0:
        info = order.get("info") or {}
        pending = isinstance(info, Mapping) and info.get("algoStatus") in _TRIGGER_PENDING
        return OrderStatus.OPEN if pending else OrderStatus.CANCELLED
    if status is OrderStatus.OPEN and filled > 0:
        return OrderStatus.PARTIALLY_FILLED
    return status


def order_from_ccxt(
    order: Unified, market: Market, client_order_id: str, reduce_only_hint: bool = False
) -> Order:
    trigger = to_decimal(order.get("triggerPrice")) if is_trigger_order(order) else None
    if trigger is not None:
        kind = OrderType.STOP_MARKET
    else:
        kind = OrderType.MARKET if order.get("type") == "market" else OrderType.LIMIT
    tif = str(order.get("timeInForce") or "GTC").upper()
    post_only = bool(order.get("postOnly")) or tif in ("PO", "GTX")
    price = to_decimal(order.get("price"))
    average = to_decimal(order.get("average"))
    fee = (order.get("fee") or {}).get("cost")
    return Order(
        client_order_id=client_order_id,
        venue_order_id=str(order["id"]) if order.get("id") is not None else None,
        symbol=market.symbol,
        side=side_of(order.get("side")),
        order_type=kind,
        size=market.from_venue_size(required_decimal(order.get("amount"), "order amount")),
        price=market.from_venue_price(price) if kind is OrderType.LIMIT and price else None,
        status=order_status(order),
        filled_size=market.from_venue_size(to_decimal(order.get("filled")) or ZERO),
        avg_fill_price=market.from_venue_price(average) if average else None,
        fee_paid=to_decimal(fee) or ZERO,
        post_only=post_only,
        reduce_only=bool(order.get("reduceOnly")) or reduce_only_hint,
        time_in_force=TimeInForce.IOC if tif in ("IOC", "FOK") else TimeInForce.GTC,
        created_at=from_ms(order.get("timestamp")),
        updated_at=from_ms(order.get("lastUpdateTimestamp") or order.get("timestamp")),
        trigger_price=market.from_venue_price(trigger) if trigger is not None else None,
    )


def side_of(value: object) -> Side:
    if value == "buy":
        return "buy"
    if value == "sell":
        return "sell"
    raise ValueError(f"ccxt gave side {value!r}")


def fill_from_ccxt(venue: str, trade: Unified, market: Market, client_order_id: str | None) -> Fill:
    fee = trade.get("fee") or {}
    return Fill(
        venue=venue,
        fill_id=str(trade["id"]),
        client_order_id=client_order_id,
        venue_order_id=str(trade["order"]) if trade.get("order") is not None else None,
        symbol=market.symbol,
        side=side_of(trade.get("side")),
        price=market.from_venue_price(required_decimal(trade.get("price"), "trade price")),
        size=market.from_venue_size(required_decimal(trade.get("amount"), "trade amount")),
        fee=to_decimal(fee.get("cost")) or ZERO,
        liquidity="maker" if trade.get("takerOrMaker") == "maker" else "taker",
        ts=from_ms(trade.get("timestamp")) or datetime.now(UTC),
        fee_asset=str(fee.get("currency") or market.quote),
    )


def position_from_ccxt(position: Unified, market: Market) -> Position | None:
    contracts = to_decimal(position.get("contracts")) or ZERO
    if contracts == 0:
        return None
    size = market.from_venue_size(contracts)
    if position.get("side") == "short":
        size = -abs(size)
    entry = to_decimal(position.get("entryPrice")) or ZERO
    mark = to_decimal(position.get("markPrice")) or entry
    liquidation = to_decimal(position.get("liquidationPrice"))
    return Position(
        symbol=market.symbol,
        size=size,
        entry_price=market.from_venue_price(entry),
        mark_price=market.from_venue_price(mark),
        liquidation_price=market.from_venue_price(liquidation) if liquidation else None,
        unrealized_pnl=to_decimal(position.get("unrealizedPnl")) or ZERO,
        leverage=to_decimal(position.get("leverage")),
        margin=to_decimal(position.get("initialMargin")),
    )


def funding_from_ccxt(venue: str, rate: Unified, market: Market, default_hours: int) -> FundingRate:
    """ccxt's funding-rate structure; ``interval`` ("8h") falls back to the venue's default."""
    interval = str(rate.get("interval") or "")
    hours = Decimal(interval[:-1]) if interval.endswith("h") else Decimal(default_hours)
    mark = to_decimal(rate.get("markPrice"))
    return FundingRate(
        venue=venue,
        symbol=market.symbol,
        rate=required_decimal(rate.get("fundingRate"), "funding rate"),
        interval_hours=hours,
        next_funding_time=from_ms(rate.get("fundingTimestamp") or rate.get("nextFundingTimestamp")),
        predicted_rate=to_decimal(rate.get("nextFundingRate")),
        mark_price=market.from_venue_price(mark) if mark else None,
        ts=from_ms(rate.get("timestamp")),
    )


def fee_schedule_from_ccxt(fee: Unified, source: Literal["account", "published"]) -> FeeSchedule:
    """ccxt's trading-fee structure (``fetch_trading_fee``) or a market's ``maker``/``taker``."""
    return FeeSchedule(
        maker=required_decimal(fee.get("maker"), "maker fee"),
        taker=required_decimal(fee.get("taker"), "taker fee"),
        source=source,
    )
