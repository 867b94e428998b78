"""Hyperliquid's wire format <-> our types: markets, orders, fills, positions, errors.

Pure functions, no I/O, so the client and its WebSocket share one reading of every message.
Hyperliquid sends prices and sizes as decimal strings in *venue* units; ``k``-prefixed coins
(``kPEPE``) trade 1,000 units per contract, so they are converted through ``Market``'s
multiplier here and nothing above the client sees venue units. Sources (Hyperliquid API docs,
for-developers/api): info-endpoint (+ /perpetuals), exchange-endpoint, websocket/subscriptions,
error-responses, rate-limits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.errors import (
    ExchangeError,
    InsufficientMargin,
    InvalidOrder,
    OrderNotFound,
    OrderRejected,
    PostOnlyWouldCross,
    ReduceOnlyRejected,
)
from exchange_clients.hyperliquid.rounding import price_decimals
from exchange_clients.native.wire import FillFormat, ms_field, ms_to_datetime, to_decimal
from exchange_clients.types import (
    ZERO,
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

VENUE = "hyperliquid"
MAINNET_URL = "https://api.hyperliquid.xyz"
TESTNET_URL = "https://api.hyperliquid-testnet.xyz"
MAINNET_WS_URL = "wss://api.hyperliquid.xyz/ws"
TESTNET_WS_URL = "wss://api.hyperliquid-testnet.xyz/ws"
MIN_ORDER_VALUE = Decimal(10)  # error-responses: "Order must have minimum value of $10."
# trading/fees: the base (tier 0) perpetuals rates, what an account without discounts pays.
PUBLISHED_FEES = FeeSchedule(maker=Decimal("0.00015"), taker=Decimal("0.00045"), source="published")
STOP_MARKET = "Stop Market"  # frontendOpenOrders/orderStatus ``orderType`` of our stops
K_MULTIPLIER = Decimal(1000)
_K_COIN = re.compile(r"k[A-Z0-9]+")

# Per-order error strings (error-responses). Matched by prefix: some carry details ("bbo was").
ERR_TICK = "Price must be divisible by tick size."
ERR_MIN_VALUE = "Order must have minimum value of $10."
ERR_MARGIN = "Insufficient margin to place order."
ERR_REDUCE_ONLY = "Reduce only order would increase position."
ERR_POST_ONLY = "Post only order would have immediately matched"
ERR_IOC_CANCEL = "Order could not immediately match against any resting orders."
ERR_NO_LIQUIDITY = "No liquidity available for market order."
ERR_MISSING_ORDER = "Order was never placed, already canceled, or filled."
ERR_INVALID_SIZE = "Order has invalid size."
ERR_UNKNOWN_SIGNER = "does not exist."  # "User or API Wallet 0x... does not exist."
ERR_TPSL_PRICE = "Invalid TP/SL price."  # a stop's limit on the wrong side of its trigger


# --- symbols and markets ----------------------------------------------------------------------


def symbol_of(coin: str) -> tuple[str, Decimal]:
    """Internal symbol and quantity multiplier of a Hyperliquid coin (``kPEPE`` -> PEPE, 1000)."""
    if _K_COIN.fullmatch(coin):
        return coin[1:], K_MULTIPLIER
    return coin, Decimal(1)


def tick_at(mark: Decimal, sz_decimals: int) -> Decimal:
    """Hyperliquid's price step at ``mark`` (5 significant figures, <= 6 - szDecimals places)."""
    return Decimal(1).scaleb(-price_decimals(mark, sz_decimals))


@dataclass(frozen=True)
class HlAsset:
    """One perpetual as the client needs it: our Market plus the venue's asset index."""

    market: Market
    coin: str
    asset: int
    sz_decimals: int


