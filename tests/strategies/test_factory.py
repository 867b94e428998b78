"""The strategy registry: one registration per strategy (its params model), the package list
found on disk, the class found from the model; every application that validates configs
knows every strategy."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import strategies
from core.errors import ConfigError
from strategies.factory import strategy_class
from strategies.funding_arbitrage.strategy import FundingArbitrageStrategy
from strategies.grid.strategy import GridStrategy
from trading_config.schema import BotConfig
from trading_config.strategy_params import (
    _REGISTRY,
    StrategyParams,
    registered_strategies,
)


def test_registered_names_map_to_their_classes() -> None:
    assert strategy_class("grid") is GridStrategy
    assert strategy_class("funding_arbitrage") is FundingArbitrageStrategy
    assert GridStrategy.name == "grid"


def test_an_unknown_strategy_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="unknown strategy 'martingale': expected one of"):
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


def test_the_strategy_packages_are_found_on_disk() -> None:
    on_disk = sorted(
        path.parent.name for path in Path(strategies.__file__).parent.glob("*/params.py")
    )
    assert list(strategies.STRATEGY_PACKAGES) == on_disk
    assert registered_strategies() == on_disk  # each registered its params model, once


def test_a_strategy_without_its_class_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    class Orphan(StrategyParams):
        pass

    Orphan.__module__ = "strategies.grid.params"  # next to the grid's strategy module
    monkeypatch.setitem(_REGISTRY, "orphan", Orphan)  # registered for this test only
    with pytest.raises(ConfigError, match=r"expected one BaseStrategy\[Orphan\] in "):
        strategy_class("orphan")


APPLICATIONS = [
    "bot_runtime.cli",
    "fleet.cli",
    "telegram_bot_service.cli",
    "config_builder.terminal",
    "bench.config_and_secrets",
]


@pytest.mark.parametrize("module", APPLICATIONS)
def test_every_application_that_validates_configs_knows_every_strategy(module: str) -> None:
    code = (
        f"import {module}\n"
        "from trading_config.strategy_params import registered_strategies\n"
        "print(','.join(registered_strategies()))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert shown.split(",") == list(strategies.STRATEGY_PACKAGES)


def test_config_validation_imports_no_strategy_code_by_itself() -> None:
    """trading_config sits below strategies: it reads the registry, never imports them."""
    code = (
        "import sys\n"
        "from trading_config.loader import load_config\n"
        "from trading_config.schema import BotConfig\n"
        "try:\n"
        "    BotConfig.model_validate({'name': 'x', 'strategy': {'type': 'grid', 'params': {}},"
        " 'exchanges': {'paper': {}}})\n"
        "except Exception as exc:\n"
        "    print(str(exc).splitlines()[2].strip())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'strategies'))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert shown[0].startswith("unknown strategy 'grid'")
    assert "none registered (import the strategies package first)" in shown[0]
    assert shown[-1] == "[]"
