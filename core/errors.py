"""perpfleet's error hierarchy: the root, configuration errors and exchange errors.

DESIGN.md §3: one hierarchy, in the bottom layer so every layer can raise and catch it.
``TradingError`` is the root. A ``ConfigError`` is a *user mistake*: entry points print its
lines and exit 2 without a traceback. ``ExchangeError`` and its children are what venue
clients raise; callers decide on retries by type: only ``VenueUnavailable`` and
``RateLimited`` are transient, and a ``RequestTimeout`` means the outcome is unknown (the
order may have landed) - it must be resolved by client order id, never by sending again
with a new id.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal


class TradingError(Exception):
    """Base class of every error perpfleet raises on purpose."""


class ConfigError(TradingError):
    """Configuration or other user input is wrong.

    Holds one human-readable line per problem so that a config with three
    mistakes reports all three at once instead of one per run.
    """

    def __init__(self, problems: str | Iterable[str]) -> None:
        lines = [problems] if isinstance(problems, str) else list(problems)
        if not lines:
            raise ValueError("ConfigError needs at least one problem")
        self.problems: list[str] = lines
        super().__init__("\n".join(lines))


class ExchangeError(TradingError):
    """Something a venue (or the way we talk to it) refused or failed to do."""

    def __init__(self, message: str, *, venue: str | None = None) -> None:
        self.venue = venue
        super().__init__(f"{venue}: {message}" if venue else message)


class OrderRejected(ExchangeError):
    """The venue refused the order; it does not exist there."""


class InvalidOrder(OrderRejected):
    """The order breaks the market's rules (size/price grid, minimums, missing price)."""


class PostOnlyWouldCross(OrderRejected):
    """A post-only order would have taken liquidity."""


class DuplicateClientOrderId(OrderRejected):
    """An order with this client order id already exists; query it instead of re-sending."""

    def __init__(self, client_order_id: str, *, venue: str | None = None) -> None:
        self.client_order_id = client_order_id
        super().__init__(f"client order id {client_order_id!r} is already in use", venue=venue)


class ReduceOnlyRejected(OrderRejected):
    """A reduce-only order would open or increase a position."""


class InsufficientMargin(ExchangeError):
    """Not enough free collateral for the order (or leverage change).

    Venues that say only "margin is insufficient" leave the amounts ``None``; ``detail``
    carries their explanation.
    """

    def __init__(
        self,
        required: Decimal | None = None,
        available: Decimal | None = None,
        *,
        venue: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.required = required
        self.available = available
        amounts = (
            f": {required} USD required, {available} USD available"
            if required is not None and available is not None
            else ""
        )
        super().__init__(
            f"insufficient margin{amounts}" + (f" ({detail})" if detail else ""), venue=venue
        )


class RateLimited(ExchangeError):
    """The venue throttled us; retry after ``retry_after`` seconds."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, venue: str | None = None
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, venue=venue)


class VenueUnavailable(ExchangeError):
    """Network failure, 5xx, maintenance or a dropped connection: transient."""


class RequestTimeout(VenueUnavailable):
    """No answer in time: the request may or may not have taken effect."""


class AuthenticationFailed(ExchangeError):
    """The venue refused our credentials or signature."""


class OrderNotFound(ExchangeError):
    """The venue does not know this order id / client order id."""


class UnknownSymbol(ExchangeError):
    """The venue has no market for this symbol."""


class RiskLimitBreached(TradingError):
    """The pre-trade gate refused an order: executing it would break a configured limit.

    Raised by the executors before anything is journaled or sent, whichever strategy asked;
    reduce-only orders are never refused. The subclass says which limit.
    """


class KillSwitchEngaged(RiskLimitBreached):
    """The kill switch is tripped: no new exposure until it is cleared."""


class EntriesPaused(RiskLimitBreached):
    """New exposure is paused (daily loss limit, cooldown after a loss)."""


class PositionLimitBreached(RiskLimitBreached):
    """The position in one symbol would exceed ``risk.max_position_notional_usd``."""


class ExposureLimitBreached(RiskLimitBreached):
    """A venue's or the bot's total open notional would exceed its cap."""


class OpenPositionsLimitBreached(RiskLimitBreached):
    """A new position would exceed ``risk.max_open_positions``."""


class TradeNotionalLimitBreached(RiskLimitBreached):
    """One entry's notional, at the prices the book would fill it at, exceeds the per-trade cap."""


class InstrumentExposureLimitBreached(RiskLimitBreached):
    """One instrument's position would exceed its share (%) of the account's equity."""


class DailyLossLimitBreached(RiskLimitBreached):
    """The equity lost since the UTC day began reached the limit: the kill switch trips
    (cancel every order, flatten, stop), it does not merely pause."""


class DrawdownLimitBreached(RiskLimitBreached):
    """Equity fell the configured USD amount below its peak: the kill switch trips."""


class TimeStopReached(RiskLimitBreached):
    """A position outlived its time stop: it is closed at market."""


class DataStale(RiskLimitBreached):
    """The book is older than its bound, or was resynced too recently, to enter on.

    Refuses entries only: exits by the stop rules run on whatever book there is."""
