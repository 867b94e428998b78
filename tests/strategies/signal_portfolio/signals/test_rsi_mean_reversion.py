from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from strategies.signal_portfolio.signals.indicators import rsi
from strategies.signal_portfolio.signals.types import Direction
from tests.strategies.signal_portfolio.signals.helpers import D, candles, snapshot, strategy

RISING = [100 + i for i in range(13)] + [112, 111, 113, 114, 116]  # mostly up
FALLING = [200 - i for i in range(13)] + [188, 189, 187, 186, 184]


def test_rsi_of_known_series() -> None:
    # 14 changes of +1 then one of -1: avg gain 14/14 = 1 seeded, then (1*13 + 0)/14,
    # avg loss (0*13 + 1)/14 -> RS = 13, RSI = 100 - 100/14.
    closes = [D(100 + i) for i in range(15)] + [D(113)]
    assert rsi(closes, 14) == round(D(100) - D(100) / D(14), 6)  # 92.857143
    assert rsi([D(1)] * 20, 14) == D(50)
    assert rsi([D(1)] * 14, 14) is None


def test_overbought_5m_rsi_is_a_short() -> None:
    view = snapshot(candles_by_interval={"5m": candles(RISING)})
    signal = strategy("rsi_mean_reversion").evaluate(view)
    assert signal is not None
    assert signal.direction is Direction.SHORT
    assert Decimal(signal.metadata["rsi"]) > 75


def test_oversold_5m_rsi_is_a_long() -> None:
    view = snapshot(candles_by_interval={"5m": candles(FALLING)})
    signal = strategy("rsi_mean_reversion").evaluate(view)
    assert signal is not None
    assert signal.direction is Direction.LONG


def test_it_reads_its_own_interval_and_passes_in_between() -> None:
    on_1m = snapshot(candles_by_interval={"1m": candles(RISING, "1m")})
    assert strategy("rsi_mean_reversion").evaluate(on_1m) is None  # no 5m candles
    assert strategy("rsi_mean_reversion", interval="1m").evaluate(on_1m) is not None
    choppy = [100, 101] * 10
    assert (
        strategy("rsi_mean_reversion").evaluate(
            snapshot(candles_by_interval={"5m": candles(choppy)})
        )
        is None
    )
    with pytest.raises(ValidationError, match="oversold"):
        strategy("rsi_mean_reversion", overbought=30, oversold=40)
