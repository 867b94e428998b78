"""Statistics of funding history and the history buckets, checked against numpy and by hand."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy
import pytest

from funding_rate_service.history import (
    MAX_CARRY,
    Resolution,
    bucket_start,
    bucketize,
    pair_series,
)
from funding_rate_service.statistics import (
    SpreadPoint,
    apr_pct,
    percentile,
    rate_statistics,
    spread_persistence,
)

D = Decimal
T0 = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Row:
    funding_time: datetime
    hourly_rate: Decimal


# --- distribution -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_percentiles_mean_and_stdev_agree_with_numpy(seed: int) -> None:
    rng = random.Random(seed)
    values = [rng.gauss(0.00001, 0.00003) for _ in range(rng.randint(1, 300))]
    summary = rate_statistics(values)
    assert summary is not None
    assert summary.samples == len(values)
    assert summary.mean == pytest.approx(numpy.mean(values), rel=1e-12)
    ddof = 1 if len(values) > 1 else 0
    assert summary.stdev == pytest.approx(numpy.std(values, ddof=ddof), rel=1e-9, abs=1e-18)
    for p, value in summary.percentiles.items():
        assert value == pytest.approx(numpy.percentile(values, p), rel=1e-12, abs=1e-18)
    assert summary.minimum == min(values)
    assert summary.maximum == max(values)


def test_share_positive_counts_only_rates_above_zero() -> None:
    summary = rate_statistics([0.0001, 0.0, -0.0002, 0.0003])
    assert summary is not None
    assert summary.positive_share == 0.5  # 0 is not positive
    assert summary.mean == pytest.approx(0.00005)


def test_no_samples_is_no_statistics_not_zeros() -> None:
    assert rate_statistics([]) is None
    assert spread_persistence([], 1.0) is None
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile([1.0], 101)


def test_apr_is_hourly_times_hours_per_year_in_percent() -> None:
    assert apr_pct(0.0001) == pytest.approx(87.6)  # 0.01 %/h x 8760 h


# --- spread persistence -------------------------------------------------------------------------


def spreads(*values: float) -> list[SpreadPoint]:
    return [SpreadPoint(T0 + i * HOUR, 0.0, v) for i, v in enumerate(values)]


def test_runs_flips_and_share_of_a_spread() -> None:
    result = spread_persistence(spreads(1, 2, -1, 0, 3, 1, 2), bucket_hours=8)
    assert result is not None
    assert result.samples == 7
    assert result.positive_share == pytest.approx(5 / 7)
    assert result.current_sign == 1
    assert result.current_run_buckets == 3
    assert result.current_run_hours == 24  # 3 buckets of 8 h
    assert result.longest_positive_run_buckets == 3  # 3, 1, 2 (the 0 breaks 1, 2 off)
    assert result.sign_flips == 2  # + -> - -> + (the zero is no sign)
    assert result.mean_spread == pytest.approx(8 / 7)


def test_a_spread_that_alternates_does_not_predict_itself() -> None:
    alternating = spread_persistence(spreads(1, -1, 1, -1, 1, -1), 1)
    steady = spread_persistence(spreads(1, 2, 3, 4, 5, 6), 1)
    assert alternating is not None
    assert steady is not None
    assert alternating.lag1_autocorrelation is not None
    assert steady.lag1_autocorrelation is not None
    assert alternating.lag1_autocorrelation < 0 < steady.lag1_autocorrelation
    assert alternating.sign_flips == 5
    flat = spread_persistence(spreads(1, 1, 1), 1)
    assert flat is not None
    assert flat.lag1_autocorrelation is None  # nothing moved: nothing to correlate


# --- buckets --------------------------------------------------------------------------------------


def test_buckets_start_on_utc_boundaries() -> None:
    at = datetime(2026, 3, 1, 13, 45, tzinfo=UTC)
    assert bucket_start(at, Resolution.HOUR) == datetime(2026, 3, 1, 13, tzinfo=UTC)
    assert bucket_start(at, Resolution.EIGHT_HOURS) == datetime(2026, 3, 1, 8, tzinfo=UTC)
    assert bucket_start(at, Resolution.DAY) == datetime(2026, 3, 1, tzinfo=UTC)


def test_bucketize_averages_the_hourly_rates_in_each_bucket() -> None:
    rows = [Row(T0 + i * HOUR, D(i)) for i in range(10)]  # 0..9 over 10 hours
    buckets = bucketize(reversed(rows), Resolution.EIGHT_HOURS)
    assert [(b.start, b.mean_hourly_rate, b.samples) for b in buckets] == [
        (T0, D("3.5"), 8),  # mean of 0..7
        (T0 + 8 * HOUR, D("8.5"), 2),
    ]
    assert bucketize([], Resolution.DAY) == []


def test_an_8h_venue_is_carried_forward_on_the_hourly_grid_of_a_1h_venue() -> None:
    hourly = bucketize([Row(T0 + i * HOUR, D("0.0003")) for i in range(16)], Resolution.HOUR)
    eight = bucketize([Row(T0, D("0.0001")), Row(T0 + 8 * HOUR, D("0.0002"))], Resolution.HOUR)
    series = pair_series(eight, hourly, Resolution.HOUR)  # long the 8 h venue
    assert len(series) == 16
    assert [p.long_rate for p in series] == [D("0.0001")] * 8 + [D("0.0002")] * 8
    assert series[0].spread == D("0.0002")
    # carry: 8 h x 0.0002 + 8 h x 0.0001 = 0.0024 of one leg's notional
    assert series[-1].cumulative_carry == D("0.0024")


def test_a_gap_longer_than_the_carry_limit_is_left_out_and_earns_nothing() -> None:
    gap_hours = int(MAX_CARRY / HOUR) + 5
    long = bucketize([Row(T0, D(0)), Row(T0 + (gap_hours + 1) * HOUR, D(0))], Resolution.HOUR)
    short = bucketize(
        [Row(T0 + i * HOUR, D("0.001")) for i in range(gap_hours + 2)], Resolution.HOUR
    )
    series = pair_series(long, short, Resolution.HOUR)
    covered = int(MAX_CARRY / HOUR) + 1  # T0 and the 24 h it is carried
    assert len(series) == covered + 1  # ... and the bucket where long publishes again
    assert series[-1].cumulative_carry == D("0.001") * (covered + 1)
    assert pair_series([], short, Resolution.HOUR) == []
