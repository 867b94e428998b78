"""``--check`` says how orders will actually be placed, and a config that sets an execution
setting its strategy ignores is refused instead of silently accepted."""

from __future__ import annotations

from pathlib import Path

import pytest

import strategies  # noqa: F401  (fills the params registry load_config reads, as runbot does)
from bot_runtime.check import summarize
from core.errors import ConfigError
from trading_config import load_config
from trading_config.schema import BotConfig

GRID = """\
name: grid-exec
strategy:
  type: grid
  params:
    exchange: paper
    ticker: BTC
    direction: buy
    order_notional_usd: 100
    take_profit: 1
    grid_step: 0.5
    max_orders: 3
    max_margin_usd: 500
    target_leverage: 2
exchanges:
  paper: {{}}
{execution}"""

ARB = """\
name: arb-exec
strategy:
  type: funding_arbitrage
  params:
    venues: [paper_a, paper_b]
    target_margin_usd: 100
exchanges:
  paper_a: {{}}
  paper_b: {{}}
{execution}"""


def load(tmp_path: Path, text: str) -> tuple[Path, BotConfig]:
    path = tmp_path / "bot.yml"
    path.write_text(text, encoding="utf-8")
    return path, load_config(path)


def execution_line(tmp_path: Path, text: str) -> str:
    path, config = load(tmp_path, text)
    lines = summarize(str(path), config)
    (line,) = [line for line in lines if line.lstrip().startswith("execution:")]
    return line.split("execution:", 1)[1].strip()


def test_a_grid_names_no_execution_mode_it_does_not_follow(tmp_path: Path) -> None:
    line = execution_line(tmp_path, GRID.format(execution=""))
    assert line == "orders placed by the grid strategy itself, resting orders cancelled on stop"


def test_a_grid_may_still_choose_what_happens_to_resting_orders_on_stop(tmp_path: Path) -> None:
    text = GRID.format(execution="execution:\n  cancel_orders_on_stop: false\n")
    assert execution_line(tmp_path, text).endswith("resting orders left on the venue on stop")


@pytest.mark.parametrize(
    "setting",
    [
        "default_mode: market",
        "limit_timeout_seconds: 5",
        "aggressive_attempts: 2",
        "max_slippage_pct: 1",
        "margin_buffer_pct: 10",
    ],
)
def test_a_grid_refuses_an_execution_setting_it_would_ignore(tmp_path: Path, setting: str) -> None:
    field = setting.split(":")[0]
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, GRID.format(execution=f"execution:\n  {setting}\n"))
    (problem,) = raised.value.problems
    assert f"execution.{field}" in problem
    assert f"the grid strategy does not use execution.{field}" in problem
    assert "remove it" in problem


@pytest.mark.parametrize(
    ("execution", "expected"),
    [
        ("default_mode: market", "market: both legs at market, max slippage 0.5%"),
        (
            "default_mode: aggressive_limit\n  limit_timeout_seconds: 12\n  aggressive_attempts: 4",
            "aggressive_limit: maker: the lead leg post-only inside the spread for 12 s, then 4 "
            "aggressive limits",
        ),
        ("default_mode: limit\n  limit_timeout_seconds: 7", "inside the spread for 7 s, the other"),
    ],
)
def test_funding_arbitrage_shows_the_mode_it_will_use(
    tmp_path: Path, execution: str, expected: str
) -> None:
    line = execution_line(tmp_path, ARB.format(execution=f"execution:\n  {execution}\n"))
    assert expected in line
    assert "margin buffer 20%" in line
