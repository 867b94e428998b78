"""Statistics of an equity curve: return, Sharpe, Sortino, drawdown, monthly returns.

Sampling: the curve is sampled once per ``period`` (default one UTC day) - the last equity
seen in each period, carried forward through periods without a point - and the period returns
are simple returns ``e[i] / e[i-1] - 1`` starting from the curve's first point. Annualisation
multiplies by ``sqrt(periods per year)`` with a 365-day year (perpetual futures trade every
day), and the risk-free rate is 0. Sharpe divides the mean period return by the sample standard
deviation (n - 1); Sortino by the downside deviation ``sqrt(sum(min(r, 0)^2) / n)`` (target 0).

Floats appear only in these ratios; amounts (drawdown, equity) stay ``Decimal``. A statistic
that cannot be computed is ``None`` and :class:`Unavailable` says why - never NaN or infinity.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from analytics.records import EquityPoint

ZERO = Decimal(0)
DAY = timedelta(days=1)
YEAR = timedelta(days=365)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Unavailable:
    """Why a statistic is ``None`` (shown next to it in reports and answers)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Drawdown:
    """The deepest fall from a running peak and the longest time spent below one.

    ``amount`` is the largest ``peak - equity``; ``fraction`` the largest ``(peak - equity) /
    peak`` (None when no peak was positive); ``duration`` the longest span from a peak to the
    first point back at or above it - or to the last point when the curve never got back
    (``recovered`` False).
    """

    amount: Decimal
    fraction: float | None
    duration: timedelta
    recovered: bool


def ordered(points: Sequence[EquityPoint]) -> list[EquityPoint]:
    return sorted(points, key=lambda p: p.ts)


def total_return(points: Sequence[EquityPoint]) -> float | Unavailable:
    """``last / first - 1`` of the curve."""
    curve = ordered(points)
    if len(curve) < 2:
        return Unavailable("fewer than two equity points")
    if curve[0].equity <= 0:
        return Unavailable(f"starting equity {curve[0].equity} is not positive")
    return float(curve[-1].equity / curve[0].equity - 1)


def sample(points: Sequence[EquityPoint], period: timedelta = DAY) -> list[Decimal]:
    """The first point's equity, then the last equity of each ``period`` (aligned to the Unix
    epoch, so daily periods are UTC days) through the last point's, carried forward through
    empty periods. The first period counts only when it holds more than the first point (a
    curve sampled at midnights has no flat first day)."""
    curve = ordered(points)
    if not curve:
        return []
    last_of: dict[int, Decimal] = {}
    count: dict[int, int] = {}
    for point in curve:
        index = (point.ts - EPOCH) // period
        last_of[index] = point.equity
        count[index] = count.get(index, 0) + 1
    first, last = (curve[0].ts - EPOCH) // period, (curve[-1].ts - EPOCH) // period
    if count[first] == 1:
        first += 1
    values = [curve[0].equity]
    current = curve[0].equity
    for index in range(first, last + 1):
        current = last_of.get(index, current)
        values.append(current)
    return values


def period_returns(points: Sequence[EquityPoint], period: timedelta = DAY) -> list[float]:
    values = sample(points, period)
    return [float(b / a - 1) for a, b in itertools.pairwise(values) if a > 0]


def annualisation(period: timedelta) -> float:
    return math.sqrt(YEAR / period)


def sharpe(points: Sequence[EquityPoint], period: timedelta = DAY) -> float | Unavailable:
    returns = period_returns(points, period)
    if len(returns) < 2:
        return Unavailable(f"fewer than two {_name(period)} returns")
    mean = math.fsum(returns) / len(returns)
    variance = math.fsum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
    if variance <= 0:
        return Unavailable(f"{_name(period)} returns do not vary")
    return mean / math.sqrt(variance) * annualisation(period)


def sortino(points: Sequence[EquityPoint], period: timedelta = DAY) -> float | Unavailable:
    returns = period_returns(points, period)
    if len(returns) < 2:
        return Unavailable(f"fewer than two {_name(period)} returns")
    downside = math.fsum(min(r, 0.0) ** 2 for r in returns) / len(returns)
    if downside <= 0:
        return Unavailable(f"no losing {_name(period)} return")
    mean = math.fsum(returns) / len(returns)
    return mean / math.sqrt(downside) * annualisation(period)


def drawdown(points: Sequence[EquityPoint]) -> Drawdown:
    """See :class:`Drawdown`; an empty or one-point curve has none (zeros, recovered)."""
    curve = ordered(points)
    if not curve:
        return Drawdown(ZERO, None, timedelta(0), True)
    amount, fraction = ZERO, 0.0 if curve[0].equity > 0 else None
    longest, recovered = timedelta(0), True
    peak, peak_at, below = curve[0].equity, curve[0].ts, False
    for point in curve[1:]:
        if point.equity >= peak:
            if below and point.ts - peak_at > longest:
                longest, recovered = point.ts - peak_at, True
            peak, peak_at, below = point.equity, point.ts, False
            continue
        below = True
        fall = peak - point.equity
        amount = max(amount, fall)
        if peak > 0:
            fraction = max(fraction or 0.0, float(fall / peak))
    if below and curve[-1].ts - peak_at > longest:
        longest, recovered = curve[-1].ts - peak_at, False
    return Drawdown(amount, fraction, longest, recovered)


def drawdown_series(points: Sequence[EquityPoint]) -> list[tuple[datetime, Decimal]]:
    """``peak - equity`` at each point (0 at a new high), for the drawdown panel."""
    series, peak = [], None
    for point in ordered(points):
        peak = point.equity if peak is None else max(peak, point.equity)
        series.append((point.ts, peak - point.equity))
    return series


def monthly_returns(points: Sequence[EquityPoint]) -> list[tuple[str, float | Unavailable]]:
    """``("YYYY-MM", return)`` per calendar month (UTC) the curve touches: the month's last
    equity over the previous month's last (the first point for the first month)."""
    curve = ordered(points)
    months: dict[str, Decimal] = {}
    for point in curve:
        months[point.ts.astimezone(UTC).strftime("%Y-%m")] = point.equity
    found: list[tuple[str, float | Unavailable]] = []
    base = curve[0].equity if curve else ZERO
    for month, last in months.items():
        if base <= 0:
            found.append((month, Unavailable(f"base equity {base} is not positive")))
        else:
            found.append((month, float(last / base - 1)))
        base = last
    return found


def _name(period: timedelta) -> str:
    return "daily" if period == DAY else f"{period} period"