def parse_universe(meta: Mapping[str, Any], ctxs: list[Mapping[str, Any]]) -> list[HlAsset]:
    """``metaAndAssetCtxs`` -> listed markets (asset index = position in the universe)."""
    assets: list[HlAsset] = []
    for index, entry in enumerate(meta["universe"]):
        if entry.get("isDelisted"):
            continue
        coin = str(entry["name"])
        sz_decimals = int(entry["szDecimals"])
        symbol, multiplier = symbol_of(coin)
        ctx = ctxs[index] if index < len(ctxs) else {}
        mark = to_decimal(ctx.get("markPx") or ctx.get("midPx") or ctx.get("oraclePx") or "1")
        venue_step = Decimal(1).scaleb(-sz_decimals)
        market = Market(
            symbol=symbol,
            contract_id=coin,
            tick_size=tick_at(mark, sz_decimals) / multiplier,
            step_size=venue_step * multiplier,
            min_size=venue_step * multiplier,
            min_notional=MIN_ORDER_VALUE,
            max_leverage=Decimal(int(entry["maxLeverage"])),
            quantity_multiplier=multiplier,
        )
        assets.append(HlAsset(market=market, coin=coin, asset=index, sz_decimals=sz_decimals))
    return assets


# --- scalars ----------------------------------------------------------------------------------


def side_of(wire_side: str) -> Side:
    """``B`` (bid) is a buy, ``A`` (ask) a sell."""
    return "buy" if wire_side == "B" else "sell"


# --- orders -----------------------------------------------------------------------------------

_TIF = {"Alo": (True, TimeInForce.GTC), "Gtc": (False, TimeInForce.GTC)}


def order_status_of(status: str, remaining: Decimal, original: Decimal) -> OrderStatus:
    """Hyperliquid order status (info-endpoint "orderStatus" values) -> ours."""
    if status in ("open", "triggered"):
        return OrderStatus.PARTIALLY_FILLED if remaining < original else OrderStatus.OPEN
    if status == "filled":
        return OrderStatus.FILLED
    if status == "rejected" or status.endswith("Rejected"):
        return OrderStatus.REJECTED
    if status.endswith("anceled") or status == "scheduledCancel":
        return OrderStatus.CANCELLED
    return OrderStatus.OPEN


def parse_order(
    wire: Mapping[str, Any],
    status: str,
    *,
    market: Market,
    client_order_id: str,
    updated_ms: int | None = None,
    avg_fill_price: Decimal | None = None,
    fee_paid: Decimal = ZERO,
) -> Order:
    """An order object (orderStatus / frontendOpenOrders / orderUpdates) -> ``Order``."""
    remaining = to_decimal(wire["sz"])
    original = to_decimal(wire.get("origSz", wire["sz"]))
    post_only, tif = _TIF.get(str(wire.get("tif") or "Gtc"), (False, TimeInForce.IOC))
    trigger = wire.get("triggerPx") if wire.get("isTrigger") else None
    trigger_price = market.from_venue_price(to_decimal(trigger)) if trigger is not None else None
    # A stop market's limitPx is only its slippage bound; other trigger kinds (take-profit,
    # stop limit: never sent by us) keep their limit price and show their trigger beside it.
    is_stop = trigger_price is not None and wire.get("orderType") == STOP_MARKET
    return Order(
        client_order_id=client_order_id,
        venue_order_id=str(wire["oid"]),
        symbol=market.symbol,
        side=side_of(str(wire["side"])),
        order_type=OrderType.STOP_MARKET if is_stop else OrderType.LIMIT,
        size=market.from_venue_size(original),
        price=None if is_stop else market.from_venue_price(to_decimal(wire["limitPx"])),
        trigger_price=trigger_price,
        status=order_status_of(status, remaining, original),
        filled_size=market.from_venue_size(original - remaining),
        avg_fill_price=avg_fill_price,
        fee_paid=fee_paid,
        post_only=post_only,
        reduce_only=bool(wire.get("reduceOnly", False)),
        time_in_force=tif,
        created_at=ms_to_datetime(int(wire["timestamp"])) if "timestamp" in wire else None,
        updated_at=ms_to_datetime(updated_ms) if updated_ms is not None else None,
    )


# --- economics --------------------------------------------------------------------------------


def parse_user_fees(data: Any) -> FeeSchedule:
    """``userFees`` -> the account's own perpetuals rates (after tier, referral and staking
    discounts): ``userAddRate`` is the maker rate (negative = rebate), ``userCrossRate`` the
    taker rate. ``ValueError`` when the answer does not carry them."""
    if not isinstance(data, Mapping) or "userAddRate" not in data or "userCrossRate" not in data:
        raise ValueError(f"userFees answer without userAddRate/userCrossRate: {str(data)[:200]}")
    return FeeSchedule(
        maker=to_decimal(data["userAddRate"]),
        taker=to_decimal(data["userCrossRate"]),
        source="account",
    )


