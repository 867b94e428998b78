"""How big an entry is: a fixed share of equity at risk, scaled down when confidence is low.

``risk amount = equity x risk_pct``; ``quantity = risk amount / (entry x stop distance)`` -
a stop-loss hit loses about the risk amount whatever the asset's price. A signal below
``full_size_confidence`` is scaled by half-Kelly from its strategy's closed trades (win rate
p, average win W, average loss L: ``f* = p - (1 - p) / (W / L)``, half of it, clamped to
0..1) once the strategy has ``kelly_min_trades``; before that, in proportion to its
confidence (``confidence / full_size_confidence``). A strategy whose record shows no edge
(half-Kelly <= 0) gets nothing for its low-confidence signals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


@dataclass
class TradeRecord:
    """One signal strategy's closed trades: what half-Kelly reads."""

    wins: int = 0
    losses: int = 0
    sum_wins: Decimal = _ZERO
    sum_losses: Decimal = _ZERO  # positive

    @property
    def count(self) -> int:
        return self.wins + self.losses

    def add(self, pnl: Decimal) -> None:
        if pnl > 0:
            self.wins += 1
            self.sum_wins += pnl
        else:
            self.losses += 1
            self.sum_losses += -pnl

    def half_kelly(self) -> Decimal | None:
        """Half the Kelly fraction, clamped to 0..1; None without a win and a loss."""
        if self.wins == 0 or self.losses == 0 or self.sum_losses == 0:
            return None
        p = Decimal(self.wins) / self.count
        payoff = (self.sum_wins / self.wins) / (self.sum_losses / self.losses)
        kelly = p - (1 - p) / payoff
        return min(max(kelly / 2, _ZERO), Decimal(1))

    def to_json(self) -> dict[str, Any]:
        return {
            "wins": self.wins,
            "losses": self.losses,
            "sum_wins": self.sum_wins,
            "sum_losses": self.sum_losses,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TradeRecord:
        return cls(
            int(data.get("wins", 0)),
            int(data.get("losses", 0)),
            Decimal(str(data.get("sum_wins", 0))),
            Decimal(str(data.get("sum_losses", 0))),
        )


@dataclass(frozen=True)
class SizingRules:
    risk_pct: Decimal
    stop_loss_pct: Decimal
    min_confidence: Decimal
    full_size_confidence: Decimal
    kelly_min_trades: int


@dataclass(frozen=True)
class Sizing:
    """The quantity to enter (0: none) and why."""

    quantity: Decimal
    scale: Decimal
    reason: str
    details: dict[str, str] = field(default_factory=dict)


def size_entry(
    rules: SizingRules,
    equity: Decimal,
    entry_price: Decimal,
    confidence: Decimal,
    record: TradeRecord,
) -> Sizing:
    """The entry quantity for a signal of ``confidence`` at ``entry_price``."""
    if confidence < rules.min_confidence:
        return Sizing(
            _ZERO,
            _ZERO,
            f"confidence {confidence:.2f} below min_confidence {rules.min_confidence}",
        )
    if equity <= 0 or entry_price <= 0:
        return Sizing(_ZERO, _ZERO, f"no equity to size from ({equity})")
    risk_amount = equity * rules.risk_pct / _HUNDRED
    quantity = risk_amount / (entry_price * rules.stop_loss_pct / _HUNDRED)
    scale = Decimal(1)
    how = "full size"
    if confidence < rules.full_size_confidence:
        half_kelly = record.half_kelly() if record.count >= rules.kelly_min_trades else None
        if half_kelly is not None:
            scale, how = half_kelly, f"half-Kelly {half_kelly:.3f} over {record.count} trades"
            if scale <= 0:
                return Sizing(
                    _ZERO,
                    _ZERO,
                    f"half-Kelly is 0: no edge in the strategy's last {record.count} trades",
                )
        else:
            scale = confidence / rules.full_size_confidence
            how = f"confidence scale {scale:.3f} (fewer than {rules.kelly_min_trades} trades)"
    return Sizing(
        quantity * scale,
        scale,
        how,
        {"risk_amount": f"{risk_amount:.2f}", "scale": f"{scale:.4f}"},
    )
