"""The control API's contract: every answer (and every error) as a pydantic model, defined once.

The bot builds these (:mod:`bot_runtime.controller`), FastAPI declares and serializes them as
``response_model`` (:mod:`bot_runtime.control_api`), and the fleet's client parses the wire back
into the same classes (:mod:`fleet.control_client`), so the Telegram service reads attributes,
not dictionaries it has to second-guess.

Money stays ``Decimal`` and crosses the wire as a JSON string, never a float:

* :data:`Exact` (prices, sizes, leverage) keeps every digit the venue gave (``"100.10"``), in
  plain notation (``1E-8`` is written ``"0.00000001"``).
* :data:`Money` (amounts in the quote currency: equity, PnL, fees) is *reported* quantized to
  :data:`QUOTE_PLACES` decimals. The bot keeps exact values internally; an equity of
  ``9998.479750199999999999999997`` is the residue of a division, not information.

Errors carry an :class:`ErrorKind`; clients decide on the kind (``needs_confirmation``), never on
the wording of the message.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

QUOTE_PLACES = 6
"""Decimals of the quote currency: every venue settles in a USD stablecoin (USDC/USDT: 6)."""

_QUANTUM = Decimal(1).scaleb(-QUOTE_PLACES)


def plain(value: Decimal) -> str:
    """Every digit, never exponent notation (``1E+2`` -> ``"100"``)."""
    return format(value, "f") if value.is_finite() else str(value)


def quote_amount(value: Decimal) -> str:
    """A quote-currency amount as reported: :data:`QUOTE_PLACES` decimals, half to even."""
    if not value.is_finite():
        return str(value)
    return plain(value.quantize(_QUANTUM, rounding=ROUND_HALF_EVEN))


Exact = Annotated[Decimal, PlainSerializer(plain, return_type=str, when_used="json")]
Money = Annotated[Decimal, PlainSerializer(quote_amount, return_type=str, when_used="json")]


class ErrorKind(StrEnum):
    """What went wrong, for programs: every error answer's ``error`` field."""

    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "not_found"
    NEEDS_CONFIRMATION = "needs_confirmation"
    CONFLICT = "conflict"  # the bot's state does not allow it (e.g. no kill switch to reset)
    INVALID_REQUEST = "invalid_request"
    BAD_REQUEST = "bad_request"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONTENT_TOO_LARGE = "content_too_large"
    INTERNAL_ERROR = "internal_error"
    HTTP_ERROR = "http_error"  # any other HTTP status


class _Model(BaseModel):
    """Answers are values: frozen; unknown keys are ignored so a newer bot still parses."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class ErrorBody(BaseModel):
    """Every error answer. Extra keys carry the bot's details (e.g. ``spread_pct``)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    error: ErrorKind = Field(description="what went wrong", examples=["needs_confirmation"])
    message: str = Field(description="one readable line", examples=["spread is 0.8%; confirm"])
    problems: list[str] = Field(
        default_factory=list,
        description="for invalid_request: one 'location: reason' line per problem",
        examples=[["body.mode: Input should be 'market' or 'limit'"]],
    )


class Health(_Model):
    status: Literal["ok"]


TradingState = Literal["running", "paused", "stopping"]


class RiskState(_Model):
    killed: bool = Field(description="the drawdown kill switch fired")
    paused_until: datetime | None = Field(None, description="entries resume then (UTC)")
    kill_reason: str | None = Field(None, description="why the kill switch fired, while it is")
    killed_at: datetime | None = Field(None, description="when it fired (UTC), while it is")


class BotStatus(_Model):
    name: str
    strategy: str
    state: TradingState
    uptime_seconds: float
    equity: Money
    venues: list[str]
    risk: RiskState = RiskState(killed=False)
    details: dict[str, Any] = Field(
        default_factory=dict, description="what the strategy reports of itself (its own shape)"
    )
    reconciliation: list[str] = Field(
        default_factory=list,
        description="venue orders/positions the journal did not explain at the last "
        "reconciliation (start-up or a reconnect), one line each; empty: all explained",
    )


class PositionView(_Model):
    id: str = Field(description="'<venue>:<symbol>': what POST /positions/{id}/close takes")
    venue: str
    symbol: str
    side: Literal["long", "short"]
    size: Exact = Field(description="base units, signed: positive long, negative short")
    entry_price: Exact
    mark_price: Exact
    liquidation_price: Exact | None = None
    unrealized_pnl: Money
    accrued_funding: Money = Decimal(0)
    leverage: Exact | None = None


