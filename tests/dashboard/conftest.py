"""The dashboard under test: its real app served by uvicorn on loopback, over a migrated
database (SQLite and PostgreSQL), in front of a fleet whose bots are real control-API apps
(the in-memory bot of tests/bot_runtime/control_double.py) served on their own ports, each
with an event stream (tests/dashboard/fake_stream.py) that the dashboard's relay subscribes to
over a real WebSocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot_runtime.control import Conflict
from bot_runtime.control_api import create_app as create_control_app
from bot_runtime.control_auth import hash_token
from bot_runtime.control_models import KillSwitchResult, StateChange
from bot_runtime.event_stream import EventHub
from dashboard.app import create_app
from dashboard.controls import ControlPool
from dashboard.funding import FundingSource
from dashboard.passwords import hash_password
from dashboard.relay import STREAM_PATH, StreamEndpoint, StreamRelay
from dashboard.services import DashboardServices
from database.engine import create_engine, session_maker
from database.models import AuditLogEntry
from database.repositories import dashboard_users as repo
from fleet.api import BotInfo, ControlClient, FleetError, NoSuchBot
from fleet.control_client import HttpControlClient
from tests.bot_runtime.control_double import InMemoryBotControl
from tests.dashboard.fake_stream import FakeStream, install
from tests.helpers import PROJECT_ROOT
from tests.telegram_bot_service.fleet_double import FakeBot, InMemoryFleet

PASSWORD = "correct horse battery"
USERS = {"ada": "admin", "tom": "trader", "vic": "viewer"}
_HASH_CACHE: dict[str, str] = {}


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[int]:
    """``app`` on 127.0.0.1 at a free port (yielded) for the block."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=1,
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port: int = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield port
    finally:
        server.should_exit = True
        await task


@dataclass
class Engine:
    """The control API's engine (``/stream``, ``/start``, ``/kill``) over the in-memory bot:
    the real ``EventHub``; kill as the runtime's does it - cancel, close, stop - and says so
    on the stream."""

    hub: EventHub
    control: InMemoryBotControl
    kills: list[str] = field(default_factory=list)

    async def start(self) -> StateChange:
        return await self.control.resume()

    async def kill(self, reason: str) -> KillSwitchResult:
        if self.control.stop_requested:
            raise Conflict("the bot is already stopping")
        self.kills.append(reason)
        done = await self.control.close_all()
        await self.control.stop()
        self.control.killed = True
        result = KillSwitchResult(
            reason=reason,
            complete=True,
            cancelled_orders=done.cancelled_orders,
            closed_positions=done.closed_positions,
        )
        self.hub.publish("risk", {"killed": True, "kill_reason": reason})
        return result


