"""Funding: hourly, positive = longs pay, next settlement on the next whole hour, the
prediction from predictedFundings' HlPerp entry; accrued funding received-positive."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from exchange_clients.hyperliquid.funding_adapter import (
    funding_rate,
    next_funding_time,
    predicted_by_coin,
)
from tests.exchange_clients.hyperliquid.helpers import connected, new_fake

D = Decimal


def test_next_funding_is_the_next_whole_hour() -> None:
    now = datetime(2026, 3, 2, 12, 59, 59, 999_000, tzinfo=UTC)
    assert next_funding_time(now) == datetime(2026, 3, 2, 13, tzinfo=UTC)
    on_the_hour = datetime(2026, 3, 2, 13, tzinfo=UTC)
    assert next_funding_time(on_the_hour) == datetime(2026, 3, 2, 14, tzinfo=UTC)


def test_predictions_come_from_the_hlperp_entry_only() -> None:
    wire = [
        [
            "BTC",
            [
                ["BinPerp", {"fundingRate": "0.0001", "nextFundingTime": 1733961600000}],
                ["HlPerp", {"fundingRate": "0.0000125", "nextFundingTime": 1733958000000}],
            ],
        ],
        ["ETH", [["BybitPerp", {"fundingRate": "0.0002", "nextFundingTime": 1}]]],
    ]
    predicted = predicted_by_coin(wire)
    assert predicted == {"BTC": (D("0.0000125"), datetime(2024, 12, 11, 23, tzinfo=UTC))}
    now = datetime(2024, 12, 11, 22, 30, tzinfo=UTC)
    rate = funding_rate(
        "BTC", {"funding": "-0.00002", "markPx": "60000.0"}, now=now, predicted=predicted["BTC"]
    )
    assert (rate.rate, rate.interval_hours, rate.predicted_rate) == (
        D("-0.00002"),
        D(1),
        D("0.0000125"),
    )
    assert rate.next_funding_time == datetime(2024, 12, 11, 23, tzinfo=UTC)
    assert rate.apr == D("-0.00002") * 8760


async def test_funding_through_the_client() -> None:
    async with new_fake() as fake, connected(fake) as client:
        now = datetime.now(UTC)
        btc = await client.funding_rate("BTC")
        assert (btc.venue, btc.rate, btc.interval_hours) == ("hyperliquid", D("0.0000125"), D(1))
        assert btc.predicted_rate == D("0.00001")
        assert btc.next_funding_time is not None
        assert btc.next_funding_time > now
        assert (btc.next_funding_time - now).total_seconds() <= 3600
        assert btc.next_funding_time.minute == 0
        assert btc.next_funding_time.second == 0
        everything = await client.funding_rates()
        assert set(everything) == {"BTC", "ETH", "PEPE"}
        assert everything["ETH"].rate == D("-0.00002")
        assert everything["PEPE"].mark_price == D("0.000012")  # kPEPE 0.012 / 1000


async def test_accrued_funding_is_received_positive() -> None:
    async with new_fake() as fake, connected(fake) as client:
        await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="long")
        await fake.charge_funding("BTC")  # positive rate: the long pays
        position = await client.position("BTC")
        assert position is not None
        paid = D("0.01") * D(60000) * D("0.0000125")
        assert position.accrued_funding == -paid
        balance = await client.balance()
        assert balance.wallet < D(100_000)
