"""Clearing a tripped kill switch on real bot processes: stopped (in the saved state, through
``python -m fleet reset-kill``) and running (through the control API), both audited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot_runtime.control_models import ErrorKind
from core.clock import SystemClock
from core.paths import VAR_DIR_ENV
from database.engine import create_engine, session_maker
from database.models import AuditLogEntry, Bot, StrategyState
from fleet import cli
from fleet.api import ControlRefused
from fleet.manager import FleetManager
from strategies.risk import RiskManager
from tests.fleet.conftest import eventually, write_config
from trading_config.schema import RiskConfig

D = Decimal
RISK = "risk:\n  max_drawdown_pct: 10\n"


@pytest.fixture
async def sessions(migrated_db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(migrated_db_url)
    try:
        yield session_maker(engine)
    finally:
        await engine.dispose()


async def trip_while_stopped(sessions: async_sessionmaker[AsyncSession], bot: str) -> None:
    """What a drawdown kill leaves in the saved state (the risk manager's own words): the
    bot's equity had been twice what it was when it stopped."""
    async with sessions.begin() as session:
        bot_id = await session.scalar(select(Bot.id).where(Bot.name == bot))
        row = await session.get(StrategyState, bot_id)
        assert row is not None
        risk = RiskManager(RiskConfig(max_drawdown_pct=D(10)), SystemClock(), bot=bot)
        risk.restore(row.state["risk"])
        equity = risk.state()["last_equity"]
        assert equity is not None
        risk.update_equity(equity * 2)
        assert risk.update_equity(equity) is not None
        row.state = {**row.state, "risk": risk.state()}


async def resets(sessions: async_sessionmaker[AsyncSession]) -> list[AuditLogEntry]:
    async with sessions() as session:
        query = select(AuditLogEntry).where(AuditLogEntry.action == "bot.kill_switch.reset")
        return list(await session.scalars(query.order_by(AuditLogEntry.id)))


async def test_a_stopped_bot_is_reset_from_the_cli_and_a_running_one_through_its_api(
    idle_fleet: FleetManager,
    sessions: async_sessionmaker[AsyncSession],
    migrated_db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fleet = idle_fleet
    await fleet.launch(write_config(tmp_path, "reset-a", extra=RISK))
    await fleet.stop("reset-a")
    await trip_while_stopped(sessions, "reset-a")

    # Stopped: the CLI clears the saved state, refusing first while the drawdown holds.
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    monkeypatch.setenv(VAR_DIR_ENV, str(fleet.layout.root))
    argv = ["reset-kill", "reset-a", "--reason", "venue checked, loss accepted"]
    assert await asyncio.to_thread(cli.main, argv) == 1
    err = capsys.readouterr().err
    assert "still holds: 50.00% from the peak equity" in err
    assert "add --force to clear it anyway" in err
    assert await resets(sessions) == []
    assert await asyncio.to_thread(cli.main, [*argv, "--force"]) == 0
    out = capsys.readouterr().out
    assert "reset-a: kill switch cleared (forced); entries are allowed again" in out
    [offline] = await resets(sessions)
    assert offline.target == "reset-a"
    assert offline.details["through"] == "saved_state"
    assert offline.details["reason"] == "venue checked, loss accepted"
    assert offline.details["kill_reason"].startswith("drawdown 50")

    await fleet.restart("reset-a")
    status = await fleet.control("reset-a").status()
    assert not status.risk.killed

    # Running with a kill restored from its state: entries refused until the API reset.
    await fleet.stop("reset-a")
    await trip_while_stopped(sessions, "reset-a")
    await fleet.restart("reset-a")
    control = fleet.control("reset-a")
    status = await control.status()
    assert status.risk.killed
    assert status.risk.kill_reason is not None
    with pytest.raises(ControlRefused) as refused:
        await fleet.reset_kill("reset-a", "again", actor="ops")
    assert refused.value.kind is ErrorKind.NEEDS_CONFIRMATION
    result = await fleet.reset_kill("reset-a", "again, accepted", force=True, actor="ops")
    assert result.forced
    assert not (await control.status()).risk.killed

    async def entries() -> Any:
        return [order for order in await control.orders() if order.side == "buy"]

    await eventually(entries, "the grid's entries after the reset")
    online = (await resets(sessions))[-1]
    assert (online.actor, online.details["through"]) == ("ops", "control_api")

    with pytest.raises(ControlRefused) as twice:
        await fleet.reset_kill("reset-a", "nothing to do", actor="ops")
    assert twice.value.kind is ErrorKind.CONFLICT
