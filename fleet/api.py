"""What the rest of the product (the CLI, the Telegram service) may ask of the fleet.

:class:`Fleet` is implemented by :class:`fleet.manager.FleetManager` over a real supervisord
and the database; callers depend on this protocol only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from bot_runtime.control_models import (
    BalanceView,
    BotStats,
    BotStatus,
    CloseAllResult,
    CloseMode,
    CloseResult,
    ErrorKind,
    KillResetResult,
    OrderView,
    Pnl,
    PositionView,
    ReloadResult,
    RunningConfig,
    StateChange,
    TradesPage,
)
from core.errors import TradingError


class FleetError(TradingError):
    """A fleet action that cannot be done; the message says why and what to do."""


class FleetUserError(FleetError):
    """The request itself is wrong (no such bot, a bad argument): the CLI exits 2."""


class ControlRefused(FleetError):
    """A bot's control API answered with an error: ``kind`` says which (decide on it, never on
    the wording), ``details`` holds the rest of the bot's answer (e.g. ``spread_pct``)."""

    def __init__(self, message: str, kind: ErrorKind, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.kind = kind
        self.details = details


class NoSuchBot(FleetUserError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no such bot: {name!r} (see `python -m fleet list`)")


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
    desired_state: str | None = None  # running / stopped: what `fleet up` restores
    exit_status: int | None = None  # supervisord's, once the process has exited
    detail: str | None = None  # why it failed or stopped (bots.status_detail)

    @property
    def running(self) -> bool:
        return self.state == "RUNNING"

    @property
    def failed(self) -> bool:
        """Gave up, or could not start: a non-zero exit, or supervisord stopped retrying."""
        if self.state in ("FATAL", "BACKOFF"):
            return True
        return self.state == "EXITED" and self.exit_status not in (None, 0)

    @property
    def display_state(self) -> str:
        """What a person should read: FAILED for a non-zero exit (supervisord says EXITED)."""
        return "FAILED" if self.state == "EXITED" and self.failed else self.state


class ControlClient(Protocol):
    """A bot's control API (the models of :mod:`bot_runtime.control_models`), authenticated with
    the token the fleet gave it at launch. Failures raise FleetError; a refusal by the bot
    raises :class:`ControlRefused` with its kind."""

    async def status(self) -> BotStatus: ...

    async def positions(self) -> list[PositionView]: ...

    async def orders(self) -> list[OrderView]: ...

    async def balances(self) -> list[BalanceView]: ...

    async def pnl(self) -> Pnl: ...

    async def stats(self) -> BotStats: ...

    async def trades(self, page: int = 1, per_page: int = 50) -> TradesPage: ...

    async def config(self) -> RunningConfig: ...

    async def pause(self) -> StateChange: ...

    async def resume(self) -> StateChange: ...

    async def close_position(
        self, position_id: str, mode: CloseMode = "market", confirm: bool = False
    ) -> CloseResult: ...

    async def close_all(self) -> CloseAllResult: ...

    async def reload_config(self) -> ReloadResult: ...

    async def stop(self) -> StateChange: ...

    async def reset_kill(
        self, reason: str, *, force: bool = False, actor: str | None = None
    ) -> KillResetResult: ...


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

    async def reset_kill(
        self, name: str, reason: str, *, force: bool = False, actor: str | None = None
    ) -> KillResetResult:
        """Clear a bot's tripped kill switch (audited): through its control API when it runs,
        in its saved state when it is stopped. :class:`ControlRefused` (``conflict``: none
        engaged; ``needs_confirmation``: the drawdown still holds, repeat with force)."""
