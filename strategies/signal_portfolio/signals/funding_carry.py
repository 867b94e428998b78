"""Carry: hold the side funding pays. Funding above ``threshold_pct`` -> SHORT (shorts are paid),
below minus it -> LONG. Unlike ``funding_rate`` it is not a bet on a reversal but on the
payment, so its bar is lower and its confidence is capped at ``max_confidence``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from strategies.signal_portfolio.signals.indicators import scaled_confidence
from strategies.signal_portfolio.signals.registry import (
    SignalParams,
    SignalStrategy,
    signal_strategy,
)
from strategies.signal_portfolio.signals.types import Direction, MarketSnapshot, Signal

HUNDRED = Decimal(100)


class FundingCarryParams(SignalParams):
    threshold_pct: Annotated[Decimal, Field(gt=0, lt=10)] = Field(
        default=Decimal("0.05"), description="funding per interval, %, above which to collect it"
    )
    max_confidence: Annotated[Decimal, Field(gt=0, le=1)] = Field(
        default=Decimal("0.8"), description="the most confidence a carry signal gets"
    )


@signal_strategy("funding_carry")
class FundingCarry(SignalStrategy[FundingCarryParams]):
    params_model = FundingCarryParams

    def evaluate(self, snapshot: MarketSnapshot) -> Signal | None:
        if snapshot.funding_rate is None:
            return None
        funding_pct = snapshot.funding_rate * HUNDRED
        threshold = self.params.threshold_pct
        if abs(funding_pct) <= threshold:
            return None
        confidence = min(
            self.params.max_confidence,
            scaled_confidence(abs(funding_pct) - threshold, threshold),
        )
        direction = Direction.SHORT if funding_pct > 0 else Direction.LONG
        return self.signal(snapshot, direction, confidence, funding_pct=str(funding_pct))
