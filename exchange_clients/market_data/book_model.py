"""The synthetic L2 book around the fair price, in integer ticks and steps.

Touch: the spread is ``1 + min(6, floor(spread_widening * v(t) * E))`` ticks, with ``E`` a
unit exponential drawn per second and ``v`` the volatility regime: one tick most of the time,
a few when the market is stormy. The best bid is the highest tick at least half a spread below
the fair price, the best ask one spread above it.

Depth: walking away from the touch, each tick holds a level unless it is one of the 20 % of
ticks left empty, until there are N levels. A level's size is
``touch_size * (1 + depth_growth * d) * L`` rounded down to the step (at least one step),
where ``d`` is its distance in ticks from the fair price and ``L`` a lognormal factor with a
log standard deviation of 0.5. Like a resting order, a level keeps its size (and presence)
between *refreshes*: every level refreshes once every 4 s, the ticks split into 8 groups that
refresh at staggered moments, and ``d`` is measured from the fair price at the level's last
refresh. So when the price moves, levels appear at the front and vanish at the back while the
others mostly keep their sizes, and consecutive books differ by a realistic handful of levels
instead of being redrawn wholesale.
"""

from __future__ import annotations

import math
from functools import lru_cache

from exchange_clients.market_data.micros import SECOND
from exchange_clients.market_data.noise import RandomStream, exponential, normal
from exchange_clients.market_data.price import PriceProcess
from exchange_clients.market_data.symbols import SymbolModel

MAX_EXTRA_SPREAD_TICKS = 6
SPREAD_BUCKET = SECOND
EMPTY_TICK_PROBABILITY = 0.2
SIZE_LOG_SD = 0.5
REFRESH_PERIOD = 4 * SECOND
REFRESH_GROUPS = 8

Levels = list[tuple[int, int]]
"""``(price in ticks, size in steps)``, best first."""


class BookModel:
    """Book levels of one symbol on one venue; every method is a pure function of ``t``."""

    __slots__ = (
        "_growth",
        "_level",
        "_price",
        "_reference",
        "_spread",
        "_spread_widening",
        "_tick",
        "_touch_steps",
    )

    def __init__(self, seed: int, venue: str, model: SymbolModel, price: PriceProcess) -> None:
        self._price = price
        self._tick = float(model.tick_size)
        self._touch_steps = model.touch_size / float(model.step_size)
        self._growth = model.depth_growth
        self._spread_widening = model.spread_widening
        self._spread = RandomStream(seed, "spread", venue, model.symbol)
        levels = RandomStream(seed, "levels", venue, model.symbol)
        self._level = lru_cache(maxsize=4096)(levels.uniforms)
        self._reference = lru_cache(maxsize=64)(self.fair_ticks)

    def fair_ticks(self, t: int) -> float:
        """The fair price in ticks (not rounded)."""
        return self._price.price(t) / self._tick

    def spread_ticks(self, t: int) -> int:
        u, _, _, _ = self._spread.uniforms(t // SPREAD_BUCKET)
        extra = int(self._spread_widening * self._price.volatility(t) * exponential(u))
        return 1 + min(MAX_EXTRA_SPREAD_TICKS, extra)

    def touch(self, t: int) -> tuple[int, int]:
        """``(best bid, best ask)`` in ticks."""
        spread = self.spread_ticks(t)
        bid = math.floor(self.fair_ticks(t) - spread / 2)
        return bid, bid + spread

    def levels(self, t: int, depth: int) -> tuple[Levels, Levels]:
        """``(bids, asks)``: ``depth`` levels a side (fewer only if bids reach price zero)."""
        bid, ask = self.touch(t)
        return self._side(t, bid, -1, depth), self._side(t, ask, 1, depth)

    def _side(self, t: int, touch: int, direction: int, depth: int) -> Levels:
        levels: Levels = []
        tick = touch
        while len(levels) < depth and tick > 0:
            group = tick % REFRESH_GROUPS
            phase = group * REFRESH_PERIOD // REFRESH_GROUPS
            refresh = (t + phase) // REFRESH_PERIOD
            presence, u0, u1, _ = self._level(tick, refresh)
            if tick == touch or presence >= EMPTY_TICK_PROBABILITY:
                reference = self._reference(refresh * REFRESH_PERIOD - phase)
                distance = max(0.0, direction * (tick - reference))
                noise = math.exp(SIZE_LOG_SD * normal(u0, u1) - SIZE_LOG_SD**2 / 2)
                steps = self._touch_steps * (1.0 + self._growth * distance) * noise
                levels.append((tick, max(1, int(steps))))
            tick += direction
        return levels
