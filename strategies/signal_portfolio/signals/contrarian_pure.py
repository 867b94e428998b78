"""Fade the Polymarket crowd: a consensus of ``threshold`` or more on a direction -> the other.

Crowds in short-dated crypto prediction markets over-extrapolate; a lopsided book is taken as
a sign the move is priced in. Confidence is 0.5 at the threshold, 1 at certainty.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field

from strategies.signal_portfolio.signals.indicators import scaled_confidence
from strategies.signal_portfolio.signals.registry import (
    SignalParams,
    SignalStrategy,
    signal_strategy,
)
from strategies.signal_portfolio.signals.types import Direction, MarketSnapshot, Signal

Probability = Annotated[Decimal, Field(gt=Decimal("0.5"), lt=1)]


class ContrarianPureParams(SignalParams):
    threshold: Probability = Field(
        default=Decimal("0.72"), description="crowd probability of a direction that is faded"
    )


@signal_strategy("contrarian_pure")
class ContrarianPure(SignalStrategy[ContrarianPureParams]):
    params_model = ContrarianPureParams

    def evaluate(self, snapshot: MarketSnapshot) -> Signal | None:
        view = snapshot.polymarket
        if view is None:
            return None
        return fade(self, snapshot, view.up_probability, self.params.threshold)


def fade(
    strategy: SignalStrategy[Any],
    snapshot: MarketSnapshot,
    up: Decimal,
    threshold: Decimal,
) -> Signal | None:
    """SHORT when the crowd says up with ``threshold`` or more, LONG when it says down."""
    span = 1 - threshold
    if up >= threshold:
        return strategy.signal(
            snapshot,
            Direction.SHORT,
            scaled_confidence(up - threshold, span),
            up_probability=str(up),
        )
    if 1 - up >= threshold:
        return strategy.signal(
            snapshot,
            Direction.LONG,
            scaled_confidence(1 - up - threshold, span),
            up_probability=str(up),
        )
    return None
