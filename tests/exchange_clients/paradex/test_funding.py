"""Funding, fees and market stats as the venue reports them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from exchange_clients.paradex.funding_adapter import period_end_ms
from testing.fakes.paradex import FakeParadex
from tests.exchange_clients.paradex.helpers import connected

D = Decimal


async def test_funding_is_the_summary_rate_per_8h_period() -> None:
    async with FakeParadex() as fake, connected(fake) as client:
        rate = await client.funding_rate("ETH")
        assert (rate.rate, rate.interval_hours) == (D("-0.00004"), D(8))
        assert rate.hourly_rate == D("-0.000005")
        assert rate.mark_price == D("3000.005")
        assert rate.next_funding_time is not None
        assert rate.next_funding_time.hour % 8 == 0
        assert rate.next_funding_time > datetime.now(UTC)
        every = await client.funding_rates()
        assert set(every) == {"BTC", "ETH"}


def test_the_period_ends_on_an_8h_boundary() -> None:
    hour = 3_600_000
    assert period_end_ms(0, D(8)) == 8 * hour
    assert period_end_ms(8 * hour - 1, D(8)) == 8 * hour
    assert period_end_ms(8 * hour, D(8)) == 16 * hour


async def test_fees_are_the_accounts_own_and_stats_value_interest_at_the_mark() -> None:
    async with FakeParadex() as fake, connected(fake) as client:
        account = next(iter(fake.accounts.values()))
        account.taker_fee = D("0.00025")
        fees = await client.fees("BTC")
        assert (fees.maker, fees.taker, fees.source) == (D("0.00003"), D("0.00025"), "account")
        stats = await client.market_stats()
        assert stats["ETH"].volume_24h_usd == D(64_000_000)
        assert stats["ETH"].open_interest_usd == D(21_000) * D("3000.005")
