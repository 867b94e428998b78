"""The strategy-params registry, as the strategies fill it (importing their package)."""

from __future__ import annotations

import pytest

import strategies  # noqa: F401  (fills the registry: trading_config never imports strategies)
from core.errors import ConfigError
from core.venues import known_venue_names
from trading_config.strategy_params import (
    StrategyParams,
    register_strategy_params,
    registered_strategies,
    strategy_params_schema,
)


def test_shipped_strategies_are_registered() -> None:
    assert {"grid", "funding_arbitrage"} <= set(registered_strategies())


def test_unknown_strategy_raises_config_error_listing_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        strategy_params_schema("martingale")
    assert str(caught.value).startswith("unknown strategy 'martingale': expected one of ")
    assert "grid" in str(caught.value)


def test_a_name_cannot_be_taken_twice() -> None:
    class Other(StrategyParams):
        pass

    with pytest.raises(ValueError, match="strategy 'grid' is already registered by "):
        register_strategy_params("grid")(Other)


def test_unknown_venue_lookup_suggests_the_close_name() -> None:
    from core.venues import get_venue

    with pytest.raises(ConfigError) as caught:
        get_venue("hyperliqiud")
    assert str(caught.value) == (
        "unknown venue 'hyperliqiud' (did you mean 'hyperliquid'?): expected one of "
        + ", ".join(known_venue_names())
    )
