"""Fault injection for the paper venue: the failures real venues produce, on demand.

Execution code (hedging, rollback, reconciliation) is only trustworthy if it has been run
against latency, rejections, timeouts whose order *did* land, partial fills, disconnects and a
leg that never fills. A :class:`FaultPlan` describes which of those to produce; set one on a
client (``client.faults = FaultPlan(...)`` or the ``faults`` option) and change it at any time.
Random faults draw from the plan's own seeded generator, so a failing test replays exactly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class FaultPlan:
    """What the paper venue should do wrong; the default plan does nothing wrong.

    * ``latency`` - seconds (on the client's clock) every request waits before the venue
      handles it; the market keeps moving meanwhile.
    * ``reject_next`` - the next N order placements are rejected (``OrderRejected``).
    * ``reject_probability`` - each placement is rejected with this probability.
    * ``timeout_after_landing`` - the next N placements are accepted, matched and persisted,
      and then the call raises ``RequestTimeout``: the caller must find the order by its
      client order id, exactly as after a real timeout.
    * ``fill_ratio`` - market and IOC orders fill at most this fraction of their size
      (rounded down to the step); the rest is cancelled, as when the book is thin.
    * ``disconnected`` - every request raises ``VenueUnavailable`` and fills/order updates
      are held back (matching goes on: the venue does not stop because we lost it), then
      delivered in order once reconnected. See :meth:`disconnect`/:meth:`reconnect`.
    * ``silent_streams`` - the private streams (fills, order updates) deliver nothing while
      requests keep working: the socket that stays open but carries no data. Events of that
      time are gone for good; only polling by client order id can find out what happened.
    * ``never_fill`` - symbols on which nothing ever fills: resting orders stay untouched by
      trades and book moves, market/IOC orders end ``EXPIRED`` with nothing filled.
    """

    latency: float = 0.0
    reject_next: int = 0
    reject_probability: float = 0.0
    timeout_after_landing: int = 0
    fill_ratio: Decimal | None = None
    disconnected: bool = False
    silent_streams: bool = False
    never_fill: set[str] = field(default_factory=set)
    seed: int = 0
    _random: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.latency < 0:
            raise ValueError(f"latency cannot be negative, not {self.latency}")
        if self.reject_next < 0 or self.timeout_after_landing < 0:
            raise ValueError("reject_next and timeout_after_landing count orders: use >= 0")
        if not 0 <= self.reject_probability <= 1:
            raise ValueError(f"reject_probability must be in [0, 1], not {self.reject_probability}")
        if self.fill_ratio is not None and not 0 <= self.fill_ratio <= 1:
            raise ValueError(f"fill_ratio must be in [0, 1], not {self.fill_ratio}")
        self._random = random.Random(self.seed)  # noqa: S311 - test randomness, not crypto

    def disconnect(self) -> None:
        self.disconnected = True

    def reconnect(self) -> None:
        self.disconnected = False

    def rejects_placement(self) -> bool:
        """Whether the placement being handled is rejected (uses up one ``reject_next``)."""
        if self.reject_next:
            self.reject_next -= 1
            return True
        return bool(self.reject_probability) and self._random.random() < self.reject_probability

    def times_out_placement(self) -> bool:
        """Whether the placement just accepted reports a timeout (uses up one)."""
        if self.timeout_after_landing:
            self.timeout_after_landing -= 1
            return True
        return False
