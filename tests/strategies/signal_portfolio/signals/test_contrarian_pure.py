from __future__ import annotations

import pytest
from pydantic import ValidationError

from strategies.signal_portfolio.signals.types import Direction
from tests.strategies.signal_portfolio.signals.helpers import NOW, D, snapshot, strategy


def test_a_crowd_at_72_pct_up_is_faded_short() -> None:
    signal = strategy("contrarian_pure").evaluate(snapshot(up="0.72", price="101.5"))
    assert signal is not None
    assert signal.direction is Direction.SHORT
    assert signal.confidence == D("0.5")
    assert (signal.strategy, signal.asset, signal.venue) == ("contrarian_pure", "BTC", "paper")
    assert signal.entry_price == D("101.5")
    assert signal.ts == NOW
    assert signal.metadata["up_probability"] == "0.72"


def test_a_crowd_sure_of_down_is_faded_long_with_more_confidence_the_surer_it_is() -> None:
    signal = strategy("contrarian_pure").evaluate(snapshot(up="0.09"))  # 91 % down
    assert signal is not None
    assert signal.direction is Direction.LONG
    # 0.5 + 0.5 * (0.91 - 0.72) / (1 - 0.72)
    assert signal.confidence == D("0.5") + D("0.5") * D("0.19") / D("0.28")


def test_no_consensus_or_no_polymarket_passes() -> None:
    assert strategy("contrarian_pure").evaluate(snapshot(up="0.71")) is None
    assert strategy("contrarian_pure").evaluate(snapshot(up="0.29")) is None
    assert strategy("contrarian_pure").evaluate(snapshot()) is None


def test_the_threshold_is_a_param() -> None:
    assert strategy("contrarian_pure", threshold="0.6").evaluate(snapshot(up="0.65")) is not None
    with pytest.raises(ValidationError):
        strategy("contrarian_pure", threshold="0.4")
