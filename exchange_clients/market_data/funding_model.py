"""Synthetic funding: an hourly rate per (venue, symbol) that drifts and flips sign.

    h(t) = CAP * tanh((funding_mean + C(t) + V_venue(t)) / CAP)

``C`` is common to every venue of a seed (the market-wide demand for leverage): standard
deviation ``2.2e-5 * funding_scale`` per hour, moving over 4 hours to ~3 days. ``V_venue`` is
the venue's own premium, as large, moving over 2 hours to 2 days, independent between
venues; so two venues' rates are correlated about 0.5, as real venues' are. With
``funding_mean`` around 1e-5 per hour (~9-11 % APR) the rate is positive most of the time,
turns negative for hours to days several times a week, and two venues disagree in sign
roughly a third of the time -- which is what funding arbitrage between them harvests.
Typical magnitudes are 1e-6 to 1e-4 per hour (1 % to ~90 % APR); the ``tanh`` caps the rate
softly at 3e-4 per hour (~260 % APR), as venues cap it.

A venue with an ``N``-hour interval charges ``N * h(T)`` at each boundary ``T``.
"""

from __future__ import annotations

import math

from exchange_clients.market_data.micros import HOUR
from exchange_clients.market_data.noise import RandomStream, ValueNoise, stationary_octaves
from exchange_clients.market_data.symbols import SymbolModel

CAP = 3e-4
COMMON_SD = 2.2e-5
VENUE_SD = 2.2e-5


class FundingProcess:
    """``h(t)``, the hourly funding rate of one symbol on one venue (pure in ``t``)."""

    __slots__ = ("_common", "_mean", "_venue")

    def __init__(self, seed: int, venue: str, model: SymbolModel) -> None:
        scale = model.funding_scale
        self._mean = model.funding_mean
        self._common = ValueNoise(
            RandomStream(seed, "funding", model.symbol),
            stationary_octaves(4 * HOUR, 64 * HOUR, sd=COMMON_SD * scale),
        )
        self._venue = ValueNoise(
            RandomStream(seed, "funding", venue, model.symbol),
            stationary_octaves(2 * HOUR, 48 * HOUR, sd=VENUE_SD * scale),
        )

    def hourly(self, t: int) -> float:
        return CAP * math.tanh((self._mean + self._common(t) + self._venue(t)) / CAP)
