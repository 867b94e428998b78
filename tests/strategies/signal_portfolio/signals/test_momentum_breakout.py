from __future__ import annotations

from strategies.signal_portfolio.signals.indicators import bollinger
from strategies.signal_portfolio.signals.types import Direction
from tests.strategies.signal_portfolio.signals.helpers import D, candles, snapshot, strategy

BASE = [100, 101, 99, 100, 102, 98, 100, 101, 99, 100] * 2  # 20 hourly closes around 100


def hourly(last: int, last_volume: int) -> dict[str, tuple]:  # type: ignore[type-arg]
    return {"1h": candles([*BASE, last], "1h", [10] * 20 + [last_volume])}


def test_bollinger_of_known_closes() -> None:
    lower, middle, upper = bollinger([D(1), D(3)] * 10, 20, D(2))  # type: ignore[misc]
    assert (lower, middle, upper) == (D(0), D(2), D(4))  # sigma 1


def test_a_close_above_the_band_on_a_volume_spike_is_a_long() -> None:
    signal = strategy("momentum_breakout").evaluate(snapshot(candles_by_interval=hourly(106, 20)))
    assert signal is not None
    assert signal.direction is Direction.LONG
    assert signal.metadata["volume_ratio"] == "2.00"


def test_a_close_below_the_band_on_a_volume_spike_is_a_short() -> None:
    signal = strategy("momentum_breakout").evaluate(snapshot(candles_by_interval=hourly(94, 15)))
    assert signal is not None
    assert signal.direction is Direction.SHORT


def test_no_spike_no_breakout_or_too_few_candles_passes() -> None:
    assert (
        strategy("momentum_breakout").evaluate(snapshot(candles_by_interval=hourly(106, 14)))
        is None
    )
    assert (
        strategy("momentum_breakout").evaluate(snapshot(candles_by_interval=hourly(102, 30)))
        is None
    )
    few = {"1h": candles([*BASE[:10], 120], "1h", [10] * 10 + [50])}
    assert strategy("momentum_breakout").evaluate(snapshot(candles_by_interval=few)) is None
    assert (
        strategy("momentum_breakout", volume_multiple="1.4").evaluate(
            snapshot(candles_by_interval=hourly(106, 14))
        )
        is not None
    )
