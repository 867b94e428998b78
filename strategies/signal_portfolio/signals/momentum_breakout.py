"""Breakout: a close outside the Bollinger band (``period``, ``width`` sigma) on the
``interval`` candles with volume at least ``volume_multiple`` times the band period's average.

The band is computed over the ``period`` candles before the last one, so the breakout candle
does not widen its own band. Above the upper band: LONG; below the lower: SHORT. Confidence is
0.5 at the band and 1 at one more band-width beyond it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from strategies.signal_portfolio.signals.indicators import bollinger, scaled_confidence
from strategies.signal_portfolio.signals.registry import (
    SignalParams,
    SignalStrategy,
    signal_strategy,
)
from strategies.signal_portfolio.signals.types import Direction, MarketSnapshot, Signal

_ZERO = Decimal(0)


class MomentumBreakoutParams(SignalParams):
    interval: Literal["1m", "5m", "1h"] = Field(default="1h", description="candles the band reads")
    period: Annotated[int, Field(ge=2, le=500)] = Field(default=20, description="band periods")
    width: Annotated[Decimal, Field(gt=0, le=10)] = Field(
        default=Decimal(2), description="band half-width in standard deviations"
    )
    volume_multiple: Annotated[Decimal, Field(gt=0)] = Field(
        default=Decimal("1.5"), description="the breakout candle's volume over the average"
    )


@signal_strategy("momentum_breakout")
class MomentumBreakout(SignalStrategy[MomentumBreakoutParams]):
    params_model = MomentumBreakoutParams

    def evaluate(self, snapshot: MarketSnapshot) -> Signal | None:
        candles = snapshot.candles.get(self.params.interval, ())
        period = self.params.period
        if len(candles) < period + 1:
            return None
        history, last = candles[-(period + 1) : -1], candles[-1]
        band = bollinger([c.close for c in history], period, self.params.width)
        if band is None:
            return None
        lower, _, upper = band
        average_volume = sum((c.volume for c in history), _ZERO) / period
        if average_volume <= 0 or last.volume < average_volume * self.params.volume_multiple:
            return None
        span = upper - lower
        if last.close > upper:
            direction, excess = Direction.LONG, last.close - upper
        elif last.close < lower:
            direction, excess = Direction.SHORT, lower - last.close
        else:
            return None
        return self.signal(
            snapshot,
            direction,
            scaled_confidence(excess, span),
            close=str(last.close),
            band=f"{lower:.2f}..{upper:.2f}",
            volume_ratio=str(round(last.volume / average_volume, 2)),
        )