class OrderView(_Model):
    client_order_id: str
    venue: str
    symbol: str
    side: Literal["buy", "sell"]
    type: str
    size: Exact
    filled_size: Exact = Decimal(0)
    price: Exact | None = None
    status: str
    reduce_only: bool = False


class BalanceView(_Model):
    venue: str
    account: str | None = Field(
        None, description="the database account on this venue (the fleet guard sums per account)"
    )
    asset: str = "USD"
    wallet: Money
    equity: Money
    available: Money
    margin_used: Money
    unrealized_pnl: Money


class PnlPart(_Model):
    unrealized: Money = Decimal(0)
    funding: Money = Decimal(0)


class Pnl(_Model):
    """``realized`` is after the fees of closed trades; ``fees`` is every fee paid (those of
    closed trades are inside ``realized`` already); ``net`` = realized + unrealized + funding."""

    realized: Money
    unrealized: Money
    funding: Money
    fees: Money
    net: Money
    per_venue: dict[str, PnlPart] = Field(default_factory=dict)
    per_symbol: dict[str, PnlPart] = Field(default_factory=dict)


class StateChange(_Model):
    """The answer of pause, resume and stop: the trading state now."""

    state: TradingState
    cancelled_orders: list[str] = Field(default_factory=list)


CloseMode = Literal["market", "limit"]


class CloseRequest(BaseModel):
    """How to close a position. Unknown keys are refused, so a typo never goes unnoticed."""

    model_config = ConfigDict(extra="forbid")

    mode: CloseMode = Field("market", description="market: now; limit: aggressive limit orders")
    confirm: bool = Field(
        False,
        strict=True,
        description="required when the bot answers 409 needs_confirmation (wide spread)",
    )


class CloseResult(_Model):
    position_id: str
    closed: Exact = Field(description="size closed, base units")
    average_price: Exact | None = None
    orders: list[str] = Field(default_factory=list, description="client order ids sent")


class CloseAllResult(_Model):
    cancelled_orders: list[str]
    closed_positions: list[str]


RunningConfig = dict[str, Any]
"""The running config as JSON (``BotConfig`` dumped by alias); configs never hold secrets."""


class ReloadResult(_Model):
    reloaded: Literal[True] = True
    config: RunningConfig


class KillResetRequest(BaseModel):
    """Clear a tripped kill switch. Unknown keys are refused, so a typo never goes unnoticed.

    ``reason`` and ``actor`` go to the audit trail; ``force`` is required while the drawdown
    that tripped the switch still holds (the bot answers 409 ``needs_confirmation`` first).
    """

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        min_length=3, max_length=500, description="why the switch may be cleared (audited)"
    )
    force: bool = Field(
        False,
        strict=True,
        description="clear it even though the drawdown from the peak is still over the limit",
    )
    actor: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="who asks (audited; the fleet CLI sends the OS user, Telegram the user)",
    )


class KillResetResult(_Model):
    """What a reset did: the kill it cleared, and the equity drawdown is measured from now."""

    bot: str
    kill_reason: str = Field(description="why the switch had fired")
    killed_at: datetime
    forced: bool = Field(description="the drawdown still held and force was given")
    drawdown_pct: Exact | None = Field(
        None, description="drawdown from the old peak at the reset (None: no drawdown limit)"
    )
    peak_equity: Money | None = Field(None, description="the new peak: the equity at the reset")
    paused_until: datetime | None = Field(
        None, description="entries stay refused until then by the daily-loss pause or cooldown"
    )


class PnlAttribution(_Model):
    """Where the money came from: ``net = trading + unrealized - fees + funding``."""

    net: Money
    trading: Money = Field(description="gross PnL of closed trades (FIFO lots)")
    unrealized: Money = Field(description="open lots marked at the venues' mark prices")
    fees: Money = Field(description="every fill's fee (paid > 0, rebates < 0)")
    funding: Money = Field(description="funding received (> 0) or paid (< 0)")


