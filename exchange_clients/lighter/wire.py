"""Lighter's wire format, pure: constants, integer scaling, parsing answers into our types.

Nothing here does I/O, so every rule is testable on its own. Sources (apidocs.lighter.xyz):

* "Market data" / "Core concepts": ``orderBookDetails`` gives ``market_id``, ``size_decimals``,
  ``price_decimals``, ``min_base_amount`` and ``min_quote_amount``; orders travel as integers,
  ``base_amount = size * 10**size_decimals`` and ``price = price * 10**price_decimals``. We
  scale in ``Decimal`` and refuse anything that is not exactly on that grid (no silent change).
* "Data Structures, Constants and Errors" / the SDK's ``SignerClient`` constants: transaction
  types (create order 14, cancel 15, update leverage 20), order types, time in force, order
  statuses (``open``, ``filled``, ``canceled-post-only`` ...) and error codes (21104 invalid
  nonce, 21108 unknown API key).
* Margin fractions are integers in units of 0.01 % (``10_000`` = 100 %): leverage
  ``L`` is sent as ``initial_margin_fraction = floor(10_000 / L)`` and the market's maximum
  leverage is ``10_000 / min_initial_margin_fraction``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.errors import (
    AuthenticationFailed,
    ExchangeError,
    InsufficientMargin,
    InvalidOrder,
    OrderRejected,
    PostOnlyWouldCross,
    ReduceOnlyRejected,
)
from exchange_clients.native.wire import ms_to_datetime, to_decimal
from exchange_clients.types import (
    ZERO,
    FeeSchedule,
    Fill,
    Market,
    MarketStats,
    OrderStatus,
    OrderType,
    Position,
)

VENUE = "lighter"
MAINNET_URL = "https://mainnet.zklighter.elliot.ai"
TESTNET_URL = "https://testnet.zklighter.elliot.ai"
MAINNET_WS_URL = "wss://mainnet.zklighter.elliot.ai/stream"
TESTNET_WS_URL = "wss://testnet.zklighter.elliot.ai/stream"
MAINNET_CHAIN_ID = 304  # "Troubleshooting": chainId 304 mainnet, 300 testnet
TESTNET_CHAIN_ID = 300

CODE_OK = 200

# Transaction types (SignedTxResponse.txType; SDK SignerClient.TX_TYPE_*).
TX_CREATE_ORDER = 14
TX_CANCEL_ORDER = 15
TX_CANCEL_ALL = 16
TX_UPDATE_LEVERAGE = 20

# Order types and time in force (SDK SignerClient.ORDER_TYPE_* / ORDER_TIME_IN_FORCE_*).
ORDER_TYPE_LIMIT = 0
ORDER_TYPE_MARKET = 1
ORDER_TYPE_STOP_LOSS = 2  # a market order sent when the mark price reaches TriggerPrice
TIF_IOC = 0
TIF_GTT = 1  # good till time: a resting order with an expiry
TIF_POST_ONLY = 2
EXPIRY_DEFAULT_28_DAYS = -1  # the signer fills in now + 28 days
EXPIRY_IOC = 0
NIL_TRIGGER_PRICE = 0
CROSS_MARGIN = 0

# Order ``type`` strings of the ``Order`` model, as our order types (stop-loss = a stop market).
ORDER_TYPES = {
    "limit": OrderType.LIMIT,
    "market": OrderType.MARKET,
    "stop-loss": OrderType.STOP_MARKET,
}

# Account types of ``account.account_type`` and their published fees ("Account Types",
# apidocs.lighter.xyz): standard 0 % / 0 %; premium 0.0040 % maker / 0.0280 % taker before
# the LIT-staking discounts (up to 30 %), which no endpoint reports: the base premium rate is
# the conservative (highest) figure.
ACCOUNT_STANDARD = 0
ACCOUNT_PREMIUM = 1
PUBLISHED_FEES = {
    ACCOUNT_STANDARD: FeeSchedule(maker=ZERO, taker=ZERO, source="published"),
    ACCOUNT_PREMIUM: FeeSchedule(
        maker=Decimal("0.000040"), taker=Decimal("0.000280"), source="published"
    ),
}

# Client order index range: a positive integer below 2**48 (the venue's 48-bit index space).
MAX_CLIENT_ORDER_INDEX = 2**48 - 1
MARGIN_FRACTION_ONE = Decimal(10_000)

# Error codes ("Data Structures, Constants and Errors"; "Troubleshooting").
ERR_INVALID_NONCE = 21104
ERR_BATCH_NONCE = 21105
ERR_INVALID_PUBLIC_KEY = 21108
ERR_DUPLICATE_CLIENT_ORDER_INDEX = 21728
NONCE_ERRORS = frozenset({ERR_INVALID_NONCE, ERR_BATCH_NONCE})
AUTH_ERROR_WORDS = ("auth", "public key", "publickey", "signature")

# A funding rate in ``market_stats`` is a percentage per hour ("0.0012" = 0.0012 %/h).
FUNDING_RATE_IS_PERCENT = True
FUNDING_INTERVAL_HOURS = Decimal(1)

_FINAL_STATUS = {"filled": OrderStatus.FILLED, "canceled": OrderStatus.CANCELLED}


@dataclass(frozen=True, slots=True)
class LighterMarket:
    """One perpetual as ``orderBookDetails`` describes it, with our :class:`Market` view."""

    market: Market
    market_id: int
    size_decimals: int
    price_decimals: int
    min_initial_margin_fraction: int
    default_initial_margin_fraction: int
    taker_fee: Decimal
    maker_fee: Decimal

    @property
    def symbol(self) -> str:
        return self.market.symbol

    def base_amount(self, size: Decimal) -> int:
        """``size`` as the venue's integer base amount; ``InvalidOrder`` if off the grid."""
        return _scale(size, self.size_decimals, self.symbol, "size")

    def price_int(self, price: Decimal) -> int:
        """``price`` as the venue's integer price; ``InvalidOrder`` if off the tick grid."""
        return _scale(price, self.price_decimals, self.symbol, "price")

    def size_of(self, base_amount: int) -> Decimal:
        return Decimal(base_amount).scaleb(-self.size_decimals)

    def price_of(self, price: int) -> Decimal:
        return Decimal(price).scaleb(-self.price_decimals)


