"""The market state on a backtest's replay: no live host, and what it cannot honour is said."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

import strategies  # noqa: F401 - registers the strategies' parameters
from core.clock import ManualClock
from exchange_clients.market_data.synthetic import SyntheticFeed, SyntheticMarket
from exchange_clients.paper import PaperExchangeClient
from exchange_clients.types import ClientSettings
from strategies.signal_portfolio.market import DataHosts, MarketState
from strategies.signal_portfolio.params import SignalPortfolioParams
from tests.exchange_clients.market_data.helpers import START


def _params(**overrides: object) -> SignalPortfolioParams:
    return SignalPortfolioParams.model_validate(
        {"exchange": "paper", "assets": ["BTC"], "signals": ["funding_rate"], **overrides}
    )


def _replay() -> SyntheticFeed:
    return SyntheticFeed(SyntheticMarket(5, "paper"), ManualClock(START))


def _client() -> PaperExchangeClient:
    return PaperExchangeClient(ClientSettings(venue="paper", options={}))


def _ignored(logs: list[dict[str, object]]) -> list[object]:
    return [e["settings"] for e in logs if "without effect in a backtest" in str(e["event"])]


def test_the_live_only_settings_a_replay_ignores_are_said() -> None:
    with capture_logs() as logs:
        state = MarketState(_params(backfill_hours=24), None, _client(), replay=_replay)
    assert state.history is None  # no live host is ever opened
    assert _ignored(logs) == [["backfill_hours"]]
    with capture_logs() as logs:
        MarketState(
            _params(backfill_hours=0, funding_source="service"), None, _client(), replay=_replay
        )
    assert _ignored(logs) == [["funding_source"]]
    with capture_logs() as quiet:
        MarketState(_params(backfill_hours=0), None, _client(), replay=_replay)
    assert _ignored(quiet) == []


def test_live_hosts_or_a_replay_exactly_one() -> None:
    hosts = DataHosts(testnet=False, base_url=None, ws_url=None)
    with pytest.raises(ValueError, match="exactly one"):
        MarketState(_params(), hosts, _client(), replay=_replay)
    with pytest.raises(ValueError, match="exactly one"):
        MarketState(_params(), None, _client())
