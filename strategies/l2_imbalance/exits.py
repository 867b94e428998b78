"""When an open position leaves: take-profit, stop-loss or time stop, whichever comes first.

Prices are judged on the mid (the touch on one side would stop out on the spread alone); the
time stop needs no price at all, so a stale or missing book never keeps a position past it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from exchange_clients.types import Side

HUNDRED = Decimal(100)
ExitKind = Literal["stop_loss", "take_profit", "time_stop"]


@dataclass(frozen=True)
class ExitRules:
    take_profit_pct: Decimal
    stop_loss_pct: Decimal
    time_stop: timedelta


@dataclass(frozen=True)
class ExitSignal:
    kind: ExitKind
    reason: str


def due_exit(
    rules: ExitRules,
    side: Side,
    entry_price: Decimal,
    opened_at: datetime,
    mid: Decimal | None,
    now: datetime,
) -> ExitSignal | None:
    """The exit due now, or None; stop-loss before take-profit before the time stop."""
    if mid is not None:
        direction = 1 if side == "buy" else -1
        gain_pct = (mid - entry_price) / entry_price * HUNDRED * direction
        if -gain_pct >= rules.stop_loss_pct:
            return ExitSignal(
                "stop_loss",
                f"mid {mid} is {-gain_pct:.4f}% against the entry {entry_price} "
                f"(stop_loss_pct {rules.stop_loss_pct})",
            )
        if gain_pct >= rules.take_profit_pct:
            return ExitSignal(
                "take_profit",
                f"mid {mid} is {gain_pct:.4f}% in favour of the entry {entry_price} "
                f"(take_profit_pct {rules.take_profit_pct})",
            )
    held = now - opened_at
    if held >= rules.time_stop:
        return ExitSignal(
            "time_stop",
            f"position held {held.total_seconds():g} s, time_stop_seconds is "
            f"{rules.time_stop.total_seconds():g}",
        )
    return None
