"""What trading costs and how liquid each market is: the account's own fee tier from
``userFees`` (the published base rates only when that cannot be read), and 24 h volume and open
interest in USD from ``metaAndAssetCtxs`` (kPEPE's contracts valued through its multiplier)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import UnknownSymbol
from exchange_clients.types import FeeSchedule, MarketStats
from testing.fakes.hyperliquid import FakeHyperliquid
from tests.exchange_clients.hyperliquid.helpers import (
    AGENT,
    AGENT_KEY,
    OWNER,
    connected,
    new_fake,
)

D = Decimal


def fee_requests(fake: FakeHyperliquid) -> int:
    return sum(1 for request in fake.requests if request == ("/info", "userFees"))


async def test_fees_are_the_accounts_own_tier_and_follow_it_when_it_changes() -> None:
    async with new_fake() as fake, connected(fake, fees_ttl=0) as client:
        assert await client.fees("BTC") == FeeSchedule(
            maker=D("0.00015"), taker=D("0.00045"), source="account"
        )
        fake.set_fee_tier(OWNER, maker=D("-0.00001"), taker=D("0.00028"))
        assert await client.fees("ETH") == FeeSchedule(
            maker=D("-0.00001"), taker=D("0.00028"), source="account"
        )


async def test_fees_are_read_once_per_fees_ttl() -> None:
    async with new_fake() as fake, connected(fake) as client:  # default: an hour
        first = await client.fees("BTC")
        fake.set_fee_tier(OWNER, maker=D("0.0001"), taker=D("0.0004"))
        assert await client.fees("PEPE") == first
        assert fee_requests(fake) == 1
    async with new_fake() as fake, connected(fake, fees_ttl=0) as client:
        await client.fees("BTC")
        await client.fees("BTC")
        assert fee_requests(fake) == 2


async def test_an_api_wallet_reports_the_tier_of_the_account_it_trades_for() -> None:
    async with new_fake(agents={AGENT: OWNER}) as fake:
        fake.set_fee_tier(OWNER, maker=D("0.00008"), taker=D("0.00035"))
        async with connected(fake, AGENT_KEY) as client:
            fees = await client.fees("BTC")
    assert (fees.maker, fees.taker, fees.source) == (D("0.00008"), D("0.00035"), "account")


async def test_fills_pay_the_tier_that_fees_reports() -> None:
    async with new_fake() as fake, connected(fake) as client:
        fake.set_fee_tier(OWNER, maker=D("0.0001"), taker=D("0.0003"))
        fills = client.fills()
        await client.place_market_order("BTC", "buy", D("0.01"), client_order_id="tier-1")
        fill = await anext(fills)
        taker = (await client.fees("BTC")).taker
        assert fill.fee == (fill.price * fill.size * taker).quantize(D("0.000001"))


async def test_the_published_schedule_only_when_user_fees_cannot_be_read() -> None:
    async with new_fake() as fake, connected(fake, retries=0) as client:
        fake.fail_next(1, status=502)
        assert await client.fees("BTC") == FeeSchedule(
            maker=D("0.00015"), taker=D("0.00045"), source="published"
        )
        fake.set_fee_tier(OWNER, maker=D("0.00012"), taker=D("0.0004"))
        # The fallback is not remembered: the next call reads the account's tier.
        assert await client.fees("BTC") == FeeSchedule(
            maker=D("0.00012"), taker=D("0.0004"), source="account"
        )


async def test_fees_of_an_unknown_market_are_refused() -> None:
    async with new_fake() as fake, connected(fake) as client:
        with pytest.raises(UnknownSymbol):
            await client.fees("DOGE")
        assert fee_requests(fake) == 0


async def test_stats_are_usd_volume_and_open_interest_valued_at_the_mark() -> None:
    async with new_fake() as fake, connected(fake) as client:
        btc, pepe = fake.market("BTC"), fake.market("kPEPE")
        btc.day_ntl_vlm, btc.open_interest = D("1234567890.5"), D("12.5")
        pepe.day_ntl_vlm, pepe.open_interest = D("98765.4"), D("2000000")  # kPEPE contracts
        stats = await client.market_stats()
        assert set(stats) == {"BTC", "ETH", "PEPE"}  # OLD is delisted
        assert stats["BTC"] == MarketStats("BTC", D("1234567890.5"), D("12.5") * D(60000))
        # 2,000,000 kPEPE = 2,000,000,000 PEPE at 0.000012 each (0.012 per kPEPE) = $24,000.
        assert stats["PEPE"] == MarketStats("PEPE", D("98765.4"), D(24000))
        # Read again each call: the figures move with the venue.
        btc.open_interest = D(20)
        await fake.set_mark("BTC", D(61000))
        assert (await client.market_stats())["BTC"].open_interest_usd == D(1_220_000)
