"""Funding: hourly rates from markPrices (positive = longs pay), the adapter's parsing, and the
funding a position has accrued as the venue reports it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from exchange_clients.backpack.funding_adapter import funding_from_mark_price, settled_rates
from exchange_clients.types import Market
from tests.exchange_clients.backpack.helpers import D, connected, running

BTC = Market("BTC", "BTC_USDC_PERP", D("0.1"), D("0.0001"), D("0.0001"), D(0), D(50))


def test_adapter_reads_a_mark_prices_row() -> None:
    row = {
        "fundingRate": "-0.0000039641039274236048482914",
        "indexPrice": "173.44031179",
        "markPrice": "173.35998175",
        "nextFundingTimestamp": 1747296000000,
        "symbol": "BTC_USDC_PERP",
    }
    rate = funding_from_mark_price("backpack", BTC, row)
    assert rate.rate == Decimal("-0.0000039641039274236048482914")  # exact, no float
    assert rate.interval_hours == 1
    assert rate.hourly_rate == rate.rate
    assert rate.next_funding_time == datetime(2025, 5, 15, 8, 0, tzinfo=UTC)
    assert rate.mark_price == D("173.35998175")
    assert rate.apr == rate.rate * 8760


def test_settled_rates_oldest_first() -> None:
    rows = [
        {"symbol": "X", "intervalEndTimestamp": "2025-05-15T08:00:00", "fundingRate": "0.0001"},
        {"symbol": "X", "intervalEndTimestamp": "2025-05-15T07:00:00", "fundingRate": "-0.0002"},
    ]
    assert settled_rates(rows) == [
        (datetime(2025, 5, 15, 7, tzinfo=UTC), D("-0.0002")),
        (datetime(2025, 5, 15, 8, tzinfo=UTC), D("0.0001")),
    ]


async def test_funding_rates_are_hourly_and_complete() -> None:
    async with running() as (fake, _), connected(fake) as client:
        rate = await client.funding_rate("BTC")
        assert (rate.venue, rate.symbol, rate.rate) == ("backpack", "BTC", D("0.0000125"))
        assert rate.interval_hours == 1
        assert rate.next_funding_time is not None
        now = datetime.now(UTC)
        assert now < rate.next_funding_time <= now + timedelta(hours=1)
        everything = await client.funding_rates()
        assert sorted(everything) == ["BTC", "ETH", "PEPE"]
        assert everything["ETH"].rate == D("-0.0000040")


async def test_positions_report_the_funding_the_venue_accrued() -> None:
    async with running() as (fake, _account), connected(fake) as client:
        await client.place_market_order("BTC", "buy", D("0.1"), client_order_id="fund-1")
        wallet_before = (await client.balance()).wallet
        await fake.settle_funding("BTC_USDC_PERP")  # positive rate: the long pays
        (position,) = await client.positions()
        paid = D("0.0000125") * D("0.1") * fake.mark_price("BTC_USDC_PERP")
        assert position.accrued_funding == -paid
        assert (await client.balance()).wallet == wallet_before - paid
