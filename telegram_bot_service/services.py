"""What every command handler can reach: the fleet, the database, configs, funding quotes.

Handed to the Application at build time (constructor injection): the service depends on the
:class:`fleet.api.Fleet` protocol only, so tests can put any fleet behind it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import ContextTypes

from database.repositories.audit import record_audit
from fleet.api import Fleet
from strategies.funding_arbitrage.quotes import FundingProvider
from telegram_bot_service.actions import PendingActions
from telegram_bot_service.watcher import ExpectedChanges

T = TypeVar("T")
SERVICES_KEY = "perpfleet.services"


@dataclass
class Services:
    fleet: Fleet
    sessions: async_sessionmaker[AsyncSession]
    configs_dir: Path
    funding: FundingProvider
    actions: PendingActions = field(default_factory=PendingActions)
    expected: ExpectedChanges = field(default_factory=ExpectedChanges)
    bots_page_size: int = 10
    #: Per control API call: a hung bot answers "did not answer" quickly instead of holding
    #: its user (other chats are served meanwhile: see update_order).
    control_timeout_seconds: float = 5.0
    #: A dialogue holding secrets (/add_account) forgets them after this long without an answer.
    conversation_timeout_seconds: float = 300.0

    async def transaction(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work`` in one transaction (committed when it returns)."""
        async with self.sessions() as session, session.begin():
            return await work(session)

    async def audit(
        self, actor: str, action: str, target: str, details: Mapping[str, Any] | None = None
    ) -> None:
        async def write(session: AsyncSession) -> None:
            await record_audit(session, action, target, details, actor=actor)

        await self.transaction(write)


def services_of(context: ContextTypes.DEFAULT_TYPE) -> Services:
    found = context.bot_data.get(SERVICES_KEY)
    if not isinstance(found, Services):
        raise RuntimeError("the Application was not built by telegram_bot_service.app")
    return found
