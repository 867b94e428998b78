"""PnL per UTC day: what ``/daily`` shows.

A day's ``trading`` is the gross PnL of the trades *closed* that day, its ``fees`` the fees of
the fills *made* that day, its ``funding`` the payments of that day; ``net = trading - fees +
funding``. Summed over all days these are exactly the realised attribution of
:func:`analytics.performance.analyse` (unrealized PnL belongs to no day).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from analytics.records import FillRecord, FundingRecord
from analytics.trades import reconstruct

ZERO = Decimal(0)


@dataclass(slots=True)
class Day:
    day: date
    trading: Decimal = ZERO
    fees: Decimal = ZERO
    funding: Decimal = ZERO
    trades: int = 0
    fills: int = 0

    @property
    def net(self) -> Decimal:
        return self.trading - self.fees + self.funding


def _day(ts: datetime) -> date:
    return ts.astimezone(UTC).date()


def daily(fills: Iterable[FillRecord], funding: Iterable[FundingRecord] = ()) -> list[Day]:
    """One :class:`Day` per UTC day with a fill, a closed trade or a payment, oldest first."""
    fills = list(fills)
    days: dict[date, Day] = {}

    def at(ts: datetime) -> Day:
        key = _day(ts)
        return days.setdefault(key, Day(key))

    for fill in fills:
        entry = at(fill.ts)
        entry.fees += fill.fee
        entry.fills += 1
    for trade in reconstruct(fills).trades:
        entry = at(trade.closed_at)
        entry.trading += trade.gross_pnl
        entry.trades += 1
    for payment in funding:
        at(payment.ts).funding += payment.amount
    return [days[key] for key in sorted(days)]
