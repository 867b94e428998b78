"""When to close a funding-arbitrage pair (pure, no I/O).

Two kinds of exit. *Urgent* ones protect the capital: a leg close to liquidation, or legs whose
sizes have drifted apart so the pair is no longer hedged. They fire at once, whatever the P&L,
liquidation first. *Economic* ones end a trade that stopped paying: the funding spread flipped
sign, most of the peak profit was given back, or the position is older than allowed. Closing
costs taker fees on both legs, so an economic exit waits while the position would close at a
loss after those fees (it may recover as funding accrues), except at max age, which exits anyway
so a trade cannot linger forever.

An economic exit also waits until the pair has been held ``min_hold_hours`` (a fresh pair has
paid its entry fees and not yet earned them back), and while either venue's bid/ask spread is
wider than ``max_exit_spread_pct`` (closing into a wide book gives the spread away); urgent
exits ignore both, unless ``emergency_exit_ignores_spread`` is false, in which case they wait
for the spread too. How an exit is executed (maker or at market) is the strategy's: urgent
exits always go at market.

The caller keeps ``peak_net_pnl`` (the highest ``net_pnl`` seen) and the current funding spread
up to date; this module only decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from exchange_clients.types import Position, Side
from strategies.funding_arbitrage.params import FundingArbitrageParams

ZERO = Decimal(0)
HUNDRED = Decimal(100)
SECONDS_PER_HOUR = Decimal(3600)


@dataclass(frozen=True)
class LegState:
    """One leg of a pair now. ``size`` is unsigned (``side`` says the direction).

    ``accrued_funding`` is funding received (positive) or paid (negative) since the leg opened;
    ``fees_paid`` is positive when paid.
    """

    venue: str
    side: Side
    size: Decimal
    entry_price: Decimal
    mark_price: Decimal
    liquidation_price: Decimal | None
    accrued_funding: Decimal
    fees_paid: Decimal

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError(f"{self.venue}: leg size is unsigned, not {self.size}")
        if self.mark_price <= 0:
            raise ValueError(f"{self.venue}: mark price must be positive, not {self.mark_price}")

    @classmethod
    def from_position(cls, venue: str, position: Position, fees_paid: Decimal) -> LegState:
        """The leg a venue reports as ``position`` (signed size), with the fees we paid on it.

        (Fields by position: read for both legs of every pair at every check.)"""
        return cls(
            venue,
            position.side,
            abs(position.size),  # size
            position.entry_price,
            position.mark_price,
            position.liquidation_price,
            position.accrued_funding,
            fees_paid,
        )

    @property
    def notional(self) -> Decimal:
        return self.size * self.mark_price

    @property
    def unrealized_pnl(self) -> Decimal:
        move = self.mark_price - self.entry_price
        return move * self.size if self.side == "buy" else -move * self.size

    @property
    def liquidation_distance_pct(self) -> Decimal | None:
        """How far the mark is from liquidation, as a percent of the mark."""
        if self.liquidation_price is None:
            return None
        return abs(self.mark_price - self.liquidation_price) / self.mark_price * HUNDRED


@dataclass(frozen=True)
class PositionState:
    """An open pair: ``long`` buys, ``short`` sells the same symbol on another venue.

    ``current_hourly_spread`` is ``short_hourly - long_hourly`` with today's rates: what the
    pair earns per hour per unit notional now (negative = it pays).
    """

    symbol: str
    long: LegState
    short: LegState
    opened_at: datetime
    peak_net_pnl: Decimal
    current_hourly_spread: Decimal

    def __post_init__(self) -> None:
        if self.long.side != "buy" or self.short.side != "sell":
            raise ValueError(
                f"{self.symbol}: long leg must buy and short leg sell, "
                f"not {self.long.side}/{self.short.side}"
            )
        if self.opened_at.tzinfo is None:
            raise ValueError(f"{self.symbol}: opened_at must be timezone-aware")

    @property
    def net_pnl(self) -> Decimal:
        """Both legs' unrealized P&L plus funding accrued, minus fees paid so far."""
        long, short = self.long, self.short  # summed from ZERO in this order, as sum() does
        return (
            ZERO
            + (long.unrealized_pnl + long.accrued_funding - long.fees_paid)
            + (short.unrealized_pnl + short.accrued_funding - short.fees_paid)
        )

    @property
    def legs(self) -> tuple[LegState, LegState]:
        return (self.long, self.short)

    @property
    def notional(self) -> Decimal:
        """Notional of both legs together at mark."""
        return self.long.notional + self.short.notional

    @property
    def imbalance_pct(self) -> Decimal:
        """Size difference between the legs as a percent of the larger one (0 when both empty)."""
        larger = max(self.long.size, self.short.size)
        if larger == 0:
            return ZERO
        return abs(self.long.size - self.short.size) / larger * HUNDRED


class ExitReason(StrEnum):
    DIVERGENCE_FLIP = "divergence_flip"
    PROFIT_EROSION = "profit_erosion"
    MAX_AGE = "max_age"
    LIQUIDATION_RISK = "liquidation_risk"
    LEG_IMBALANCE = "leg_imbalance"


@dataclass(frozen=True)
class ExitDecision:
    """Close the pair, because of ``reason``. ``urgent`` = now, regardless of break-even."""

    reason: ExitReason
    detail: str
    urgent: bool


def exit_fees(position: PositionState, exit_fees_fraction: Decimal) -> Decimal:
    """Estimated cost of closing both legs: ``exit_fees_fraction`` of their combined notional."""
    return exit_fees_fraction * position.notional


