"""What the control API's controller sees of a running bot: a protocol, not the runtime class.

:class:`bot_runtime.runtime.BotRuntime` satisfies it and hands itself to
:class:`bot_runtime.controller.RuntimeControl`; the controller never imports the runtime, so
the two modules no longer import each other.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot_runtime.setup import ExecutionStack
from exchange_clients.base import BaseExchangeClient
from strategies.base_strategy import BaseStrategy
from strategies.risk import RiskManager
from trading_config.schema import BotConfig


class RunningBot(Protocol):
    config: BotConfig
    clients: dict[str, BaseExchangeClient]
    stack: ExecutionStack | None
    strategy: BaseStrategy[Any] | None
    risk: RiskManager
    log: Any
    stopping: asyncio.Event
    sessions: async_sessionmaker[AsyncSession] | None
    reconciliation_findings: list[str]
    started_monotonic: float

    @property
    def config_path(self) -> str:
        """The config file the bot was started from (a reload re-reads it)."""
        ...

    def request_stop(self, reason: str) -> None: ...

    async def equity(self) -> Decimal: ...
