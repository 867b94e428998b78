"""Shared by the API tests: rows written through the storage's upsert, and an HTTP client on
the real app (httpx over ASGI: the full FastAPI stack, no server socket)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import ManualClock
from funding_rate_service import storage
from funding_rate_service.api import ServiceContext, create_app
from funding_rate_service.queries import DatabaseReader
from funding_rate_service.status import StatusSource
from funding_rate_service.storage import FundingRecord

D = Decimal
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def record(
    venue: str,
    symbol: str,
    rate: str,
    *,
    interval: int = 8,
    at: datetime = NOW,
    mark: str | None = "100",
    volume: str | None = "5000000",
    oi: str | None = "2000000",
    taker: str | None = "0.0005",
    maker: str | None = None,
) -> FundingRecord:
    return FundingRecord(
        venue=venue,
        symbol=symbol,
        funding_time=at,
        rate_per_interval=D(rate),
        interval_hours=D(interval),
        hourly_rate=D(rate) / interval,
        observed_at=at - timedelta(minutes=1),
        mark_price=None if mark is None else D(mark),
        volume_24h_usd=None if volume is None else D(volume),
        open_interest_usd=None if oi is None else D(oi),
        taker_fee=None if taker is None else D(taker),
        maker_fee=None if maker is None else D(maker),
        next_funding_time=at,
    )


async def write(sessions: async_sessionmaker[AsyncSession], records: list[FundingRecord]) -> None:
    async with sessions.begin() as session:
        await storage.upsert(session, records)


@asynccontextmanager
async def api_client(
    sessions: async_sessionmaker[AsyncSession],
    *,
    status: StatusSource | None = None,
    token_hash: str | None = None,
    now: datetime = NOW,
) -> AsyncIterator[httpx.AsyncClient]:
    context = ServiceContext(DatabaseReader(sessions), status, clock=ManualClock(now))
    app = create_app(context, token_hash=token_hash)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://funding.test") as client:
        yield client
