"""The CSV import, and that every realism knob changes what happens (liquidation, fees,
latency, partial fills), each stated in the result."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from backtest.cli import main
from tests.backtest.helpers import write_config

T0 = datetime(2026, 1, 1, tzinfo=UTC)
COLUMNS = [
    "kind",
    "ts",
    "venue",
    "symbol",
    "side",
    "price",
    "size",
    "sequence",
    "rate",
    "interval_hours",
]


def _crash_csv(path: Path, *, bid_size: int = 5, ask_size: int = 5) -> Path:
    """BTC on ``paper`` at 100 for 2 minutes, then falling to 60 over 10 minutes: a snapshot
    and a taker sell at the bid every second."""
    with path.open("w", newline="") as file:
        out = csv.writer(file)
        out.writerow(COLUMNS)
        for second in range(14 * 60):
            ts = (T0 + timedelta(seconds=second)).isoformat()
            drop = max(0, min(40 * 10, second - 120)) / 10 if second > 120 else 0
            tenths = int((100 - Decimal(drop) * Decimal(40) / 40) * 10)
            mid = Decimal(tenths) / 10
            for i in range(5):
                out.writerow(
                    [
                        "snapshot",
                        ts,
                        "paper",
                        "BTC",
                        "bid",
                        mid - Decimal("0.1") * (i + 1),
                        bid_size,
                        second + 1,
                        "",
                        "",
                    ]
                )
                out.writerow(
                    [
                        "snapshot",
                        ts,
                        "paper",
                        "BTC",
                        "ask",
                        mid + Decimal("0.1") * (i + 1),
                        ask_size,
                        second + 1,
                        "",
                        "",
                    ]
                )
            out.writerow(["trade", ts, "paper", "BTC", "sell", mid - Decimal("0.1"), 1, "", "", ""])
    return path


def _run(tmp_path: Path, name: str, config: Path, data: Path, *extra: str) -> dict:  # type: ignore[type-arg]
    out = tmp_path / name
    rc = main(
        ["--config", str(config), "--data", str(data), "--out", str(out), "--no-store", *extra]
    )
    assert rc == 0
    document: dict = json.loads((out / "result.json").read_text())  # type: ignore[type-arg]
    return document


@pytest.fixture
def crash(tmp_path: Path) -> Path:
    return _crash_csv(tmp_path / "crash.csv")


@pytest.fixture
def grid(tmp_path: Path) -> Path:
    return write_config(tmp_path / "grid.yml", "paper_grid.yml", wait_time=1, max_orders=4)


def test_a_crash_liquidates_a_thin_account(tmp_path: Path, crash: Path) -> None:
    # No drawdown kill switch: it would close the grid before the venue liquidates it.
    grid = write_config(
        tmp_path / "g.yml",
        "paper_grid.yml",
        {"max_position_notional_usd": 1000},
        wait_time=1,
        max_orders=4,
    )
    result = _run(tmp_path, "liq", grid, crash, "--initial-balance", "60")
    liquidations = [f for f in result["fills"] if f[7].startswith("liq-")]
    assert result["counters"]["liquidation_fills"] == len(liquidations) > 0
    assert "liquidation" in result["realism"]
    # A well-funded account rides the same crash out.
    rich = _run(tmp_path, "rich", grid, crash, "--initial-balance", "100000")
    assert rich["counters"]["liquidation_fills"] == 0
    assert rich["fills"]  # it did trade


def test_fee_override(tmp_path: Path, crash: Path, grid: Path) -> None:
    default = _run(tmp_path, "fees", grid, crash, "--to", "2026-01-01T00:05:00Z")
    free = _run(tmp_path, "free", grid, crash, "--to", "2026-01-01T00:05:00Z", "--fee", "paper=0:0")
    assert Decimal(default["metrics"]["fees"]) > 0
    assert Decimal(free["metrics"]["fees"]) == 0
    assert "paper=0:0" in free["realism"]["fees"]


def test_latency_changes_when_orders_reach_the_venue(
    tmp_path: Path, crash: Path, grid: Path
) -> None:
    fast = _run(tmp_path, "fast", grid, crash, "--to", "2026-01-01T00:05:00Z")
    slow = _run(
        tmp_path, "slow", grid, crash, "--to", "2026-01-01T00:05:00Z", "--latency-ms", "1500"
    )
    assert slow["realism"]["latency_seconds"] == 1.5
    assert fast["realism"]["latency_seconds"] == 0
    assert fast["fills"] != slow["fills"]


def test_fill_ratio_caps_market_orders(tmp_path: Path) -> None:
    # Bids 4x the asks: the imbalance strategy buys at market at once.
    data = _crash_csv(tmp_path / "imbalance.csv", bid_size=20, ask_size=5)
    config = write_config(
        tmp_path / "l2.yml", "paper_l2_imbalance.yml", tickers=["BTC"], max_book_age_seconds=5
    )
    whole = _run(tmp_path, "whole", config, data, "--to", "2026-01-01T00:01:00Z")
    half = _run(
        tmp_path, "half", config, data, "--to", "2026-01-01T00:01:00Z", "--fill-ratio", "0.5"
    )
    first_whole, first_half = whole["fills"][0], half["fills"][0]
    assert Decimal(first_whole[5]) == 5  # 500 USD at 100
    assert Decimal(first_half[5]) == 2  # half of it, rounded down to the step of 1
    assert "capped at 0.5" in half["realism"]["partial_fills"]


def test_funding_only_csv_draws_books_and_charges_funding(tmp_path: Path) -> None:
    path = tmp_path / "funding.csv"
    with path.open("w", newline="") as file:
        out = csv.writer(file)
        out.writerow(COLUMNS)
        for hour in range(1, 13):
            ts = (T0 + timedelta(hours=hour)).isoformat()
            for venue, rate in (("paper_a", "0.0005"), ("paper_b", "-0.0005")):
                out.writerow(["funding", ts, venue, "BTC", "", "60000", "", "", rate, "1"])
    config = write_config(
        tmp_path / "arb.yml", "paper_funding_arb.yml", symbols=["BTC"], min_hold_hours=0
    )
    result = _run(tmp_path, "arb", config, path, "--step-seconds", "600")
    assert result["funding"], "an open pair must be charged funding every hour"
    assert Decimal(result["metrics"]["funding"]) > 0  # short the payer, long the receiver
    assert any("order books drawn" in note for note in result["notes"])


def test_csv_errors_name_the_row(
    tmp_path: Path, grid: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "kind,ts,venue,symbol,side,price,size,sequence\n"
        "trade,2026-01-01T00:00:00Z,paper,BTC,buy,abc,1,\n"
    )
    assert main(["--config", str(grid), "--data", str(path), "--no-store"]) == 2
    assert "bad.csv:2: price must be a decimal number" in capsys.readouterr().err
