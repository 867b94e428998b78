"""Statistics of funding history: how a rate is distributed, and whether a spread persists.

Funding arbitrage earns only while the spread between two venues keeps its sign, so the numbers
that matter are not the latest rates but their history: the mean and spread of each venue's rate,
how often it was positive, and - for a pair - how long the spread has held its sign and how
often it flipped. Everything here is pure (no I/O) and works on floats: these are summaries
shown to people and compared with thresholds, never amounts of money.

Rates are per hour (fractions of notional), so venues with 1 h and 8 h intervals compare
directly; ``*_apr_pct`` figures are the hourly figure x 8,760 x 100 (no compounding).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

HOURS_PER_YEAR = 24 * 365
PERCENTILES = (5, 25, 50, 75, 95)


def apr_pct(hourly: float) -> float:
    """An hourly rate (fraction) as an annual percentage, without compounding."""
    return hourly * HOURS_PER_YEAR * 100


def percentile(ordered: Sequence[float], pct: float) -> float:
    """The ``pct``-th percentile of sorted ``ordered``, linearly interpolated between ranks.

    The same definition as numpy's default ("linear"), so the figures can be checked anywhere.
    """
    if not ordered:
        raise ValueError("percentile of no values")
    if not 0 <= pct <= 100:
        raise ValueError(f"percentile must be within 0..100, not {pct}")
    rank = (len(ordered) - 1) * pct / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class RateStatistics:
    """The distribution of one series of hourly rates."""

    samples: int
    mean: float
    stdev: float  # sample standard deviation (n - 1); 0 for a single sample
    minimum: float
    maximum: float
    percentiles: dict[int, float]
    positive_share: float  # share of samples > 0 (longs paid shorts)


def rate_statistics(rates: Sequence[float]) -> RateStatistics | None:
    """Summary of ``rates``; ``None`` when there is none (nothing to summarise is not zero)."""
    if not rates:
        return None
    ordered = sorted(rates)
    count = len(ordered)
    mean = math.fsum(ordered) / count
    variance = math.fsum((r - mean) ** 2 for r in ordered) / (count - 1) if count > 1 else 0.0
    return RateStatistics(
        samples=count,
        mean=mean,
        stdev=math.sqrt(variance),
        minimum=ordered[0],
        maximum=ordered[-1],
        percentiles={p: percentile(ordered, p) for p in PERCENTILES},
        positive_share=sum(1 for r in ordered if r > 0) / count,
    )


@dataclass(frozen=True)
class SpreadPoint:
    """The spread of a pair in one bucket: ``short - long`` hourly rate (positive = it pays)."""

    start: datetime
    long_rate: float
    short_rate: float

    @property
    def spread(self) -> float:
        return self.short_rate - self.long_rate


@dataclass(frozen=True)
class SpreadPersistence:
    """How a pair's spread behaved over aligned buckets of ``bucket_hours`` each.

    ``positive_share``: share of buckets where shorting ``short`` and longing ``long`` earned.
    ``current_run_buckets``: how many of the latest buckets in a row had the latest bucket's
    sign (``current_sign`` +1, -1 or 0). ``longest_positive_run_buckets``: the longest stretch
    that earned. ``sign_flips``: how many times the sign changed between consecutive buckets
    (zero spreads are no sign and never counted as a flip). ``lag1_autocorrelation``: how much
    one bucket's spread predicts the next (1 = fully, 0 = not at all; ``None`` below 3 buckets
    or when the spread never moved).
    """

    samples: int
    bucket_hours: float
    mean_spread: float
    stdev_spread: float
    positive_share: float
    current_sign: int
    current_run_buckets: int
    longest_positive_run_buckets: int
    sign_flips: int
    lag1_autocorrelation: float | None

    @property
    def current_run_hours(self) -> float:
        return self.current_run_buckets * self.bucket_hours


def _sign(value: float) -> int:
    return (value > 0) - (value < 0)


def spread_persistence(
    points: Sequence[SpreadPoint], bucket_hours: float
) -> SpreadPersistence | None:
    """Persistence of the spread over ``points`` (oldest first); ``None`` when empty."""
    if not points:
        return None
    spreads = [p.spread for p in points]
    summary = rate_statistics(spreads)
    assert summary is not None
    signs = [_sign(s) for s in spreads]
    current = signs[-1]
    run = 0
    for sign in reversed(signs):
        if sign != current:
            break
        run += 1
    longest = streak = 0
    for sign in signs:
        streak = streak + 1 if sign > 0 else 0
        longest = max(longest, streak)
    nonzero = [s for s in signs if s != 0]
    flips = sum(1 for a, b in itertools.pairwise(nonzero) if a != b)
    return SpreadPersistence(
        samples=len(points),
        bucket_hours=bucket_hours,
        mean_spread=summary.mean,
        stdev_spread=summary.stdev,
        positive_share=summary.positive_share,
        current_sign=current,
        current_run_buckets=run,
        longest_positive_run_buckets=longest,
        sign_flips=flips,
        lag1_autocorrelation=_lag1_autocorrelation(spreads),
    )


def _lag1_autocorrelation(values: Sequence[float]) -> float | None:
    if len(values) < 3:
        return None
    mean = math.fsum(values) / len(values)
    denominator = math.fsum((v - mean) ** 2 for v in values)
    if denominator == 0:
        return None
    numerator = math.fsum((a - mean) * (b - mean) for a, b in itertools.pairwise(values))
    return numerator / denominator
