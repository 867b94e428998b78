"""Funding from ``market_stats``: percent per hour -> a fraction per 1 h interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from exchange_clients.lighter.funding_adapter import funding_rate, next_hour
from tests.exchange_clients.lighter.helpers import connected, new_fake

D = Decimal


async def test_funding_is_hourly_and_a_fraction() -> None:
    async with new_fake() as fake, connected(fake) as client:
        fake.market("BTC").funding_percent = D("0.0012")  # as sent at subscription time
        rate = await client.funding_rate("BTC")
        assert rate.rate == D("0.000012")  # 0.0012 % per hour
        assert rate.interval_hours == 1
        assert rate.hourly_rate == rate.rate
        assert rate.apr == D("0.000012") * 24 * 365
        assert rate.next_funding_time is not None
        now = datetime.now(UTC)
        assert now < rate.next_funding_time <= now + timedelta(hours=1)
        assert rate.mark_price == D("60000.0")
        assert set(await client.funding_rates()) == {"BTC", "ETH"}


def test_adapter_prefers_the_current_estimate_and_the_next_full_hour() -> None:
    now = datetime(2026, 3, 2, 12, 15, tzinfo=UTC)
    stats = {"market_id": 1, "funding_rate": "-0.0100", "current_funding_rate": "0.0050"}
    rate = funding_rate("BTC", stats, venue="lighter", now=now)
    assert rate.rate == D("0.00005")
    assert rate.next_funding_time == next_hour(now) == datetime(2026, 3, 2, 13, tzinfo=UTC)
    past = {**stats, "funding_timestamp": int(now.timestamp() * 1000) - 1}
    assert funding_rate("BTC", past, venue="lighter", now=now).next_funding_time == next_hour(now)
