"""Funding history in time buckets (1 h, 8 h, 1 d), and a pair's spread on one common grid.

Venues pay funding every hour or every eight hours, so their raw rows do not line up: an 8 h
venue has one row where a 1 h venue has eight. Rows are therefore compared per hour
(``rate / interval_hours``) and averaged into fixed UTC buckets; a pair's spread puts both
venues on one regular grid, carrying a venue's last known rate forward into buckets where it
published nothing (its rate holds until the next funding), for at most :data:`MAX_CARRY`.

The cumulative carry is what a pair of one unit of notional each way would have earned:
``sum(spread per hour x hours)``, a fraction of one leg's notional (0.01 = 1 %).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

MAX_CARRY = timedelta(hours=24)
"""How long a venue's last rate stands in for buckets without a row (longer: a gap)."""


class Resolution(StrEnum):
    """Bucket width of a history query."""

    HOUR = "1h"
    EIGHT_HOURS = "8h"
    DAY = "1d"

    @property
    def delta(self) -> timedelta:
        return {"1h": timedelta(hours=1), "8h": timedelta(hours=8), "1d": timedelta(days=1)}[
            self.value
        ]

    @property
    def hours(self) -> Decimal:
        return Decimal(int(self.delta.total_seconds()) // 3600)


class RatePoint(Protocol):
    """What history needs of a funding row (a stored ``FundingRecord`` is one)."""

    @property
    def funding_time(self) -> datetime: ...

    @property
    def hourly_rate(self) -> Decimal: ...


@dataclass(frozen=True)
class Bucket:
    """The mean hourly rate of the ``samples`` rows whose funding time falls in the bucket."""

    start: datetime
    mean_hourly_rate: Decimal
    samples: int


@dataclass(frozen=True)
class PairBucket:
    """One grid bucket of a pair: both venues' hourly rates and the running carry."""

    start: datetime
    long_rate: Decimal
    short_rate: Decimal
    cumulative_carry: Decimal  # fraction of one leg's notional earned up to this bucket's end

    @property
    def spread(self) -> Decimal:
        return self.short_rate - self.long_rate


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def bucket_start(time: datetime, resolution: Resolution) -> datetime:
    """The UTC start of the bucket holding ``time`` (days start at 00:00 UTC)."""
    width = int(resolution.delta.total_seconds())
    seconds = int((time - _EPOCH).total_seconds())
    return _EPOCH + timedelta(seconds=seconds - seconds % width)


def bucketize(points: Iterable[RatePoint], resolution: Resolution) -> list[Bucket]:
    """Mean hourly rate per bucket, oldest first; buckets without rows are left out."""
    sums: dict[datetime, tuple[Decimal, int]] = {}
    for point in points:
        start = bucket_start(point.funding_time, resolution)
        total, count = sums.get(start, (Decimal(0), 0))
        sums[start] = (total + point.hourly_rate, count + 1)
    return [Bucket(start, total / count, count) for start, (total, count) in sorted(sums.items())]


def pair_series(
    long: Sequence[Bucket], short: Sequence[Bucket], resolution: Resolution
) -> list[PairBucket]:
    """Both venues on one regular grid from the first bucket where both have published.

    A bucket where either venue has no rate within :data:`MAX_CARRY` is left out (and earns
    nothing towards the carry): a gap in the data is not a zero rate.
    """
    if not long or not short:
        return []
    step = resolution.delta
    hours = resolution.hours
    long_by_start = {b.start: b.mean_hourly_rate for b in long}
    short_by_start = {b.start: b.mean_hourly_rate for b in short}
    start = max(long[0].start, short[0].start)
    end = max(long[-1].start, short[-1].start)
    last_long = _last_before(long, start)
    last_short = _last_before(short, start)
    carry = Decimal(0)
    series: list[PairBucket] = []
    at = start
    while at <= end:
        if at in long_by_start:
            last_long = (at, long_by_start[at])
        if at in short_by_start:
            last_short = (at, short_by_start[at])
        if _fresh(last_long, at) and _fresh(last_short, at):
            assert last_long is not None
            assert last_short is not None
            carry += (last_short[1] - last_long[1]) * hours
            series.append(PairBucket(at, last_long[1], last_short[1], carry))
        at += step
    return series


def _last_before(buckets: Sequence[Bucket], start: datetime) -> tuple[datetime, Decimal] | None:
    last = None
    for bucket in buckets:
        if bucket.start > start:
            break
        last = (bucket.start, bucket.mean_hourly_rate)
    return last


def _fresh(last: tuple[datetime, Decimal] | None, at: datetime) -> bool:
    return last is not None and at - last[0] <= MAX_CARRY
