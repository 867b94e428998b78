"""Jittered exponential backoff for reconnects and retries.

"Full jitter" (a uniform draw between zero and the exponential cap) spreads a fleet of
bots that lost the same venue at the same moment over the whole window, so they do not
reconnect in lockstep and trip the venue's connection limits together.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delay before attempt ``n``: uniform in [floor, min(maximum, initial x factor^n)]"""

    initial: float = 0.5
    maximum: float = 30.0
    factor: float = 2.0
    floor: float = 0.05

    def __post_init__(self) -> None:
        if not 0 < self.floor <= self.initial <= self.maximum or self.factor < 1:
            raise ValueError(
                "backoff needs 0 < floor <= initial <= maximum and factor >= 1, "
                f"not {self.floor}/{self.initial}/{self.maximum}/{self.factor}"
            )

    def cap(self, attempt: int) -> float:
        """The upper bound of the delay before ``attempt``."""
        # Bounded exponent: factor ** 1000 would overflow a float long after the cap is hit.
        return min(self.maximum, self.initial * self.factor ** min(attempt, 64))

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        draw = (rng or _RNG).random()
        return self.floor + (self.cap(attempt) - self.floor) * draw


_RNG = random.Random()  # noqa: S311 - jitter, not cryptography
