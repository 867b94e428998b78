"""Mean reversion on RSI: above ``overbought`` -> SHORT, below ``oversold`` -> LONG.

RSI(``period``) of the closed ``interval`` candles (5-minute by default). Confidence is 0.5 at
the band and 1 at the extreme (RSI 100 or 0).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, model_validator

from strategies.signal_portfolio.signals.indicators import rsi, scaled_confidence
from strategies.signal_portfolio.signals.registry import (
    SignalParams,
    SignalStrategy,
    signal_strategy,
)
from strategies.signal_portfolio.signals.types import Direction, MarketSnapshot, Signal

Level = Annotated[Decimal, Field(gt=0, lt=100)]


class RsiParams(SignalParams):
    interval: Literal["1m", "5m", "1h"] = Field(default="5m", description="candles the RSI reads")
    period: Annotated[int, Field(ge=2, le=200)] = Field(default=14, description="RSI periods")
    overbought: Level = Field(default=Decimal(75), description="RSI above it: SHORT")
    oversold: Level = Field(default=Decimal(25), description="RSI below it: LONG")

    @model_validator(mode="after")
    def _ordered(self) -> RsiParams:
        if self.oversold >= self.overbought:
            raise ValueError(f"oversold {self.oversold} must be below overbought {self.overbought}")
        return self


@signal_strategy("rsi_mean_reversion")
class RsiMeanReversion(SignalStrategy[RsiParams]):
    params_model = RsiParams

    def evaluate(self, snapshot: MarketSnapshot) -> Signal | None:
        value = rsi(snapshot.closes(self.params.interval), self.params.period)
        if value is None:
            return None
        if value > self.params.overbought:
            confidence = scaled_confidence(
                value - self.params.overbought, 100 - self.params.overbought
            )
            return self.signal(snapshot, Direction.SHORT, confidence, rsi=str(round(value, 2)))
        if value < self.params.oversold:
            confidence = scaled_confidence(self.params.oversold - value, self.params.oversold)
            return self.signal(snapshot, Direction.LONG, confidence, rsi=str(round(value, 2)))
        return None
