"""The fleet guard on a real fleet: supervisord, paper bots as processes, their control APIs.

Losses are real equity the bots report: a paper bot's venue account loses money (its wallet
is booked down on the paper venue, which the bot reads back when it starts: the synthetic
market is a function of seed and time, so a bot process's prices cannot be steered from a
test), and the guard sees it through the bot's control API like any loss.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import ConfigError
from database.engine import create_engine, session_maker
from database.models import AuditLogEntry
from database.models.paper import PaperAccount, PaperPosition
from fleet import cli
from fleet.guard import FleetGuard, GuardState, load_state
from fleet.guard_config import GuardConfig, GuardLimits
from fleet.manager import FleetManager
from tests.fleet.conftest import eventually, write_config

D = Decimal


@pytest.fixture
async def sessions(migrated_db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(migrated_db_url)
    try:
        yield session_maker(engine)
    finally:
        await engine.dispose()


async def book_a_loss(
    fleet: FleetManager, sessions: async_sessionmaker[AsyncSession], bot: str, usd: str
) -> None:
    """``bot``'s paper account loses ``usd`` while it is stopped; it runs again after."""
    await fleet.stop(bot)
    async with sessions.begin() as session:
        await session.execute(
            update(PaperAccount)
            .where(PaperAccount.venue == "paper", PaperAccount.name == f"paper:{bot}")
            .values(wallet=PaperAccount.wallet - D(usd))
        )
    await fleet.restart(bot)


async def audit(sessions: async_sessionmaker[AsyncSession], action: str) -> list[AuditLogEntry]:
    async with sessions() as session:
        return list(
            await session.scalars(select(AuditLogEntry).where(AuditLogEntry.action == action))
        )


