"""The Telegram service under test: the real python-telegram-bot Application, polling the fake
Bot API server (testing/fakes/telegram_api.py) in the test's event loop, on a migrated database
(SQLite and PostgreSQL), with a fleet chosen per test.

Tests talk to it as users do: :meth:`Harness.say` sends a message and returns the bot's reply,
:meth:`Harness.press` presses an inline button and returns the bot's answer.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.redaction import Secret
from database.engine import create_engine, session_maker
from database.models import AuditLogEntry
from fleet.api import Fleet
from strategies.funding_arbitrage.quotes import ClientFundingProvider, FundingProvider
from telegram_bot_service import users
from telegram_bot_service.app import TelegramApp, build_application
from telegram_bot_service.roles import Role
from telegram_bot_service.runner import running
from telegram_bot_service.services import Services
from telegram_bot_service.settings import TelegramSettings
from testing.fakes.telegram_api import ApiCall, FakeTelegramServer, JSONDict, message_of
from tests.helpers import PROJECT_ROOT
from tests.telegram_bot_service.fleet_double import InMemoryFleet

TOKEN = "7000000001:AAE-perpfleet-test-token-0123456789abcdef"
ADMIN = 1001
TRADER = 1002
VIEWER = 1003
STRANGER = 6666


@pytest.fixture
def master_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """``PERPFLEET_MASTER_KEY`` for this test (credentials are encrypted with it)."""
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("PERPFLEET_MASTER_KEY", key)
    return key


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegramServer]:
    server = FakeTelegramServer(TOKEN)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def sessions(migrated_db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(migrated_db_url)
    try:
        maker = session_maker(engine)
        async with maker() as session, session.begin():
            await users.add_user(session, ADMIN, Role.ADMIN, "Ada")
            await users.add_user(session, TRADER, Role.TRADER, "Tom")
            await users.add_user(session, VIEWER, Role.VIEWER, "Vic")
        yield maker
    finally:
        await engine.dispose()


@pytest.fixture
def configs_dir(tmp_path: Path) -> Path:
    """A configs folder holding a copy of the paper grid example."""
    directory = tmp_path / "configs"
    directory.mkdir()
    shutil.copy(PROJECT_ROOT / "configs" / "paper_grid.yml", directory / "paper_grid.yml")
    return directory


@dataclass
class Harness:
    telegram: FakeTelegramServer
    services: Services
    app: TelegramApp
    sessions: async_sessionmaker[AsyncSession]

    async def say(
        self,
        user_id: int,
        text: str,
        *,
        contains: str | None = None,
        wait_seconds: float = 60,
    ) -> ApiCall:
        """``user_id`` sends ``text``; the bot's first reply (containing ``contains``)."""
        mark = self.telegram.mark()
        await self.telegram.send_text(user_id, text)
        return await self.telegram.reply_to(
            user_id, after=mark, contains=contains, wait_seconds=wait_seconds
        )

    async def press(
        self,
        user_id: int,
        message: JSONDict,
        label: str,
        *,
        contains: str | None = None,
        wait_seconds: float = 60,
    ) -> ApiCall:
        """``user_id`` presses the button labelled ``label``; the bot's next message or edit."""
        mark = self.telegram.mark()
        await self.telegram.press_button(user_id, message, label)
        return await self.telegram.reply_to(
            user_id, after=mark, contains=contains, wait_seconds=wait_seconds
        )

    async def settle(self, wait_seconds: float = 60) -> None:
        """Wait until every update sent so far has been handled.

        Chats are served concurrently, so a later answer in one chat proves nothing about
        another: wait until the service confirmed every update (its next getUpdates offset),
        then until the Application's update queue has no unfinished update.
        """
        await self.telegram.wait_received(wait_seconds)
        await asyncio.wait_for(self.app.update_queue.join(), wait_seconds)

    async def audit_rows(self, action: str | None = None) -> list[AuditLogEntry]:
        async with self.sessions() as session:
            query = select(AuditLogEntry).order_by(AuditLogEntry.id)
            if action is not None:
                query = query.where(AuditLogEntry.action == action)
            return list(await session.scalars(query))


StartService = Callable[..., AbstractAsyncContextManager[Harness]]


@pytest.fixture
def start_service(
    telegram: FakeTelegramServer,
    sessions: async_sessionmaker[AsyncSession],
    configs_dir: Path,
) -> StartService:
    """``async with start_service(fleet=..., funding=...) as harness:`` runs the service."""

    @asynccontextmanager
    async def start(
        fleet: Fleet | None = None,
        funding: FundingProvider | None = None,
        bots_page_size: int = 10,
        control_timeout_seconds: float = 5.0,
        conversation_timeout_seconds: float = 300.0,
    ) -> AsyncIterator[Harness]:
        settings = TelegramSettings(token=Secret(TOKEN), api_base_url=telegram.root_url)
        services = Services(
            fleet=fleet if fleet is not None else InMemoryFleet(),
            sessions=sessions,
            configs_dir=configs_dir,
            funding=funding if funding is not None else ClientFundingProvider(),
            bots_page_size=bots_page_size,
            control_timeout_seconds=control_timeout_seconds,
            conversation_timeout_seconds=conversation_timeout_seconds,
        )
        app = build_application(settings, services)
        async with running(app, poll_timeout_seconds=1):
            yield Harness(telegram, services, app, sessions)

    return start


def reply_message(call: ApiCall) -> JSONDict:
    return message_of(call)
