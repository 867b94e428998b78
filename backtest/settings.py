"""How a backtest simulates: the period, the data, and the realism knobs - each one used.

Every field changes the run and is stated in its result (:func:`BacktestSettings.realism`);
the CLI refuses values it cannot honour with one clear line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from backtest.sources.funding import BookShape
from backtest.venues import FeeOverride

DEFAULT_INITIAL_BALANCE = Decimal(10_000)
DEFAULT_EQUITY_SECONDS = 60.0
DEFAULT_SYNTHETIC_STEP = 1.0


@dataclass(frozen=True)
class BacktestSettings:
    """``start``/``end`` None: the data's span. ``step_seconds`` None: the strategy's own loop
    period (what the bot runtime uses); larger values step the strategy less often (and say
    so). ``latency_seconds``: every venue request waits this long on the simulated clock.
    ``fill_ratio``: market/IOC orders fill at most this fraction (the rest cancelled), on top
    of the book's own depth."""

    data: tuple[str, ...]
    start: datetime | None = None
    end: datetime | None = None
    step_seconds: float | None = None
    latency_seconds: float = 0.0
    fill_ratio: Decimal | None = None
    initial_balance: Decimal = DEFAULT_INITIAL_BALANCE
    fees: dict[str, FeeOverride] = field(default_factory=dict)
    equity_seconds: float = DEFAULT_EQUITY_SECONDS
    synthetic_step_seconds: float = DEFAULT_SYNTHETIC_STEP
    book: BookShape = field(default_factory=BookShape)

    def realism(self) -> dict[str, Any]:
        """What the run modelled, for the result file and the report."""
        return {
            "fees": "per venue profile (paper profiles; published base tier for real venues)"
            + (
                "; overridden: "
                + ", ".join(f"{v}={f.maker}:{f.taker}" for v, f in sorted(self.fees.items()))
                if self.fees
                else ""
            ),
            "funding": "settled at each venue's funding times on open positions",
            "queue_position": "resting orders fill after the displayed size ahead of them "
            "trades or the book moves through their price",
            "latency_seconds": self.latency_seconds,
            "partial_fills": "market/IOC orders walk the book; unfilled rest cancelled"
            + ("" if self.fill_ratio is None else f"; capped at {self.fill_ratio} of size"),
            "liquidation": "cross margin; equity below maintenance closes every position",
            "initial_balance_per_venue": str(self.initial_balance),
        }
