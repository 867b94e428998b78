from __future__ import annotations

from strategies.signal_portfolio.signals.types import Direction
from tests.strategies.signal_portfolio.signals.helpers import D, snapshot, strategy


def test_an_80_pct_consensus_in_deep_markets_is_faded() -> None:
    signal = strategy("contrarian_strength").evaluate(snapshot(up="0.85"))
    assert signal is not None
    assert signal.direction is Direction.SHORT
    assert signal.confidence == D("0.5") + D("0.5") * D("0.05") / D("0.20")


def test_below_80_pct_it_passes_where_contrarian_pure_would_act() -> None:
    view = snapshot(up="0.75")
    assert strategy("contrarian_strength").evaluate(view) is None
    assert strategy("contrarian_pure").evaluate(view) is not None


def test_thin_or_quiet_markets_are_not_a_crowd() -> None:
    assert strategy("contrarian_strength").evaluate(snapshot(up="0.9", liquidity="9999")) is None
    assert strategy("contrarian_strength").evaluate(snapshot(up="0.9", volume="4999")) is None
    loose = strategy("contrarian_strength", min_liquidity_usd=100, min_volume_24h_usd=0)
    assert loose.evaluate(snapshot(up="0.9", liquidity="100", volume="0")) is not None
