"""What the per-bot control API can ask of a running bot (implemented by the runtime).

The HTTP layer (:mod:`bot_runtime.control_api`) only translates requests into these calls and
their results/errors into responses; everything it shows or changes goes through here. Results
are the contract's models (:mod:`bot_runtime.control_models`), whose money is ``Decimal``.
"""

from __future__ import annotations

from typing import Any, Protocol

from bot_runtime.control_models import (
    BalanceView,
    BotStats,
    BotStatus,
    CloseAllResult,
    CloseMode,
    CloseResult,
    ErrorKind,
    KillResetRequest,
    KillResetResult,
    OrderView,
    Pnl,
    PositionView,
    ReloadResult,
    RunningConfig,
    StateChange,
    TradesPage,
)

JSON = dict[str, Any]


class ControlError(Exception):
    """A request the bot refuses; ``status_code`` is the HTTP status, ``kind`` the error kind."""

    status_code = 400
    kind = ErrorKind.BAD_REQUEST

    def __init__(self, message: str, *, details: JSON | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(ControlError):
    status_code = 404
    kind = ErrorKind.NOT_FOUND


class Conflict(ControlError):
    """The request does not fit the bot's state (e.g. resetting a kill switch that is not
    engaged); repeating it changes nothing until the state does."""

    status_code = 409
    kind = ErrorKind.CONFLICT


class NeedsConfirmation(ControlError):
    """The action is risky (e.g. closing into a wide spread): repeat it with confirm=true."""

    status_code = 409
    kind = ErrorKind.NEEDS_CONFIRMATION


class InvalidRequest(ControlError):
    """The request cannot be applied; ``problems`` lists why (e.g. an invalid config)."""

    status_code = 422
    kind = ErrorKind.INVALID_REQUEST

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message, details={"problems": problems})
        self.problems = problems


class BotControl(Protocol):
    """A running bot, as its control API sees it."""

    async def status(self) -> BotStatus: ...

    async def positions(self) -> list[PositionView]: ...

    async def orders(self) -> list[OrderView]:
        """Resting (and pending) orders."""

    async def balances(self) -> list[BalanceView]: ...

    async def pnl(self) -> Pnl: ...

    async def stats(self) -> BotStats:
        """Performance from the journal (analytics): attribution, ratios, per day."""

    async def trades(self, page: int, per_page: int) -> TradesPage:
        """Closed trades (FIFO), newest first, page ``page`` (1-based)."""

    def config(self) -> RunningConfig:
        """The running config (no secrets: configs never hold any)."""

    async def pause(self) -> StateChange:
        """Stop opening positions (resting entries cancelled); management continues."""

    async def resume(self) -> StateChange: ...

    async def close_position(self, position_id: str, mode: CloseMode, confirm: bool) -> CloseResult:
        """Close one position; NotFound, or NeedsConfirmation when the spread is wide."""

    async def close_all(self) -> CloseAllResult:
        """Cancel every resting order and close every position at market."""

    async def reload_config(self) -> ReloadResult:
        """Re-read the config file; InvalidRequest (old config kept) when it does not validate."""

    async def stop(self) -> StateChange:
        """Begin a graceful stop (as on SIGTERM); the process exits shortly after answering."""

    async def reset_kill(self, request: KillResetRequest) -> KillResetResult:
        """Clear a tripped kill switch (audited); ControlError when none is engaged,
        NeedsConfirmation while the drawdown that tripped it still holds and not forced."""
