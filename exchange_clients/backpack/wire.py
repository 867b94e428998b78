"""Backpack wire formats -> our types. Pure functions, no I/O.

Field names are from the Backpack API docs (sections cited per function) and the official
Rust client's types (``bpx-api-types``). Numbers arrive as strings and are parsed straight into
``Decimal``. Times: REST ``createdAt``/``nextFundingTimestamp`` are milliseconds, WebSocket
``E``/``T`` are microseconds ("Streams > Timing"), fill history ``timestamp`` is an ISO-8601
UTC string without offset.

Perpetuals are the markets with ``marketType`` ``PERP`` (symbols like ``BTC_USDC_PERP``); our
symbol is the base asset (``BTC``). ``k``-prefixed bases (``kPEPE``: 1,000 PEPE per unit)
become ``PEPE`` with a quantity multiplier of 1,000, as on Hyperliquid, so nothing above the
client sees venue units.

Error answers -> our error hierarchy (the second half of this module).

Backpack API docs, changelog 2024-10-15 ("Convert all error responses to JSON and add a error
code") and every endpoint's 4xx sample: ``{"code": "<ApiErrorCode>", "message": "<text>"}``.
The codes used here are from the ``ApiErrorCode`` enum of the OpenAPI document
(``INVALID_CLIENT_REQUEST``, ``INVALID_SIGNATURE``, ``UNAUTHORIZED``, ``RESOURCE_NOT_FOUND``,
``INVALID_ORDER``, ``INVALID_PRICE``, ``INVALID_QUANTITY``, ``INVALID_MARKET``,
``INVALID_SYMBOL``, ``INSUFFICIENT_MARGIN``, ``INSUFFICIENT_FUNDS``, ``MAX_LEVERAGE_REACHED``,
``TOO_MANY_REQUESTS``, ``MAINTENANCE``, ``SERVER_ERROR``, ``TRADING_PAUSED``). Several
conditions share ``INVALID_ORDER`` / ``INVALID_CLIENT_REQUEST`` and are told apart by the
message (post-only crossing, reduce-only, expired or badly signed requests), so those checks
look for the distinctive words rather than exact sentences.

Messages name the venue, method and path and the venue's code and text; the venue never
echoes keys or signatures, and neither do we.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
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
from exchange_clients.native.wire import FillFormat, ms_to_datetime, optional_decimal, to_decimal
from exchange_clients.types import (
    ZERO,
    Balance,
    FeeSchedule,
    Market,
    MarketStats,
    Order,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TimeInForce,
)

PERP = "PERP"
DEFAULT_MAX_LEVERAGE = Decimal(10)
DEFAULT_FUNDING_INTERVAL_HOURS = Decimal(1)
MS_PER_HOUR = Decimal(3_600_000)
BASIS_POINT = Decimal("0.0001")
TRIGGER_BY = "MarkPrice"
"""What our stops trigger on: the mark price, as liquidations do (not a last trade that one
thin print can move)."""

STATUS: Mapping[str, OrderStatus] = {
    "New": OrderStatus.OPEN,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELLED,
    "Expired": OrderStatus.EXPIRED,
    "TriggerPending": OrderStatus.OPEN,
    "Triggered": OrderStatus.OPEN,
    "TriggerFailed": OrderStatus.REJECTED,
}
"""``OrderStatus`` enum of the docs ("Get open order" response)."""


def us_time(us: Any) -> datetime:
    return datetime.fromtimestamp(int(us) / 1_000_000, tz=UTC)


def iso_time(text: str) -> datetime:
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def side_of(wire: str) -> Side:
    if wire == "Bid":
        return "buy"
    if wire == "Ask":
        return "sell"
    raise ValueError(f"unknown side {wire!r}")


def side_to_wire(side: Side) -> str:
    return "Bid" if side == "buy" else "Ask"


def symbol_of(base: str) -> tuple[str, Decimal]:
    """Our symbol and quantity multiplier for a Backpack base asset (``kPEPE`` -> PEPE, 1000)."""
    if len(base) > 1 and base[0] == "k" and base[1:].isupper():
        return base[1:], Decimal(1000)
    return base, Decimal(1)


def max_leverage_of(row: Mapping[str, Any]) -> Decimal:
    """Highest leverage of a market.

    The ``filters.leverage`` block was removed from ``/markets`` (changelog 2025-03-19); what
    remains is the initial-margin function, whose ``base`` is the lowest initial margin
    fraction, i.e. 1 / maximum leverage. Without either, a conservative 10x.
    """
    leverage = (row.get("filters") or {}).get("leverage")
    if isinstance(leverage, Mapping) and leverage.get("maxLeverage"):
        return to_decimal(leverage["maxLeverage"])
    imf = row.get("imfFunction")
    if isinstance(imf, Mapping) and imf.get("base"):
        base = to_decimal(imf["base"])
        if base > 0:
            return max(Decimal(1), (1 / base).to_integral_value(rounding=ROUND_FLOOR))
    return DEFAULT_MAX_LEVERAGE


def funding_interval_hours(row: Mapping[str, Any]) -> Decimal:
    """``fundingInterval`` (milliseconds, "Get markets") in hours; Backpack funds hourly."""
    interval = row.get("fundingInterval")
    if interval:
        return Decimal(int(interval)) / MS_PER_HOUR
    return DEFAULT_FUNDING_INTERVAL_HOURS


def market_from_wire(row: Mapping[str, Any]) -> Market | None:
    """One ``GET /api/v1/markets`` row ("Markets > Get markets"); None unless a listed perp."""
    if row.get("marketType") != PERP or row.get("visible") is False:
        return None
    symbol, multiplier = symbol_of(str(row["baseSymbol"]))
    filters = row["filters"]
    quantity = filters["quantity"]
    return Market(
        symbol=symbol,
        contract_id=str(row["symbol"]),
        tick_size=to_decimal(filters["price"]["tickSize"]) / multiplier,
        step_size=to_decimal(quantity["stepSize"]) * multiplier,
        min_size=to_decimal(quantity["minQuantity"]) * multiplier,
        min_notional=ZERO,
        max_leverage=max_leverage_of(row),
        quantity_multiplier=multiplier,
        quote=str(row.get("quoteSymbol", "USDC")),
    )


def _avg(executed: Decimal, quote: Decimal, market: Market) -> Decimal | None:
    if executed <= 0:
        return None
    return market.from_venue_price(quote / executed)


def _first_decimal(*values: object) -> Decimal | None:
    """The first present field (an untriggered stop has ``triggerQuantity``, no ``quantity``)."""
    return next((to_decimal(v) for v in values if v is not None and v != ""), None)


def _order_type(wire_type: object, trigger_price: Decimal | None) -> OrderType:
    """A market order with a trigger price is a stop (``triggerPrice``, "Execute order")."""
    if str(wire_type).lower() == "market":
        return OrderType.MARKET if trigger_price is None else OrderType.STOP_MARKET
    return OrderType.LIMIT


def order_from_wire(row: Mapping[str, Any], market: Market, client_order_id: str) -> Order:
    """An order object of the REST API ("Order > Get open order / Execute order / Cancel").

    A trigger order carries ``triggerPrice`` and ``triggerQuantity``; its ``quantity`` is null
    until it triggers (the shape of ``MarketOrder`` in the OpenAPI document).
    """
    executed = to_decimal(row.get("executedQuantity", "0"))
    quote = to_decimal(row.get("executedQuoteQuantity", "0"))
    quantity = _first_decimal(row.get("quantity"), row.get("triggerQuantity"))
    price = optional_decimal(row.get("price"))
    trigger = optional_decimal(row.get("triggerPrice"))
    order_type = _order_type(row.get("orderType"), trigger)
    created = row.get("createdAt")
    return Order(
        client_order_id=client_order_id,
        venue_order_id=str(row["id"]),
        symbol=market.symbol,
        side=side_of(str(row["side"])),
        order_type=order_type,
        size=market.from_venue_size(quantity if quantity is not None else executed),
        price=market.from_venue_price(price) if price is not None else None,
        status=status_of(str(row.get("status", "New")), executed),
        filled_size=market.from_venue_size(executed),
        avg_fill_price=_avg(executed, quote, market),
        post_only=bool(row.get("postOnly", False)),
        reduce_only=bool(row.get("reduceOnly") or False),
        time_in_force=TimeInForce.IOC if row.get("timeInForce") == "IOC" else TimeInForce.GTC,
        created_at=_created(created),
        trigger_price=market.from_venue_price(trigger) if trigger is not None else None,
    )


def _created(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) or str(value).isdigit():
        return ms_to_datetime(value)
    return iso_time(str(value))


def status_of(wire: str, executed: Decimal) -> OrderStatus:
    status = STATUS.get(wire, OrderStatus.OPEN)
    if status is OrderStatus.OPEN and executed > 0:
        return OrderStatus.PARTIALLY_FILLED
    return status


def order_from_event(event: Mapping[str, Any], market: Market, client_order_id: str) -> Order:
    """An ``account.orderUpdate`` event ("Streams > Private > Order update").

    Trigger orders carry ``P`` (trigger price) and ``Y`` (trigger quantity); their events are
    ``orderAccepted`` (resting, ``TriggerPending``), ``triggerPlaced`` (the market order is
    sent), then ``orderFill``s, or ``triggerFailed``.
    """
    executed = to_decimal(event.get("z", "0"))
    quote = to_decimal(event.get("Z", "0"))
    price = optional_decimal(event.get("p"))
    quantity = _first_decimal(event.get("q"), event.get("Y"))
    trigger = optional_decimal(event.get("P"))
    stamp = us_time(event["T"]) if "T" in event else None
    return Order(
        client_order_id=client_order_id,
        venue_order_id=str(event["i"]),
        symbol=market.symbol,
        side=side_of(str(event["S"])),
        order_type=_order_type(event.get("o"), trigger),
        size=market.from_venue_size(quantity if quantity is not None else executed),
        price=market.from_venue_price(price) if price is not None else None,
        status=status_of(str(event.get("X", "New")), executed),
        filled_size=market.from_venue_size(executed),
        avg_fill_price=_avg(executed, quote, market),
        post_only=bool(event.get("y", False)),
        reduce_only=bool(event.get("r", False)),
        time_in_force=TimeInForce.IOC if event.get("f") == "IOC" else TimeInForce.GTC,
        reject_reason=str(event["R"]) if event.get("R") else None,
        updated_at=stamp,
        trigger_price=market.from_venue_price(trigger) if trigger is not None else None,
    )


def _event_time(event: Mapping[str, Any]) -> datetime:
    return us_time(event["T"]) if "T" in event else datetime.now(UTC)


EVENT_FILL = FillFormat(("t", "i", "S", "L", "l", "n", "N"), side_of, _event_time, maker="m")
"""The fill carried by an ``orderFill`` order update (fields ``t l L m n N``)."""
HISTORY_FILL_KEYS = ("tradeId", "orderId", "side", "price", "quantity", "fee", "feeSymbol")
HISTORY_FILL = FillFormat(
    HISTORY_FILL_KEYS, side_of, lambda row: iso_time(str(row["timestamp"])), maker="isMaker"
)
"""A ``GET /wapi/v1/history/fills`` row ("History > Get fill history")."""


def position_from_wire(row: Mapping[str, Any], market: Market) -> Position | None:
    """A ``GET /api/v1/position`` row ("Futures > Get open positions"); None when flat.

    ``cumulativeFundingPayment`` is read as the signed amount credited to the account (the
    convention of the funding-payment history's ``quantity``: negative when paid). The
    position's margin is its notional times ``imf`` (the initial margin fraction), and its
    leverage the inverse of that fraction.
    """
    quantity = to_decimal(row.get("netQuantity", "0"))
    if quantity == 0:
        return None
    mark = market.from_venue_price(to_decimal(row["markPrice"]))
    size = market.from_venue_size(quantity)
    liquidation = optional_decimal(row.get("estLiquidationPrice"))
    imf = optional_decimal(row.get("imf"))
    return Position(
        symbol=market.symbol,
        size=size,
        entry_price=market.from_venue_price(to_decimal(row["entryPrice"])),
        mark_price=mark,
        liquidation_price=(
            market.from_venue_price(liquidation)
            if liquidation is not None and liquidation > 0
            else None
        ),
        unrealized_pnl=to_decimal(row.get("pnlUnrealized", "0")),
        accrued_funding=to_decimal(row.get("cumulativeFundingPayment") or "0"),
        leverage=(1 / imf) if imf else None,
        margin=abs(size) * mark * imf if imf else None,
    )


def balance_from_collateral(row: Mapping[str, Any]) -> Balance:
    """``GET /api/v1/capital/collateral`` ("Capital > Get collateral").

    ``netEquity`` includes unrealised PnL; ``netEquityAvailable`` is what new orders may use,
    so the margin in use is the difference.
    """
    equity = to_decimal(row.get("netEquity", "0"))
    unrealized = to_decimal(row.get("pnlUnrealized", "0"))
    available = to_decimal(row.get("netEquityAvailable", "0"))
    return Balance(
        wallet=equity - unrealized,
        unrealized_pnl=unrealized,
        margin_used=max(ZERO, equity - available),
        asset="USDC",
    )


def fees_from_account(row: Mapping[str, Any]) -> FeeSchedule:
    """The account's futures tier from ``GET /api/v1/account`` ("Account > Get account"):
    ``futuresMakerFee`` / ``futuresTakerFee`` in basis points, the maker fee negative for a
    rebate."""
    return FeeSchedule(
        maker=to_decimal(row["futuresMakerFee"]) * BASIS_POINT,
        taker=to_decimal(row["futuresTakerFee"]) * BASIS_POINT,
        source="account",
    )


def market_stats_from_wire(
    market: Market,
    ticker: Mapping[str, Any] | None,
    open_interest: Mapping[str, Any] | None,
    mark: Mapping[str, Any] | None,
) -> MarketStats:
    """One market's liquidity: ``quoteVolume`` of its 24 h ticker ("Markets > Get tickers",
    USDC) and ``openInterest`` ("Markets > Get open interest", in the base asset, as the
    BTC figure of ~1,300 shows) valued at the mark price (``markPrices``)."""
    volume = optional_decimal((ticker or {}).get("quoteVolume"))
    base_interest = optional_decimal((open_interest or {}).get("openInterest"))
    mark_price = optional_decimal((mark or {}).get("markPrice"))
    return MarketStats(
        symbol=market.symbol,
        volume_24h_usd=volume,
        open_interest_usd=(
            base_interest * mark_price
            if base_interest is not None and mark_price is not None
            else None
        ),
    )


@dataclass(frozen=True, slots=True)
class PublicTrade:
    """One ``trade.<symbol>`` event ("Streams > Public > Trade")."""

    symbol: str
    trade_id: int
    price: Decimal
    size: Decimal
    buyer_is_maker: bool
    ts: datetime


def trade_from_event(event: Mapping[str, Any], market: Market) -> PublicTrade:
    return PublicTrade(
        symbol=market.symbol,
        trade_id=int(event["t"]),
        price=market.from_venue_price(to_decimal(event["p"])),
        size=market.from_venue_size(to_decimal(event["q"])),
        buyer_is_maker=bool(event.get("m", False)),
        ts=us_time(event["T"]) if "T" in event else datetime.now(UTC),
    )


@dataclass(frozen=True, slots=True)
class MarkPriceUpdate:
    """One ``markPrice.<symbol>`` event ("Streams > Public > Mark price")."""

    symbol: str
    mark_price: Decimal
    index_price: Decimal | None
    funding_rate: Decimal
    next_funding_time: datetime | None


def mark_price_from_event(event: Mapping[str, Any], market: Market) -> MarkPriceUpdate:
    """``n`` (next funding) is documented in microseconds but the official client's sample
    carries milliseconds; values below 10**14 are taken as milliseconds."""
    next_funding = event.get("n")
    when: datetime | None = None
    if next_funding:
        value = int(next_funding)
        when = ms_to_datetime(value) if value < 10**14 else us_time(value)
    index = optional_decimal(event.get("i"))
    return MarkPriceUpdate(
        symbol=market.symbol,
        mark_price=market.from_venue_price(to_decimal(event["p"])),
        index_price=market.from_venue_price(index) if index is not None else None,
        funding_rate=to_decimal(event.get("f", "0")),
        next_funding_time=when,
    )


# --- error answers ----------------------------------------------------------------------

AUTH_CODES = frozenset({"INVALID_SIGNATURE", "UNAUTHORIZED", "FORBIDDEN", "INVALID_API_KEY"})
INVALID_ORDER_CODES = frozenset(
    {"INVALID_ORDER", "INVALID_PRICE", "INVALID_QUANTITY", "ORDER_LIMIT", "POSITION_LIMIT"}
)
MARGIN_CODES = frozenset({"INSUFFICIENT_MARGIN", "INSUFFICIENT_FUNDS"})
SYMBOL_CODES = frozenset({"INVALID_MARKET", "INVALID_SYMBOL"})
UNAVAILABLE_CODES = frozenset({"MAINTENANCE", "SERVER_ERROR", "TRADING_PAUSED", "TIMEOUT"})


class BackpackError(ExchangeError):
    """A Backpack answer with no more specific type; ``code`` is the venue's."""

    def __init__(self, code: str, message: str, *, venue: str | None = None) -> None:
        self.code = code
        super().__init__(message, venue=venue)


