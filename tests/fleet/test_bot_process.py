"""One bot process as the fleet relies on it (issue 14 items 6, 7, 9; issue 13 item 13): the
runtime in-process and ``runbot.py`` as a subprocess, on a paper venue, on SQLite and
PostgreSQL. The lease keeps a bot name to one process; a bot that gives up says so with its
exit status, its row and an alert; a failed start never leaves its row ``starting``."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot_runtime.runtime import (
    EXIT_FAILED,
    EXIT_GAVE_UP,
    EXIT_NAME_IN_USE,
    BotRuntime,
    RuntimeOptions,
)
from database.engine import create_engine, session_maker
from database.models import Order as OrderRow
from database.models.bots import BotLease
from exchange_clients.paper import FaultPlan
from telegram_bot_service import users
from telegram_bot_service.bot_alerts import telegram_alerts
from telegram_bot_service.roles import Role
from testing.fakes.telegram_api import FakeTelegramServer
from tests.bot_configs import paper_grid_yaml
from tests.fleet.conftest import eventually, registry
from tests.helpers import run_cli
from trading_config.loader import load_config

TELEGRAM_TOKEN = "7000000003:AAE-perpfleet-giveup-token-0123456789abcd"
SUBSCRIBER = 4343


@pytest.fixture
def config_path(tmp_path: Path, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    path = tmp_path / "lease-grid.yml"
    path.write_text(paper_grid_yaml("lease-grid"))
    return path


@pytest.fixture
async def running(config_path: Path) -> AsyncIterator[BotRuntime]:
    runtime = BotRuntime(load_config(config_path), RuntimeOptions(str(config_path)))
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.shutdown()


async def test_a_second_process_with_the_same_name_refuses_in_one_line(
    running: BotRuntime, config_path: Path, migrated_db_url: str, tmp_path: Path
) -> None:
    second = run_cli(
        ["runbot.py", "--config", str(config_path)],
        tmp_path / "var",
        {"DATABASE_URL": migrated_db_url},
    )
    assert second.returncode == EXIT_NAME_IN_USE, second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, second.stderr
    assert lines[0].startswith(
        f"lease-grid is already running on host {socket.gethostname()} as pid {os.getpid()} "
    )
    # In-process too; and the first one's row is left alone.
    other = BotRuntime(load_config(config_path), RuntimeOptions(str(config_path)))
    assert await other.run() == EXIT_NAME_IN_USE
    assert (await registry(migrated_db_url))["lease-grid"].status == "running"
    assert running.lease is not None
    assert await running.lease.renew()


async def test_a_lease_taken_over_stops_the_bot_without_touching_orders(
    running: BotRuntime, migrated_db_url: str
) -> None:
    assert running.stack is not None
    assert running.strategy is not None
    client = running.clients["paper"]
    resting = []
    for _ in range(20):  # the grid's resting entry (the moving market may fill one at once)
        await running.strategy.execute_strategy()
        await running.stack.trackers["paper"].flush()
        resting = await client.open_orders()
        if resting:
            break
    assert resting
    bot_id = running.bot_id
    # Another host took the name over (this process had lost the database past the TTL).
    engine = create_engine(migrated_db_url)
    async with session_maker(engine).begin() as session:
        await session.execute(
            update(BotLease)
            .where(BotLease.bot_name == "lease-grid")
            .values(fencing_token=BotLease.fencing_token + 1, holder_host="elsewhere")
        )
    await engine.dispose()
    await running._heartbeat()
    assert running.stopping.is_set()
    assert running.stop_reason == "lease lost"
    await running.shutdown()
    engine = create_engine(migrated_db_url)
    async with session_maker(engine)() as session:
        journal = {
            row.client_order_id: row.status
            for row in await session.scalars(select(OrderRow).where(OrderRow.bot_id == bot_id))
        }
    await engine.dispose()
    # Untouched: nothing cancelled. (The synthetic market keeps moving meanwhile, so a resting
    # entry may have filled on its own: that is the venue's doing, not the stopping bot's.)
    statuses = {order.client_order_id: journal[order.client_order_id] for order in resting}
    assert set(statuses.values()) <= {"open", "partially_filled", "filled"}, statuses


async def test_a_failed_start_is_recorded_not_left_starting(
    config_path: Path, migrated_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    options = RuntimeOptions(
        str(config_path), paper_options={"faults": FaultPlan(disconnected=True)}
    )
    assert await BotRuntime(load_config(config_path), options).run() == EXIT_FAILED
    bot = (await registry(migrated_db_url))["lease-grid"]
    assert bot.status == "crashed"
    assert bot.status_detail == (
        "start failed: cannot connect to paper: connection refused (fault injection)"
    )
    # ... and the name is free again.
    again = BotRuntime(load_config(config_path), RuntimeOptions(str(config_path)))
    await again.start()
    await again.shutdown()
    bot = (await registry(migrated_db_url))["lease-grid"]
    assert bot.status == "stopped"


async def test_a_bot_that_gives_up_exits_3_records_why_and_alerts(
    config_path: Path, migrated_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = FakeTelegramServer(TELEGRAM_TOKEN)
    await server.start()
    try:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TELEGRAM_TOKEN)
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", f"http://127.0.0.1:{server.port}")
        server.private_chat(SUBSCRIBER)
        engine = create_engine(migrated_db_url)
        async with session_maker(engine).begin() as session:
            await users.add_user(session, SUBSCRIBER, Role.VIEWER)
        async with session_maker(engine).begin() as session:
            await users.subscribe(session, SUBSCRIBER, ["bot_crash"])
        await engine.dispose()

        runtime = BotRuntime(
            load_config(config_path), RuntimeOptions(str(config_path), alerts=telegram_alerts)
        )
        task = asyncio.create_task(runtime.run())

        async def trading() -> bool:
            # The loop runs once its background work is up (start() has finished): a venue
            # lost before that is a failed start (exit 1), not twenty failed steps.
            return runtime.tasks.running >= 2

        await eventually(trading, "the bot to start", seconds=60)
        assert runtime.strategy is not None
        runtime.strategy.interval_seconds = 0.01  # twenty failed steps without the wait
        runtime.clients["paper"].faults.disconnected = True  # type: ignore[attr-defined]
        assert await asyncio.wait_for(task, 60) == EXIT_GAVE_UP
        bot = (await registry(migrated_db_url))["lease-grid"]
        assert (bot.status, bot.status_detail) == (
            "crashed",
            "gave up: 20 strategy steps failed in a row",
        )
        alert = await server.wait_for(
            lambda call: call.method == "sendMessage" and "gave up" in call.text,
            what="the give-up alert",
        )
        assert alert.text == "Bot lease-grid gave up: 20 strategy steps failed in a row."
    finally:
        await server.stop()


def test_a_control_token_file_others_can_read_is_refused(
    config_path: Path, migrated_db_url: str, tmp_path: Path
) -> None:
    token = tmp_path / "bot.token"
    token.write_text("t" * 43)
    token.chmod(0o644)
    result = run_cli(
        ["runbot.py", "--config", str(config_path), "--enable-control-api"],
        tmp_path / "var",
        {"DATABASE_URL": migrated_db_url, "PERPFLEET_CONTROL_TOKEN_FILE": str(token)},
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"{token}: control token file is readable by others (mode 0644): chmod 600 {token}"
    )
