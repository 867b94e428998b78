"""Lighter collected without an account key: the collector's public reader against the fake
Lighter (its real wire protocol: ``orderBookDetails`` over REST, ``market_stats/all`` over the
WebSocket), on both databases - rates, marks, index prices, volume and open interest, the
published standard fees; a rate change pushed on the channel is the next cycle's row; a
dropped connection is survived."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from funding_rate_service import storage
from funding_rate_service.collector import Collector
from funding_rate_service.settings import CollectionSettings
from testing.fakes.lighter import FakeLighter

D = Decimal
Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def lighter() -> AsyncIterator[FakeLighter]:
    async with FakeLighter() as fake:
        yield fake


def collector(sessions: Sessions, fake: FakeLighter) -> Collector:
    options = {"lighter": {"base_url": fake.base_url, "ws_url": fake.ws_url}}
    settings = CollectionSettings(
        venues=("lighter",), venue_options=options, venue_timeout_seconds=15.0
    )
    return Collector(settings, sessions)


async def latest(sessions: Sessions) -> dict[str, storage.FundingRecord]:
    async with sessions() as session:
        return {r.symbol: r for r in await storage.latest(session) if r.venue == "lighter"}


async def test_lighter_is_collected_without_a_key(
    db_sessions: Sessions, lighter: FakeLighter
) -> None:
    assert lighter.accounts == {}  # no account, no API key anywhere
    c = collector(db_sessions, lighter)
    try:
        first = await c.collect_once()
        assert first.failed == (), c.health()["lighter"].last_error
        rows = await latest(db_sessions)
        assert sorted(rows) == ["BTC", "ETH"]
        btc = rows["BTC"]
        # market_stats sends percent per hour: 0.0012 % = 0.000012 per 1 h interval.
        assert (btc.rate_per_interval, btc.interval_hours, btc.hourly_rate) == (
            D("0.000012"),
            D(1),
            D("0.000012"),
        )
        now = datetime.now(UTC)
        assert now < btc.funding_time <= now + timedelta(hours=1)  # the coming hour
        assert btc.mark_price == D("60000.0")  # the fake's mid
        assert btc.index_price == btc.mark_price
        assert btc.volume_24h_usd == D("1671431095.263844")
        assert btc.open_interest_usd == D("39559.3278") * D("60000.0")
        assert (btc.maker_fee, btc.taker_fee, btc.fee_source) == (D(0), D(0), "published")

        # A new estimate pushed on the channel is what the next cycle stores.
        lighter.markets[1].funding_percent = D("-0.0030")
        await lighter.push_market_stats("BTC")
        for _ in range(100):
            if c._clients["lighter"]._stats[1]["current_funding_rate"] == "-0.0030":  # type: ignore[attr-defined]
                break
            await asyncio.sleep(0.05)
        await c.collect_once()
        assert (await latest(db_sessions))["BTC"].rate_per_interval == D("-0.000030")

        # The connection drops: the reader resubscribes and collection goes on.
        await lighter.drop_connections()
        again = await c.collect_once()
        assert again.failed == (), c.health()["lighter"].last_error
        assert c.health()["lighter"].ok
    finally:
        await c.aclose()


async def test_an_unreachable_stream_is_a_failure_in_health_not_a_stale_rate(
    db_sessions: Sessions, lighter: FakeLighter
) -> None:
    options = {
        "lighter": {
            "base_url": lighter.base_url,
            "ws_url": lighter.ws_url.replace(str(lighter.port), "1"),  # nothing listens there
        }
    }
    c = Collector(CollectionSettings(venues=("lighter",), venue_options=options), db_sessions)
    try:
        result = await c.collect_once()
    finally:
        await c.aclose()
    assert result.failed == ("lighter",)
    health = c.health()["lighter"]
    assert health.last_error == (
        "VenueUnavailable: lighter: lighter-ws stream: cannot connect (ClientConnectorError)"
    )
    assert await latest(db_sessions) == {}
