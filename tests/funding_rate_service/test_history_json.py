"""The history API's buckets as JSON text (queries.history_buckets_json): on PostgreSQL the
database writes them, elsewhere Python does; either way the text is exactly what
``HistoryBucketView`` makes of ``bucketize`` over the pair's rows - checked on both databases
for one-row buckets (PostgreSQL's fast path), several rows per bucket, and an hour holding two
rows (the fast path must notice and fall back)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from funding_rate_service import storage
from funding_rate_service.api_models import HistoryBucketView
from funding_rate_service.history import Resolution, bucketize
from funding_rate_service.queries import history_buckets_json
from tests.funding_rate_service.api_rig import record, write

Sessions = async_sessionmaker[AsyncSession]
START = datetime(2026, 2, 27, 20, tzinfo=UTC)
RATES = ["0.0001", "-0.00002", "0", "0.00010000", "1E-7", "-0.0000333", "0.0123456789012", "5"]
VIEWS = TypeAdapter(list[HistoryBucketView])


async def reference(sessions: Sessions, symbol: str, resolution: Resolution) -> str:
    async with sessions() as session:
        rows = await storage.history(
            session, "binance", symbol, START - timedelta(days=1), START + timedelta(days=3)
        )
    buckets = bucketize(rows, resolution)
    views = [
        HistoryBucketView(
            start=b.start,
            mean_hourly_rate=b.mean_hourly_rate,
            apr_pct=b.mean_hourly_rate * 876000,
            samples=b.samples,
        )
        for b in buckets
    ]
    return VIEWS.dump_json(views).decode()


@pytest.mark.parametrize("resolution", list(Resolution))
async def test_the_text_is_the_models_on_every_path(
    db_sessions: Sessions, resolution: Resolution
) -> None:
    hourly = [
        record("binance", "BTC", RATES[h % len(RATES)], interval=1, at=START + timedelta(hours=h))
        for h in range(40)
    ]
    # ETH: two rows in one hour (a settlement at :00 and one at :30), the rest hourly.
    doubled = [
        record("binance", "ETH", RATES[h % len(RATES)], interval=1, at=START + timedelta(hours=h))
        for h in range(10)
    ] + [record("binance", "ETH", "0.00007", interval=1, at=START + timedelta(minutes=150))]
    await write(db_sessions, hourly + doubled)
    for symbol in ("BTC", "ETH"):
        async with db_sessions() as session:
            text = await history_buckets_json(
                session,
                "binance",
                symbol,
                START - timedelta(days=1),
                START + timedelta(days=3),
                resolution,
            )
        assert text == await reference(db_sessions, symbol, resolution), symbol


async def test_no_rows_is_an_empty_array(db_sessions: Sessions) -> None:
    async with db_sessions() as session:
        text = await history_buckets_json(
            session, "binance", "NONE", START, START + timedelta(days=1), Resolution.HOUR
        )
    assert text == "[]"


async def test_a_naive_time_is_refused(db_sessions: Sessions) -> None:
    naive = datetime(2026, 1, 1)  # noqa: DTZ001 - the point of the test
    async with db_sessions() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("SQLite compares stored text; the refusal is PostgreSQL's path")
        with pytest.raises(ValueError, match="naive datetime refused"):
            await history_buckets_json(
                session, "binance", "BTC", naive, naive + timedelta(1), Resolution.HOUR
            )
