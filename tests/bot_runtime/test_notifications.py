"""A running bot pushes its fills and atomic failures to Telegram subscribers itself.

The bot runtime in-process on a paper venue, the real python-telegram-bot client, and the fake
Bot API server; the subscriber is a real allowlisted user in the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from bot_runtime.runtime import BotRuntime, RuntimeOptions
from database.engine import create_engine, session_maker
from execution.atomic import AtomicResult, AtomicStatus, Leg, LegResult
from telegram_bot_service import users
from telegram_bot_service.bot_alerts import telegram_alerts
from telegram_bot_service.roles import Role
from testing.fakes.telegram_api import FakeTelegramServer
from tests.bot_runtime.test_runtime import GRID, write
from trading_config.loader import load_config

TOKEN = "7000000002:AAE-perpfleet-notify-token-0123456789abcd"
SUBSCRIBER = 4242


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegramServer]:
    server = FakeTelegramServer(TOKEN)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_fills_and_atomic_failures_reach_subscribers(
    telegram: FakeTelegramServer,
    migrated_db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", f"http://127.0.0.1:{telegram.port}")
    telegram.private_chat(SUBSCRIBER)  # the user has written to the bot before
    engine = create_engine(migrated_db_url)
    async with session_maker(engine).begin() as session:
        await users.add_user(session, SUBSCRIBER, Role.TRADER)
    async with session_maker(engine).begin() as session:
        await users.subscribe(session, SUBSCRIBER, ["fills", "atomic_failures"])
    await engine.dispose()

    path = tmp_path / "grid.yml"
    write(path, GRID)
    runtime = BotRuntime(load_config(path), RuntimeOptions(str(path), alerts=telegram_alerts))
    await runtime.start()
    try:
        assert runtime.notifications.enabled
        assert runtime.stack is not None
        loop = asyncio.create_task(runtime._loop())
        await runtime.stack.executors["paper"].submit("BTC", "buy", Decimal("0.002"))
        fill = await telegram.wait_for(
            lambda call: call.method == "sendMessage" and "BTC" in call.text,
            what="a fill notification",
        )
        assert fill.params["chat_id"] in (SUBSCRIBER, str(SUBSCRIBER))
        assert "runtime-grid" in fill.text

        failed = AtomicResult("op-test", [LegResult(Leg("paper", "BTC", "buy", Decimal(1)))])
        failed.conclude(AtomicStatus.FAILED)
        failed.residual_exposure = Decimal(1)
        await runtime.notifications.atomic_failure(failed)
        alert = await telegram.wait_for(
            lambda call: call.method == "sendMessage" and "op-test" in call.text,
            what="an atomic-failure notification",
        )
        assert "residual exposure 1" in alert.text
        assert TOKEN not in fill.text + alert.text
        runtime.request_stop("test over")
        await loop
    finally:
        await runtime.shutdown()
