"""How an atomic operation may spend, wait and react when its legs do not fill together."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from execution.order_executor import ExecutionMode
from execution.pricing import AggressiveLimitParams

ENTRY_MODES = (ExecutionMode.MARKET, ExecutionMode.LIMIT, ExecutionMode.AGGRESSIVE_LIMIT)
# A sequenced operation also accepts LIMIT_WITH_FALLBACK: its lead leg rests as a maker, then
# takes the remainder at market; the other legs follow what it filled (see executor.py).
SEQUENCED_MODES = (
    ExecutionMode.LIMIT,
    ExecutionMode.LIMIT_WITH_FALLBACK,
    ExecutionMode.AGGRESSIVE_LIMIT,
)


class ImbalancePolicy(StrEnum):
    """What to do when the legs end uneven (one rejected, one partly filled, one lagging).

    * ``chase`` - the lagging legs are chased to their full size (aggressive limit, then
      market); what a chase cannot fill is hedged down to the smaller side.
    * ``hedge_to_smaller`` - the excess of the fuller legs is closed (reduce-only), so the
      operation ends hedged at the size the weakest leg reached.
    * ``rollback`` - any imbalance unwinds the whole operation to flat.

    These apply to opens. A close (every leg reduce-only) has one safe direction whatever
    the policy: every leg toward flat. Its lagging legs are chased to their target or to a
    flat position (aggressive limit, then market, reduce-only), live and in recovery; it is
    never hedged down or rolled back, since that would re-open a leg that is already flat.

    What cannot be closed is never papered over: the result says exactly what is left, its
    status is ``failed`` and an alert is raised.
    """

    CHASE = "chase"
    HEDGE_TO_SMALLER = "hedge_to_smaller"
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class AtomicTolerances:
    """Every limit of one atomic operation; the defaults suit two liquid perpetual venues.

    * ``max_slippage`` - fraction of the touch price the book must offer the whole size
      within (preflight), and the cap of a chase against the other legs' fill price.
    * ``margin_buffer`` - required margin x (1 + buffer) must be available on each venue.
    * ``leverage`` - set on every venue before sending (preflight fails if a venue applies
      something else); None keeps each venue's current leverage.
    * ``max_residual`` - net exposure (base units) tolerated at the end; None = half the
      common size step, i.e. exactly hedged.
    * ``entry_timeout_seconds`` - how long a LIMIT entry rests before the leg counts as lagging.
    * ``lag_timeout_seconds`` - once one leg is complete, how long the others may still rest.
    * ``chase_mode`` - how a lagging leg is chased; None: MARKET after a MARKET entry,
      otherwise AGGRESSIVE_LIMIT (which ends with a market order for what is left).
    * ``close_attempts`` - market attempts per leg when hedging down or rolling back.
    * ``sequenced`` - maker entries with break-even alignment (limit modes only): the first leg
      leads as a post-only maker inside the spread for ``entry_timeout_seconds``, then (per
      the mode) aggressive limits and market for its remainder; only then are the other legs
      sent, sized to what the lead actually filled and capped at the lead's break-even price
      (see :func:`hedge_limit`). Uneven legs are then handled by ``imbalance`` as usual.
    """

    max_slippage: Decimal = Decimal("0.005")
    margin_buffer: Decimal = Decimal("0.2")
    leverage: Decimal | None = None
    max_residual: Decimal | None = None
    imbalance: ImbalancePolicy = ImbalancePolicy.CHASE
    entry_timeout_seconds: float = 10.0
    lag_timeout_seconds: float = 2.0
    chase_mode: ExecutionMode | None = None
    chase: AggressiveLimitParams = field(default_factory=AggressiveLimitParams)
    chase_attempt_timeout_seconds: float = 1.0
    close_attempts: int = 3
    sequenced: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.max_slippage < 1:
            raise ValueError(f"max_slippage must be in [0, 1), not {self.max_slippage}")
        if self.margin_buffer < 0:
            raise ValueError(f"margin_buffer cannot be negative, not {self.margin_buffer}")
        if self.leverage is not None and self.leverage <= 0:
            raise ValueError(f"leverage must be positive, not {self.leverage}")
        if self.max_residual is not None and self.max_residual < 0:
            raise ValueError(f"max_residual cannot be negative, not {self.max_residual}")
        for name in ("entry_timeout_seconds", "lag_timeout_seconds"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")
        if self.chase_mode not in (None, ExecutionMode.MARKET, ExecutionMode.AGGRESSIVE_LIMIT):
            raise ValueError(
                f"chase_mode must be market or aggressive_limit, not {self.chase_mode}"
            )
        if self.close_attempts < 1:
            raise ValueError(f"close_attempts must be at least 1, not {self.close_attempts}")

    def chase_mode_after(self, entry: ExecutionMode) -> ExecutionMode:
        if self.chase_mode is not None:
            return self.chase_mode
        return (
            ExecutionMode.MARKET
            if entry is ExecutionMode.MARKET
            else ExecutionMode.AGGRESSIVE_LIMIT
        )

    def to_json(self) -> dict[str, Any]:
        """What recovery needs to finish the operation the same way."""
        return {
            "imbalance": self.imbalance.value,
            "max_residual": self.max_residual,
            "max_slippage": self.max_slippage,
            "close_attempts": self.close_attempts,
            "chase_mode": self.chase_mode.value if self.chase_mode is not None else None,
            "chase_attempts": self.chase.attempts,
            "chase_attempt_timeout_seconds": self.chase_attempt_timeout_seconds,
            "sequenced": self.sequenced,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AtomicTolerances:
        """The tolerances recovery finishes an operation with (plans of older versions too)."""
        residual = data.get("max_residual")
        chase_mode = data.get("chase_mode")
        return cls(
            imbalance=ImbalancePolicy(data["imbalance"]),
            max_residual=Decimal(residual) if residual is not None else None,
            max_slippage=Decimal(data["max_slippage"]),
            close_attempts=int(data["close_attempts"]),
            chase_mode=ExecutionMode(chase_mode) if chase_mode is not None else None,
            chase=AggressiveLimitParams(attempts=int(data.get("chase_attempts", 3))),
            chase_attempt_timeout_seconds=float(data.get("chase_attempt_timeout_seconds", 1.0)),
            sequenced=bool(data.get("sequenced", False)),
        )


def hedge_limit(
    lead_fill: Decimal,
    lead_reference: Decimal,
    hedge_reference: Decimal,
) -> Decimal:
    """The worst price a hedge leg may trade at so the pair's entry spread stays as assumed.

    The break-even rule: the operation was priced (by its caller, and re-checked at preflight)
    as if every leg crossed its book at the touch - ``lead_reference`` and ``hedge_reference``
    are those touches. The pair's entry spread is the difference between the two legs' prices;
    it stays within what was assumed when ``hedge - lead`` is no worse than
    ``hedge_reference - lead_reference``. So the hedge's limit is
    ``lead_fill + (hedge_reference - lead_reference)``: whatever the lead saved by resting as a
    maker, the hedge may give back, and no more. (For a buy it is the most it pays, for a sell
    the least it receives - the same formula, since the offset carries the sign.)
    """
    return lead_fill + (hedge_reference - lead_reference)
