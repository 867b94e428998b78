"""A bot whose paper venue's market data feed dies notices, says why, and stops.

The paper client runs its feed consumer under its task supervisor: the death is logged by
name at once and every request after it raises ``VenueUnavailable`` naming the dead feed (the
prices it would match against cannot be trusted). The runtime's strategy loop counts those as
failed steps and, after ``MAX_CONSECUTIVE_ERRORS`` in a row, gives up: exit code
``EXIT_GAVE_UP``, the bot's row saying why - never trading on a frozen book.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

import bot_runtime.runtime as runtime_module
from bot_runtime.runtime import EXIT_GAVE_UP, BotRuntime, RuntimeOptions
from core.clock import SystemClock
from database.engine import create_engine, session_maker
from database.models import Bot
from exchange_clients.market_data.events import BookSnapshotEvent, MarketEvent
from exchange_clients.market_data.synthetic import SyntheticFeed, SyntheticMarket
from exchange_clients.types import FundingRate, Market
from tests.bot_configs import paper_grid_yaml
from trading_config.loader import load_config


class BreakableFeed:
    """The seeded synthetic market, whose stream raises once ``broken`` is set (the feed's
    socket reader hit something it could not parse, say)."""

    def __init__(self) -> None:
        self._inner = SyntheticFeed(SyntheticMarket(7, venue="paper"), SystemClock())
        self.broken = asyncio.Event()

    @property
    def venue(self) -> str:
        return self._inner.venue

    def markets(self) -> dict[str, Market]:
        return self._inner.markets()

    def snapshot(self, symbol: str) -> BookSnapshotEvent:
        return self._inner.snapshot(symbol)

    def funding(self, symbol: str) -> FundingRate:
        return self._inner.funding(symbol)

    async def events(self) -> AsyncIterator[MarketEvent]:
        events = self._inner.events()
        try:
            async for event in events:
                if self.broken.is_set():
                    raise ValueError("unparseable market data frame")
                yield event
        finally:
            await events.aclose()  # type: ignore[attr-defined]


@pytest.fixture
def config_path(tmp_path: Path, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    path = tmp_path / "grid.yml"
    path.write_text(paper_grid_yaml("feed-dies"))
    return path


async def test_a_bot_whose_paper_feed_dies_gives_up_saying_why(
    config_path: Path, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runtime_module, "MAX_CONSECUTIVE_ERRORS", 3)  # not 20 steps of 1 s
    feed = BreakableFeed()
    options = RuntimeOptions(str(config_path), paper_options={"feed": feed})
    runtime = BotRuntime(load_config(config_path), options)
    with capture_logs() as logs:
        running = asyncio.create_task(runtime.run())
        for _ in range(600):
            if runtime.tasks.running >= 2:  # the loop's background work has started
                break
            await asyncio.sleep(0.05)
        assert runtime.strategy is not None
        runtime.strategy.interval_seconds = 0.05
        feed.broken.set()
        assert await asyncio.wait_for(running, 60) == EXIT_GAVE_UP
    dead = [e for e in logs if e["event"] == "background task failed"]
    assert [(e["component"], e["task"]) for e in dead] == [("paper", "feed")]
    step_errors = [e["error"] for e in logs if e["event"] == "venue error in the strategy step"]
    assert len(step_errors) >= 3
    assert all("the market data feed failed: ValueError('unparseable" in e for e in step_errors)
    assert runtime.gave_up == "3 strategy steps failed in a row"
    engine = create_engine(migrated_db_url)
    try:
        async with session_maker(engine)() as session:
            bot = await session.scalar(select(Bot).where(Bot.name == "feed-dies"))
    finally:
        await engine.dispose()
    assert bot is not None
    assert bot.status_detail is not None
    assert "3 strategy steps failed in a row" in bot.status_detail
    assert runtime.tasks.running == 0
