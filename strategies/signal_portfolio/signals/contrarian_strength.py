"""Fade a strong Polymarket consensus (``threshold`` 0.80) only where the markets are deep.

The same rule as ``contrarian_pure`` at a higher bar, counted only when the markets behind the
consensus hold at least ``min_liquidity_usd`` and traded ``min_volume_24h_usd`` in a day: a
thin market's 85 % is one trader's opinion, not a crowd's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from strategies.signal_portfolio.signals.contrarian_pure import fade
from strategies.signal_portfolio.signals.registry import (
    SignalParams,
    SignalStrategy,
    signal_strategy,
)
from strategies.signal_portfolio.signals.types import MarketSnapshot, Signal


class ContrarianStrengthParams(SignalParams):
    threshold: Annotated[Decimal, Field(gt=Decimal("0.5"), lt=1)] = Field(
        default=Decimal("0.80"), description="crowd probability of a direction that is faded"
    )
    min_liquidity_usd: Annotated[Decimal, Field(ge=0)] = Field(
        default=Decimal(10_000), description="liquidity the markets must hold, USD"
    )
    min_volume_24h_usd: Annotated[Decimal, Field(ge=0)] = Field(
        default=Decimal(5_000), description="volume the markets must have traded in 24 h, USD"
    )


@signal_strategy("contrarian_strength")
class ContrarianStrength(SignalStrategy[ContrarianStrengthParams]):
    params_model = ContrarianStrengthParams

    def evaluate(self, snapshot: MarketSnapshot) -> Signal | None:
        view = snapshot.polymarket
        if view is None:
            return None
        if view.liquidity < self.params.min_liquidity_usd:
            return None
        if view.volume_24h < self.params.min_volume_24h_usd:
            return None
        return fade(self, snapshot, view.up_probability, self.params.threshold)
