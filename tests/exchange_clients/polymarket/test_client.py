"""The Polymarket public client against the fake (Gamma /markets, CLOB /midpoint)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from core.errors import ExchangeError
from exchange_clients.polymarket.client import PolymarketClient, asset_of, parse_market
from testing.fakes.polymarket import FakePolyMarket, FakePolymarket

D = Decimal


async def test_snapshot_keeps_directional_markets_of_the_assets_with_clob_midpoints() -> None:
    now = datetime.now(UTC)
    async with FakePolymarket() as fake:
        up_down = fake.add(
            FakePolyMarket("Bitcoin Up or Down - December 3, 3:15PM-3:30PM ET", D("0.81"))
        )
        above = fake.add(
            FakePolyMarket(
                "Will Ethereum be above $4,000 on December 31?",
                D("0.30"),
                outcomes=("Yes", "No"),
                volume_24h=D("900000"),
                end=now + timedelta(days=28),
            )
        )
        below = fake.add(
            FakePolyMarket("Will Solana dip below $100 this week?", D("0.2"), ("Yes", "No"))
        )
        fake.add(FakePolyMarket("Will it rain in Paris tomorrow?", D("0.5"), ("Yes", "No")))
        fake.add(FakePolyMarket("Bitcoin or Ethereum up more today?", D("0.5")))  # two assets
        fake.add(FakePolyMarket("Bitcoin Up or Down - 2PM ET", D("0.6"), closed=True))
        client = PolymarketClient(fake.base_url, fake.base_url)
        await client.open()
        try:
            markets = await client.snapshot(["BTC", "ETH", "SOL"], now)
        finally:
            await client.close()
    by_asset = {m.asset: m for m in markets}
    assert sorted(by_asset) == ["BTC", "ETH", "SOL"]
    btc = by_asset["BTC"]
    assert (btc.yes_price, btc.no_price, btc.yes_is_up) == (D("0.81"), D("0.19"), True)
    assert btc.up_probability == D("0.81")
    assert btc.market_id == up_down.market_id
    assert btc.liquidity == D("40000.25")
    eth = by_asset["ETH"]
    assert eth.volume_24h == D(900000)
    assert eth.yes_is_up
    assert eth.up_probability == D("0.30")
    assert eth.market_id == above.market_id
    sol = by_asset["SOL"]
    assert sol.market_id == below.market_id
    assert not sol.yes_is_up
    assert sol.up_probability == D("0.8")
    assert fake.requests.count("/midpoint") == 6  # YES and NO of the three kept


async def test_an_unknown_token_is_a_clear_error() -> None:
    async with FakePolymarket() as fake:
        client = PolymarketClient(fake.base_url, fake.base_url)
        await client.open()
        try:
            with pytest.raises(ExchangeError, match="HTTP 404"):
                await client.midpoint("123")
        finally:
            await client.close()


def test_markets_past_their_end_or_without_a_direction_are_skipped() -> None:
    now = datetime.now(UTC)
    base = {
        "id": "1",
        "question": "Bitcoin Up or Down - 3PM ET",
        "outcomes": '["Up", "Down"]',
        "outcomePrices": '["0.7", "0.3"]',
        "clobTokenIds": '["11", "22"]',
        "volume24hr": D("10.5"),
        "liquidityNum": D("20"),
        "endDate": (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "active": True,
        "closed": False,
    }
    assert parse_market(base, ["BTC"], now) is not None
    ended = base | {"endDate": (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}
    assert parse_market(ended, ["BTC"], now) is None
    vague = base | {"question": "Will Bitcoin ETF flows be positive?", "outcomes": '["Yes","No"]'}
    assert parse_market(vague, ["BTC"], now) is None
    assert parse_market(base | {"outcomePrices": "not json"}, ["BTC"], now) is None
    assert asset_of("What will SOL do?", ["BTC", "SOL"]) == "SOL"
    assert asset_of("Solution to the puzzle", ["SOL"]) is None
