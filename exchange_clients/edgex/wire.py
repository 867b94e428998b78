"""EdgeX V2 wire formats -> our types, and the venue's error answers -> ``core.errors``.

Pure functions, no I/O. Shapes are those of the V2 API docs (edgeX GitBook, "API Docs V2") and
the official SDK's requests: every REST answer is ``{"code": "SUCCESS", "data": ..., "msg":
null, "errorParam": null, "requestTime", "responseTime", "traceId"}``; numbers are decimal
strings (parsed straight into ``Decimal``), ids and times (epoch ms) are strings.

* ``getMetaData``: ``coinList`` (``coinId``, ``coinName``, ``resolution``) and ``contractList``
  (``contractId``, ``contractName``, ``baseCoinId``, ``quoteCoinId``, ``tickSize``,
  ``stepSize``, ``minOrderSize``, ``resolution``, ``defaultTakerFeeRate`` /
  ``defaultMakerFeeRate``, ``fundingRateIntervalMin``, ``riskTierList[].maxLeverage``,
  ``enableTrade``/``enableDisplay``), ``global`` (``nativeChainId``, ``contractAddress``).
  Our symbol is the base coin's name (``BTC``), the venue key the ``contractId``.
* orders (``getOrderById`` / ``getActiveOrderPage`` / the ``order`` group of the private
  stream): ``id``, ``clientOrderId``, ``contractId``, ``side`` (``BUY``/``SELL``), ``type``,
  ``timeInForce`` (``POST_ONLY`` is a time in force), ``price``, ``size``, ``reduceOnly``,
  ``triggerPrice``, ``status`` (``PENDING``, ``OPEN``, ``FILLED``, ``CANCELING``,
  ``CANCELED``, ``UNTRIGGERED``), ``cumFillSize`` / ``cumFillValue`` / ``cumFillFee``,
  ``cancelReason``, ``createdTime`` / ``updatedTime``.
* fills (``getHistoryOrderFillTransactionPage`` / ``orderFillTransaction``): ``id``,
  ``orderId``, ``orderSide``, ``fillPrice``, ``fillSize``, ``fillFee``, ``direction``
  (``MAKER``/``TAKER``), ``createdTime``.
* ``getAccountAsset``: ``collateralList[].amount`` (the cash balance), ``positionList[]``
  (``openSize`` signed, ``openValue`` its signed cost, ``fundingFee`` credited), and the
  computed ``collateralAssetModelList[]`` (``totalEquity``, ``initialMarginRequirement``,
  ``availableAmount``) and ``positionAssetList[]`` (``unrealizePnl``, ``liquidatePrice``,
  ``maxLeverage``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
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
from exchange_clients.edgex.signing import OrderDomain, parse_resolution
from exchange_clients.native.wire import ms_to_datetime, optional_decimal, to_decimal
from exchange_clients.types import (
    ZERO,
    Balance,
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

SUCCESS = "SUCCESS"
DEFAULT_MAX_LEVERAGE = Decimal(20)

STATUS: Mapping[str, OrderStatus] = {
    "PENDING": OrderStatus.OPEN,
    "OPEN": OrderStatus.OPEN,
    "UNTRIGGERED": OrderStatus.OPEN,
    "CANCELING": OrderStatus.OPEN,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELLED,
}
REJECTED_REASONS = frozenset({"REJECT_BY_MATCH", "INSUFFICIENT_MARGIN", "REDUCE_ONLY_REJECTED"})
"""``cancelReason`` values that mean the venue refused the order rather than a cancel."""
ORDER_TYPE_WIRE: Mapping[OrderType, str] = {
    OrderType.LIMIT: "LIMIT",
    OrderType.MARKET: "MARKET",
    OrderType.STOP_MARKET: "STOP_MARKET",
}
TRIGGER_PRICE_TYPE = "ORACLE_PRICE"
"""What our stops trigger on: the oracle (mark) price, as liquidations do."""


@dataclass(frozen=True, slots=True)
class EdgexContract:
    """One perpetual as the venue lists it: our :class:`Market` plus what signing needs."""

    market: Market
    synthetic_resolution: Decimal
    collateral_resolution: Decimal
    collateral_asset: int
    taker_fee: Decimal
    maker_fee: Decimal
    funding_interval_minutes: int

    @property
    def contract_id(self) -> str:
        return self.market.contract_id

    @property
    def signing_fee_rate(self) -> Decimal:
        """The rate ``l2LimitFee`` is computed at: the larger of taker and maker (the SDK's)."""
        return max(self.taker_fee, self.maker_fee)


def unwrap(payload: Any) -> Any:
    """``data`` of a success answer (callers check ``code`` first through :func:`refusal`)."""
    return payload.get("data") if isinstance(payload, Mapping) else None


def domain_from_metadata(meta: Mapping[str, Any]) -> OrderDomain:
    """The EIP-712 domain from ``global`` (``nativeChainId`` may be hex)."""
    glob = meta.get("global") or {}
    chain = str(glob.get("nativeChainId") or glob.get("chainId") or "").strip()
    contract = str(glob.get("contractAddress") or "").strip()
    if not chain or not contract:
        raise ExchangeError("getMetaData: global.nativeChainId/contractAddress missing")
    return OrderDomain(int(chain, 16) if chain.lower().startswith("0x") else int(chain), contract)


def _max_leverage(row: Mapping[str, Any]) -> Decimal:
    tiers = [optional_decimal(t.get("maxLeverage")) for t in row.get("riskTierList") or []]
    found = [t for t in tiers if t is not None and t > 0]
    if found:
        return max(found)
    shown = optional_decimal(row.get("displayMaxLeverage"))
    return shown if shown is not None and shown > 0 else DEFAULT_MAX_LEVERAGE


def contracts_from_metadata(meta: Mapping[str, Any]) -> list[EdgexContract]:
    """The tradable perpetuals of ``getMetaData``."""
    coins = {str(c["coinId"]): c for c in meta.get("coinList") or []}
    contracts: list[EdgexContract] = []
    for row in meta.get("contractList") or []:
        if row.get("enableTrade") is False or row.get("enableDisplay") is False:
            continue
        base, quote = coins.get(str(row.get("baseCoinId"))), coins.get(str(row.get("quoteCoinId")))
        if base is None or quote is None:
            continue
        market = Market(
            symbol=str(base["coinName"]),
            contract_id=str(row["contractId"]),
            tick_size=to_decimal(row["tickSize"]),
            step_size=to_decimal(row["stepSize"]),
            min_size=to_decimal(row.get("minOrderSize") or row["stepSize"]),
            min_notional=ZERO,
            max_leverage=_max_leverage(row),
            quote=str(quote["coinName"]),
        )
        contracts.append(
            EdgexContract(
                market=market,
                synthetic_resolution=parse_resolution(str(row["resolution"])),
                collateral_resolution=parse_resolution(str(quote["resolution"])),
                collateral_asset=int(str(quote["coinId"])),
                taker_fee=to_decimal(row.get("defaultTakerFeeRate") or "0.001"),
                maker_fee=to_decimal(row.get("defaultMakerFeeRate") or "0.001"),
                funding_interval_minutes=int(str(row.get("fundingRateIntervalMin") or 240)),
            )
        )
    return contracts


def side_of(wire: str) -> Side:
    if wire == "BUY":
        return "buy"
    if wire == "SELL":
        return "sell"
    raise ValueError(f"unknown side {wire!r}")


def side_to_wire(side: Side) -> str:
    return "BUY" if side == "buy" else "SELL"


def _order_type(wire: object) -> OrderType:
    text = str(wire)
    if text == "MARKET":
        return OrderType.MARKET
    if text == "STOP_MARKET":
        return OrderType.STOP_MARKET
    return OrderType.LIMIT


def status_of(row: Mapping[str, Any], filled: Decimal) -> OrderStatus:
    wire = str(row.get("status", "PENDING"))
    status = STATUS.get(wire, OrderStatus.OPEN)
    if status is OrderStatus.CANCELLED and str(row.get("cancelReason")) in REJECTED_REASONS:
        return OrderStatus.REJECTED if filled == 0 else OrderStatus.CANCELLED
    if status is OrderStatus.OPEN and filled > 0:
        return OrderStatus.PARTIALLY_FILLED
    return status


def _time(value: object) -> datetime | None:
    if value is None or value == "" or str(value) == "0":
        return None
    return ms_to_datetime(str(value))


def order_from_wire(row: Mapping[str, Any], market: Market, client_order_id: str) -> Order:
    """One order record (REST or the private stream's ``order`` group)."""
    filled = to_decimal(row.get("cumFillSize") or "0")
    value = to_decimal(row.get("cumFillValue") or "0")
    order_type = _order_type(row.get("type"))
    price = optional_decimal(row.get("price"))
    trigger = optional_decimal(row.get("triggerPrice"))
    tif = str(row.get("timeInForce", "GOOD_TIL_CANCEL"))
    reason = row.get("cancelReason")
    return Order(
        client_order_id=client_order_id,
        venue_order_id=str(row["id"]),
        symbol=market.symbol,
        side=side_of(str(row["side"])),
        order_type=order_type,
        size=market.from_venue_size(to_decimal(row["size"])),
        price=(
            market.from_venue_price(price)
            if price is not None and price > 0 and order_type is OrderType.LIMIT
            else None
        ),
        status=status_of(row, filled),
        filled_size=market.from_venue_size(filled),
        avg_fill_price=market.from_venue_price(value / filled) if filled > 0 else None,
        fee_paid=to_decimal(row.get("cumFillFee") or "0"),
        post_only=tif == "POST_ONLY",
        reduce_only=bool(row.get("reduceOnly", False)),
        time_in_force=(
            TimeInForce.IOC if tif in ("IMMEDIATE_OR_CANCEL", "FILL_OR_KILL") else TimeInForce.GTC
        ),
        reject_reason=(
            str(reason) if reason and str(reason) != "UNKNOWN_ORDER_CANCEL_REASON" else None
        ),
        created_at=_time(row.get("createdTime")),
        updated_at=_time(row.get("updatedTime")),
        trigger_price=(
            market.from_venue_price(trigger)
            if trigger is not None and trigger > 0 and order_type is OrderType.STOP_MARKET
            else None
        ),
    )


def fill_from_wire(
    venue: str, row: Mapping[str, Any], market: Market, client_order_id: str | None
) -> Fill:
    """One ``orderFillTransaction`` record."""
    return Fill(
        venue=venue,
        fill_id=str(row["id"]),
        client_order_id=client_order_id,
        venue_order_id=str(row["orderId"]),
        symbol=market.symbol,
        side=side_of(str(row["orderSide"])),
        price=market.from_venue_price(to_decimal(row["fillPrice"])),
        size=market.from_venue_size(to_decimal(row["fillSize"])),
        fee=to_decimal(row.get("fillFee") or "0"),
        liquidity="maker" if row.get("direction") == "MAKER" else "taker",
        ts=_time(row.get("createdTime")) or datetime.now(UTC),
        fee_asset=market.quote,
    )


def positions_from_asset(
    asset: Mapping[str, Any], market_of: Mapping[str, Market]
) -> list[Position]:
    """Open positions of ``getAccountAsset``: ``positionList`` joined with the computed
    ``positionAssetList`` by ``contractId``."""
    computed = {str(p.get("contractId")): p for p in asset.get("positionAssetList") or []}
    positions: list[Position] = []
    for row in asset.get("positionList") or []:
        market = market_of.get(str(row.get("contractId")))
        size = to_decimal(row.get("openSize") or "0")
        if market is None or size == 0:
            continue
        extra = computed.get(market.contract_id, {})
        cost = to_decimal(row.get("openValue") or "0")
        liquidation = optional_decimal(extra.get("liquidatePrice"))
        mark = optional_decimal(extra.get("oraclePrice"))
        entry = abs(cost / size)
        margin = optional_decimal(extra.get("initialMarginRequirement"))
        value = optional_decimal(extra.get("positionValue"))
        positions.append(
            Position(
                symbol=market.symbol,
                size=market.from_venue_size(size),
                entry_price=market.from_venue_price(entry),
                mark_price=market.from_venue_price(mark if mark is not None else entry),
                liquidation_price=(
                    market.from_venue_price(liquidation)
                    if liquidation is not None and liquidation > 0
                    else None
                ),
                unrealized_pnl=to_decimal(extra.get("unrealizePnl") or "0"),
                accrued_funding=to_decimal(row.get("fundingFee") or "0"),
                leverage=(abs(value) / margin) if value is not None and margin else None,
                margin=margin,
            )
        )
    return positions


def balance_from_asset(asset: Mapping[str, Any], quote: str) -> Balance:
    """The collateral coin's cash ``amount``, the unrealised PnL of every position and the
    initial margin in use (``collateralAssetModelList``)."""
    cash = sum(
        (to_decimal(c.get("amount") or "0") for c in asset.get("collateralList") or []), ZERO
    )
    unrealized = sum(
        (to_decimal(p.get("unrealizePnl") or "0") for p in asset.get("positionAssetList") or []),
        ZERO,
    )
    model: Mapping[str, Any] = next(iter(asset.get("collateralAssetModelList") or []), {})
    return Balance(
        wallet=cash,
        unrealized_pnl=unrealized,
        margin_used=to_decimal(model.get("initialMarginRequirement") or "0"),
        asset=quote,
    )


def fees_of(contract: EdgexContract) -> FeeSchedule:
    """The contract's published default rates (``defaultMakerFeeRate`` /
    ``defaultTakerFeeRate`` of ``getMetaData``)."""
    return FeeSchedule(maker=contract.maker_fee, taker=contract.taker_fee, source="published")


def stats_from_ticker(market: Market, row: Mapping[str, Any] | None) -> MarketStats:
    """24 h ``value`` (quote turnover) and ``openInterest`` (base) x ``oraclePrice``."""
    ticker = row or {}
    volume = optional_decimal(ticker.get("value"))
    interest = optional_decimal(ticker.get("openInterest"))
    oracle = optional_decimal(ticker.get("oraclePrice"))
    return MarketStats(
        symbol=market.symbol,
        volume_24h_usd=volume,
        open_interest_usd=interest * oracle
        if interest is not None and oracle is not None
        else None,
    )


# --- error answers -----------------------------------------------------------------------------

AUTH_CODES = frozenset(
    {"INVALID_SIGNATURE", "INVALID_API_KEY", "UNAUTHORIZED", "PERMISSION_DENIED"}
)
EXPIRED_CODES = frozenset({"REQUEST_EXPIRED", "TIMESTAMP_EXPIRED"})
NOT_FOUND_CODES = frozenset({"ORDER_NOT_FOUND", "DATA_NOT_FOUND"})
MARGIN_CODES = frozenset({"INSUFFICIENT_MARGIN", "INSUFFICIENT_BALANCE"})
UNAVAILABLE_CODES = frozenset({"SYSTEM_BUSY", "SERVER_ERROR", "SERVICE_UNAVAILABLE"})


class EdgexError(ExchangeError):
    """An EdgeX refusal with no more specific type; ``code`` is the venue's."""

    def __init__(self, code: str, message: str, *, venue: str | None = None) -> None:
        self.code = code
        super().__init__(message, venue=venue)


class RequestExpired(AuthenticationFailed):
    """The request's timestamp was too far from the venue's clock when it arrived."""


def parse_error(payload: Any, status: int) -> tuple[str, str]:
    """``(code, msg)`` of an answer; ``("HTTP <status>", text)`` when not the venue's shape."""
    if isinstance(payload, Mapping) and isinstance(payload.get("code"), str):
        return str(payload["code"]), str(payload.get("msg") or "")
    return f"HTTP {status}", str(payload)[:200]


def error_for(status: int, code: str, message: str, *, venue: str, label: str) -> ExchangeError:
    """The exception for one refusal (``label`` = ``METHOD /path``); never echoes a key."""
    text = f"{label}: {code} {message}".strip()
    lowered = message.lower()
    if code in EXPIRED_CODES:
        return RequestExpired(
            f"{label}: request expired before it arrived (local clock off the venue's)",
            venue=venue,
        )
    if code in AUTH_CODES or status in (401, 403):
        return AuthenticationFailed(
            f"{label}: API key or signature rejected ({code}); check api_key/api_secret/"
            "api_passphrase/trading_private_key and account_id",
            venue=venue,
        )
    if code in NOT_FOUND_CODES or status == 404:
        return OrderNotFound(text, venue=venue)
    if code == "POST_ONLY_WOULD_TRADE" or "post only" in lowered or "post-only" in lowered:
        return PostOnlyWouldCross(text, venue=venue)
    if code == "REDUCE_ONLY_REJECTED" or "reduce only" in lowered or "reduce-only" in lowered:
        return ReduceOnlyRejected(text, venue=venue)
    if code in MARGIN_CODES:
        return InsufficientMargin(venue=venue, detail=f"{code} {message}".strip())
    if code == "CONTRACT_NOT_FOUND":
        return UnknownSymbol(text, venue=venue)
    if code.startswith("INVALID_") or code == "ORDER_EXPIRED":
        return InvalidOrder(text, venue=venue)
    if code == "TOO_MANY_REQUESTS" or status == 429:
        return RateLimited(text, venue=venue)
    if code in UNAVAILABLE_CODES or status >= 500:
        return VenueUnavailable(text, venue=venue)
    return EdgexError(code, text, venue=venue)
