"""The scalper is refused on a real venue's account, with the reason and what to do instead.

It steps at least 4 times a second and each step reads the account's balance over the venue's
REST API (measured on the fake Binance: 8 requests a second, Binance's whole request-weight
budget), so until account reads come from the private stream it trades on paper venues - whose
books can follow a real venue's public data.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import strategies  # noqa: F401  (registers the strategies the config names)
from core.errors import ConfigError
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


def _load(tmp_path: Path, venue: str, settings: str) -> object:
    path = tmp_path / f"{venue}.yml"
    path.write_text(CONFIG.format(venue=venue, settings=settings))
    return load_config(path)


@pytest.mark.parametrize("venue", ["binance", "hyperliquid", "lighter"])
def test_a_real_venue_is_refused_naming_the_field_and_the_way_out(
    tmp_path: Path, venue: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, venue, "{account: main}")
    message = str(caught.value)
    assert f"{venue}.yml" in message
    assert "strategy.params" in message
    assert f"l2_imbalance trades on paper venues only for now, not {venue}" in message
    assert "market_data: source" in message


def test_paper_venues_and_their_live_data_are_accepted(tmp_path: Path) -> None:
    assert _load(tmp_path, "paper", "{}") is not None
    assert _load(tmp_path, "paper", "{market_data: {source: binance}}") is not None