def parse_market_stats(market: Market, ctx: Mapping[str, Any]) -> MarketStats:
    """One ``metaAndAssetCtxs`` asset context -> 24 h volume and open interest in USD.

    ``dayNtlVlm`` is already notional (USD); ``openInterest`` is in the venue's units (kPEPE
    contracts for kPEPE), so it is valued at the mark through the market's multiplier."""
    volume = ctx.get("dayNtlVlm")
    open_interest = ctx.get("openInterest")
    mark = ctx.get("markPx")
    return MarketStats(
        symbol=market.symbol,
        volume_24h_usd=to_decimal(volume) if volume is not None else None,
        open_interest_usd=(
            market.from_venue_size(to_decimal(open_interest))
            * market.from_venue_price(to_decimal(mark))
            if open_interest is not None and mark is not None
            else None
        ),
    )


FILL_KEYS = ("tid", "oid", "side", "px", "sz", "fee", "feeToken")
FILL = FillFormat(FILL_KEYS, side_of, ms_field("time"), taker="crossed", fee_asset="USDC")
"""A fill (userFills, REST or WebSocket): ``fee`` positive when paid, ``crossed`` = taker."""


# --- account ----------------------------------------------------------------------------------


def parse_position(wire: Mapping[str, Any], market: Market) -> Position | None:
    """``clearinghouseState.assetPositions[].position`` -> ``Position`` (None when flat).

    ``cumFunding.sinceOpen`` is funding *paid* (positive = paid), ours is received-positive.
    """
    size = to_decimal(wire["szi"])
    if size == 0:
        return None
    value = to_decimal(wire.get("positionValue", "0"))
    liquidation = wire.get("liquidationPx")
    funding = wire.get("cumFunding") or {}
    leverage = wire.get("leverage") or {}
    return Position(
        symbol=market.symbol,
        size=market.from_venue_size(size),
        entry_price=market.from_venue_price(to_decimal(wire["entryPx"])),
        mark_price=market.from_venue_price(value / abs(size)),
        liquidation_price=(
            market.from_venue_price(to_decimal(liquidation)) if liquidation is not None else None
        ),
        unrealized_pnl=to_decimal(wire.get("unrealizedPnl", "0")),
        accrued_funding=-to_decimal(funding.get("sinceOpen", "0")),
        leverage=Decimal(int(leverage["value"])) if "value" in leverage else None,
        margin=to_decimal(wire["marginUsed"]) if "marginUsed" in wire else None,
    )


# --- errors -----------------------------------------------------------------------------------


class MarginRejected(InsufficientMargin):
    """Hyperliquid's margin refusal: it does not say how much was missing, so neither do we."""

    def __init__(self, message: str) -> None:
        self.required = None
        self.available = None
        ExchangeError.__init__(self, message, venue=VENUE)


def order_error(message: str, *, context: str = "") -> ExchangeError:
    """A per-order ``{"error": ...}`` (or a top-level ``err``) -> the matching error type."""
    text = f"{context}: {message}" if context else message
    if message.startswith(ERR_POST_ONLY):
        return PostOnlyWouldCross(text, venue=VENUE)
    if message.startswith(ERR_REDUCE_ONLY):
        return ReduceOnlyRejected(text, venue=VENUE)
    if message.startswith(ERR_MARGIN):
        return MarginRejected(text)
    if message.startswith((ERR_TICK, ERR_MIN_VALUE, ERR_INVALID_SIZE, ERR_TPSL_PRICE)):
        return InvalidOrder(text, venue=VENUE)
    if message.startswith(ERR_MISSING_ORDER):
        return OrderNotFound(text, venue=VENUE)
    if message.startswith((ERR_IOC_CANCEL, ERR_NO_LIQUIDITY)):
        return OrderRejected(text, venue=VENUE)
    return OrderRejected(text, venue=VENUE)
