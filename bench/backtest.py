"""Backtest throughput: a year of hourly funding over 8 venues x 50 symbols (funding
arbitrage), and a 64-set grid sweep over one day of recorded L2 in 1 and 2 processes.

Both run the real engine (:func:`backtest.run.run_backtest`): the unchanged strategy, the
journal in a scratch database, the paper engines on the simulated clock.

* Funding year: rows generated in memory (seeded: a random walk of marks, rates drifting per
  venue) for the 8 catalogue venues on their own schedules (1 h or 8 h), turned into venue
  data exactly as stored history is (:func:`backtest.sources.funding_db.funding_venue`: a
  funding tape the paper venues read on demand), stepped hourly. Target: <= 10 s on one
  core. ``BENCH_BACKTEST_FUNDING_DAYS`` shortens it (the figure is then extrapolated to a
  year, and says so).
* Grid sweep: the synthetic paper BTC market recorded for one day (books sampled every
  ``BENCH_BACKTEST_L2_STEP`` seconds, default 60, with every trade), 64 grid sets
  (take_profit x grid_step x max_orders), the strategy stepped at the book sampling; the
  sweep timed with 1 and with 2 worker processes. ``BENCH_BACKTEST_SETS`` runs fewer sets.

Wall time on a shared machine: compare the ratio (the 2-process scaling) rather than the
absolute figures.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from bench.harness import machine

if TYPE_CHECKING:
    from trading_config.schema import BotConfig

START = datetime(2025, 1, 1, tzinfo=UTC)
VENUES = (
    "hyperliquid",
    "aster",
    "binance",
    "backpack",
    "lighter",
    "ccxt_binanceusdm",
    "ccxt_bybit",
    "ccxt_okx",
)
SYMBOLS = 50
SEED = 7


def _funding_config() -> BotConfig:
    import strategies  # noqa: F401
    from trading_config.schema import BotConfig

    return BotConfig.model_validate(
        {
            "name": "bench-arb",
            "strategy": {
                "type": "funding_arbitrage",
                "params": {
                    "venues": list(VENUES),
                    "target_margin_usd": 100,
                    "max_positions": 4,
                    "max_leverage": 3,
                    "min_net_apr_pct": 5,
                    "min_volume_24h_usd": 0,
                    "min_hold_hours": 8,
                },
            },
            "exchanges": {venue: {"account": "bench"} for venue in VENUES},
            "risk": {"max_total_exposure_usd": 10_000},
            "execution": {"default_mode": "market"},
        }
    )


def _funding_data(days: int):  # type: ignore[no-untyped-def]
    from backtest.sources.funding import BookShape, FundingRow
    from backtest.sources.funding_db import funding_venue
    from core.venues import VENUES as CATALOGUE

    rng = random.Random(SEED)  # noqa: S311 - a reproducible workload
    marks = {f"S{n:02d}": 10 ** rng.uniform(-1, 4.5) for n in range(SYMBOLS)}
    paths: dict[str, list[float]] = {}
    for symbol, mark in marks.items():  # one hourly mark path per symbol, shared by venues
        values, price = [], mark
        for _ in range(days * 24 + 1):
            price *= 1 + rng.gauss(0, 0.004)
            values.append(price)
        paths[symbol] = values
    data = {}
    for venue in VENUES:
        interval = CATALOGUE[venue].default_funding_interval_hours
        by_symbol = {}
        for symbol in marks:
            rate, rows = rng.gauss(0.0001, 0.0001), []
            for hour in range(interval, days * 24 + 1, interval):
                rate = 0.9 * rate + 0.1 * rng.gauss(0.0001, 0.0003)
                rows.append(
                    FundingRow(
                        START + timedelta(hours=hour),
                        Decimal(f"{rate * interval:.8f}"),
                        Decimal(interval),
                        Decimal(f"{paths[symbol][hour]:.6g}"),
                    )
                )
            by_symbol[symbol] = rows
        data[venue] = funding_venue(venue, by_symbol, "bench rows", BookShape())
    return data


def funding_year() -> None:
    from backtest.run import run_backtest
    from backtest.settings import BacktestSettings
    from backtest.sources.load import Dataset

    days = int(os.environ.get("BENCH_BACKTEST_FUNDING_DAYS", "365"))
    dataset = Dataset(venues=_funding_data(days))
    settings = BacktestSettings(
        data=("bench",),
        start=START + timedelta(hours=8),
        end=START + timedelta(days=days),
        step_seconds=3600.0,
        equity_seconds=3600.0,
    )
    config = _funding_config()
    began = time.perf_counter()
    cpu = time.process_time()
    result = asyncio.run(run_backtest(config, settings, dataset))
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    year = wall * 365 / days
    scaled = "" if days == 365 else f" ({days} days run, x{365 / days:.1f})"
    sys.stdout.write(
        f"  {'funding year, 8 venues x 50 symbols, hourly':<52} {year:9.1f} s  "
        f"target <= 10 s{scaled}; cpu {cpu:.1f} s; {result.counters['steps']} steps, "
        f"{len(result.fills)} fills, {len(result.funding)} funding payments\n"
    )


def _grid_jobs(data: Path, step: float, count: int):  # type: ignore[no-untyped-def]
    import strategies  # noqa: F401
    from backtest.settings import BacktestSettings
    from backtest.sweep import Job, parameter_sets
    from core.paths import PROJECT_ROOT
    from trading_config.loader import load_config

    config = load_config(PROJECT_ROOT / "configs" / "paper_grid.yml")
    grid = {
        "take_profit": ["0.4", "0.6", "0.8", "1.0"],
        "grid_step": ["0.02", "0.04", "0.06", "0.1"],
        "max_orders": ["4", "8", "12", "16"],
    }
    sets = parameter_sets(grid, "grid", None, SEED)[:count]
    settings = BacktestSettings(data=(str(data),), step_seconds=step, equity_seconds=600.0)
    return [Job(config, settings, params) for params in sets]


def grid_sweep() -> None:
    from backtest.record import main as record
    from backtest.sweep import run_jobs

    step = float(os.environ.get("BENCH_BACKTEST_L2_STEP", "60"))
    count = int(os.environ.get("BENCH_BACKTEST_SETS", "64"))
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "day.jsonl.gz"
        record(
            [
                "--venue",
                "paper",
                "--from",
                "2026-01-01",
                "--hours",
                "24",
                "--step-seconds",
                str(step),
                "--out",
                str(data),
            ]
        )
        jobs = _grid_jobs(data, step, count)
        timings = {}
        for processes in (1, 2):
            began = time.perf_counter()
            run_jobs(jobs, processes)
            timings[processes] = time.perf_counter() - began
    ratio = timings[1] / timings[2]
    sys.stdout.write(
        f"  {f'grid sweep, {count} sets, one L2 day ({step:g} s books), 1 process':<52} "
        f"{timings[1]:9.1f} s\n"
        f"  {f'grid sweep, {count} sets, 2 processes':<52} {timings[2]:9.1f} s  "
        f"speed-up x{ratio:.2f} (ideal 2.00 on 2 free cores)\n"
    )


def main() -> None:
    from core.logging_setup import configure_logging

    configure_logging("ERROR")  # a backtest's own log lines are not what is measured
    sys.stdout.write(f"backtest ({machine()})\n")
    funding_year()
    grid_sweep()


if __name__ == "__main__":
    main()
