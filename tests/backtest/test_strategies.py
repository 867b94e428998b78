"""Every shipped strategy runs unchanged in a backtest, through the live order path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

import strategies  # noqa: F401 - registers the strategies' parameters
from backtest.run import run_backtest
from backtest.settings import BacktestSettings
from backtest.sources.funding import BookShape
from backtest.sources.load import load_dataset
from core.errors import ConfigError
from trading_config.loader import load_config

START = datetime(2026, 1, 1, tzinfo=UTC)
CONFIGS = Path(__file__).parents[2] / "configs"


async def _run(config_name: str, minutes: int, **settings: object):  # type: ignore[no-untyped-def]
    config = load_config(CONFIGS / config_name)
    s = BacktestSettings(
        data=("synthetic:7",), start=START, end=START + timedelta(minutes=minutes), **settings
    )  # type: ignore[arg-type]
    dataset = await load_dataset(s.data, list(config.exchanges), None, s.start, s.end, BookShape())
    return await run_backtest(config, s, dataset)


@pytest.mark.parametrize(
    ("config", "minutes"), [("paper_grid.yml", 5), ("paper_l2_imbalance.yml", 5)]
)
async def test_single_venue_strategies_trade(config: str, minutes: int) -> None:
    result = await _run(config, minutes)
    assert result.fills, f"{config}: no fill in {minutes} minutes"
    assert result.counters["steps"] > 0
    assert all(f.order_id and not f.order_id.startswith("liq-") for f in result.fills)


async def test_funding_arbitrage_is_charged_funding_and_analytics_attributes_it() -> None:
    # 70 minutes at one step a minute: paper_a settles funding at 01:00 on the open pair.
    result = await _run("paper_funding_arb.yml", 70, step_seconds=60.0, synthetic_step_seconds=30.0)
    venues = {f.venue for f in result.fills}
    assert venues == {"paper_a", "paper_b"}, venues
    assert result.funding, "an open pair over two funding times must pay or receive funding"
    assert {p.venue for p in result.funding} <= venues
    assert result.performance is not None
    assert result.performance.attribution.funding == sum(
        (p.amount for p in result.funding), Decimal(0)
    )
    assert any("instead of its own" in note for note in result.notes)  # the step is stated
    # Two legs sent concurrently through the atomic executor: still the same bytes.
    again = await _run("paper_funding_arb.yml", 70, step_seconds=60.0, synthetic_step_seconds=30.0)
    assert again.to_bytes() == result.to_bytes()


def _signals_config(signals: list[str]):  # type: ignore[no-untyped-def]
    """paper_signals.yml with ``signals`` only ("name key=value ..."), acting on any
    confidence (validated as the config loader validates it)."""
    config = load_config(CONFIGS / "paper_signals.yml")
    params = type(config.strategy.params).model_validate(
        {
            **config.strategy.params.model_dump(),
            "signals": signals,
            "min_confidence": "0",
            "full_size_confidence": "0",
        }
    )
    strategy = config.strategy.model_copy(update={"params": params})
    return config.model_copy(update={"strategy": strategy})


async def _run_config(config, minutes: int):  # type: ignore[no-untyped-def]
    s = BacktestSettings(data=("synthetic:7",), start=START, end=START + timedelta(minutes=minutes))
    dataset = await load_dataset(s.data, list(config.exchanges), None, s.start, s.end, BookShape())
    return await run_backtest(config, s, dataset)


async def test_the_signal_portfolio_trades_on_candles_built_from_the_historys_trades() -> None:
    """RSI(2) of 1-minute candles with bands at 50: it signals as soon as three candles have
    closed - candles that can only come from the history's trades (no network here, no
    backfill) - and never before."""
    rsi = "rsi_mean_reversion interval=1m period=2 overbought=50.01 oversold=49.99"
    config = _signals_config([rsi])
    result = await _run_config(config, 12)
    assert result.fills, "no signal acted on in 12 minutes of 1-minute candles"
    assert min(f.ts for f in result.fills) >= START + timedelta(minutes=3)
    again = await _run_config(config, 12)
    assert again.to_bytes() == result.to_bytes()


async def test_a_backtest_refuses_signals_whose_data_has_no_history() -> None:
    config = _signals_config(["contrarian_pure", "funding_oi", "funding_rate threshold_pct=0.01"])
    with pytest.raises(ConfigError) as refused:
        await _run_config(config, 5)
    message = str(refused.value)
    assert "contrarian_pure (it reads Polymarket's consensus)" in message
    assert "funding_oi (it reads open interest)" in message
    assert "funding_rate" not in message
