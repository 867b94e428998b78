"""Binance-style futures wire format <-> our types (Binance USD-M and its clones, e.g. Aster).

Everything numeric is parsed from the wire strings into ``Decimal`` (``networking.json_codec``
already turns stray JSON fractions into ``Decimal``). Sizes and prices are converted between
venue units and internal units through :class:`Market` (``1000PEPEUSDT`` is 1,000 PEPE per
contract), so nothing above the client sees venue units.

Doc references (Binance "USDS-Margined Futures" REST API, mirrored by Aster's futures API):
``Exchange Information`` (filters), ``New Order`` / ``Query Order`` (order fields),
``Account Trade List`` (userTrades), ``Event: Order Update`` (``ORDER_TRADE_UPDATE``).

Error answers (``{"code": -XXXX, "msg": "..."}``) -> our error hierarchy: codes from the "Error
Codes" page of Binance USDS-M futures (the same codes Aster documents in its futures API "Error
Codes" section). The venue's message is kept (it never contains our secrets: the venue does not
echo signatures or keys), prefixed with the code so a log line is enough to look it up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core import errors
from exchange_clients.native.wire import FillFormat, ms_field, ms_to_datetime, to_decimal
from exchange_clients.types import (
    ZERO,
    Fill,
    Market,
    Order,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)

DEFAULT_MAX_LEVERAGE = Decimal(20)
"""Used when leverage brackets cannot be read (no credentials): a conservative cap."""

_MULTIPLIER_PREFIX = re.compile(r"^(10{3,})([A-Z].*)$")

STATUS: dict[str, OrderStatus] = {
    "NEW": OrderStatus.OPEN,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELLED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
    "NEW_INSURANCE": OrderStatus.OPEN,
    "NEW_ADL": OrderStatus.OPEN,
}


def split_base(base_asset: str) -> tuple[str, Decimal]:
    """``1000PEPE`` -> ``("PEPE", 1000)``; ``BTC`` -> ``("BTC", 1)``."""
    match = _MULTIPLIER_PREFIX.match(base_asset)
    if match is None:
        return base_asset, Decimal(1)
    return match.group(2), Decimal(match.group(1))


def market_from_symbol_info(info: Mapping[str, Any], max_leverage: Decimal | None) -> Market | None:
    """One ``exchangeInfo.symbols`` entry as a :class:`Market`, or ``None`` if not listed by us.

    Only USDT-quoted perpetuals in status TRADING are listed (``contractType`` PERPETUAL).
    Filters: PRICE_FILTER.tickSize, LOT_SIZE.stepSize/minQty, MIN_NOTIONAL.notional.
    """
    if (
        info.get("contractType") != "PERPETUAL"
        or info.get("status") != "TRADING"
        or info.get("quoteAsset") != "USDT"
    ):
        return None
    filters = {f["filterType"]: f for f in info.get("filters", [])}
    try:
        tick = to_decimal(filters["PRICE_FILTER"]["tickSize"])
        lot = filters["LOT_SIZE"]
        step, min_qty = to_decimal(lot["stepSize"]), to_decimal(lot["minQty"])
    except KeyError:
        return None
    notional = filters.get("MIN_NOTIONAL", {})
    min_notional = to_decimal(notional.get("notional", notional.get("minNotional", "0")))
    symbol, multiplier = split_base(str(info["baseAsset"]))
    return Market(
        symbol=symbol,
        contract_id=str(info["symbol"]),
        tick_size=tick / multiplier,
        step_size=step * multiplier,
        min_size=min_qty * multiplier,
        min_notional=min_notional,
        max_leverage=max_leverage or DEFAULT_MAX_LEVERAGE,
        quantity_multiplier=multiplier,
        quote="USDT",
    )


@dataclass(frozen=True)
class LotRule:
    """A ``LOT_SIZE``-shaped filter in venue units (``MARKET_LOT_SIZE`` for market orders)."""

    step: Decimal
    min_qty: Decimal
    max_qty: Decimal


def market_lot_from_symbol_info(info: Mapping[str, Any]) -> LotRule | None:
    """The ``MARKET_LOT_SIZE`` filter (it may be coarser, and caps market orders lower)."""
    for item in info.get("filters", []):
        if item.get("filterType") == "MARKET_LOT_SIZE":
            return LotRule(
                to_decimal(item["stepSize"]), to_decimal(item["minQty"]), to_decimal(item["maxQty"])
            )
    return None


def side_from_wire(side: str) -> Side:
    return "buy" if side == "BUY" else "sell"


def side_to_wire(side: Side) -> str:
    return "BUY" if side == "buy" else "SELL"


def _time_in_force(tif: str | None) -> tuple[TimeInForce, bool]:
    """Wire timeInForce -> (our time in force, post-only)."""
    if tif == "GTX":
        return TimeInForce.GTC, True
    if tif in ("IOC", "FOK"):
        return TimeInForce.IOC, False
    return TimeInForce.GTC, False


def order_from_wire(data: Mapping[str, Any], market: Market) -> Order:
    """A REST order (New/Query/Cancel Order, openOrders) in internal units."""
    order_type = OrderType.MARKET if data.get("type") == "MARKET" else OrderType.LIMIT
    tif, post_only = _time_in_force(data.get("timeInForce"))
    filled = market.from_venue_size(to_decimal(data.get("executedQty", "0")))
    avg = to_decimal(data.get("avgPrice", "0"))
    price = to_decimal(data.get("price", "0"))
    updated = data.get("updateTime")
    created = data.get("time", updated)
    return Order(
        client_order_id=str(data.get("clientOrderId", "")),
        venue_order_id=str(data["orderId"]),
        symbol=market.symbol,
        side=side_from_wire(str(data["side"])),
        order_type=order_type,
        size=market.from_venue_size(to_decimal(data["origQty"])),
        price=market.from_venue_price(price) if order_type is OrderType.LIMIT else None,
        status=STATUS.get(str(data["status"]), OrderStatus.OPEN),
        filled_size=filled,
        avg_fill_price=market.from_venue_price(avg) if filled > 0 and avg > 0 else None,
        post_only=post_only,
        reduce_only=bool(data.get("reduceOnly", False)),
        time_in_force=tif if order_type is OrderType.LIMIT else TimeInForce.IOC,
        created_at=ms_to_datetime(int(created)) if isinstance(created, int) else None,
        updated_at=ms_to_datetime(int(updated)) if isinstance(updated, int) else None,
    )


def order_from_event(o: Mapping[str, Any], market: Market, fee_paid: Decimal = ZERO) -> Order:
    """The ``o`` object of an ``ORDER_TRADE_UPDATE`` event."""
    order_type = OrderType.MARKET if o.get("o") == "MARKET" else OrderType.LIMIT
    tif, post_only = _time_in_force(o.get("f"))
    filled = market.from_venue_size(to_decimal(o.get("z", "0")))
    avg = to_decimal(o.get("ap", "0"))
    price = to_decimal(o.get("p", "0"))
    ts = o.get("T")
    return Order(
        client_order_id=str(o.get("c", "")),
        venue_order_id=str(o["i"]),
        symbol=market.symbol,
        side=side_from_wire(str(o["S"])),
        order_type=order_type,
        size=market.from_venue_size(to_decimal(o["q"])),
        price=market.from_venue_price(price) if order_type is OrderType.LIMIT else None,
        status=STATUS.get(str(o["X"]), OrderStatus.OPEN),
        filled_size=filled,
        avg_fill_price=market.from_venue_price(avg) if filled > 0 and avg > 0 else None,
        fee_paid=fee_paid,
        post_only=post_only,
        reduce_only=bool(o.get("R", False)),
        time_in_force=tif if order_type is OrderType.LIMIT else TimeInForce.IOC,
        updated_at=ms_to_datetime(int(ts)) if isinstance(ts, int) else None,
    )


EVENT_FILL_KEYS = ("t", "i", "S", "L", "l", "n", "N")
EVENT_FILL = FillFormat(EVENT_FILL_KEYS, side_from_wire, ms_field("T"), maker="m", fee_asset="USDT")
"""The trade in an ``ORDER_TRADE_UPDATE`` event with execution type ``TRADE``."""
USER_TRADE_KEYS = ("id", "orderId", "side", "price", "qty", "commission", "commissionAsset")
USER_TRADE_FILL = FillFormat(
    USER_TRADE_KEYS, side_from_wire, ms_field("time"), maker="maker", fee_asset="USDT"
)
"""One ``GET userTrades`` row; the venue omits the client id, so the caller supplies it."""


def fill_from_event(venue: str, o: Mapping[str, Any], market: Market) -> Fill:
    """The fill of a ``TRADE`` execution, under the client id the event carries."""
    return EVENT_FILL.read(venue, o, market, str(o.get("c")) or None)


# --- error answers ----------------------------------------------------------------------

AUTH_CODES = frozenset({-1002, -1022, -2014, -2015})
NOT_FOUND_CODES = frozenset({-2011, -2013})
INVALID_ORDER_CODES = frozenset(
    {
        -1013,
        -1100,
        -1102,
        -1106,
        -1111,
        -1116,
        -1117,
        -2010,
        -2021,  # a stop whose trigger price is already crossed ("would immediately trigger")
        -4003,
        -4004,
        -4005,
        -4014,
        -4015,
        -4164,
    }
)
TIMESTAMP_CODE = -1021
TIMEOUT_CODE = -1007
DUPLICATE_CLIENT_ID_CODE = -4116
POST_ONLY_CODE = -5022
REDUCE_ONLY_CODE = -2022
MARGIN_CODE = -2019
LEVERAGE_CODE = -4028
BAD_SYMBOL_CODE = -1121
LISTEN_KEY_MISSING_CODE = -1125


class ClockSkew(errors.ExchangeError):
    """Our request timestamp fell outside the venue's recvWindow even after a time sync."""


