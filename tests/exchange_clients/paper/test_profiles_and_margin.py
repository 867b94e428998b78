"""Paper venue profiles and the cross-margin formulas, checked by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.errors import ConfigError
from core.venues import VENUES
from exchange_clients.paper.margin import liquidation_price, opening_orders_margin
from exchange_clients.paper.profiles import PROFILES, maintenance_margin_rate, profile_for
from tests.exchange_clients.paper.helpers import MARKET, D


def test_profiles_follow_the_venue_catalogue_and_differ_between_a_and_b() -> None:
    assert {venue: p.funding_interval_hours for venue, p in PROFILES.items()} == {
        "paper": 1,
        "paper_a": 1,
        "paper_b": 8,
    }
    for venue, profile in PROFILES.items():
        assert profile.funding_interval_hours == VENUES[venue].default_funding_interval_hours
        assert profile.initial_balance == D(10_000)
        assert 0 < profile.maker_fee < profile.taker_fee
    a, b = PROFILES["paper_a"], PROFILES["paper_b"]
    assert (a.maker_fee, a.taker_fee) != (b.maker_fee, b.taker_fee)
    with pytest.raises(ConfigError, match="no paper profile for venue 'binance'"):
        profile_for("binance")


def test_funding_times_are_utc_multiples_of_the_interval() -> None:
    at = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    hourly, eight_hourly = PROFILES["paper_a"], PROFILES["paper_b"]
    assert hourly.last_funding_time(at) == datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert hourly.next_funding_time(at) == datetime(2026, 3, 2, 10, tzinfo=UTC)
    assert eight_hourly.last_funding_time(at) == datetime(2026, 3, 2, 8, tzinfo=UTC)
    assert eight_hourly.next_funding_time(at) == datetime(2026, 3, 2, 16, tzinfo=UTC)
    boundary = datetime(2026, 3, 2, 16, tzinfo=UTC)
    assert eight_hourly.next_funding_time(boundary) == datetime(2026, 3, 3, 0, tzinfo=UTC)


def test_maintenance_rate_and_default_leverage() -> None:
    assert maintenance_margin_rate(MARKET) == D("0.025")  # 1 / (2 x 20)
    assert PROFILES["paper"].leverage_for(MARKET) == D(10)


def test_liquidation_price_holds_other_positions_at_their_marks() -> None:
    # Long 2 @ 100 (entry notional 200), wallet 50; another position is 10 USD in profit
    # and needs 5 USD of maintenance. mmr 0.02:
    # P = (200 - 50 - 10 + 5) / (2 x 0.98) = 145 / 1.96
    assert liquidation_price(
        size=D(2),
        entry_notional=D(200),
        mmr=D("0.02"),
        wallet=D(50),
        other_unrealized_pnl=D(10),
        other_maintenance=D(5),
    ) == D(145) / D("1.96")
    # Short 2 @ 100: P = (50 + 10 - 5 + 200) / (2 x 1.02) = 255 / 2.04 = 125
    assert liquidation_price(
        size=D(-2),
        entry_notional=D(200),
        mmr=D("0.02"),
        wallet=D(50),
        other_unrealized_pnl=D(10),
        other_maintenance=D(5),
    ) == D(125)


def test_liquidation_price_is_none_when_unreachable_or_flat() -> None:
    common = {"mmr": D("0.02"), "other_unrealized_pnl": D(0), "other_maintenance": D(0)}
    assert liquidation_price(size=D(1), entry_notional=D(100), wallet=D(100), **common) is None
    assert liquidation_price(size=D(0), entry_notional=D(0), wallet=D(100), **common) is None


def test_opening_orders_margin_counts_only_what_opens_exposure() -> None:
    lev = D(10)
    # Flat: both sides open exposure.
    assert opening_orders_margin(D(0), D(2), D(200), D(1), D(110), lev) == D(31)
    # Short 1: the first buy unit closes it; 1 of 2 buys (avg price 100) opens.
    assert opening_orders_margin(D(-1), D(2), D(200), D(0), D(0), lev) == D(10)
    # Long 3: sells up to 3 close it.
    assert opening_orders_margin(D(3), D(0), D(0), D(3), D(330), lev) == D(0)
