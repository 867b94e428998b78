"""What every dashboard route can reach: the fleet, the database, the relay, the funding API.

Handed to the app at build time; the dashboard depends on the :class:`fleet.api.Fleet`
protocol only, so tests put their own fleet behind it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from dashboard.controls import ControlPool
from dashboard.funding import FundingSource
from dashboard.ratelimit import LoginLimiter
from dashboard.relay import StreamRelay
from database.repositories.audit import record_audit
from fleet.api import ControlClient, Fleet

T = TypeVar("T")


@dataclass
class DashboardServices:
    fleet: Fleet
    sessions: async_sessionmaker[AsyncSession]
    relay: StreamRelay
    funding: FundingSource
    configs_dir: Path
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    #: Cookies marked Secure: set when the dashboard is served behind TLS.
    secure_cookies: bool = False
    session_hours: float = 12.0
    #: Per control API call: a hung bot shows as "did not answer" instead of holding the page.
    control_timeout_seconds: float = 3.0
    #: Equity sampled into pnl_snapshots this often (dashboard.sampler); 0: not at all.
    sample_seconds: float = 0.0
    #: Clients kept per bot on one connection pool; None: ``fleet.control`` each time.
    controls: ControlPool | None = None

    def control(self, name: str) -> ControlClient:
        if self.controls is None:
            return self.fleet.control(name)
        return self.controls.get(name)

    def forget(self, name: str) -> None:
        """After a failed call: the next one looks the bot up again (port, identity)."""
        if self.controls is not None:
            self.controls.forget(name)

    async def transaction(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async with self.sessions() as session, session.begin():
            return await work(session)

    async def audit(
        self, actor: str, action: str, target: str, details: Mapping[str, Any] | None = None
    ) -> None:
        async def write(session: AsyncSession) -> None:
            await record_audit(session, action, target, details, actor=actor)

        await self.transaction(write)
