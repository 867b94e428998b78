"""Indicators on Decimal closes: RSI, Bollinger bands, percentile rank. Pure functions."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Decimal

_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


def rsi(closes: Sequence[Decimal], period: int = 14) -> Decimal | None:
    """Wilder's RSI of the last close (0..100, to 6 decimals); None with fewer than
    ``period + 1`` closes.

    Seeded with the simple average of the first ``period`` changes, then Wilder-smoothed over
    at most ``10 x period`` more (older history changes the value by well under 0.01). An
    indicator, not money: computed in floats (28-digit Decimals made it 40x slower, and the
    tick budget is 2 ms for 21 evaluations), returned as a Decimal to compare with the params.
    """
    if period < 1 or len(closes) < period + 1:
        return None
    window = [float(close) for close in closes[-(period * 11 + 1) :]]
    changes = [b - a for a, b in itertools.pairwise(window)]
    gain = sum(c for c in changes[:period] if c > 0) / period
    loss = sum(-c for c in changes[:period] if c < 0) / period
    for change in changes[period:]:
        gain = (gain * (period - 1) + (change if change > 0 else 0.0)) / period
        loss = (loss * (period - 1) + (-change if change < 0 else 0.0)) / period
    if loss == 0:
        return _HUNDRED if gain > 0 else Decimal(50)
    return Decimal(f"{100 - 100 / (1 + gain / loss):.6f}")


def bollinger(
    closes: Sequence[Decimal], period: int = 20, width: Decimal = Decimal(2)
) -> tuple[Decimal, Decimal, Decimal] | None:
    """(lower, middle, upper) over the last ``period`` closes (population sigma)."""
    if period < 2 or len(closes) < period:
        return None
    window = closes[-period:]
    mean = sum(window, _ZERO) / period
    variance = sum(((c - mean) ** 2 for c in window), _ZERO) / period
    sigma = variance.sqrt()
    return mean - width * sigma, mean, mean + width * sigma


def percentile_rank(history: Sequence[Decimal], value: Decimal) -> Decimal | None:
    """Share of ``history`` at or below ``value``, in percent (None for an empty history)."""
    if not history:
        return None
    below = sum(1 for item in history if item <= value)
    return Decimal(below) * _HUNDRED / len(history)


def scaled_confidence(excess: Decimal, span: Decimal) -> Decimal:
    """0.5 at the threshold, rising linearly to 1 at ``span`` beyond it."""
    if span <= 0:
        return Decimal(1)
    return min(Decimal(1), Decimal("0.5") + Decimal("0.5") * max(excess, _ZERO) / span)
