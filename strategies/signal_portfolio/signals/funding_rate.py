"""Fade the crowded side of the perpetual: funding beyond +-``threshold_pct`` per interval.

Funding far above zero means longs pay heavily to stay long - positioning is one-sided and
prone to unwinding - so go SHORT; far below zero, LONG. Confidence is 0.5 at the threshold
and 1 at twice it.
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


class FundingRateParams(SignalParams):
    threshold_pct: Annotated[Decimal, Field(gt=0, lt=10)] = Field(
        default=Decimal("0.12"), description="funding per interval, %, beyond which to fade"
    )


@signal_strategy("funding_rate")
class FundingRateFade(SignalStrategy[FundingRateParams]):
    params_model = FundingRateParams

    def evaluate(self, snapshot: MarketSnapshot) -> Signal | None:
        if snapshot.funding_rate is None:
            return None
        funding_pct = snapshot.funding_rate * HUNDRED
        threshold = self.params.threshold_pct
        if abs(funding_pct) <= threshold:
            return None
        direction = Direction.SHORT if funding_pct > 0 else Direction.LONG
        return self.signal(
            snapshot,
            direction,
            scaled_confidence(abs(funding_pct) - threshold, threshold),
            funding_pct=str(funding_pct),
        )