class TradeStats(_Model):
    """Closed trades (one FIFO match each); a null ratio has its reason in ``notes``."""

    trades: int
    wins: int
    losses: int
    win_rate: float | None = Field(description="wins / trades (a win: net PnL > 0)")
    profit_factor: float | None = Field(description="sum of wins / -sum of losses")
    expectancy: Money | None = Field(description="mean net PnL per trade")
    average_hold_seconds: float | None
    notes: dict[str, str] = Field(default_factory=dict)


class StatsGroup(_Model):
    """One venue's or one symbol's share."""

    pnl: PnlAttribution
    trades: TradeStats
    fills: int
    turnover: Money = Field(description="traded notional: sum of price x size")
    exposure: float | None = Field(description="share of the window with a position open")


class DayStats(_Model):
    """One UTC day: trades closed that day, fees of that day's fills, that day's funding."""

    day: date
    net: Money
    trading: Money
    fees: Money
    funding: Money
    trades: int
    fills: int


class BotStats(_Model):
    """The bot's performance from its journal (``analytics``); null values have a reason in
    ``notes`` (no trades yet, fewer than two equity samples...)."""

    since: datetime | None = Field(description="first record (UTC)")
    until: datetime | None = Field(description="now, or the last record")
    pnl: PnlAttribution
    trades: TradeStats
    fills: int
    turnover: Money
    turnover_ratio: float | None = Field(description="turnover / mean equity")
    exposure: float | None
    starting_equity: Money | None
    ending_equity: Money | None
    equity_points: int = Field(description="equity samples used (pnl_snapshots + now)")
    total_return: float | None = Field(description="ending / starting equity - 1")
    sharpe: float | None
    sortino: float | None
    sampling: str = Field(description="how Sharpe and Sortino are sampled and annualised")
    max_drawdown: Money
    max_drawdown_pct: float | None
    max_drawdown_seconds: float = Field(description="longest time below a previous peak")
    drawdown_recovered: bool
    per_venue: dict[str, StatsGroup] = Field(default_factory=dict)
    per_symbol: dict[str, StatsGroup] = Field(default_factory=dict)
    daily: list[DayStats] = Field(default_factory=list, description="oldest first")
    notes: dict[str, str] = Field(default_factory=dict)


class TradeView(_Model):
    venue: str
    symbol: str
    direction: Literal["long", "short"]
    size: Exact
    entry_price: Exact
    exit_price: Exact
    opened_at: datetime
    closed_at: datetime
    gross_pnl: Money
    fees: Money
    net_pnl: Money
    hold_seconds: float


MAX_TRADES_PER_PAGE = 200


class TradesPage(_Model):
    """Closed trades, newest first, one page of them."""

    page: int = Field(description="1-based")
    per_page: int
    total: int = Field(description="closed trades in all")
    pages: int
    trades: list[TradeView]


# --------------------------------------------------------------------------------------------
# Engine-style controls (POST /start, /kill) and the live stream (GET /stream, a WebSocket)


class KillRequest(BaseModel):
    """Why the operator pulls the kill switch (logged, and the stream's risk event says it)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(
        "kill requested through the control API",
        min_length=3,
        max_length=500,
        description="why: it is logged and published on the stream",
    )


class KillSwitchResult(_Model):
    """What the kill switch did: resting orders cancelled, positions closed, the bot stopping.

    ``complete`` false: some cancel or close failed (each listed with why); the orders or
    positions named may remain on the venue, and the next start reconciles them.
    """

    reason: str
    complete: bool
    cancelled_orders: list[str] = Field(default_factory=list)
    failed_cancels: dict[str, str] = Field(default_factory=dict)
    closed_positions: list[str] = Field(default_factory=list, description="'venue:symbol'")
    failed_closes: dict[str, str] = Field(default_factory=dict)
    state: TradingState = "stopping"


StreamEventType = Literal["hello", "status", "order", "fill", "position", "pnl", "risk", "reset"]


class StreamMessage(BaseModel):
    """One message of ``/api/v1/stream``: the frame every event shares (``data`` per type).

    ``seq`` increases strictly per bot process for published events; ``hello`` and ``reset``
    belong to one connection and carry the seq the client stands at (every later message has
    a larger one). Money inside ``data`` is a decimal string.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    seq: int = Field(ge=0)
    type: StreamEventType
    ts: datetime
    bot: str
    data: dict[str, Any] = Field(default_factory=dict)