class ServedFleet(InMemoryFleet):
    """InMemoryFleet whose bots listen on real ports, each with an event stream."""

    def __init__(self) -> None:
        super().__init__()
        self.ports: dict[str, int] = {}
        self.streams: dict[str, FakeStream | EventHub] = {}
        self.processes: dict[str, tuple[BotInfo, str]] = {}
        self._stack = contextlib.AsyncExitStack()

    def add_process(self, name: str, port: int, token: str, strategy: str) -> None:
        """A real bot process (``runbot.py`` with its control API on ``port``)."""
        info = BotInfo(
            name=name,
            state="RUNNING",
            pid=None,
            uptime_seconds=1.0,
            strategy=strategy,
            config_path=None,
            account=None,
            control_port=port,
        )
        self.processes[name] = (info, token)
        self.ports[name] = port

    async def list_bots(self) -> list[BotInfo]:
        return [*(await super().list_bots()), *(info for info, _ in self.processes.values())]

    async def status(self, name: str) -> BotInfo:
        if name in self.processes:
            return self.processes[name][0]
        return await super().status(name)

    def _token(self, name: str) -> str:
        if name in self.processes:
            return self.processes[name][1]
        return self._bot(name).token

    async def serve_bot(self, name: str, *, fake_stream: bool = False) -> FakeBot:
        """The bot's real control API on a port of its own, with the real event stream (its
        ``EventHub``, kill switch and start: :class:`Engine`) or, ``fake_stream``, the small
        fake stream (which can cut connections and restart)."""
        bot = self.add_bot(name)
        if fake_stream:
            stream = FakeStream(name, bot.token)
            install(bot.app, stream)
            self.streams[name] = stream
        else:
            engine = Engine(EventHub(name), bot.control)
            bot.app = create_control_app(bot.control, hash_token(bot.token), engine=engine)
            self.streams[name] = engine.hub
        self.ports[name] = await self._stack.enter_async_context(served(bot.app))
        return bot

    def _bot(self, name: str) -> FakeBot:
        if name not in self.bots:
            raise NoSuchBot(name)  # as the real fleet does
        return self.bots[name]

    def control(self, name: str) -> ControlClient:
        if name not in self.processes and not self._bot(name).info.running:
            raise FleetError(f"{name} is not running")
        return HttpControlClient(name, self.ports[name], self._token(name))

    def pooled(self, name: str, transport: httpx.AsyncBaseTransport) -> ControlClient:
        """What the dashboard's ControlPool builds (the real fleet's is server.fleet_controls)."""
        return HttpControlClient(name, self.ports[name], self._token(name), transport=transport)

    async def locate(self, name: str) -> StreamEndpoint:
        return StreamEndpoint(f"ws://127.0.0.1:{self.ports[name]}{STREAM_PATH}", self._token(name))

    async def aclose(self) -> None:
        await self._stack.aclose()


def password_hash(password: str = PASSWORD) -> str:
    """scrypt is deliberately slow: one hash per password per test session."""
    if password not in _HASH_CACHE:
        _HASH_CACHE[password] = hash_password(password)
    return _HASH_CACHE[password]


@dataclass
class Dashboard:
    url: str
    fleet: ServedFleet
    services: DashboardServices
    sessions: async_sessionmaker[AsyncSession]
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    async def client(self, user: str | None = None) -> httpx.AsyncClient:
        """An HTTP client (a browser's cookie jar), logged in as ``user`` when given."""
        client = httpx.AsyncClient(base_url=self.url, timeout=10)
        self.clients.append(client)
        if user is not None:
            await login(client, user)
        return client

    async def audit(self) -> list[AuditLogEntry]:
        async with self.sessions() as session:
            return list(await session.scalars(select(AuditLogEntry).order_by(AuditLogEntry.id)))


async def login(client: httpx.AsyncClient, user: str, password: str = PASSWORD) -> httpx.Response:
    form = await client.get("/login")
    csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
    return await client.post("/login", data={"csrf": csrf, "name": user, "password": password})


def csrf_of(page: str) -> str:
    return page.split('<meta name="csrf-token" content="')[1].split('"')[0]


@pytest.fixture
def configs_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "configs"
    folder.mkdir()
    shutil.copy(PROJECT_ROOT / "configs" / "paper_grid.yml", folder / "paper_grid.yml")
    return folder


@pytest.fixture
async def dashboard(migrated_db_url: str, configs_dir: Path) -> AsyncIterator[Dashboard]:
    engine = create_engine(migrated_db_url)
    sessions = session_maker(engine)
    async with sessions() as session, session.begin():
        for name, role in USERS.items():
            await repo.add_user(session, name, role, password_hash())
    fleet = ServedFleet()
    await fleet.serve_bot("grid-a")
    await fleet.serve_bot("grid-b")
    services = DashboardServices(
        fleet=fleet,
        sessions=sessions,
        relay=StreamRelay(fleet.locate),
        controls=ControlPool(fleet.pooled),
        # nothing listens on port 9: the funding page says the service is unreachable
        funding=FundingSource("http://127.0.0.1:9"),
        configs_dir=configs_dir,
    )
    harness = None
    try:
        async with served(create_app(services)) as port:
            harness = Dashboard(f"http://127.0.0.1:{port}", fleet, services, sessions)
            yield harness
            for client in harness.clients:
                await client.aclose()
    finally:
        await fleet.aclose()
        await engine.dispose()
