"""What a paper venue reports about its economics: its profile's fees, and 24 h volume and
open interest that come from the market it watches (see exchange_clients/paper/market_stats)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.clock import ManualClock
from core.errors import UnknownSymbol
from exchange_clients.factory import create_client
from exchange_clients.paper.client import PaperExchangeClient
from exchange_clients.paper.market_stats import PaperMarketStats
from exchange_clients.paper.profiles import DEFAULT_OPEN_INTEREST_USD, PROFILES
from exchange_clients.types import ClientSettings, FeeSchedule, MarketStats
from tests.exchange_clients.paper.clients import paper_client
from tests.exchange_clients.paper.feeds import ScriptedFeed
from tests.exchange_clients.paper.helpers import SYMBOL, D


@pytest.mark.parametrize("venue", ["paper", "paper_a", "paper_b"])
async def test_fees_are_the_profiles(venue: str, clock: ManualClock) -> None:
    client = paper_client(ScriptedFeed(clock, venue=venue), venue=venue)
    profile = PROFILES[venue]
    assert await client.fees(SYMBOL) == FeeSchedule(
        maker=profile.maker_fee, taker=profile.taker_fee, source="simulated"
    )
    with pytest.raises(UnknownSymbol):
        await client.fees("NOPE")


async def test_paper_a_is_cheaper_than_paper_b(clock: ManualClock) -> None:
    a = await paper_client(ScriptedFeed(clock, venue="paper_a"), venue="paper_a").fees(SYMBOL)
    b = await paper_client(ScriptedFeed(clock, venue="paper_b"), venue="paper_b").fees(SYMBOL)
    assert a.taker < b.taker
    assert a.maker < b.maker


async def test_volume_over_a_recorded_or_live_feed_is_the_trades_it_delivered(
    client: PaperExchangeClient, feed: ScriptedFeed, clock: ManualClock
) -> None:
    before = await client.market_stats()
    assert before == {
        SYMBOL: MarketStats(SYMBOL, None, DEFAULT_OPEN_INTEREST_USD[SYMBOL])
    }  # no trade seen yet: no volume rather than a made-up zero
    feed.trade("100.0", "2", "buy")
    feed.trade("99.5", "1", "sell")
    await feed.settled()
    assert (await client.market_stats())[SYMBOL].volume_24h_usd == D("299.5")

    await clock.advance(timedelta(hours=23).total_seconds())
    feed.trade("101.0", "1", "buy")
    await feed.settled()
    assert (await client.market_stats())[SYMBOL].volume_24h_usd == D("400.5")
    await clock.advance(timedelta(hours=2).total_seconds())  # the first two are 25 h old now
    assert (await client.market_stats())[SYMBOL].volume_24h_usd == D("101.0")


def test_open_interest_comes_from_the_profile_and_unknown_markets_have_none(
    clock: ManualClock,
) -> None:
    profile = PROFILES["paper"]
    stats = PaperMarketStats(ScriptedFeed(clock), profile).stats(clock.now())
    assert stats[SYMBOL].open_interest_usd == D(400_000_000)
    custom = type(profile)(
        venue="paper",
        maker_fee=D(0),
        taker_fee=D("0.001"),
        funding_interval_hours=1,
        open_interest_usd={"ETH": D(5)},
    )
    assert (
        PaperMarketStats(ScriptedFeed(clock), custom).stats(clock.now())[SYMBOL].open_interest_usd
        is None
    )


async def test_volume_of_the_synthetic_market_is_its_traded_notional(clock: ManualClock) -> None:
    client = create_client(ClientSettings(venue="paper", options={"clock": clock, "store": None}))
    stats = await client.market_stats()
    assert set(stats) == {"BTC", "ETH", "SOL", "DOGE"}
    btc = stats["BTC"].volume_24h_usd
    doge = stats["DOGE"].volume_24h_usd
    assert btc is not None
    assert doge is not None
    # BTC trades ~4/s of ~0.02+ BTC at ~60-70k: hundreds of millions a day; DOGE far less.
    assert D(50_000_000) < btc < D(5_000_000_000)
    assert doge < btc
    # A pure function of time: the same figure from another client on the same seed ...
    again = create_client(ClientSettings(venue="paper", options={"clock": clock, "store": None}))
    assert (await again.market_stats())["BTC"].volume_24h_usd == btc
    # ... which moves as the day slides.
    await clock.advance(timedelta(hours=6).total_seconds())
    assert (await client.market_stats())["BTC"].volume_24h_usd != btc
