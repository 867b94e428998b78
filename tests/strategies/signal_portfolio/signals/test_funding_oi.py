from __future__ import annotations

from strategies.signal_portfolio.signals.types import Direction
from tests.strategies.signal_portfolio.signals.helpers import snapshot, strategy

HISTORY = [str(1000 + i) for i in range(20)]  # 1000 .. 1019


def test_extreme_funding_with_open_interest_in_its_top_15_pct_is_faded() -> None:
    signal = strategy("funding_oi").evaluate(
        snapshot(funding="0.002", open_interest="1018", oi_history=HISTORY)
    )
    assert signal is not None
    assert signal.direction is Direction.SHORT
    assert signal.metadata["oi_percentile"] == "95"  # 19 of 20 readings at or below 1018


def test_open_interest_below_its_85th_percentile_passes() -> None:
    view = snapshot(funding="-0.002", open_interest="1015", oi_history=HISTORY)  # 80th
    assert strategy("funding_oi").evaluate(view) is None
    assert strategy("funding_oi", oi_percentile=80).evaluate(view) is not None


def test_funding_within_015_pct_or_too_little_history_passes() -> None:
    high_oi = {"open_interest": "1019", "oi_history": HISTORY}
    assert strategy("funding_oi").evaluate(snapshot(funding="0.0015", **high_oi)) is None
    short = snapshot(funding="0.002", open_interest="1019", oi_history=HISTORY[:10])
    assert strategy("funding_oi").evaluate(short) is None
    assert strategy("funding_oi", min_oi_history=10).evaluate(short) is not None
