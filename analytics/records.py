"""The inputs analytics computes from: fills, funding payments and equity points.

Analytics sits beside the storage layer and imports neither the database nor the venue
clients, so backtests (their own in-memory books) and live bots (journal rows) both map what
they hold into these three small records. Money is ``Decimal``; times are aware UTC.

Sign conventions (the same as the journal's and the venues'): a fill's ``fee`` is what was
*paid* (a maker rebate is negative); a funding ``amount`` is what was *received* (paid funding
is negative).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Literal

Side = Literal["buy", "sell"]


class RecordError(ValueError):
    """A record that cannot be computed from (naive time, non-positive size...): says which."""


def _check_time(kind: str, ts: datetime) -> None:
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise RecordError(f"{kind}: ts {ts.isoformat()} has no timezone (expected aware UTC)")


@dataclass(frozen=True, slots=True)
class FillRecord:
    """One execution: ``size`` > 0 of ``symbol`` bought or sold at ``price`` on ``venue``."""

    ts: datetime
    venue: str
    symbol: str
    side: Side
    price: Decimal
    size: Decimal
    fee: Decimal = Decimal(0)
    order_id: str | None = None

    def __post_init__(self) -> None:
        _check_time("fill", self.ts)
        if self.side not in ("buy", "sell"):
            raise RecordError(f"fill: side {self.side!r} (expected 'buy' or 'sell')")
        if self.size <= 0:
            raise RecordError(f"fill {self.venue}/{self.symbol}: size {self.size} (expected > 0)")
        if self.price <= 0:
            raise RecordError(f"fill {self.venue}/{self.symbol}: price {self.price} (expected > 0)")

    @property
    def signed_size(self) -> Decimal:
        return self.size if self.side == "buy" else -self.size

    @property
    def notional(self) -> Decimal:
        return self.price * self.size


@dataclass(frozen=True, slots=True)
class FundingRecord:
    """Funding received (> 0) or paid (< 0) on ``venue``/``symbol`` at ``ts``."""

    ts: datetime
    venue: str
    symbol: str
    amount: Decimal

    def __post_init__(self) -> None:
        _check_time("funding", self.ts)


@dataclass(frozen=True, slots=True)
class EquityPoint:
    """The account value (all venues, open positions marked) at ``ts``."""

    ts: datetime
    equity: Decimal

    def __post_init__(self) -> None:
        _check_time("equity point", self.ts)
