"""Trades reconstructed from fills: FIFO lots per venue and symbol.

A *trade* here is one FIFO match: a quantity opened by one fill and closed by a later fill on
the same venue and symbol. A close that spans two open lots makes two trades; a lot closed in
two steps (partial closes) makes two trades; a fill that closes the position and goes beyond
it (a flip) closes the lots and opens a new lot, on the other side, with the rest. Matching per
lot keeps every number exact and gives grid bots - which rarely go flat - one trade per level
taken, which is how their users count them.

Fees: each trade carries its share of the opening and of the closing fill's fee, pro rata by
size; the last piece of a fill takes what is left of its fee, so the trades' fees plus the open
lots' fees always add up exactly to the fills' fees. Funding is not split across trades (a
payment belongs to the position, not to a lot): it is attributed per venue and symbol in
:mod:`analytics.metrics`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from analytics.records import FillRecord

ZERO = Decimal(0)
Direction = Literal["long", "short"]


@dataclass(frozen=True, slots=True)
class Trade:
    """A closed quantity: opened at ``entry_price``, closed at ``exit_price``.

    ``gross_pnl`` is the price difference times the size (sign of the direction); ``fees`` the
    share of both fills' fees; ``net_pnl = gross_pnl - fees``.
    """

    venue: str
    symbol: str
    direction: Direction
    size: Decimal
    entry_price: Decimal
    exit_price: Decimal
    opened_at: datetime
    closed_at: datetime
    gross_pnl: Decimal
    fees: Decimal

    @property
    def net_pnl(self) -> Decimal:
        return self.gross_pnl - self.fees

    @property
    def hold(self) -> timedelta:
        return self.closed_at - self.opened_at


@dataclass(slots=True)
class OpenLot:
    """What is left open of one opening fill (``size`` > 0, ``fee`` its unassigned fee)."""

    venue: str
    symbol: str
    direction: Direction
    size: Decimal
    price: Decimal
    opened_at: datetime
    fee: Decimal

    @property
    def signed_size(self) -> Decimal:
        return self.size if self.direction == "long" else -self.size


@dataclass(slots=True)
class Reconstruction:
    """Closed trades in closing order, and the lots still open per (venue, symbol)."""

    trades: list[Trade] = field(default_factory=list)
    open_lots: dict[tuple[str, str], list[OpenLot]] = field(default_factory=dict)

    def position(self, venue: str, symbol: str) -> Decimal:
        """Signed open size (long > 0) of ``symbol`` on ``venue`` after the last fill."""
        return sum((lot.signed_size for lot in self.open_lots.get((venue, symbol), [])), ZERO)


def _share(amount: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """``amount * part / whole``, exactly ``amount`` when ``part`` is the whole."""
    return amount if part == whole else amount * part / whole


def reconstruct(fills: Iterable[FillRecord]) -> Reconstruction:
    """Match ``fills`` (any order: they are sorted by time, stably) into FIFO trades."""
    books: dict[tuple[str, str], deque[OpenLot]] = {}
    trades: list[Trade] = []
    for fill in sorted(fills, key=lambda f: f.ts):
        lots = books.setdefault((fill.venue, fill.symbol), deque())
        remaining, fee_left = fill.size, fill.fee
        closing: Direction = "short" if fill.side == "buy" else "long"
        while remaining > 0 and lots and lots[0].direction == closing:
            lot = lots[0]
            quantity = min(remaining, lot.size)
            open_fee = _share(lot.fee, quantity, lot.size)
            close_fee = _share(fee_left, quantity, remaining)
            move = fill.price - lot.price
            gross = move * quantity if closing == "long" else -move * quantity
            trades.append(
                Trade(
                    venue=fill.venue,
                    symbol=fill.symbol,
                    direction=closing,
                    size=quantity,
                    entry_price=lot.price,
                    exit_price=fill.price,
                    opened_at=lot.opened_at,
                    closed_at=fill.ts,
                    gross_pnl=gross,
                    fees=open_fee + close_fee,
                )
            )
            lot.size -= quantity
            lot.fee -= open_fee
            remaining -= quantity
            fee_left -= close_fee
            if lot.size == 0:
                lots.popleft()
        if remaining > 0:
            lots.append(
                OpenLot(
                    venue=fill.venue,
                    symbol=fill.symbol,
                    direction="long" if fill.side == "buy" else "short",
                    size=remaining,
                    price=fill.price,
                    opened_at=fill.ts,
                    fee=fee_left,
                )
            )
    return Reconstruction(
        trades=trades, open_lots={key: list(lots) for key, lots in books.items() if lots}
    )
