"""Value types every venue client speaks: markets, orders, fills, positions, balances, funding.

All quantities are ``Decimal`` in *internal* units: sizes in the base asset
(``BTC``), prices in USD per base unit. A venue whose contracts bundle units
(Hyperliquid's ``kPEPE`` = 1,000 PEPE) converts at its boundary through
:class:`Market`'s multiplier, so nothing above the client ever sees venue units.
Times are timezone-aware UTC. Objects are immutable: an update is a new object.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal, TypeVar

from core.redaction import Secret

Side = Literal["buy", "sell"]
Liquidity = Literal["maker", "taker"]
ZERO = Decimal(0)
HOURS_PER_YEAR = Decimal(24 * 365)


_Frozen = TypeVar("_Frozen", bound=type)


def opposite(side: Side) -> Side:
    return "sell" if side == "buy" else "buy"


def _slot_init(cls: _Frozen) -> _Frozen:
    """Give a frozen, slotted dataclass an ``__init__`` that stores each field through its
    slot's own setter.

    The one ``dataclass`` writes sets every field with ``object.__setattr__`` (a frozen class
    refuses plain assignment), looked up again on each call: ~1.1 us for a five-field
    :class:`BookSnapshot`, ~0.35 us through the slots' setters. The paper venue builds a book
    snapshot, a balance or a position on nearly every read: ~125k of them in a 3 h L2
    backtest. Same parameters, defaults and ``__post_init__`` call as the dataclass's own
    (fields with a default factory, keyword-only or left out of ``__init__`` are refused)."""
    names: dict[str, Any] = {}
    params, body = [], []
    for f in fields(cls):
        if f.default_factory is not MISSING or f.kw_only or not f.init:
            raise TypeError(f"{cls.__name__}.{f.name}: only plain fields have a slot init")
        if f.default is MISSING:
            params.append(f.name)
        else:
            names[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        names[f"_set_{f.name}"] = getattr(cls, f.name).__set__
        body.append(f"    _set_{f.name}(self, {f.name})")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    made: dict[str, Any] = {}
    exec(f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body), names, made)  # noqa: S102
    init = made["__init__"]
    init.__module__, init.__qualname__ = cls.__module__, f"{cls.__qualname__}.__init__"
    init.__annotations__ = vars(cls)["__init__"].__annotations__
    setattr(cls, "__init__", init)  # noqa: B010 - mypy refuses __init__ assigned on a class
    return cls


class OrderType(StrEnum):
    LIMIT = "limit"
    MARKET = "market"
    STOP_MARKET = "stop_market"
    """A reduce-only trigger resting on the venue: when the venue's trigger price is touched
    it becomes a market order. It protects a position while the bot (or its host) is down."""


class TimeInForce(StrEnum):
    GTC = "gtc"  # rests until filled or cancelled
    IOC = "ioc"  # fills what it can now, the rest is cancelled


class OrderStatus(StrEnum):
    """Lifecycle of an order; the same names as the ``orders.status`` column."""

    PENDING = "pending"  # recorded, not yet acknowledged by the venue
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    PENDING_CANCEL = "pending_cancel"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    FAILED = "failed"
    LOST = "lost"

    @property
    def is_final(self) -> bool:
        return self in _FINAL

    @property
    def is_resting(self) -> bool:
        return self in _RESTING


_FINAL = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELLED,
        OrderStatus.REJECTED,
        OrderStatus.EXPIRED,
        OrderStatus.FAILED,
    }
)
# Built once: a tuple of members built on every call cost ~0.5 us (~37k calls in a 3 h L2
# backtest, the tracker asking which orders still rest).
_RESTING = frozenset({OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED, OrderStatus.PENDING_CANCEL})


@dataclass(frozen=True, slots=True)
class Market:
    """A perpetual market as one venue lists it, in internal units.

    ``quantity_multiplier`` is how many base units one venue contract holds
    (1 for most; 1000 for ``kPEPE``-style contracts).
    """

    symbol: str
    contract_id: str
    tick_size: Decimal
    step_size: Decimal
    min_size: Decimal
    min_notional: Decimal
    max_leverage: Decimal
    quantity_multiplier: Decimal = Decimal(1)
    quote: str = "USD"

    def __post_init__(self) -> None:
        for name in ("tick_size", "step_size", "quantity_multiplier", "max_leverage"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{self.symbol}: {name} must be positive")
        if self.min_size < 0 or self.min_notional < 0:
            raise ValueError(f"{self.symbol}: minimums cannot be negative")

    def to_venue_size(self, size: Decimal) -> Decimal:
        return size / self.quantity_multiplier

    def from_venue_size(self, venue_size: Decimal) -> Decimal:
        return venue_size * self.quantity_multiplier

    def to_venue_price(self, price: Decimal) -> Decimal:
        return price * self.quantity_multiplier

    def from_venue_price(self, venue_price: Decimal) -> Decimal:
        return venue_price / self.quantity_multiplier


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What a caller asks a venue to do. Validated on construction."""

    symbol: str
    side: Side
    size: Decimal
    order_type: OrderType
    client_order_id: str
    price: Decimal | None = None
    post_only: bool = False
    reduce_only: bool = False
    time_in_force: TimeInForce = TimeInForce.GTC
    trigger_price: Decimal | None = None
    """STOP_MARKET only: the price at which the venue sends the market order."""

    def __post_init__(self) -> None:
        if self.side not in ("buy", "sell"):
            raise ValueError(f"side must be 'buy' or 'sell', not {self.side!r}")
        if not self.client_order_id:
            raise ValueError("every order needs a client order id")
        if self.size <= 0:
            raise ValueError(f"order size must be positive, not {self.size}")
        if self.order_type is OrderType.LIMIT:
            if self.price is None or self.price <= 0:
                raise ValueError(f"a limit order needs a positive price, not {self.price}")
        elif self.price is not None:
            raise ValueError(f"a {self.order_type} order takes no price")
        if self.order_type is OrderType.STOP_MARKET:
            if self.trigger_price is None or self.trigger_price <= 0:
                raise ValueError(
                    f"a stop order needs a positive trigger price, not {self.trigger_price}"
                )
            if not self.reduce_only:
                raise ValueError("a stop order only ever reduces a position: set reduce_only")
        elif self.trigger_price is not None:
            raise ValueError(f"a {self.order_type} order takes no trigger price")
        if self.post_only and (
            self.order_type is not OrderType.LIMIT or self.time_in_force is not TimeInForce.GTC
        ):
            raise ValueError("post-only applies to resting (GTC) limit orders only")