def _scale(value: Decimal, decimals: int, symbol: str, what: str) -> int:
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise InvalidOrder(
            f"{symbol}: {what} {value} has more than {decimals} decimals "
            f"(round it first, e.g. with prepare_limit)",
            venue=VENUE,
        )
    return int(scaled)


def parse_markets(data: Any) -> list[LighterMarket]:
    """Active perpetuals from an ``orderBookDetails`` answer, keyed by base asset symbol."""
    markets: list[LighterMarket] = []
    for raw in data.get("order_book_details") or []:
        if str(raw.get("status", "active")) != "active":
            continue
        size_decimals = int(raw["size_decimals"])
        price_decimals = int(raw["price_decimals"])
        min_imf = int(raw.get("min_initial_margin_fraction") or 0)
        default_imf = int(raw.get("default_initial_margin_fraction") or min_imf)
        if min_imf <= 0:
            continue
        symbol = str(raw["symbol"])
        market = Market(
            symbol=symbol,
            contract_id=str(int(raw["market_id"])),
            tick_size=Decimal(1).scaleb(-price_decimals),
            step_size=Decimal(1).scaleb(-size_decimals),
            min_size=to_decimal(raw.get("min_base_amount", "0")),
            min_notional=to_decimal(raw.get("min_quote_amount", "0")),
            max_leverage=MARGIN_FRACTION_ONE / min_imf,
        )
        markets.append(
            LighterMarket(
                market=market,
                market_id=int(raw["market_id"]),
                size_decimals=size_decimals,
                price_decimals=price_decimals,
                min_initial_margin_fraction=min_imf,
                default_initial_margin_fraction=default_imf,
                taker_fee=to_decimal(raw.get("taker_fee", "0")),
                maker_fee=to_decimal(raw.get("maker_fee", "0")),
            )
        )
    return markets


def fees_for_account_type(account_type: object) -> FeeSchedule:
    """The published schedule of an account's type (``account_type`` of ``/api/v1/account``)."""
    try:
        return PUBLISHED_FEES[int(str(account_type))]
    except (KeyError, ValueError):
        raise ExchangeError(
            f"unknown account_type {account_type!r}: no published fee schedule for it",
            venue=VENUE,
        ) from None


def parse_market_stats(data: Any, markets: dict[int, LighterMarket]) -> dict[str, MarketStats]:
    """24 h volume and open interest of our markets from an ``orderBookDetails`` answer.

    ``daily_quote_token_volume`` is already in USD; ``open_interest`` is in the base asset (ETH
    ~39,560 against ~1.67 bn of daily quote volume in the API's sample), so it is valued at the
    market's ``mark_price`` (the ``last_trade_price`` where no mark is given).
    """
    stats: dict[str, MarketStats] = {}
    for raw in data.get("order_book_details") or []:
        market = markets.get(int(raw["market_id"]))
        if market is None:
            continue
        volume = raw.get("daily_quote_token_volume")
        interest = raw.get("open_interest")
        price = raw.get("mark_price") or raw.get("last_trade_price")
        stats[market.symbol] = MarketStats(
            symbol=market.symbol,
            volume_24h_usd=to_decimal(volume) if volume is not None else None,
            open_interest_usd=(
                to_decimal(interest) * to_decimal(price)
                if interest is not None and price is not None
                else None
            ),
        )
    return stats


def leverage_to_margin_fraction(leverage: Decimal) -> int:
    """What ``update_leverage`` sends: ``floor(10_000 / leverage)`` (SDK ``update_leverage``)."""
    return int(MARGIN_FRACTION_ONE / leverage)


def order_status(raw: Any) -> OrderStatus:
    """Lighter's status string as ours (every ``canceled-<reason>`` is a cancellation)."""
    status = str(raw.get("status", ""))
    filled = to_decimal(raw.get("filled_base_amount") or "0")
    if status in _FINAL_STATUS:
        return _FINAL_STATUS[status]
    if status.startswith("canceled"):
        return OrderStatus.CANCELLED
    if status in ("open", "in-progress", "pending"):
        return OrderStatus.PARTIALLY_FILLED if filled > 0 else OrderStatus.OPEN
    return OrderStatus.OPEN


