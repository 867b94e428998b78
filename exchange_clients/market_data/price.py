"""The fair price of one symbol on one venue, as a pure function of time.

    log P(t) = log base_price
             + W_slow(t) + v(t) * W_fast(t)     continuous part (value-noise random walk)
             + J(t)                             jumps, each fading out over hours
             + B_venue(t)                       venue basis, a few bps

``W`` is a random walk built from value-noise octaves (see :mod:`.noise`) from half a second
to ~24 days, scaled so the 1-day log return has standard deviation ``daily_vol``. Being a sum
of bounded octaves it is stationary: the log-price has a standard deviation of about
``2.9 * daily_vol`` around ``log base_price`` (~9 % for BTC, ~16 % for DOGE), so over months
the price wanders like a real one but never drifts off to zero or infinity.

``v(t)`` is the volatility regime: ``exp(0.35 Z(t) - 0.35^2)`` with ``Z`` a smooth unit process
moving over hours to days (1 h to 64 h octaves), so E[v^2] = 1, v spans ~0.3 to ~3, and
volatility clusters (calm stretches, then
stormy ones: the fat tails of real returns). Only the octaves finer than an hour are scaled
by it; scaling the slow octaves too would move the price whenever the regime changes.

``J(t)``: time is cut into hourly buckets, each holding one jump with probability
``jumps_per_day / 24`` at a uniform moment, of absolute log size ``jump_size * (0.5 + E/2)``
(``E`` unit exponential: mean ``jump_size``, never tiny) and random sign. A jump's effect is
``size * (1 - age / 8 h)^2``: the full gap at once, then a slow retracement that reaches zero
after 8 hours, so only the last 9 buckets can matter and any moment costs O(1).

``B_venue(t)``: a smooth process with a 3 bps standard deviation moving over minutes to
hours, keyed by venue, so two venues on one seed quote the same market a few bps apart.
"""

from __future__ import annotations

import math
from functools import lru_cache

from exchange_clients.market_data.micros import DAY, HOUR, MINUTE, SECOND
from exchange_clients.market_data.noise import (
    RandomStream,
    ValueNoise,
    exponential,
    random_walk_octaves,
    stationary_octaves,
)
from exchange_clients.market_data.symbols import SymbolModel

FINEST_SPACING = SECOND // 2
COARSEST_SPACING = FINEST_SPACING * 2**22
REGIME_SPLIT = HOUR
VOL_OF_VOL = 0.35
REGIME_OCTAVES = stationary_octaves(HOUR, 64 * HOUR, sd=1.0)
JUMP_BUCKET = HOUR
JUMP_FADE = 8 * HOUR
BASIS_OCTAVES = stationary_octaves(MINUTE, 4 * HOUR, sd=3e-4)


class PriceProcess:
    """``log P(t)`` for one symbol on one venue; every method is a pure function of ``t``.

    Times are integer microseconds since the epoch (see :mod:`.micros`).
    """

    __slots__ = (
        "_basis",
        "_fast",
        "_jump_at",
        "_jump_probability",
        "_jump_size",
        "_jumps",
        "_log_base",
        "_regime",
        "_slow",
    )

    def __init__(self, seed: int, venue: str, model: SymbolModel) -> None:
        walk = random_walk_octaves(
            FINEST_SPACING, COARSEST_SPACING, sd=model.daily_vol, horizon=DAY
        )
        diffusion = RandomStream(seed, "diffusion", model.symbol)
        self._fast = ValueNoise(diffusion, [o for o in walk if o.spacing < REGIME_SPLIT])
        self._slow = ValueNoise(diffusion, [o for o in walk if o.spacing >= REGIME_SPLIT])
        self._regime = ValueNoise(RandomStream(seed, "regime", model.symbol), REGIME_OCTAVES)
        self._basis = ValueNoise(RandomStream(seed, "basis", venue, model.symbol), BASIS_OCTAVES)
        self._log_base = math.log(model.base_price)
        self._jump_probability = model.jumps_per_day * JUMP_BUCKET / DAY
        self._jump_size = model.jump_size
        self._jump_at = lru_cache(maxsize=64)(self._jump_in_bucket)
        self._jumps = RandomStream(seed, "jumps", model.symbol)

    def volatility(self, t: int) -> float:
        """The volatility regime ``v(t)``: 1 on average, ~0.5 when calm, 2+ when stormy."""
        return math.exp(VOL_OF_VOL * self._regime(t) - VOL_OF_VOL**2)

    def jump(self, t: int) -> float:
        """``J(t)``: the log-price offset left by recent jumps."""
        total = 0.0
        for bucket in range((t - JUMP_FADE) // JUMP_BUCKET, t // JUMP_BUCKET + 1):
            found = self._jump_at(bucket)
            if found is not None and 0 <= t - found[0] < JUMP_FADE:
                total += found[1] * (1.0 - (t - found[0]) / JUMP_FADE) ** 2
        return total

    def log_price(self, t: int) -> float:
        return (
            self._log_base
            + self._slow(t)
            + self.volatility(t) * self._fast(t)
            + self.jump(t)
            + self._basis(t)
        )

    def price(self, t: int) -> float:
        return math.exp(self.log_price(t))

    def _jump_in_bucket(self, bucket: int) -> tuple[int, float] | None:
        """``(time, signed log size)`` of the jump in an hourly bucket, if there is one."""
        occurs, moment, magnitude, sign = self._jumps.uniforms(bucket)
        if occurs >= self._jump_probability:
            return None
        size = self._jump_size * (0.5 + 0.5 * exponential(magnitude))
        return bucket * JUMP_BUCKET + int(moment * JUMP_BUCKET), size if sign < 0.5 else -size