@_slot_init
@dataclass(frozen=True, slots=True)
class Order:
    """An order as the venue knows it, at one moment."""

    client_order_id: str
    venue_order_id: str | None
    symbol: str
    side: Side
    order_type: OrderType
    size: Decimal
    price: Decimal | None
    status: OrderStatus
    filled_size: Decimal = ZERO
    avg_fill_price: Decimal | None = None
    fee_paid: Decimal = ZERO
    post_only: bool = False
    reduce_only: bool = False
    time_in_force: TimeInForce = TimeInForce.GTC
    reject_reason: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    trigger_price: Decimal | None = None

    @property
    def remaining_size(self) -> Decimal:
        return self.size - self.filled_size

    @classmethod
    def pending(cls, request: OrderRequest) -> Order:
        """The order ``request`` will create, before any venue has acknowledged it."""
        return cls(
            client_order_id=request.client_order_id,
            venue_order_id=None,
            symbol=request.symbol,
            side=request.side,
            order_type=request.order_type,
            size=request.size,
            price=request.price,
            status=OrderStatus.PENDING,
            post_only=request.post_only,
            reduce_only=request.reduce_only,
            time_in_force=request.time_in_force,
            trigger_price=request.trigger_price,
        )


@_slot_init
@dataclass(frozen=True, slots=True)
class Fill:
    """One execution. ``fill_id`` is unique per venue; ``fee`` is positive when paid."""

    venue: str
    fill_id: str
    client_order_id: str | None
    venue_order_id: str | None
    symbol: str
    side: Side
    price: Decimal
    size: Decimal
    fee: Decimal
    liquidity: Liquidity
    ts: datetime
    fee_asset: str = "USD"

    @property
    def notional(self) -> Decimal:
        return self.price * self.size


