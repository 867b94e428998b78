"""The bot runtime in-process on real parts: start-up failures, the kill switch, the loop."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from bot_runtime.control import InvalidRequest, NotFound
from bot_runtime.controller import RuntimeControl
from bot_runtime.runtime import EXIT_FAILED, BotRuntime, RuntimeOptions
from database.engine import create_engine, session_maker
from database.models import Bot
from exchange_clients.paper import FaultPlan
from tests.bot_configs import paper_grid_yaml
from trading_config.loader import load_config

D = Decimal
GRID = paper_grid_yaml("runtime-grid", extra="risk:\n  max_drawdown_pct: 10\n")


def write(path: Path, text: str) -> None:
    path.write_text(text)


@pytest.fixture
def config_path(tmp_path: Path, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    path = tmp_path / "grid.yml"
    path.write_text(GRID)
    return path


async def test_a_venue_that_cannot_be_reached_stops_the_start_with_one_line(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    options = RuntimeOptions(
        str(config_path), paper_options={"faults": FaultPlan(disconnected=True)}
    )
    code = await BotRuntime(load_config(config_path), options).run()
    assert code == EXIT_FAILED
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["runtime-grid: cannot connect to paper: connection refused (fault injection)"]


async def test_the_kill_switch_cancels_flattens_and_stops(config_path: Path) -> None:
    runtime = BotRuntime(load_config(config_path), RuntimeOptions(str(config_path)))
    await runtime.start()
    try:
        assert runtime.stack is not None
        assert runtime.strategy is not None
        client = runtime.clients["paper"]
        await runtime.stack.executors["paper"].submit("BTC", "buy", D("0.002"))  # a position
        await runtime.strategy.execute_strategy()  # and the grid's resting entry
        await runtime.stack.trackers["paper"].flush()
        assert await client.position("BTC") is not None
        assert await client.open_orders()

        # Equity was twice what it is now: a 50 % drawdown against max_drawdown_pct 10.
        runtime.risk.update_equity(await runtime.equity() * 2)
        await asyncio.wait_for(runtime._loop(), 30)

        assert runtime.stopping.is_set()
        assert runtime.stop_reason is not None
        assert runtime.stop_reason.startswith("kill switch")
        assert runtime.risk.killed
        assert await client.open_orders() == []
        assert await client.position("BTC") is None
    finally:
        await runtime.shutdown()


async def test_the_control_surface_acts_through_the_execution_stack(config_path: Path) -> None:
    runtime = BotRuntime(load_config(config_path), RuntimeOptions(str(config_path)))
    await runtime.start()
    control = RuntimeControl(runtime)
    try:
        assert runtime.stack is not None
        client = runtime.clients["paper"]
        await runtime.stack.executors["paper"].submit("BTC", "buy", D("0.002"))
        [position] = await control.positions()
        assert (position.id, position.side, position.size) == (
            "paper:BTC",
            "long",
            D("0.002"),
        )

        with pytest.raises(NotFound, match="no open position 'paper:ETH'"):
            await control.close_position("paper:ETH", "market", confirm=False)
        closed = await control.close_position("paper:BTC", "market", confirm=False)
        assert closed.closed == D("0.002")
        assert await client.position("BTC") is None

        assert (await control.pause()).state == "paused"
        assert (await control.status()).state == "paused"
        await control.resume()
        assert (await control.status()).state == "running"

        pnl = await control.pnl()
        assert pnl.net == pnl.realized + pnl.unrealized + pnl.funding
        [balance] = await control.balances()
        assert balance.venue == "paper"

        write(config_path, GRID.replace("take_profit: 0.6", "take_profit: 0.8"))
        reloaded = await control.reload_config()
        assert reloaded.config["strategy"]["params"]["take_profit"] == "0.8"
        assert runtime.strategy is not None
        assert runtime.strategy.params.take_profit == D("0.8")  # used from the next step

        write(config_path, GRID.replace("ticker: BTC", "ticker: ETH"))
        with pytest.raises(InvalidRequest) as refused:
            await control.reload_config()
        assert refused.value.problems == [
            "strategy.params.ticker cannot change while the grid runs (restart the bot)"
        ]
        assert runtime.config.strategy.params.ticker == "BTC"  # type: ignore[attr-defined]

        assert (await control.stop()).state == "stopping"
        assert runtime.stopping.is_set()
    finally:
        await runtime.shutdown()


async def test_a_background_task_that_dies_stops_the_bot_with_a_failure(
    config_path: Path, migrated_db_url: str
) -> None:
    """Background work (heartbeat, fill readers) is supervised: a task that dies is not lost
    silently - the bot stops, records why, and exits 1 so supervisord restarts it."""
    runtime = BotRuntime(load_config(config_path), RuntimeOptions(str(config_path)))
    running = asyncio.create_task(runtime.run())
    for _ in range(600):
        if runtime.tasks.running >= 2:  # the loop's background work has started
            break
        await asyncio.sleep(0.05)
    assert runtime.tasks.running >= 2

    async def reader() -> None:
        raise RuntimeError("fill reader crashed")

    runtime.tasks.spawn(reader(), name="fill log:paper")
    assert await asyncio.wait_for(running, 60) == EXIT_FAILED
    engine = create_engine(migrated_db_url)
    try:
        async with session_maker(engine)() as session:
            bot = await session.scalar(select(Bot).where(Bot.name == "runtime-grid"))
    finally:
        await engine.dispose()
    assert bot is not None
    assert (bot.status, bot.status_detail) == (
        "crashed",
        "background task fill log:paper: RuntimeError: fill reader crashed",
    )
    assert runtime.tasks.running == 0  # nothing outlives the bot
