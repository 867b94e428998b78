"""The fleet with a real supervisord in a temporary directory and real paper bots."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from database.engine import create_engine, session_maker
from database.models import Bot
from database.models import Order as OrderRow
from fleet.api import BotInfo, FleetError
from fleet.cli import format_table
from fleet.manager import FleetManager
from tests.bot_configs import paper_grid_yaml
from tests.fleet.conftest import eventually, registry, write_config


@pytest.fixture
async def fleet(migrated_db_url: str) -> AsyncIterator[FleetManager]:
    # A short path: supervisord's unix socket path must fit in ~100 characters.
    root = Path(tempfile.mkdtemp(prefix="pf-fleet-", dir="/tmp"))
    manager = FleetManager(root / "var", database_url=migrated_db_url)
    await manager.up()
    try:
        yield manager
    finally:
        await manager.down()
        shutil.rmtree(root, ignore_errors=True)


async def resting_orders(url: str, bot: Bot) -> list[str]:
    engine = create_engine(url)
    try:
        async with session_maker(engine)() as session:
            rows = await session.scalars(
                select(OrderRow).where(
                    OrderRow.bot_id == bot.id,
                    OrderRow.status.in_(("open", "partially_filled", "pending_cancel")),
                )
            )
            return [row.client_order_id for row in rows]
    finally:
        await engine.dispose()


async def test_two_bots_stop_one_kill_the_other_and_it_comes_back(
    fleet: FleetManager, migrated_db_url: str, tmp_path: Path
) -> None:
    first = await fleet.launch(write_config(tmp_path, "fleet-a"))
    second = await fleet.launch(write_config(tmp_path, "fleet-b"))
    assert (first.state, second.state) == ("RUNNING", "RUNNING")
    assert first.control_port != second.control_port
    for name in ("fleet-a", "fleet-b"):
        status = await fleet.control(name).status()
        assert (status.name, status.state) == (name, "running")

    async def has_orders() -> Any:
        return await fleet.control("fleet-a").orders()

    await eventually(has_orders, "fleet-a's first order")
    stopped = await fleet.stop("fleet-a")
    assert stopped.state == "STOPPED"
    bots = await registry(migrated_db_url)
    assert bots["fleet-a"].status == "stopped"
    assert await resting_orders(migrated_db_url, bots["fleet-a"]) == []  # cancelled on SIGINT

    pid = second.pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)

    async def restarted() -> BotInfo | None:
        info = await fleet.status("fleet-b")
        return info if info.running and info.pid not in (None, pid) else None

    back = await eventually(restarted, "supervisord to restart fleet-b")
    assert back.pid != pid

    async def answers() -> Any:
        try:
            return await fleet.control("fleet-b").status()
        except FleetError:
            return None

    await eventually(answers, "fleet-b's control API after the restart")
    assert "strategy state restored" in await fleet.logs("fleet-b", 400)

    listed = {info.name: info.state for info in await fleet.list_bots()}
    assert listed == {"fleet-a": "STOPPED", "fleet-b": "RUNNING"}
    await fleet.reconcile()
    bots = await registry(migrated_db_url)
    assert {name: bot.status for name, bot in bots.items()} == {
        "fleet-a": "stopped",
        "fleet-b": "running",
    }
    assert "fleet-b  RUNNING" in format_table(await fleet.list_bots())


async def test_launching_a_bad_config_is_refused_with_its_problems(
    fleet: FleetManager, tmp_path: Path
) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(paper_grid_yaml("fleet-bad", take_profit="-1"))
    with pytest.raises(FleetError, match=r"invalid config: .*take_profit"):
        await fleet.launch(str(path))
    assert await fleet.list_bots() == []


async def test_stop_with_close_flattens_positions_first(
    fleet: FleetManager, migrated_db_url: str, tmp_path: Path
) -> None:
    await fleet.launch(write_config(tmp_path, "fleet-close"))

    async def has_position() -> Any:
        return await fleet.control("fleet-close").positions()

    await eventually(has_position, "a filled grid entry", seconds=120)
    stopped = await fleet.stop("fleet-close", close_positions=True)
    assert stopped.state == "STOPPED"
    bot = (await registry(migrated_db_url))["fleet-close"]
    engine = create_engine(migrated_db_url)
    try:
        async with session_maker(engine)() as session:
            closes = list(
                await session.scalars(
                    select(OrderRow).where(
                        OrderRow.bot_id == bot.id, OrderRow.purpose == "close_all"
                    )
                )
            )
    finally:
        await engine.dispose()
    assert closes
    assert all(row.reduce_only and row.status == "filled" for row in closes)
