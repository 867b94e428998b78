"""Funding, fees and liquidity: the 8 h rate in percentage points read as a per-interval
fraction, the next funding time on the interval grid, settled history, published fees and
24 h volume / open interest valued at the mark."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from exchange_clients.grvt.funding_adapter import (
    funding_from_ticker,
    next_funding_time,
    settled_rates,
)
from exchange_clients.types import Market
from tests.exchange_clients.grvt.helpers import D, connected, running

MARKET = Market("BTC", "BTC_USDT_Perp", D("0.1"), D("0.001"), D("0.001"), D(0), D(50))


def test_the_8h_percentage_rate_becomes_a_fraction_per_interval() -> None:
    at = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
    eight = funding_from_ticker(
        "grvt", MARKET, {"funding_rate_8h_curr": "0.01", "mark_price": "60000"}, D(8), now=at
    )
    assert (eight.rate, eight.interval_hours) == (D("0.0001"), D(8))
    assert eight.next_funding_time == datetime(2026, 12, 3, 16, tzinfo=UTC)
    assert eight.predicted_rate == eight.rate
    assert eight.mark_price == D(60000)
    hourly = funding_from_ticker("grvt", MARKET, {"funding_rate_8h_curr": "0.01"}, D(1), now=at)
    assert hourly.rate == D("0.0000125")
    assert hourly.hourly_rate == eight.hourly_rate
    assert hourly.next_funding_time == datetime(2026, 12, 3, 10, tzinfo=UTC)


def test_next_funding_time_is_strictly_after_now() -> None:
    on_the_hour = datetime(2026, 12, 3, 16, tzinfo=UTC)
    assert next_funding_time(on_the_hour, Decimal(8)) == datetime(2026, 12, 4, tzinfo=UTC)


def test_settled_rates_are_fractions_oldest_first() -> None:
    rows = [
        {"funding_rate": "0.02", "funding_time": "1764777600000000000"},
        {"funding_rate": "-0.01", "funding_time": "1764748800000000000"},
    ]
    assert settled_rates(rows) == [
        (datetime(2025, 12, 3, 8, tzinfo=UTC), D("-0.0001")),
        (datetime(2025, 12, 3, 16, tzinfo=UTC), D("0.0002")),
    ]


async def test_funding_through_the_fake_and_its_history() -> None:
    async with running() as (fake, _), connected(fake) as client:
        eth = await client.funding_rate("ETH")
        assert eth.rate == D("-0.000035")
        everything = await client.funding_rates()
        assert set(everything) == {"BTC", "ETH", "SOL"}
        assert everything["ETH"].rate == eth.rate
        await fake.settle_funding("BTC_USDT_Perp")
        answer = await client.rest.public("/full/v1/funding", {"instrument": "BTC_USDT_Perp"})
        assert [rate for _, rate in settled_rates(answer["result"])] == [D("0.0001")]


async def test_fees_are_the_published_level_1_and_stats_value_open_interest_at_the_mark() -> None:
    async with running() as (fake, _), connected(fake) as client:
        fees = await client.fees("BTC")
        assert (fees.maker, fees.taker, fees.source) == (D("0.00027"), D("0.00055"), "published")
        stats = await client.market_stats()
        btc = stats["BTC"]
        assert btc.volume_24h_usd == D(250_000_000)
        assert btc.open_interest_usd == D(1200) * D("60000.05")