def break_even_ok(position: PositionState, exit_fees_fraction: Decimal) -> bool:
    """True when closing now would not lock in a loss after the estimated exit fees."""
    return position.net_pnl - exit_fees(position, exit_fees_fraction) >= 0


def check_exit(
    position: PositionState,
    now: datetime,
    params: FundingArbitrageParams,
    *,
    exit_fees_fraction: Decimal,
) -> ExitDecision | None:
    """The exit to take now, or ``None`` to keep the pair open.

    Order: liquidation risk, leg imbalance (both urgent), then divergence flip, profit erosion,
    max age. Economic exits wait for break-even after exit fees; past max age the pair closes
    anyway (reported as ``MAX_AGE``, since that is why break-even was ignored).
    """
    urgent = _liquidation_risk(position, params) or _leg_imbalance(position, params)
    if urgent is not None:
        return urgent

    age = _max_age(position, now, params)
    economic = [
        decision
        for decision in (_divergence_flip(position, params), _profit_erosion(position, params), age)
        if decision is not None
    ]
    if not economic:
        return None
    held = hours_held(position, now)
    if held < params.min_hold_hours:
        return None
    if break_even_ok(position, exit_fees_fraction):
        return economic[0]
    if age is not None:
        after_fees = position.net_pnl - exit_fees(position, exit_fees_fraction)
        return ExitDecision(
            ExitReason.MAX_AGE,
            f"{age.detail}; closing below break-even: "
            f"net P&L after exit fees {_fmt(after_fees)} USD",
            urgent=False,
        )
    return None


def hours_held(position: PositionState, now: datetime) -> Decimal:
    """Hours since the pair opened, exactly (no float)."""
    age = now - position.opened_at
    # Exact: timedelta parts are integers, so no float (total_seconds) enters the comparison.
    seconds = Decimal(age.days * 86_400 + age.seconds) + Decimal(age.microseconds) / 1_000_000
    return seconds / SECONDS_PER_HOUR


def spread_hold(
    decision: ExitDecision,
    spreads_pct: dict[str, Decimal],
    params: FundingArbitrageParams,
) -> str | None:
    """Why ``decision`` must wait for the books to narrow, or None to go now.

    ``spreads_pct`` is each leg's venue bid/ask spread as a percent of its mid, now.
    """
    limit = params.max_exit_spread_pct
    if limit is None or (decision.urgent and params.emergency_exit_ignores_spread):
        return None
    wide = {venue: spread for venue, spread in sorted(spreads_pct.items()) if spread > limit}
    if not wide:
        return None
    shown = ", ".join(f"{venue} {_fmt(spread)}%" for venue, spread in wide.items())
    return f"bid/ask spread {shown} > max exit spread {_fmt(limit)}%"


def _liquidation_risk(
    position: PositionState, params: FundingArbitrageParams
) -> ExitDecision | None:
    for name, leg in (("long", position.long), ("short", position.short)):
        distance = leg.liquidation_distance_pct
        if distance is not None and distance < params.min_liquidation_distance_pct:
            return ExitDecision(
                ExitReason.LIQUIDATION_RISK,
                f"{name} leg on {leg.venue} is {_fmt(distance)}% from liquidation "
                f"(mark {leg.mark_price}, liquidation {leg.liquidation_price}) "
                f"< min {params.min_liquidation_distance_pct}%",
                urgent=True,
            )
    return None


def _leg_imbalance(position: PositionState, params: FundingArbitrageParams) -> ExitDecision | None:
    imbalance = position.imbalance_pct
    if imbalance > params.max_leg_imbalance_pct:
        return ExitDecision(
            ExitReason.LEG_IMBALANCE,
            f"legs differ by {_fmt(imbalance)}% "
            f"(long {position.long.size} on {position.long.venue}, "
            f"short {position.short.size} on {position.short.venue}) "
            f"> max {params.max_leg_imbalance_pct}%",
            urgent=True,
        )
    return None


def _divergence_flip(
    position: PositionState, params: FundingArbitrageParams
) -> ExitDecision | None:
    spread = position.current_hourly_spread
    if params.exit_on_divergence_flip and spread < 0:
        return ExitDecision(
            ExitReason.DIVERGENCE_FLIP,
            f"funding spread flipped to {spread.normalize():f}/h: the pair now pays",
            urgent=False,
        )
    return None


def _profit_erosion(position: PositionState, params: FundingArbitrageParams) -> ExitDecision | None:
    peak = position.peak_net_pnl
    floor = peak * (1 - params.profit_erosion_pct / HUNDRED)
    net = position.net_pnl
    if peak > 0 and net <= floor:
        return ExitDecision(
            ExitReason.PROFIT_EROSION,
            f"net P&L {_fmt(net)} USD <= {_fmt(floor)} USD "
            f"({params.profit_erosion_pct}% given back from the peak {peak} USD)",
            urgent=False,
        )
    return None


def _max_age(
    position: PositionState, now: datetime, params: FundingArbitrageParams
) -> ExitDecision | None:
    hours = hours_held(position, now)
    if hours >= params.max_position_age_hours:
        return ExitDecision(
            ExitReason.MAX_AGE,
            f"open {_fmt(hours)} h >= max {params.max_position_age_hours} h",
            urgent=False,
        )
    return None


def _fmt(value: Decimal) -> str:
    """A number for a message: at most 4 decimal places, no trailing zeros."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
