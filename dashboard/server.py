"""Serving the dashboard: the real fleet, the database, the relay, uvicorn on loopback.

Binding beyond loopback is refused unless ``--secure-cookies`` says a TLS proxy sits in front
(session cookies then carry ``Secure``): the dashboard itself speaks plain HTTP, and a
password or session cookie must not cross a network in clear.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import ConfigError
from core.paths import PROJECT_ROOT
from dashboard.app import create_app
from dashboard.controls import ControlPool
from dashboard.funding import DEFAULT_FUNDING_URL, FundingSource
from dashboard.relay import STREAM_PATH, Locate, StreamEndpoint, StreamRelay
from dashboard.sampler import DEFAULT_SAMPLE_SECONDS
from dashboard.services import DashboardServices
from database.engine import create_engine, session_maker
from database.schema_version import require_current_schema
from fleet.api import ControlClient

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8720
CONFIGS_DIR_ENV = "PERPFLEET_CONFIGS_DIR"
DEFAULT_CONFIGS_DIR = PROJECT_ROOT / "configs"


@dataclass(frozen=True)
class ServeSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    funding_url: str = DEFAULT_FUNDING_URL
    funding_token: str | None = None
    secure_cookies: bool = False
    configs_dir: Path = DEFAULT_CONFIGS_DIR
    session_hours: float = 12.0
    sample_seconds: float = DEFAULT_SAMPLE_SECONDS

    def check(self) -> None:
        problems = []
        if not is_loopback(self.host) and not self.secure_cookies:
            problems.append(
                f"--host {self.host}: not a loopback address; the dashboard speaks plain HTTP, "
                "so serve it behind a TLS proxy and pass --secure-cookies (README: dashboard)"
            )
        if not 0 < self.port < 65536:
            problems.append(f"--port {self.port}: expected 1-65535")
        if not self.configs_dir.is_dir():
            problems.append(f"--configs-dir {self.configs_dir}: not a directory")
        if not 0.1 <= self.session_hours <= 24 * 30:
            problems.append(f"--session-hours {self.session_hours:g}: expected 0.1 to 720")
        if self.sample_seconds != 0 and not 10 <= self.sample_seconds <= 86400:
            problems.append(
                f"--sample-seconds {self.sample_seconds:g}: expected 0 (off) or 10 to 86400"
            )
        if problems:
            raise ConfigError(problems)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def fleet_controls(manager: object) -> ControlPool:
    """Pooled control clients for a :class:`fleet.manager.FleetManager`'s bots (its port
    lookup and token file, one shared connection pool)."""
    from fleet.control_client import HttpControlClient
    from fleet.manager import FleetManager

    assert isinstance(manager, FleetManager)

    def make(name: str, transport: httpx.AsyncBaseTransport) -> ControlClient:
        base = manager.control(name)  # FleetError when the bot has no token (not launched)
        token = manager.layout.token_file(name).read_text().strip()
        return HttpControlClient(name, base.port, token, transport=transport)

    return ControlPool(make)


def fleet_locator(manager: object) -> Locate:
    """Where each bot of a :class:`fleet.manager.FleetManager` streams, with its token."""
    from fleet.manager import FleetManager

    assert isinstance(manager, FleetManager)

    async def locate(name: str) -> StreamEndpoint:
        client = manager.control(name)  # FleetError when the bot has no token (not launched)
        port = await client.port()
        token = manager.layout.token_file(name).read_text().strip()
        return StreamEndpoint(f"ws://127.0.0.1:{port}{STREAM_PATH}", token)

    return locate


def fleet_services(
    manager: object, sessions: async_sessionmaker[AsyncSession], settings: ServeSettings
) -> DashboardServices:
    """The dashboard in front of a :class:`fleet.manager.FleetManager` (what ``serve`` runs)."""
    from fleet.manager import FleetManager

    assert isinstance(manager, FleetManager)
    return DashboardServices(
        fleet=manager,
        sessions=sessions,
        relay=StreamRelay(fleet_locator(manager)),
        controls=fleet_controls(manager),
        funding=FundingSource(settings.funding_url, settings.funding_token),
        configs_dir=settings.configs_dir,
        secure_cookies=settings.secure_cookies,
        session_hours=settings.session_hours,
        sample_seconds=settings.sample_seconds,
    )


async def serve(settings: ServeSettings) -> None:
    from fleet.manager import FleetManager

    settings.check()
    await require_current_schema()
    engine = create_engine()
    services = fleet_services(FleetManager(), session_maker(engine), settings)
    config = uvicorn.Config(
        create_app(services),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
        proxy_headers=settings.secure_cookies,
    )
    server = uvicorn.Server(config)
    try:
        print(f"dashboard: http://{settings.host}:{settings.port}/", flush=True)
        await server.serve()
    finally:
        await engine.dispose()
