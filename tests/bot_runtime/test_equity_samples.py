"""A bot samples its own equity into ``pnl_snapshots`` - when it starts trading and when it
stops (and every SAMPLE_SECONDS between) - so its ``/stats`` has a curve with no Telegram
watcher or dashboard running; a sample carries the open positions' unrealized PnL."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from bot_runtime.bot_stats import bot_stats
from bot_runtime.equity_samples import record_sample
from bot_runtime.runtime import EXIT_OK, BotRuntime, RuntimeOptions
from database.engine import create_engine, session_maker
from database.models import Bot, PnlSnapshot
from tests.bot_configs import paper_grid_yaml
from trading_config.loader import load_config

D = Decimal
NAME = "sampled-grid"


@pytest.fixture
def config_path(tmp_path: Path, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    path = tmp_path / "grid.yml"
    path.write_text(paper_grid_yaml(NAME))
    return path


async def _samples(url: str) -> list[PnlSnapshot]:
    engine = create_engine(url)
    try:
        async with session_maker(engine)() as session:
            query = (
                select(PnlSnapshot)
                .join(Bot, Bot.id == PnlSnapshot.bot_id)
                .where(Bot.name == NAME)
                .order_by(PnlSnapshot.ts, PnlSnapshot.id)
            )
            return list(await session.scalars(query))
    finally:
        await engine.dispose()


async def test_a_bot_samples_its_equity_when_it_starts_and_when_it_stops(
    config_path: Path, migrated_db_url: str
) -> None:
    runtime = BotRuntime(load_config(config_path), RuntimeOptions(str(config_path)))
    running = asyncio.create_task(runtime.run())
    try:
        for _ in range(600):
            if await _samples(migrated_db_url):
                break
            await asyncio.sleep(0.05)
        [first] = await _samples(migrated_db_url)
        assert first.equity > 0
        stats = await bot_stats(runtime)  # the bot's own sample plus the equity now
        assert stats.equity_points == 2
        assert stats.starting_equity == first.equity.quantize(D("0.000001"))
    finally:
        runtime.request_stop("test over")
        assert await asyncio.wait_for(running, 60) == EXIT_OK
    samples = await _samples(migrated_db_url)
    assert len(samples) == 2  # started, stopped (the next periodic one is minutes away)
    assert samples[0].id == first.id
    assert samples[1].ts >= first.ts


async def test_a_sample_holds_the_open_positions_pnl(
    config_path: Path, migrated_db_url: str
) -> None:
    runtime = BotRuntime(load_config(config_path), RuntimeOptions(str(config_path)))
    await runtime.start()
    try:
        assert runtime.stack is not None
        assert runtime.sessions is not None
        assert runtime.bot_id is not None
        await runtime.stack.executors["paper"].submit("BTC", "buy", D("0.002"))
        client = runtime.clients["paper"]
        position = await client.position("BTC")
        assert position is not None
        sample = await record_sample(runtime.sessions, runtime.bot_id, runtime.clients, D("1.5"))
        balance = await client.balance()
        assert (sample.equity, sample.realized) == (balance.equity, D("1.5"))
        assert (sample.unrealized, sample.funding) == (
            position.unrealized_pnl,
            position.accrued_funding,
        )
    finally:
        await runtime.shutdown()
