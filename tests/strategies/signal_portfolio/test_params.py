"""signal_portfolio's config: every signal strategy's params validated, clear errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from core.errors import ConfigError
from strategies.signal_portfolio.market import data_hosts
from strategies.signal_portfolio.params import SignalPortfolioParams, signal_specs
from trading_config.schema import BotConfig

D = Decimal


def params(**over: Any) -> SignalPortfolioParams:
    raw: dict[str, Any] = {
        "exchange": "paper",
        "assets": ["btc"],
        "signals": {"funding_carry": None},
    }
    raw.update(over)
    return SignalPortfolioParams.model_validate(raw)


def test_signals_as_a_mapping_or_one_line_each_are_the_same_list() -> None:
    mapping = params(signals={"rsi_mean_reversion": {"overbought": 80}, "funding_carry": None})
    lines = params(signals=["rsi_mean_reversion overbought=80", "funding_carry"])
    assert mapping == lines
    assert mapping.assets == ["BTC"]
    assert mapping.signals == ["rsi_mean_reversion overbought=80", "funding_carry"]
    assert signal_specs(mapping.signals) == [
        ("rsi_mean_reversion", {"overbought": "80"}),
        ("funding_carry", {}),
    ]
    assert not mapping.uses_polymarket()
    assert params(signals=["contrarian_pure"]).uses_polymarket()


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"signals": {"eighth": {}}}, "unknown signal strategy 'eighth': expected one of"),
        (
            {"signals": {"rsi_mean_reversion": {"overbought": 120, "speed": 1}}},
            "signal strategy 'rsi_mean_reversion': overbought: Input should be less than 100; "
            "speed: Extra inputs are not permitted",
        ),
        ({"signals": {}}, "at least 1 item"),
        ({"signals": ["funding_rate", "funding_rate threshold_pct=1"]}, "enabled twice"),
        (
            {"signals": ["rsi_mean_reversion overbought 80"]},
            "signals entry 'rsi_mean_reversion overbought 80': expected key=value after the "
            "strategy name, found 'overbought'",
        ),
        ({"funding_service_url": "localhost:8710"}, "String should match pattern"),
        ({"assets": ["BTC", "btc"]}, "each asset once"),
        ({"min_confidence": "0.9"}, "min_confidence 0.9 is above full_size_confidence 0.75"),
        ({"risk_pct": 0}, "greater than 0"),
        ({"market_data_ws_url": "http://x"}, "String should match pattern"),
    ],
)
def test_bad_params_are_refused_with_the_place_and_the_reason(
    over: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        params(**over)


def config(exchanges: dict[str, Any], exchange: str = "paper") -> BotConfig:
    return BotConfig.model_validate(
        {
            "name": "x",
            "strategy": {
                "type": "signal_portfolio",
                "params": {
                    "exchange": exchange,
                    "assets": ["BTC"],
                    "signals": {"funding_rate": {}},
                },
            },
            "exchanges": exchanges,
        }
    )


def test_the_candles_need_hyperliquid_data() -> None:
    synthetic = config({"paper": {}})
    with pytest.raises(
        ConfigError, match=r"market_data.source must be hyperliquid \(found synthetic\)"
    ):
        data_hosts(synthetic, synthetic.strategy.params)  # type: ignore[arg-type]
    live = config({"paper": {"market_data": {"source": "hyperliquid", "testnet": True}}})
    hosts = data_hosts(live, live.strategy.params)  # type: ignore[arg-type]
    assert hosts.testnet is True
    assert hosts.base_url is None


def test_on_hyperliquid_itself_the_venue_hosts_serve_the_data_and_other_venues_are_refused() -> (
    None
):
    real = config(
        {"hyperliquid": {"account": "hl", "testnet": True, "api_url": "http://127.0.0.1:9/"}},
        exchange="hyperliquid",
    )
    hosts = data_hosts(real, real.strategy.params)  # type: ignore[arg-type]
    assert (hosts.testnet, hosts.base_url, hosts.ws_url) == (True, "http://127.0.0.1:9", None)
    other = config({"binance": {"account": "b"}}, exchange="binance")
    with pytest.raises(ConfigError, match="trades on hyperliquid or a paper venue"):
        data_hosts(other, other.strategy.params)  # type: ignore[arg-type]
