"""The strategy registry: names map to classes, and each class gets its own params type."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import ConfigError
from strategies.factory import strategy_class
from strategies.funding_arbitrage.strategy import FundingArbitrageStrategy
from strategies.grid.strategy import GridStrategy
from trading_config.schema import BotConfig


def test_registered_names_map_to_their_classes() -> None:
    assert strategy_class("grid") is GridStrategy
    assert strategy_class("funding_arbitrage") is FundingArbitrageStrategy
    assert GridStrategy.name == "grid"


def test_an_unknown_strategy_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="no strategy class for 'martingale': expected one of"):
        strategy_class("martingale")


def test_config_validation_knows_every_strategy_class() -> None:
    config = BotConfig.model_validate(
        {
            "name": "registry",
            "strategy": {
                "type": "grid",
                "params": {
                    "exchange": "paper",
                    "ticker": "BTC",
                    "direction": "buy",
                    "order_notional_usd": Decimal(10),
                    "target_leverage": Decimal(5),
                    "take_profit": Decimal(1),
                    "grid_step": Decimal("0.1"),
                    "max_orders": 2,
                    "max_margin_usd": Decimal(10),
                },
            },
            "exchanges": {"paper": {}},
        }
    )
    assert strategy_class(config.strategy.type).name == config.strategy.type
