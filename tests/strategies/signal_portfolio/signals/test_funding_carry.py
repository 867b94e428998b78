from __future__ import annotations

from strategies.signal_portfolio.signals.types import Direction
from tests.strategies.signal_portfolio.signals.helpers import D, snapshot, strategy


def test_positive_funding_above_005_pct_is_collected_short() -> None:
    signal = strategy("funding_carry").evaluate(snapshot(funding="0.0006"))
    assert signal is not None
    assert signal.direction is Direction.SHORT
    assert signal.confidence == D("0.5") + D("0.5") * D("0.01") / D("0.05")


def test_negative_funding_is_collected_long_with_capped_confidence() -> None:
    signal = strategy("funding_carry").evaluate(snapshot(funding="-0.01"))
    assert signal is not None
    assert signal.direction is Direction.LONG
    assert signal.confidence == D("0.8")
    assert strategy("funding_carry", max_confidence=1).evaluate(
        snapshot(funding="-0.01")
    ).confidence == D(1)  # type: ignore[union-attr]


def test_small_funding_passes() -> None:
    assert strategy("funding_carry").evaluate(snapshot(funding="0.0005")) is None
    assert strategy("funding_carry").evaluate(snapshot(funding="-0.0004")) is None
