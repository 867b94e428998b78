"""EdgeX funding (4-hourly, from ``getLatestFundingRate``), fees and liquidity through the fake."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from exchange_clients.edgex.funding_adapter import funding_from_wire
from exchange_clients.types import Market
from tests.exchange_clients.edgex.helpers import BTC, ETH, D, connected, running


async def test_funding_rates_carry_the_interval_next_settlement_and_oracle() -> None:
    async with running() as (fake, _), connected(fake, streams=False) as client:
        rate = await client.funding_rate("BTC")
        assert (rate.rate, rate.interval_hours) == (D("0.00005"), D(4))
        assert rate.hourly_rate == D("0.0000125")
        assert rate.next_funding_time == datetime.fromtimestamp(
            fake.next_funding_ms() / 1000, tz=UTC
        )
        assert rate.mark_price == D("60000.05")
        every = await client.funding_rates()
        assert set(every) == {"BTC", "ETH"}
        assert every["ETH"].rate == D("-0.00002")


def test_the_adapter_falls_back_to_the_contract_interval_and_reads_the_forecast() -> None:
    market = Market("BTC", BTC, D("0.1"), D("0.001"), D("0.001"), D(0), D(50))
    row = {"contractId": BTC, "fundingRate": "0.0001", "forecastFundingRate": "0.00012"}
    rate = funding_from_wire("edgex", market, row, default_interval_minutes=480)
    assert (rate.interval_hours, rate.predicted_rate) == (D(8), D("0.00012"))
    assert rate.next_funding_time is None


async def test_fees_and_market_stats_come_from_metadata_and_one_ticker_call() -> None:
    async with running() as (fake, _), connected(fake, streams=False) as client:
        fees = await client.fees("ETH")
        assert (fees.maker, fees.taker, fees.source) == (D("0.00015"), D("0.00038"), "published")
        before = fake.requests.count(("GET", "/api/v2/public/quote/getTicker"))
        stats = await client.market_stats()
        assert fake.requests.count(("GET", "/api/v2/public/quote/getTicker")) == before + 1
        assert stats["BTC"].volume_24h_usd == D("912345678.9")
        assert stats["BTC"].open_interest_usd == D("1873.512") * D("60000.05")
        assert stats["ETH"].open_interest_usd == D("20451.12") * fake.oracle_price(ETH)


async def test_leverage_is_per_contract() -> None:
    async with running() as (fake, account), connected(fake, streams=False) as client:
        assert await client.get_leverage("ETH") == D(10)  # the default trade setting
        assert await client.set_leverage("ETH", Decimal(7)) == D(7)
        assert await client.get_leverage("BTC") == D(10)
        assert account.leverage == {ETH: D(7)}