class RequestExpired(AuthenticationFailed):
    """The request's X-Timestamp fell outside its X-Window on arrival (our clock is off)."""


def parse_error(payload: Any, status: int) -> tuple[str, str]:
    """``(code, message)`` of an error body; ``("HTTP <status>", text)`` if not the shape."""
    if isinstance(payload, dict) and isinstance(payload.get("code"), str):
        return str(payload["code"]), str(payload.get("message", ""))
    return f"HTTP {status}", str(payload)[:200]


def is_expired(code: str, message: str) -> bool:
    lowered = message.lower()
    return code == "INVALID_CLIENT_REQUEST" and ("expired" in lowered or "timestamp" in lowered)


def error_for(status: int, code: str, message: str, *, venue: str, label: str) -> ExchangeError:
    """The exception for one error answer (``label`` = ``METHOD /path``)."""
    text = f"{label}: {code} {message}".strip()
    lowered = message.lower()
    if is_expired(code, message):
        return RequestExpired(
            f"{label}: request expired before it arrived (local clock differs from the venue's "
            "by more than X-Window)",
            venue=venue,
        )
    if (
        code in AUTH_CODES
        or status == 401
        or (code == "INVALID_CLIENT_REQUEST" and ("signature" in lowered or "key" in lowered))
    ):
        return AuthenticationFailed(
            f"{label}: signature or API key rejected ({code}); check api_key/api_secret",
            venue=venue,
        )
    if code == "RESOURCE_NOT_FOUND" or status == 404:
        return OrderNotFound(text, venue=venue)
    if "immediately match" in lowered or "post only" in lowered or "post-only" in lowered:
        return PostOnlyWouldCross(text, venue=venue)
    if "reduce only" in lowered or "reduce-only" in lowered:
        return ReduceOnlyRejected(text, venue=venue)
    if code in MARGIN_CODES:
        return InsufficientMargin(venue=venue, detail=f"{code} {message}".strip())
    if code in SYMBOL_CODES:
        return UnknownSymbol(text, venue=venue)
    if code in INVALID_ORDER_CODES:
        return InvalidOrder(text, venue=venue)
    if code == "TOO_MANY_REQUESTS":
        return RateLimited(text, venue=venue)
    if code in UNAVAILABLE_CODES:
        return VenueUnavailable(text, venue=venue)
    return BackpackError(code, text, venue=venue)