def cancel_reason(raw: Any) -> str | None:
    """``post-only`` for ``canceled-post-only`` and so on; None for a plain cancel."""
    status = str(raw.get("status", ""))
    return status.removeprefix("canceled-") if status.startswith("canceled-") else None


# Cancel reasons that mean "the order was refused at placement" (an error for the caller).
REJECTION_REASONS = frozenset({"post-only", "reduce-only", "margin-not-allowed", "invalid-balance"})


def rejection_for(reason: str, context: str) -> OrderRejected | InsufficientMargin:
    """The error an order cancelled by the sequencer at placement stands for."""
    message = f"{context}: the venue cancelled it ({reason})"
    if reason == "post-only":
        return PostOnlyWouldCross(message, venue=VENUE)
    if reason == "reduce-only":
        return ReduceOnlyRejected(message, venue=VENUE)
    if reason in ("margin-not-allowed", "invalid-balance"):
        return InsufficientMargin(venue=VENUE, detail=message)
    return OrderRejected(message, venue=VENUE)


def api_error(data: Any, *, context: str) -> ExchangeError:
    """Our error for a Lighter ``{"code": ..., "message": ...}`` refusal."""
    code = int(data.get("code", 0)) if isinstance(data, dict) else 0
    message = str(data.get("message", data)) if isinstance(data, dict) else str(data)
    text = f"{context} refused: {message} (code {code})"
    if code == ERR_INVALID_PUBLIC_KEY or any(w in message.lower() for w in AUTH_ERROR_WORDS):
        return AuthenticationFailed(
            f"{text}; check api_key_private_key, api_key_index and account_index", venue=VENUE
        )
    if "margin" in message.lower():
        return InsufficientMargin(venue=VENUE, detail=text)
    if context.startswith("order"):
        return InvalidOrder(text, venue=VENUE)
    return ExchangeError(text, venue=VENUE)


def parse_fill(
    raw: Any, *, account_index: int, market: LighterMarket, client_id_of: dict[int, str]
) -> Fill:
    """One ``Trade`` from our side: bid or ask account, maker or taker, fee from its rate.

    Trade fees are integer rates in millionths of the notional (``taker_fee: 200`` = 2 bps).
    """
    is_bid = int(raw["bid_account_id"]) == account_index
    is_maker_ask = bool(raw.get("is_maker_ask"))
    taker = is_maker_ask if is_bid else not is_maker_ask
    price = to_decimal(raw["price"])
    size = to_decimal(raw["size"])
    rate = to_decimal(raw.get("taker_fee" if taker else "maker_fee") or 0)
    fee = price * size * rate / Decimal(1_000_000)
    order_id = raw["bid_id"] if is_bid else raw["ask_id"]
    client_index = raw.get("bid_client_id" if is_bid else "ask_client_id")
    client_id = client_id_of.get(int(client_index)) if client_index is not None else None
    return Fill(
        venue=VENUE,
        fill_id=str(raw["trade_id"]),
        client_order_id=client_id,
        venue_order_id=str(order_id),
        symbol=market.symbol,
        side="buy" if is_bid else "sell",
        price=price,
        size=size,
        fee=fee,
        liquidity="taker" if taker else "maker",
        ts=ms_to_datetime(raw["timestamp"]),
    )


def parse_position(raw: Any, market: LighterMarket) -> Position | None:
    """An ``AccountPosition``; None when flat. ``total_funding_paid_out`` > 0 means paid."""
    size = to_decimal(raw.get("position") or "0") * int(raw.get("sign") or 1)
    if size == 0:
        return None
    value = to_decimal(raw.get("position_value") or "0")
    liquidation = to_decimal(raw.get("liquidation_price") or "0")
    imf = to_decimal(raw.get("initial_margin_fraction") or "0")  # a percentage ("33.33")
    return Position(
        symbol=market.symbol,
        size=size,
        entry_price=to_decimal(raw["avg_entry_price"]),
        mark_price=value / abs(size),
        liquidation_price=liquidation if liquidation > 0 else None,
        unrealized_pnl=to_decimal(raw.get("unrealized_pnl") or "0"),
        accrued_funding=-to_decimal(raw.get("total_funding_paid_out") or "0"),
        leverage=(Decimal(100) / imf).quantize(Decimal("0.01")) if imf > 0 else None,
        margin=to_decimal(raw.get("allocated_margin") or "0") or None,
    )


def aggregate_levels(orders: list[Any], *, descending: bool) -> list[tuple[Decimal, Decimal]]:
    """``orderBookOrders`` lists single orders; sum them into ``(price, size)`` levels."""
    levels: dict[Decimal, Decimal] = {}
    for order in orders:
        price = to_decimal(order["price"])
        levels[price] = levels.get(price, ZERO) + to_decimal(order["remaining_base_amount"])
    return sorted(((p, s) for p, s in levels.items() if s > 0), reverse=descending)
