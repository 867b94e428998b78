"""Sweeps: the sets, the same results in 1 or 2 processes, the ranked table, walk-forward."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import strategies  # noqa: F401 - registers the strategies' parameters
from backtest.cli import main
from backtest.result import result_hash
from backtest.settings import BacktestSettings
from backtest.sweep import Job, parameter_sets, ranked, run_jobs, windows, with_params
from core.errors import ConfigError
from tests.backtest.helpers import record_session, write_config
from trading_config.loader import load_config

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_session(tmp_path_factory.mktemp("data") / "paper.jsonl.gz", minutes=6)


def test_grid_and_random_sets() -> None:
    grid = {"a": ["1", "2"], "b": ["x", "y", "z"]}
    every = parameter_sets(grid, "grid", None, 1)
    assert len(every) == 6
    assert {"a": "2", "b": "z"} in every
    drawn = parameter_sets(grid, "random", 3, seed=5)
    assert len(drawn) == 3
    assert all(s in every for s in drawn)
    assert len({tuple(sorted(s.items())) for s in drawn}) == 3  # without repetition
    assert drawn == parameter_sets(grid, "random", 3, seed=5)  # the seed decides


def test_params_are_checked_by_the_strategy_model(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path / "g.yml", "paper_grid.yml"))
    assert str(with_params(config, {"take_profit": "0.9"}).strategy.params.take_profit) == "0.9"  # type: ignore[attr-defined]
    with pytest.raises(ConfigError) as unknown:
        with_params(config, {"grid_stepp": "1"})
    assert str(unknown.value).startswith(
        "--param grid_stepp=1: grid_stepp: not a parameter of grid (did you mean 'grid_step'?)"
        " (its parameters: "
    )
    assert "take_profit" in str(unknown.value)
    with pytest.raises(ConfigError) as bad:
        with_params(config, {"take_profit": "much"})
    assert str(bad.value).startswith("--param take_profit=much: take_profit: ")


def test_walk_forward_windows_cover_the_period() -> None:
    cuts = list(windows(T0, T0 + timedelta(seconds=10), 3))
    assert cuts[0][0] == T0
    assert cuts[-1][1] == T0 + timedelta(seconds=10)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(cuts))


def test_two_processes_give_what_one_gives(tmp_path: Path, session: Path) -> None:
    config = load_config(write_config(tmp_path / "g.yml", "paper_grid.yml"))
    settings = BacktestSettings(data=(str(session),), end=T0 + timedelta(minutes=3))
    jobs = [Job(config, settings, {"take_profit": tp}) for tp in ("0.4", "0.8", "1.2")]
    one = run_jobs(jobs, 1)
    two = run_jobs(jobs, 2)
    assert [result_hash(r.to_bytes()) for _, r in one] == [
        result_hash(r.to_bytes()) for _, r in two
    ]
    best = ranked(one, "net_pnl")
    values = [r.metrics()["net_pnl"] for _, r in best]
    assert values == sorted(values, reverse=True)


def test_cli_sweep_and_walk_forward(
    tmp_path: Path, session: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "g.yml", "paper_grid.yml")
    rc = main(
        [
            "--config",
            str(config),
            "--data",
            str(session),
            "--out",
            str(tmp_path / "s"),
            "--no-store",
            "--param",
            "take_profit=0.4,0.8",
            "--processes",
            "2",
            "--to",
            "2026-01-01T00:03:00Z",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    table = json.loads((tmp_path / "s" / "sweep.json").read_text())
    assert len(table["runs"]) == 2
    assert "take_profit=0.4" in out
    assert "take_profit=0.8" in out
    rc = main(
        [
            "--config",
            str(config),
            "--data",
            str(session),
            "--out",
            str(tmp_path / "w"),
            "--no-store",
            "--param",
            "take_profit=0.4,0.8",
            "--walk-forward",
            "2",
            "--processes",
            "2",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    for split in ("train 1", "test 1", "train 2", "test 2"):
        assert split in out