async def test_an_accounts_daily_loss_pauses_every_bot_until_reset(
    idle_fleet: FleetManager,
    sessions: async_sessionmaker[AsyncSession],
    migrated_db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fleet = idle_fleet
    for name in ("guard-a", "guard-b"):
        await fleet.launch(write_config(tmp_path, name))
    config = GuardConfig(action="pause", per_account=GuardLimits(daily_loss_usd=D(50)))
    guard = FleetGuard(fleet, config, sessions)

    first = await guard.check_once()
    assert first.tripped is None
    assert sorted(first.accounts) == ["paper/paper:guard-a", "paper/paper:guard-b"]
    assert first.bots == {"guard-a": "watched", "guard-b": "watched"}
    before = first.accounts["paper/paper:guard-a"].equity

    await book_a_loss(fleet, sessions, "guard-a", "120")
    tripped = await guard.check_once()
    assert tripped.tripped is not None
    assert tripped.tripped.reason.startswith("account paper/paper:guard-a: daily loss 1")
    assert "reached the 50 USD limit" in tripped.tripped.reason
    assert tripped.accounts["paper/paper:guard-a"].equity < before - 100
    assert tripped.bots == {"guard-a": "paused", "guard-b": "paused"}
    for name in ("guard-a", "guard-b"):
        assert (await fleet.control(name).status()).state == "paused"
    [trip] = await audit(sessions, "fleet.guard.trip")
    assert (trip.actor, trip.details["action"]) == ("fleet-guard", "pause")

    # An operator resumes a bot: the tripped guard pauses it again at its next look.
    await fleet.control("guard-b").resume()
    again = await guard.check_once()
    assert again.bots["guard-b"] == "paused"
    assert (await fleet.control("guard-b").status()).state == "paused"
    assert len(await audit(sessions, "fleet.guard.trip")) == 1  # one trip, one audit row

    # Visible from the fleet CLI, and cleared there (audited). (In a thread: the CLI runs its
    # own event loop, as it does in a shell.)
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    assert await asyncio.to_thread(cli.main, ["guard", "status"]) == 0
    shown = capsys.readouterr().out
    assert "fleet guard: TRIPPED" in shown
    assert "account paper/paper:guard-a: daily loss" in shown
    assert "bot guard-b: paused" in shown
    assert (
        await asyncio.to_thread(
            cli.main, ["guard", "reset", "--reason", "loss booked by hand in the test"]
        )
        == 0
    )
    assert "fleet guard reset" in capsys.readouterr().out
    [reset] = await audit(sessions, "fleet.guard.reset")
    assert reset.details["reason"] == "loss booked by hand in the test"
    assert await asyncio.to_thread(cli.main, ["guard", "reset", "--reason", "twice"]) == 2
    assert "not tripped" in capsys.readouterr().err

    # Reset: the day starts afresh from the equity now; the bots stay paused until resumed.
    after = await guard.check_once()
    assert after.tripped is None
    assert after.bots == {"guard-a": "watched", "guard-b": "watched"}


async def test_a_total_drawdown_with_the_kill_action_flattens_and_stops_every_bot(
    idle_fleet: FleetManager,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    fleet = idle_fleet
    for name in ("guard-k", "guard-l"):
        await fleet.launch(write_config(tmp_path, name))

    async def a_position() -> Any:
        return await fleet.control("guard-k").positions()

    await eventually(a_position, "guard-k's first fill")
    # Total equity is two fresh paper wallets: 0.5 % of it is well under the 300 USD loss.
    config = GuardConfig(action="kill", total=GuardLimits(max_drawdown_pct=D("0.5")))
    guard = FleetGuard(fleet, config, sessions)
    assert (await guard.check_once()).tripped is None

    await book_a_loss(fleet, sessions, "guard-l", "300")
    state: GuardState = await guard.check_once()
    assert state.tripped is not None
    assert state.tripped.reason.startswith("fleet total: drawdown ")
    assert state.bots == {
        "guard-k": "stopped, positions closed",
        "guard-l": "stopped, positions closed",
    }
    for name in ("guard-k", "guard-l"):
        info = await fleet.status(name)
        assert (info.state, info.desired_state) == ("STOPPED", "stopped")
    async with sessions() as session:
        sizes = await session.scalars(
            select(PaperPosition.size)
            .join(PaperAccount, PaperAccount.id == PaperPosition.account_id)
            .where(PaperAccount.name.in_(("paper:guard-k", "paper:guard-l")))
        )
        assert all(size == 0 for size in sizes)
    async with sessions() as session:
        saved = await load_state(session)
    assert saved is not None
    assert saved.tripped is not None
    assert saved.settings == (
        "action kill, every 30 s; limits: total drawdown 0.5%; per account none"
    )


async def test_the_guard_runs_under_supervisord_and_comes_back_with_up(
    idle_fleet: FleetManager,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    fleet = idle_fleet
    await fleet.launch(write_config(tmp_path, "guard-s"))
    guard_file = tmp_path / "fleet_guard.yml"
    guard_file.write_text("interval_seconds: 1\ntotal:\n  daily_loss_usd: 1000\n")
    assert await fleet.start_guard(str(guard_file)) in ("STARTING", "RUNNING")

    async def looked(after: Any = None) -> GuardState | None:
        async with sessions() as session:
            state = await load_state(session)
        if state is None or state.bots.get("guard-s") != "watched":
            return None
        return state if after is None or state.checked_at != after else None

    first = await eventually(looked, "the guard program's first look")
    assert (
        first.settings
        == "action pause, every 1 s; limits: total daily loss 1000 USD; per account none"
    )
    second = await eventually(lambda: looked(first.checked_at), "its next look, a second later")
    assert second.checked_at is not None
    assert first.checked_at is not None
    assert second.checked_at > first.checked_at

    await fleet.down()
    await fleet.up()
    info = await fleet.rpc.call("getProcessInfo", "fleet-guard")
    assert info["statename"] in ("STARTING", "RUNNING")

    bad = tmp_path / "bad_guard.yml"
    bad.write_text("action: explode\n")
    with pytest.raises(ConfigError) as refused:
        await fleet.start_guard(str(bad))
    assert "action" in refused.value.problems[0]
