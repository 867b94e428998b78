"""The funding history on both databases: idempotent upserts, latest per pair, time ranges,
the merge rules (a settled rate beats an estimate, unknown figures keep what is stored),
retention and stale cleanup."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.models import FundingRate
from funding_rate_service import storage
from funding_rate_service.storage import ESTIMATE, SETTLED, FundingRecord

D = Decimal
T0 = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def record(
    venue: str = "hyperliquid",
    symbol: str = "BTC",
    hours: int = 0,
    rate: str = "0.0001",
    interval: int = 1,
    **extra: object,
) -> FundingRecord:
    values: dict[str, object] = {
        "venue": venue,
        "symbol": symbol,
        "funding_time": T0 + hours * HOUR,
        "rate_per_interval": D(rate),
        "interval_hours": D(interval),
        "hourly_rate": D(rate) / interval,
        "observed_at": T0 + hours * HOUR - timedelta(minutes=1),
    }
    values.update(extra)
    return FundingRecord(**values)  # type: ignore[arg-type]


async def write(sessions: async_sessionmaker[AsyncSession], *records: FundingRecord) -> int:
    async with sessions.begin() as session:
        return await storage.upsert(session, records)


async def count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(FundingRate)) or 0)


async def test_the_same_funding_time_twice_is_one_row_with_the_newer_values(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = record(rate="0.0001", mark_price=D("60000.5"))
    again = replace(
        first,
        rate_per_interval=D("0.0003"),
        hourly_rate=D("0.0003"),
        observed_at=first.observed_at + timedelta(seconds=30),
        mark_price=D("60001"),
    )
    assert await write(db_sessions, first) == 1
    assert await write(db_sessions, again) == 1
    assert await write(db_sessions, again) == 1  # idempotent
    assert await count(db_sessions) == 1
    async with db_sessions() as session:
        [row] = await storage.history(session, "hyperliquid", "BTC", T0, T0 + HOUR)
        [latest] = await storage.latest(session)
    assert row == again == latest
    assert isinstance(row.rate_per_interval, Decimal)
    assert row.funding_time.tzinfo is UTC
    assert row.observed_at.tzinfo is UTC


async def test_one_batch_may_repeat_a_key_and_the_last_one_wins(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    assert await write(db_sessions, record(rate="0.1"), record(rate="0.2")) == 1
    async with db_sessions() as session:
        [row] = await storage.latest(session)
    assert row.rate_per_interval == D("0.2")


async def test_history_is_the_half_open_range_oldest_first_for_one_pair(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await write(
        db_sessions,
        *(record(hours=h, rate=f"0.000{h}") for h in range(10)),
        record(symbol="ETH", hours=3),
        record(venue="binance", hours=3, interval=8),
    )
    async with db_sessions() as session:
        rows = await storage.history(session, "hyperliquid", "BTC", T0 + 2 * HOUR, T0 + 5 * HOUR)
        empty = await storage.history(session, "hyperliquid", "SOL", T0, T0 + 10 * HOUR)
    assert [r.funding_time for r in rows] == [T0 + 2 * HOUR, T0 + 3 * HOUR, T0 + 4 * HOUR]
    assert [r.rate_per_interval for r in rows] == [D("0.0002"), D("0.0003"), D("0.0004")]
    assert {(r.venue, r.symbol) for r in rows} == {("hyperliquid", "BTC")}
    assert empty == []
    async with db_sessions() as session:
        points = await storage.history_points(
            session, "binance", "BTC", T0 + 2 * HOUR, T0 + 5 * HOUR
        )
    assert points == [storage.HistoryPoint(T0 + 3 * HOUR, D("0.0001") / 8)]


async def test_latest_is_one_row_per_pair_the_newest_and_filters(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await write(db_sessions, *(record(hours=h, rate=f"0.000{h}") for h in (1, 5, 3)))
    await write(db_sessions, record(symbol="ETH", hours=2), record(venue="binance", interval=8))
    await write(db_sessions, record(hours=4, rate="0.9"))  # an older backfill: latest stays
    async with db_sessions() as session:
        everything = await storage.latest(session)
        hyperliquid = await storage.latest(session, venues=["hyperliquid"])
        btc = await storage.latest(session, symbols=["BTC"])
        pairs = await storage.pairs(session)
    assert [(r.venue, r.symbol, r.funding_time) for r in everything] == [
        ("binance", "BTC", T0),
        ("hyperliquid", "BTC", T0 + 5 * HOUR),
        ("hyperliquid", "ETH", T0 + 2 * HOUR),
    ]
    assert everything[1].rate_per_interval == D("0.0005")
    assert [r.symbol for r in hyperliquid] == ["BTC", "ETH"]
    assert [r.venue for r in btc] == ["binance", "hyperliquid"]
    assert pairs == {"binance": ["BTC"], "hyperliquid": ["BTC", "ETH"]}


async def test_a_settled_rate_beats_an_estimate_and_unknown_figures_keep_stored_ones(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    live = record(
        rate="0.0002",
        mark_price=D("100"),
        open_interest_usd=D("5e6"),
        taker_fee=D("0.00045"),
        fee_source="published",
    )
    settled = record(rate="0.00015", source=SETTLED, observed_at=T0 + HOUR)
    await write(db_sessions, live)
    await write(db_sessions, settled)
    late_estimate = record(
        rate="0.5", source=ESTIMATE, observed_at=T0 + 2 * HOUR, mark_price=D("101")
    )
    await write(db_sessions, late_estimate)
    async with db_sessions() as session:
        [row] = await storage.history(session, "hyperliquid", "BTC", T0, T0 + HOUR)
        [latest] = await storage.latest(session)
    assert (row.rate_per_interval, row.hourly_rate, row.source) == (
        D("0.00015"),
        D("0.00015"),
        SETTLED,
    )
    assert row.mark_price == D("101")  # the newer figure is taken
    assert row.open_interest_usd == D("5e6")  # kept: the settled row did not know it
    assert (row.taker_fee, row.fee_source) == (D("0.00045"), "published")
    assert latest == row


async def test_retention_and_stale_cleanup(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    await write(db_sessions, *(record(hours=h) for h in range(48)))
    await write(db_sessions, record(symbol="DELISTED", hours=1))
    async with db_sessions.begin() as session:
        deleted = await storage.delete_history_before(session, T0 + 24 * HOUR)
    assert deleted == 24 + 1
    async with db_sessions() as session:
        remaining = await storage.history(session, "hyperliquid", "BTC", T0, T0 + 100 * HOUR)
        stale = await storage.stale(session, older_than=T0 + 10 * HOUR)
    assert remaining[0].funding_time == T0 + 24 * HOUR
    assert [(r.venue, r.symbol) for r in stale] == [("hyperliquid", "DELISTED")]
    async with db_sessions.begin() as session:
        dropped = await storage.delete_latest_observed_before(session, T0 + 10 * HOUR)
    assert dropped == 1
    async with db_sessions() as session:
        assert await storage.pairs(session) == {"hyperliquid": ["BTC"]}


async def test_many_rows_in_one_upsert(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    """More rows than one statement may bind parameters for (SQLite 32766, asyncpg 32767)."""
    rows = [record(symbol=f"S{i}", hours=h) for i in range(50) for h in range(60)]
    assert await write(db_sessions, *rows) == 3000
    assert await count(db_sessions) == 3000
    async with db_sessions() as session:
        assert len(await storage.latest(session)) == 50
