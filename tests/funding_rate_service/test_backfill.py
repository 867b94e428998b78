"""Backfill from the venues' published history, through the fakes' real endpoints: settled
rows stored once however often it runs, a settled rate replacing the live estimate, intervals
taken from the settlements, and a venue without history reported rather than guessed."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from funding_rate_service import storage
from funding_rate_service.backfill import (
    HyperliquidHistory,
    backfill,
    backfill_configured,
    backfill_venue,
    records_from,
)
from funding_rate_service.settings import CollectionSettings
from funding_rate_service.storage import ESTIMATE, SETTLED, FundingRecord
from funding_rate_service.venue_access import public_client_factory
from testing.fakes.aster import FakeAster
from testing.fakes.backpack import FakeBackpack
from testing.fakes.binance import FakeBinance
from testing.fakes.hyperliquid import FakeHyperliquid

D = Decimal
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture
async def hyperliquid() -> AsyncIterator[FakeHyperliquid]:
    async with FakeHyperliquid() as fake:
        yield fake


async def test_hyperliquid_history_is_paged_and_stored_once(
    db_sessions: async_sessionmaker[AsyncSession], hyperliquid: FakeHyperliquid
) -> None:
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=30)  # 720 hourly settlements: two pages of at most 500
    for _ in range(2):  # a second run changes nothing
        result = await backfill_venue(
            db_sessions,
            HyperliquidHistory("hyperliquid", hyperliquid.base_url),
            start,
            end,
            symbols=["BTC", "PEPE"],
        )
        assert result.errors == []
        assert (result.symbols, result.rows) == (2, 2 * 720)
    async with db_sessions() as session:
        btc = await storage.history(session, "hyperliquid", "BTC", start, end)
        pepe = await storage.history(session, "hyperliquid", "PEPE", start, end)
        pairs = await storage.pairs(session)
    assert len(btc) == len(pepe) == 720  # kPEPE is stored under its internal symbol
    assert [r.funding_time for r in btc] == [start + i * HOUR for i in range(720)]
    assert {(r.rate_per_interval, r.interval_hours, r.source) for r in btc} == {
        (D("0.0000125"), D(1), SETTLED)
    }
    assert pairs == {"hyperliquid": ["BTC", "PEPE"]}


async def test_a_settled_rate_replaces_the_live_estimate(
    db_sessions: async_sessionmaker[AsyncSession], hyperliquid: FakeHyperliquid
) -> None:
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    estimate = FundingRecord(
        "hyperliquid",
        "BTC",
        end - HOUR,
        D("0.0009"),
        D(1),
        D("0.0009"),
        observed_at=end - 2 * HOUR,
        source=ESTIMATE,
        mark_price=D("60000"),
    )
    async with db_sessions.begin() as session:
        await storage.upsert(session, [estimate])
    await backfill_venue(
        db_sessions,
        HyperliquidHistory("hyperliquid", hyperliquid.base_url),
        end - 3 * HOUR,
        end,
        symbols=["BTC"],
    )
    async with db_sessions() as session:
        [row] = await storage.history(session, "hyperliquid", "BTC", end - HOUR, end)
    assert (row.rate_per_interval, row.source, row.mark_price) == (
        D("0.0000125"),
        SETTLED,
        D("60000"),
    )


async def test_backpack_settlements_through_the_public_client_markets(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with FakeBackpack() as fake:
        await fake.settle_funding("BTC_USDC_PERP")
        factory = public_client_factory(
            {"backpack": {"base_url": fake.base_url, "ws_url": fake.ws_url}}
        )
        result, lighter = await backfill(
            db_sessions,
            ["backpack", "lighter"],
            days=1,
            factory=factory,
            base_urls={"backpack": fake.base_url},
        )
    assert result.errors == []
    assert (result.symbols, result.rows) == (3, 1)  # BTC settled once; ETH, PEPE have none
    assert lighter.rows == 0
    async with db_sessions() as session:
        rows = await storage.latest(session, venues=["backpack"])
    assert [(r.symbol, r.source, r.rate_per_interval) for r in rows] == [
        ("BTC", SETTLED, D("0.0000125"))
    ]


async def test_a_venue_without_history_is_reported(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    results = await backfill(db_sessions, ["lighter"], days=1, factory=public_client_factory())
    assert [(r.venue, r.rows) for r in results] == [("lighter", 0)]
    assert "publishes no funding history" in results[0].errors[0]


def test_intervals_come_from_the_gaps_between_settlements() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    rows = records_from("binance", "BTC", [(t + 4 * HOUR, D("0.0004")), (t, D("0.0002"))], t)
    assert [(r.funding_time, r.interval_hours, r.hourly_rate) for r in rows] == [
        (t, D(4), D("0.00005")),
        (t + 4 * HOUR, D(4), D("0.0001")),
    ]
    [single] = records_from("binance", "BTC", [(t, D("0.0008"))], t)
    assert single.interval_hours == D(8)  # the catalogue's Binance interval
    moments_apart = records_from("backpack", "BTC", [(t, D(1)), (t + HOUR / 1000, D(1))], t)
    assert {r.interval_hours for r in moments_apart} == {D(1)}  # Backpack's, not the gap


@pytest.mark.parametrize("venue", ["binance", "aster"])
async def test_binance_style_history_pages_by_time_with_each_symbols_interval(
    db_sessions: async_sessionmaker[AsyncSession], venue: str
) -> None:
    fake_class = FakeBinance if venue == "binance" else FakeAster
    async with fake_class() as fake:
        options = {venue: {"base_url": fake.base_url, "ws_url": fake.ws_url}}
        [result] = await backfill(
            db_sessions,
            [venue],
            days=400,  # 8-hourly BTC: 1200 settlements, two pages of at most 1000
            factory=public_client_factory(options),
            symbols=["BTC", "ETH"],
            base_urls={venue: fake.base_url},
        )
    assert result.errors == []
    async with db_sessions() as session:
        far = datetime(2000, 1, 1, tzinfo=UTC)
        btc = await storage.history(session, venue, "BTC", far, datetime.now(UTC))
        eth = await storage.history(session, venue, "ETH", far, datetime.now(UTC))
    assert len(btc) in (1199, 1200)  # 400 days of 8 h, depending on where now falls
    assert {(r.interval_hours, r.rate_per_interval, r.source) for r in btc} == {
        (D(8), D("0.0001"), SETTLED)
    }
    assert {r.interval_hours for r in eth} == {D(4)}  # ETH's adjusted 4 h interval
    assert all(b.funding_time - a.funding_time == 8 * HOUR for a, b in itertools.pairwise(btc))


@pytest.mark.parametrize("days", [0, 2])
async def test_the_configured_backfill_follows_backfill_days_venues_and_symbols(
    db_sessions: async_sessionmaker[AsyncSession], hyperliquid: FakeHyperliquid, days: int
) -> None:
    settings = CollectionSettings(
        venues=("hyperliquid",),
        symbols=("ETH",),
        backfill_days=days,
        venue_options={"hyperliquid": {"base_url": hyperliquid.base_url}},
    )
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    results = await backfill_configured(db_sessions, settings, now=now)
    async with db_sessions() as session:
        pairs = await storage.pairs(session)
        eth = await storage.history(session, "hyperliquid", "ETH", now - 3 * DAY, now)
    if days == 0:
        assert (results, pairs, eth) == ([], {}, [])
    else:
        assert [(r.venue, r.symbols, r.errors) for r in results] == [("hyperliquid", 1, [])]
        assert pairs == {"hyperliquid": ["ETH"]}
        assert len(eth) == 48
