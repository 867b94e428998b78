"""Retention and stale data on both databases: what each setting removes or reports, and a
failing run recorded in the job status instead of stopping the service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from database.engine import create_engine, session_maker
from funding_rate_service import storage
from funding_rate_service.jobs import Housekeeping, apply_retention, stale_pairs
from funding_rate_service.settings import CollectionSettings
from funding_rate_service.storage import FundingRecord

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def row(symbol: str, funding_time: datetime, observed_at: datetime) -> FundingRecord:
    rate = Decimal("0.0001")
    return FundingRecord("binance", symbol, funding_time, rate, Decimal(8), rate / 8, observed_at)


async def seed(sessions: async_sessionmaker[AsyncSession]) -> None:
    rows = [row("BTC", NOW - d * DAY, NOW - d * DAY) for d in range(0, 40)]
    rows.append(row("GONE", NOW - 10 * DAY, NOW - 10 * DAY))
    rows.append(row("LATE", NOW, NOW - timedelta(minutes=5)))
    async with sessions.begin() as session:
        await storage.upsert(session, rows)


async def test_retention_deletes_old_history_and_forgets_long_stale_pairs(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed(db_sessions)
    settings = CollectionSettings(venues=("binance",), retention_days=30, stale_drop_days=7)
    assert await apply_retention(db_sessions, settings, NOW) == {
        "history_deleted": 9,  # BTC days 31..39 (GONE is 10 days old: its history stays)
        "latest_dropped": 1,  # GONE, unseen for 10 days
    }
    async with db_sessions() as session:
        btc = await storage.history(session, "binance", "BTC", NOW - 100 * DAY, NOW + DAY)
        assert await storage.pairs(session) == {"binance": ["BTC", "LATE"]}
    assert min(r.funding_time for r in btc) == NOW - 30 * DAY


async def test_zero_keeps_everything(db_sessions: async_sessionmaker[AsyncSession]) -> None:
    await seed(db_sessions)
    settings = CollectionSettings(venues=("binance",), retention_days=0, stale_drop_days=0)
    assert await apply_retention(db_sessions, settings, NOW) == {
        "history_deleted": 0,
        "latest_dropped": 0,
    }


async def test_stale_pairs_are_those_unseen_for_three_intervals(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed(db_sessions)
    settings = CollectionSettings(venues=("binance",), interval_seconds=60)
    report = await stale_pairs(db_sessions, settings, NOW)
    assert report.threshold == NOW - timedelta(minutes=3)
    assert report.venues == {"binance": ["GONE", "LATE"]}
    relaxed = CollectionSettings(venues=("binance",), stale_after_seconds=600)
    assert (await stale_pairs(db_sessions, relaxed, NOW)).venues == {"binance": ["GONE"]}


async def test_a_failed_run_is_recorded_not_raised(tmp_path: object) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/empty.db")  # no tables
    try:
        jobs = Housekeeping(CollectionSettings(), session_maker(engine), clock=lambda: NOW)
        status = await jobs.run_once()
    finally:
        await engine.dispose()
    assert (status.runs, status.last_run_at) == (1, NOW)
    assert status.last_error is not None
    assert "funding_rates" in status.last_error
