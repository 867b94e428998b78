"""Same config and data: byte-identical result files, whatever the run's wall-clock timing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from backtest.cli import main
from tests.backtest.helpers import record_session, write_config


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_session(tmp_path_factory.mktemp("data") / "paper.jsonl.gz", minutes=15)


def _run(tmp_path: Path, name: str, config: Path, data: Path, *extra: str) -> bytes:
    out = tmp_path / name
    rc = main(
        ["--config", str(config), "--data", str(data), "--out", str(out), "--no-store", *extra]
    )
    assert rc == 0
    return (out / "result.json").read_bytes()


def test_two_runs_give_the_same_bytes(tmp_path: Path, session: Path) -> None:
    config = write_config(tmp_path / "grid.yml", "paper_grid.yml")
    first = _run(tmp_path, "a", config, session)
    second = _run(tmp_path, "b", config, session)
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
    document = json.loads(first)
    assert len(document["fills"]) > 0  # a run that trades, or the equality proves little
    # A different parameter is a different result: the hash tells runs apart.
    other = write_config(tmp_path / "grid2.yml", "paper_grid.yml", take_profit=1.2)
    assert _run(tmp_path, "c", other, session) != first


def test_the_report_and_chart_are_written(
    tmp_path: Path, session: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "grid.yml", "paper_grid.yml")
    _run(tmp_path, "r", config, session, "--to", "2026-01-01T00:05:00Z")
    out = capsys.readouterr()
    html = (tmp_path / "r" / "report.html").read_text()
    assert "Net PnL" in html  # the analytics page ...
    assert "queue_position" in html  # ... and what was simulated
    assert (tmp_path / "r" / "equity.png").read_bytes().startswith(b"\x89PNG")
    assert "sha256" in out.out
    assert "backtest grid-btc-paper" in out.err  # the progress bar
