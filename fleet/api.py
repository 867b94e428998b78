"""What the rest of the product (the CLI, the Telegram service) may ask of the fleet.

:class:`Fleet` is implemented by :class:`fleet.manager.FleetManager` over a real supervisord
and the database; callers depend on this protocol only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from trading_config.errors import TradingError


class FleetError(TradingError):
    """A fleet action that cannot be done; the message says why and what to do."""


@dataclass(frozen=True)
class BotInfo:
    """One bot as the fleet sees it (supervisord's view joined with the database's)."""

    name: str
    state: str  # supervisord's state name (RUNNING, STOPPED, BACKOFF, ...) or NOT_LOADED
    pid: int | None
    uptime_seconds: float | None
    strategy: str | None
    config_path: str | None
    account: str | None
    control_port: int | None

    @property
    def running(self) -> bool:
        return self.state == "RUNNING"


class ControlClient(Protocol):
    """A bot's control API, authenticated with the token the fleet gave it at launch."""

    async def get(self, path: str) -> Any:
        """``GET /api/v1/<path>``; the decoded JSON, or FleetError with the bot's message."""

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """``POST /api/v1/<path>``; the decoded JSON, or FleetError with the bot's message."""


class Fleet(Protocol):
    async def list_bots(self) -> list[BotInfo]: ...

    async def status(self, name: str) -> BotInfo: ...

    async def launch(self, config_path: str, account: str | None = None) -> BotInfo:
        """Validate the config, allocate a port, write the program, start it; RUNNING or error."""

    async def stop(self, name: str, *, close_positions: bool = False) -> BotInfo:
        """Graceful stop (the bot cancels its orders); ``close_positions`` closes them first."""

    async def restart(self, name: str) -> BotInfo: ...

    async def logs(self, name: str, lines: int = 50) -> str:
        """The last ``lines`` lines of the bot's log (secrets scrubbed)."""

    def control(self, name: str) -> ControlClient:
        """The bot's control API."""
