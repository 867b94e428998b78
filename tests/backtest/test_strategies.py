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
