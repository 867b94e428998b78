"""Equity sampling into pnl_snapshots: running bots not sampled within the interval, from
their control APIs; the app runs it in the background when asked to."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from dashboard.app import create_app
from dashboard.sampler import sample_once
from database.models import Bot, PnlSnapshot
from database.types import utcnow
from tests.dashboard.conftest import Dashboard, served


async def _register(dashboard: Dashboard, *names: str) -> None:
    async with dashboard.sessions() as session, session.begin():
        session.add_all(Bot(name=name, config={}) for name in names)


async def _snapshots(dashboard: Dashboard) -> list[tuple[str, Decimal]]:
    async with dashboard.sessions() as session:
        rows = await session.execute(
            select(Bot.name, PnlSnapshot.equity)
            .join(Bot, Bot.id == PnlSnapshot.bot_id)
            .order_by(PnlSnapshot.id)
        )
        return [(name, equity) for name, equity in rows]


async def test_running_bots_are_sampled_once_per_interval(dashboard: Dashboard) -> None:
    await _register(dashboard, "grid-a", "grid-b")
    dashboard.fleet.set_state("grid-b", "STOPPED")
    equity = (await dashboard.fleet.bots["grid-a"].control.status()).equity
    assert await sample_once(dashboard.services, 300) == ["grid-a"]
    assert await _snapshots(dashboard) == [("grid-a", equity)]
    assert await sample_once(dashboard.services, 300) == []  # sampled within the interval
    async with dashboard.sessions() as session, session.begin():
        snapshot = await session.scalar(select(PnlSnapshot))
        assert snapshot is not None
        snapshot.ts = utcnow() - timedelta(seconds=301)  # as if sampled long ago
    assert await sample_once(dashboard.services, 300) == ["grid-a"]


async def test_a_bot_the_database_does_not_know_is_skipped(dashboard: Dashboard) -> None:
    assert await sample_once(dashboard.services, 300) == []
    assert await _snapshots(dashboard) == []


async def test_the_app_samples_in_the_background_when_asked(dashboard: Dashboard) -> None:
    await _register(dashboard, "grid-a", "grid-b")
    dashboard.services.sample_seconds = 10
    async with served(create_app(dashboard.services)):
        async with asyncio.timeout(30):
            while len(await _snapshots(dashboard)) < 2:  # noqa: ASYNC110 - a database row
                await asyncio.sleep(0.1)
    assert sorted(name for name, _ in await _snapshots(dashboard)) == ["grid-a", "grid-b"]
