"""The scalper does not trade a real venue's account, says why and what to do instead; its
backtests on any venue run as before.

It steps at least 4 times a second and each step reads the account's balance over the venue's
REST API (measured on the fake Binance: 8 requests a second, Binance's whole request-weight
budget), so until account reads come from the private stream it trades on paper venues - whose
books can follow a real venue's public data. The refusal is the bot's (``runbot.py``, with or
without ``--check``), not config validation's: a backtest simulates the venue.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import strategies  # noqa: F401  (registers the strategies the config names)
from tests.helpers import run_cli
from trading_config.loader import load_config

CONFIG = """\
name: l2-{venue}
strategy:
  type: l2_imbalance
  params:
    exchange: {venue}
    tickers: [BTC]
    order_notional_usd: 100
    daily_loss_limit_usd: 100
    max_drawdown_usd: 100
exchanges:
  {venue}: {settings}
"""


def _written(tmp_path: Path, venue: str, settings: str) -> Path:
    path = tmp_path / f"{venue}.yml"
    path.write_text(CONFIG.format(venue=venue, settings=settings))
    return path


@pytest.mark.parametrize("check", [True, False])
def test_a_bot_on_a_real_account_is_refused_before_it_starts(tmp_path: Path, check: bool) -> None:
    path = _written(tmp_path, "binance", "{account: main}")
    result = run_cli(
        ["runbot.py", "--config", str(path), *(["--check"] if check else [])], tmp_path / "var"
    )
    assert result.returncode == 2
    assert result.stderr.startswith(
        f"{path}:5: strategy.params.exchange: l2_imbalance trades on paper venues only for now, "
        "not binance: it steps at least 4 times a second"
    )
    assert "market_data: source: binance" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "var" / "perpfleet.db").exists()  # nothing started


@pytest.mark.parametrize("venue", ["binance", "hyperliquid", "lighter"])
def test_its_config_still_loads_for_a_backtest_and_names_the_problem(
    tmp_path: Path, venue: str
) -> None:
    config = load_config(_written(tmp_path, venue, "{account: main}"))
    (why,) = config.strategy.params.live_trading_problems().values()
    assert why.startswith(f"l2_imbalance trades on paper venues only for now, not {venue}")


def test_paper_venues_and_their_live_data_trade(tmp_path: Path) -> None:
    for settings in ("{}", "{market_data: {source: binance}}"):
        config = load_config(_written(tmp_path, "paper", settings))
        assert config.strategy.params.live_trading_problems() == {}
