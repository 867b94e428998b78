"""The opportunity book is rebuilt after each collection (Collector.after_cycle ->
ServiceContext.warm), so the first request after a collection is answered from memory: the
real collector over paper_a and paper_b, the real app over httpx's ASGI transport, both
databases."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from funding_rate_service.api import ServiceContext, create_app
from funding_rate_service.collector import Collector
from funding_rate_service.queries import DatabaseReader
from funding_rate_service.settings import CollectionSettings

PAPER: dict[str, object] = {"store": None}
Sessions = async_sessionmaker[AsyncSession]


async def test_each_collection_leaves_a_warm_book(db_sessions: Sessions) -> None:
    settings = CollectionSettings(
        venues=("paper_a", "paper_b"), venue_options={"paper_a": PAPER, "paper_b": PAPER}
    )
    collector = Collector(settings, db_sessions)
    context = ServiceContext(DatabaseReader(db_sessions))
    collector.after_cycle = context.warm
    stop = asyncio.Event()
    collect_once = collector.collect_once

    async def collect_then_stop():  # type: ignore[no-untyped-def]
        result = await collect_once()
        stop.set()  # run() still calls after_cycle, then ends instead of waiting for a tick
        return result

    collector.collect_once = collect_then_stop  # type: ignore[method-assign]
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(context)), base_url="http://funding.test"
    )
    try:
        await asyncio.wait_for(collector.run(stop), 60)
        assert context._book is not None  # built by the cycle, before any request
        book = context._book[1]
        assert book.scanned() == {(Decimal(72), False), (Decimal(72), True)}
        # A bot asks for a 24 h hold.
        await client.get("/api/v1/opportunities", params={"hold_hours": "24"})
        assert (Decimal(24), False) in book.scanned()
        await collect_once()  # the next cycle, with its after_cycle
        await context.warm()
        # The second cycle rebuilt the book for the new set, with the hold asked for before.
        rebuilt = context._book[1]
        assert rebuilt is not book
        assert rebuilt.scanned() == {
            (Decimal(72), False),
            (Decimal(72), True),
            (Decimal(24), False),
        }
        version = context._book[0]
        answer = await client.get("/api/v1/opportunities", params={"hold_hours": "24"})
        assert answer.status_code == 200
        assert context._book[1] is rebuilt  # not rebuilt by the request
        assert context._book[0] == version
        # The warm answer is the one a cold service gives for the same set.
        cold = ServiceContext(DatabaseReader(db_sessions))
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(cold)), base_url="http://cold.test"
        ) as cold_client:
            expected = await cold_client.get("/api/v1/opportunities", params={"hold_hours": "24"})
        assert answer.json() == expected.json()
    finally:
        await client.aclose()
        await collector.aclose()
