"""Parameter rules of the scalper: defaults, bounds and cross-field checks, each error clear."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from strategies.factory import strategy_class
from strategies.l2_imbalance.params import L2ImbalanceParams
from strategies.l2_imbalance.strategy import L2ImbalanceStrategy
from trading_config.strategy_params import MarketReference, find_strategy_params

BASE: dict[str, Any] = {
    "exchange": "paper",
    "tickers": ["btc", "eth"],
    "order_notional_usd": "100",
    "daily_loss_limit_usd": "50",
    "max_drawdown_usd": "100",
}


def errors(**changes: Any) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        L2ImbalanceParams.model_validate({**BASE, **changes})
    return [
        f"{'.'.join(map(str, e['loc']))}: {str(e['msg']).removeprefix('Value error, ')}"
        for e in caught.value.errors()
    ]


def test_defaults_are_the_issue_figures() -> None:
    params = L2ImbalanceParams.model_validate(BASE)
    assert params.tickers == ["BTC", "ETH"]
    assert (params.depth_levels, params.buy_ratio, params.sell_ratio) == (
        5,
        Decimal("3.0"),
        Decimal("0.33"),
    )
    assert (params.take_profit_pct, params.stop_loss_pct, params.time_stop_seconds) == (
        Decimal("0.20"),
        Decimal("0.15"),
        Decimal(60),
    )
    assert (params.max_trade_notional_usd, params.max_instrument_exposure_pct) == (
        Decimal(10_000),
        Decimal(25),
    )
    assert params.maker_entry is False
    assert params.market_references() == {
        ("tickers", 0): MarketReference("BTC", ("paper",)),
        ("tickers", 1): MarketReference("ETH", ("paper",)),
    }
    assert "buy above 3.0 / sell below 0.33" in params.summary()


def test_the_kill_limits_must_be_set() -> None:
    with pytest.raises(ValidationError) as caught:
        L2ImbalanceParams.model_validate(
            {k: v for k, v in BASE.items() if k not in ("daily_loss_limit_usd", "max_drawdown_usd")}
        )
    assert sorted(e["loc"][0] for e in caught.value.errors()) == [
        "daily_loss_limit_usd",
        "max_drawdown_usd",
    ]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"order_notional_usd": "10001"},
            "order_notional_usd 10001 is above max_trade_notional_usd 10000",
        ),
        (
            {"tickers": ["BTC", "btc"]},
            "each ticker once (one position per instrument): ['BTC'] repeat",
        ),
        ({"tickers": []}, "tickers: List should have at least 1 item"),
        ({"buy_ratio": "1"}, "buy_ratio: Input should be greater than 1"),
        ({"sell_ratio": "1"}, "sell_ratio: Input should be less than 1"),
        ({"sell_ratio": "0"}, "sell_ratio: Input should be greater than 0"),
        (
            {"depth_levels": 0},
            "depth_levels: Input should be greater than or equal to 1",
        ),
        (
            {"max_instrument_exposure_pct": "101"},
            "max_instrument_exposure_pct: Input should be less than or equal to 100",
        ),
        (
            {"time_stop_seconds": "0"},
            "time_stop_seconds: Input should be greater than 0",
        ),
        ({"stop_loss_pct": "-1"}, "stop_loss_pct: Input should be greater than 0"),
        (
            {"maker_entry": True, "maker_entry_timeout_seconds": "60"},
            "maker_entry_timeout_seconds 60 must be below time_stop_seconds 60",
        ),
        ({"max_hold_minutes": 1}, "max_hold_minutes: Extra inputs are not permitted"),
    ],
)
def test_bad_values_are_refused_clearly(changes: dict[str, Any], expected: str) -> None:
    [problem] = errors(**changes)
    assert expected in problem, problem


def test_the_factory_finds_the_strategy() -> None:
    assert strategy_class("l2_imbalance") is L2ImbalanceStrategy
    assert find_strategy_params("l2_imbalance") is L2ImbalanceParams
