from __future__ import annotations

from strategies.signal_portfolio.signals.types import Direction
from tests.strategies.signal_portfolio.signals.helpers import D, snapshot, strategy


def test_funding_beyond_plus_012_pct_fades_the_longs() -> None:
    signal = strategy("funding_rate").evaluate(snapshot(funding="0.0018"))  # 0.18 %
    assert signal is not None
    assert signal.direction is Direction.SHORT
    assert signal.confidence == D("0.5") + D("0.5") * D("0.06") / D("0.12")
    assert signal.metadata["funding_pct"] == "0.1800"


def test_funding_beyond_minus_012_pct_fades_the_shorts() -> None:
    signal = strategy("funding_rate").evaluate(snapshot(funding="-0.0030"))
    assert signal is not None
    assert signal.direction is Direction.LONG
    assert signal.confidence == D(1)  # capped


def test_funding_within_the_band_or_unknown_passes() -> None:
    assert strategy("funding_rate").evaluate(snapshot(funding="0.0012")) is None
    assert strategy("funding_rate").evaluate(snapshot(funding="-0.0011")) is None
    assert strategy("funding_rate").evaluate(snapshot()) is None
    assert strategy("funding_rate", threshold_pct="0.1").evaluate(snapshot(funding="0.0011"))