class VenueError(errors.ExchangeError):
    """A venue answer we have no more specific type for; ``code`` is the venue's."""

    def __init__(self, code: int, message: str, *, venue: str | None = None) -> None:
        self.code = code
        super().__init__(message, venue=venue)


def parse_error(payload: Any) -> tuple[int, str]:
    """``(code, msg)`` of an error body; ``(0, text)`` when it is not the documented shape."""
    if isinstance(payload, dict) and isinstance(payload.get("code"), int):
        return int(payload["code"]), str(payload.get("msg", ""))
    return 0, str(payload)[:200]


def error_for(code: int, msg: str, *, venue: str, label: str) -> errors.ExchangeError:
    """The exception for a venue error code (``label`` = ``METHOD /path``, never the query)."""
    text = f"{label}: {code} {msg}".strip()
    if code in AUTH_CODES:
        return errors.AuthenticationFailed(
            f"{text} (check the API key/secret or signer credentials)", venue=venue
        )
    if code == TIMESTAMP_CODE:
        return ClockSkew(f"{text} (local clock differs from the venue's)", venue=venue)
    if code == TIMEOUT_CODE:
        return errors.RequestTimeout(f"{text} (outcome unknown)", venue=venue)
    if code in NOT_FOUND_CODES:
        return errors.OrderNotFound(text, venue=venue)
    if code == POST_ONLY_CODE:
        return errors.PostOnlyWouldCross(text, venue=venue)
    if code == REDUCE_ONLY_CODE:
        return errors.ReduceOnlyRejected(text, venue=venue)
    if code in INVALID_ORDER_CODES:
        return errors.InvalidOrder(text, venue=venue)
    if code == BAD_SYMBOL_CODE:
        return errors.UnknownSymbol(text, venue=venue)
    if code == -1003:
        return errors.RateLimited(text, venue=venue)
    if code in (-1000, -1001, -1006, -1008):
        return errors.VenueUnavailable(text, venue=venue)
    return VenueError(code, text, venue=venue)
