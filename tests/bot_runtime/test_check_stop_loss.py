"""``--check`` says where a stop-loss lives: on the venue (a resting trigger order that holds
while the bot is down) or in the bot only, on a venue without trigger orders."""

from __future__ import annotations

from pathlib import Path

import pytest

import strategies  # noqa: F401  (fills the params registry load_config reads, as runbot does)
from bot_runtime.check import summarize
from exchange_clients.paper.client import PaperExchangeClient
from tests.bot_configs import paper_grid_yaml
from tests.helpers import run_cli
from trading_config import load_config

STOP = """\
    stop_loss_enabled: true
    stop_loss_percentage: 20
"""


def grid_file(tmp_path: Path, *, stop: bool) -> Path:
    text = paper_grid_yaml("stop-check")
    if stop:
        text = text.replace("    wait_time: 0\n", "    wait_time: 0\n" + STOP)
    path = tmp_path / "grid.yml"
    path.write_text(text, encoding="utf-8")
    return path


def stop_lines(path: Path) -> list[str]:
    return [line for line in summarize("grid.yml", load_config(path)) if "stop-loss" in line]


def test_a_venue_with_triggers_holds_the_stop(tmp_path: Path) -> None:
    assert stop_lines(grid_file(tmp_path, stop=True)) == [
        "  stop-loss:   20% on margin, on paper as a reduce-only STOP_MARKET "
        "(holds while the bot is down)"
    ]


def test_a_venue_without_triggers_leaves_it_in_the_bot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PaperExchangeClient, "supports_trigger_orders", False)
    assert stop_lines(grid_file(tmp_path, stop=True)) == [
        "  stop-loss:   20% on margin, in the bot only on paper "
        "(no trigger orders: unprotected while the bot is down)"
    ]


def test_a_disabled_stop_is_said_to_be_off(tmp_path: Path) -> None:
    assert stop_lines(grid_file(tmp_path, stop=False)) == ["  stop-loss:   off"]


def test_runbot_check_prints_the_line(tmp_path: Path) -> None:
    result = run_cli(
        ["runbot.py", "--config", str(grid_file(tmp_path, stop=True)), "--check"],
        tmp_path / "var",
    )
    assert result.returncode == 0, result.stderr
    assert "stop-loss:   20% on margin, on paper as a reduce-only STOP_MARKET" in result.stdout


def test_a_generic_venue_is_judged_by_its_exchange(tmp_path: Path) -> None:
    """The ccxt client decides per exchange (ccxt's ``has`` table), not per class."""
    path = grid_file(tmp_path, stop=True)
    text = path.read_text(encoding="utf-8").replace("exchange: paper", "exchange: ccxt_binanceusdm")
    path.write_text(
        text.replace("  paper: {}", "  ccxt_binanceusdm:\n    account: main"), encoding="utf-8"
    )
    assert stop_lines(path) == [
        "  stop-loss:   20% on margin, on ccxt_binanceusdm as a reduce-only STOP_MARKET "
        "(holds while the bot is down)"
    ]