@_slot_init
@dataclass(frozen=True, slots=True)
class Position:
    """An open position; ``size`` is signed (positive long, negative short).

    ``accrued_funding`` is funding received (positive) or paid (negative)
    since the position was opened.
    """

    symbol: str
    size: Decimal
    entry_price: Decimal
    mark_price: Decimal
    liquidation_price: Decimal | None
    unrealized_pnl: Decimal
    accrued_funding: Decimal = ZERO
    leverage: Decimal | None = None
    margin: Decimal | None = None

    @property
    def side(self) -> Side:
        return "buy" if self.size > 0 else "sell"

    @property
    def notional(self) -> Decimal:
        return abs(self.size) * self.mark_price


@_slot_init
@dataclass(frozen=True, slots=True)
class Balance:
    """Collateral of the account (USD-margined).

    ``wallet`` = deposits + realised PnL + funding - fees; ``equity`` adds
    unrealised PnL; ``available`` is what new orders may use.
    """

    wallet: Decimal
    unrealized_pnl: Decimal
    margin_used: Decimal
    asset: str = "USD"

    @property
    def equity(self) -> Decimal:
        return self.wallet + self.unrealized_pnl

    @property
    def available(self) -> Decimal:
        return max(ZERO, self.equity - self.margin_used)

    @classmethod
    def from_available(
        cls, wallet: Decimal, unrealized_pnl: Decimal, available: Decimal, asset: str = "USD"
    ) -> Balance:
        """From what venues report: the margin in use is the equity new orders cannot use."""
        margin_used = max(ZERO, wallet + unrealized_pnl - available)
        return cls(
            wallet=wallet, unrealized_pnl=unrealized_pnl, margin_used=margin_used, asset=asset
        )


@_slot_init
@dataclass(frozen=True, slots=True)
class FundingRate:
    """A venue's funding for one symbol. Positive ``rate`` = longs pay shorts."""

    venue: str
    symbol: str
    rate: Decimal  # per funding interval, as a fraction (0.0001 = 0.01 %)
    interval_hours: Decimal
    next_funding_time: datetime | None
    predicted_rate: Decimal | None = None
    mark_price: Decimal | None = None
    ts: datetime | None = None

    @property
    def hourly_rate(self) -> Decimal:
        """The rate per hour, so venues with 1 h and 8 h intervals compare directly."""
        return self.rate / self.interval_hours

    @property
    def apr(self) -> Decimal:
        """Annualised rate as a fraction (hourly x 8,760), without compounding."""
        return self.hourly_rate * HOURS_PER_YEAR


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """What one market costs to trade, as fractions of notional (0.0005 = 0.05 %).

    ``maker`` may be negative (a rebate). ``source`` says where the figures come from:
    ``account`` = the account's own tier read from the venue, ``published`` = the venue's
    public base schedule (no account endpoint, or none reachable), ``simulated`` = a paper
    venue's profile.
    """

    maker: Decimal
    taker: Decimal
    source: Literal["account", "published", "simulated"]


@dataclass(frozen=True, slots=True)
class MarketStats:
    """Liquidity of one market over the venue's last 24 h, in USD. ``None`` = the venue does
    not publish that figure (a filter on it then refuses the market rather than guess)."""

    symbol: str
    volume_24h_usd: Decimal | None
    open_interest_usd: Decimal | None


@_slot_init
@dataclass(frozen=True, slots=True)
class BookSnapshot:
    """An L2 snapshot, best levels first."""

    symbol: str
    bids: tuple[tuple[Decimal, Decimal], ...]
    asks: tuple[tuple[Decimal, Decimal], ...]
    ts: datetime
    sequence: int | None = None

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0][0] if self.bids else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0][0] if self.asks else None


@dataclass(frozen=True)
class ClientSettings:
    """Everything a client needs to connect, built by the runtime from config + database.

    ``secrets`` hold decrypted credentials wrapped in ``Secret`` (never logged);
    ``options`` carries venue-specific settings (base URL override, paper profile ...).
    ``proxy_url`` routes the client's traffic: one proxy URL, or the account's
    :class:`networking.proxy_pool.ProxyPool` (a ``Secret`` too: clients pass it to their
    transports unchanged, and the transports follow its current proxy and fail over).
    """

    venue: str
    account: str | None = None
    testnet: bool = False
    public: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, Secret] = field(default_factory=dict)
    proxy_url: Secret | None = None
    options: dict[str, object] = field(default_factory=dict)
