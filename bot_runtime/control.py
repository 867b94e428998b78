"""What the per-bot control API can ask of a running bot (implemented by the runtime).

The HTTP layer (:mod:`bot_runtime.control_api`) only translates requests into these calls and
their results/errors into responses; everything it shows or changes goes through here. Values
are JSON-ready dicts whose money amounts are ``Decimal`` (rendered as strings, never floats).
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

JSON = dict[str, Any]
CloseMode = Literal["market", "limit"]


class ControlError(Exception):
    """A request the bot refuses; ``status_code`` is the HTTP status the API answers with."""

    status_code = 400

    def __init__(self, message: str, *, details: JSON | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(ControlError):
    status_code = 404


class NeedsConfirmation(ControlError):
    """The action is risky (e.g. closing into a wide spread): repeat it with confirm=true."""

    status_code = 409


class InvalidRequest(ControlError):
    """The request cannot be applied; ``problems`` lists why (e.g. an invalid config)."""

    status_code = 422

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message, details={"problems": problems})
        self.problems = problems


class BotControl(Protocol):
    """A running bot, as its control API sees it."""

    async def status(self) -> JSON:
        """name, strategy, state (running/paused/stopping), uptime_seconds, equity, venues."""

    async def positions(self) -> list[JSON]:
        """Open positions: id, venue, symbol, side, size, entry_price, mark_price, pnl..."""

    async def orders(self) -> list[JSON]:
        """Resting orders: client_order_id, venue, symbol, side, size, price, status, purpose."""

    async def balances(self) -> list[JSON]:
        """Per venue: wallet, equity, available, margin_used, unrealized_pnl."""

    async def pnl(self) -> JSON:
        """realized, unrealized, funding, fees, net: totals, per venue and per symbol."""

    def config(self) -> JSON:
        """The running config (no secrets: configs never hold any)."""

    async def pause(self) -> JSON:
        """Stop opening positions (resting entries cancelled); management continues."""

    async def resume(self) -> JSON: ...

    async def close_position(self, position_id: str, mode: CloseMode, confirm: bool) -> JSON:
        """Close one position; NotFound, or NeedsConfirmation when the spread is wide."""

    async def close_all(self) -> JSON:
        """Cancel every resting order and close every position at market."""

    async def reload_config(self) -> JSON:
        """Re-read the config file; InvalidRequest (old config kept) when it does not validate."""

    async def stop(self) -> JSON:
        """Begin a graceful stop (as on SIGTERM); the process exits shortly after answering."""
