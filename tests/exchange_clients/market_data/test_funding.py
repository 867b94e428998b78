"""Funding drifts, flips sign, and differs between venues enough to arbitrage."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from exchange_clients.market_data.funding_model import CAP
from exchange_clients.market_data.symbols import DEFAULT_SYMBOLS
from exchange_clients.market_data.synthetic import SyntheticMarket
from tests.exchange_clients.market_data.helpers import START

SYMBOLS = [model.symbol for model in DEFAULT_SYMBOLS]
WEEK = [START + timedelta(minutes=20 * k) for k in range(7 * 72)]


def _hourly(market: SyntheticMarket, symbol: str) -> list[Decimal]:
    return [market.funding_rate(symbol, t).hourly_rate for t in WEEK]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("venue", ["paper_a", "paper_b"])
def test_funding_flips_sign_within_a_week(seed: int, venue: str) -> None:
    market = SyntheticMarket(seed, venue)
    for symbol in SYMBOLS:
        rates = _hourly(market, symbol)
        assert min(rates) < 0 < max(rates), symbol


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_paper_a_and_paper_b_often_disagree_in_sign(seed: int) -> None:
    a, b = SyntheticMarket(seed, "paper_a"), SyntheticMarket(seed, "paper_b")
    shares = []
    for symbol in SYMBOLS:
        pairs = zip(_hourly(a, symbol), _hourly(b, symbol), strict=True)
        shares.append(sum(1 for x, y in pairs if (x > 0) != (y > 0)) / len(WEEK))
    assert all(share > 0 for share in shares)
    assert statistics.fmean(shares) > 0.2
    # ... but they are one market: the common part keeps them correlated.
    assert statistics.fmean(shares) < 0.5


def test_funding_magnitudes_are_realistic() -> None:
    market = SyntheticMarket(5, "paper_a")
    for symbol in SYMBOLS:
        rates = [abs(r) for r in _hourly(market, symbol)]
        # Median between ~1 % and ~90 % APR; never beyond the soft cap.
        assert Decimal("1e-6") < statistics.median(rates) < Decimal("1e-4"), symbol
        assert max(rates) <= Decimal(CAP)
    yearly = [market.funding_rate("BTC", START + timedelta(days=d)).hourly_rate for d in range(365)]
    assert Decimal("0.02") < statistics.fmean(yearly) * 8760 < Decimal("0.2")


def test_interval_follows_the_venue_catalogue_unless_given() -> None:
    assert SyntheticMarket(1, "paper_a").funding_rate("BTC", START).interval_hours == 1
    assert SyntheticMarket(1, "paper_b").funding_rate("BTC", START).interval_hours == 8
    assert SyntheticMarket(1, "elsewhere").funding_rate("BTC", START).interval_hours == 1
    forced = SyntheticMarket(1, "paper_b", funding_interval_hours=4)
    assert forced.funding_rate("BTC", START).interval_hours == 4


def test_rate_is_per_interval_on_the_same_hourly_process() -> None:
    """A venue with the same name but an 8 h interval charges 8x the hourly rate."""
    hourly = SyntheticMarket(1, "paper_b", funding_interval_hours=1)
    eight = SyntheticMarket(1, "paper_b", funding_interval_hours=8)
    for t in WEEK[:50]:
        one, many = hourly.funding_rate("ETH", t), eight.funding_rate("ETH", t)
        assert abs(many.rate - 8 * one.rate) <= Decimal("0.00000004")


@pytest.mark.parametrize(
    ("venue", "at", "expected"),
    [
        (
            "paper_a",
            datetime(2026, 3, 2, 12, 34, 56, tzinfo=UTC),
            datetime(2026, 3, 2, 13, tzinfo=UTC),
        ),
        ("paper_a", datetime(2026, 3, 2, 13, tzinfo=UTC), datetime(2026, 3, 2, 14, tzinfo=UTC)),
        (
            "paper_b",
            datetime(2026, 3, 2, 12, 34, 56, tzinfo=UTC),
            datetime(2026, 3, 2, 16, tzinfo=UTC),
        ),
        ("paper_b", datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC), datetime(2026, 3, 3, tzinfo=UTC)),
        ("paper_b", datetime(2026, 3, 3, tzinfo=UTC), datetime(2026, 3, 3, 8, tzinfo=UTC)),
    ],
)
def test_next_funding_time_is_the_next_interval_boundary(
    venue: str, at: datetime, expected: datetime
) -> None:
    assert SyntheticMarket(1, venue).funding_rate("SOL", at).next_funding_time == expected


@pytest.mark.parametrize("venue", ["paper_a", "paper_b"])
def test_predicted_rate_is_what_the_next_boundary_charges(venue: str) -> None:
    market = SyntheticMarket(2, venue)
    for t in WEEK[:30]:
        now = market.funding_rate("DOGE", t)
        assert now.next_funding_time is not None
        at_boundary = market.funding_rate("DOGE", now.next_funding_time)
        assert now.predicted_rate == at_boundary.rate
    # Near the boundary the running estimate converges on the prediction.
    boundary = market.funding_rate("DOGE", START).next_funding_time
    assert boundary is not None
    just_before = market.funding_rate("DOGE", boundary - timedelta(microseconds=1))
    assert just_before.predicted_rate is not None
    assert abs(just_before.rate - just_before.predicted_rate) <= Decimal("0.00000001")


def test_funding_carries_mark_price_and_time() -> None:
    market = SyntheticMarket(3, "paper_a")
    funding = market.funding_rate("BTC", START)
    assert (funding.venue, funding.symbol, funding.ts) == ("paper_a", "BTC", START)
    assert funding.mark_price == market.mid("BTC", START)
