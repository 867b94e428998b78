"""The scalper's hard limits, as checks that raise their own ``RiskLimitBreached`` subclass.

Entry checks (:func:`check_trade_notional`, :func:`check_instrument_exposure`) refuse one
entry. :class:`EquityWatch` follows the account's equity: the day's loss reaching
``daily_loss_limit_usd`` or the fall from the peak reaching ``max_drawdown_usd`` raises the
error that makes the strategy trip the kill switch (cancel, flatten, stop). The time stop is
an exit rule (:mod:`strategies.l2_imbalance.exits`) with its own error type too.

Amounts are USD :class:`~decimal.Decimal`; the watch's peak and day start are saved with the
strategy's state, so a restart neither forgets a peak nor restarts the day's count.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from core.errors import (
    DailyLossLimitBreached,
    DrawdownLimitBreached,
    InstrumentExposureLimitBreached,
    TradeNotionalLimitBreached,
)

HUNDRED = Decimal(100)


def check_trade_notional(symbol: str, notional: Decimal, cap: Decimal) -> None:
    """Refuse an entry whose notional (at its expected fill prices) is above ``cap``."""
    if notional > cap:
        raise TradeNotionalLimitBreached(
            f"{symbol} entry of {notional:.2f} USD is above max_trade_notional_usd {cap} USD"
        )


def check_instrument_exposure(
    symbol: str, position_after: Decimal, equity: Decimal, cap_pct: Decimal
) -> None:
    """Refuse an entry that would take ``symbol``'s position above ``cap_pct`` % of equity."""
    cap = equity * cap_pct / HUNDRED if equity > 0 else Decimal(0)
    if position_after > cap:
        raise InstrumentExposureLimitBreached(
            f"{symbol} position would be {position_after:.2f} USD, above "
            f"max_instrument_exposure_pct {cap_pct}% of equity {equity:.2f} USD "
            f"({cap:.2f} USD)"
        )


class EquityWatch:
    """Peak equity and the UTC day's starting equity, checked against the two kill limits."""

    def __init__(self, daily_loss_limit: Decimal, max_drawdown: Decimal) -> None:
        self.daily_loss_limit = daily_loss_limit
        self.max_drawdown = max_drawdown
        self.peak: Decimal | None = None
        self.day: date | None = None
        self.day_start: Decimal | None = None

    def check(self, equity: Decimal, now: datetime) -> None:
        """Feed the current equity; raise when a kill limit is reached (the day first)."""
        today = now.astimezone(UTC).date()
        if self.day != today or self.day_start is None:
            self.day, self.day_start = today, equity
        if self.peak is None or equity > self.peak:
            self.peak = equity
        loss = self.day_start - equity
        if loss >= self.daily_loss_limit:
            raise DailyLossLimitBreached(
                f"equity {equity:.2f} USD is {loss:.2f} USD below the day's start "
                f"{self.day_start:.2f} USD: daily_loss_limit_usd {self.daily_loss_limit} reached"
            )
        drawdown = self.peak - equity
        if drawdown >= self.max_drawdown:
            raise DrawdownLimitBreached(
                f"equity {equity:.2f} USD is {drawdown:.2f} USD below its peak "
                f"{self.peak:.2f} USD: max_drawdown_usd {self.max_drawdown} reached"
            )

    def state(self) -> dict[str, Any]:
        return {
            "peak": self.peak,
            "day": self.day.isoformat() if self.day else None,
            "day_start": self.day_start,
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        peak, day, start = state.get("peak"), state.get("day"), state.get("day_start")
        self.peak = None if peak is None else Decimal(str(peak))
        self.day = date.fromisoformat(str(day)) if day else None
        self.day_start = None if start is None else Decimal(str(start))
