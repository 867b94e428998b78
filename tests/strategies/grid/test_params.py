"""Grid parameter rules beyond single-field types."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from strategies.grid.params import GridParams

BASE: dict[str, Any] = {
    "exchange": "paper",
    "ticker": "eth",
    "direction": "buy",
    "order_notional_usd": "50",
    "target_leverage": "10",
    "take_profit": "1",
    "grid_step": "0.5",
    "max_orders": 5,
    "max_margin_usd": "100",
}


def errors(**changes: Any) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        GridParams.model_validate({**BASE, **changes})
    return [str(e["msg"]).removeprefix("Value error, ") for e in caught.value.errors()]


def test_valid_params() -> None:
    params = GridParams.model_validate(BASE)
    assert params.ticker == "ETH"
    assert params.venue_references() == {("exchange",): "paper"}
    assert params.order_notional_usd / params.target_leverage == Decimal(5)


def test_stop_loss_needs_a_percentage() -> None:
    assert errors(stop_loss_enabled=True) == [
        "stop_loss_enabled is true: expected stop_loss_percentage to be set"
    ]
    assert GridParams.model_validate(
        {**BASE, "stop_loss_enabled": True, "stop_loss_percentage": "5"}
    ).stop_loss_percentage == Decimal(5)


def test_margin_budget_must_fit_one_order() -> None:
    assert errors(max_margin_usd="4.99") == [
        "max_margin_usd 4.99 is below the margin of one order "
        "(order_notional_usd / target_leverage = 5)"
    ]


@pytest.mark.parametrize(
    ("direction", "stop", "pause", "ok"),
    [
        ("buy", "90", "110", True),
        ("buy", "110", "90", False),
        ("sell", "110", "90", True),
        ("sell", "90", "110", False),
        ("buy", "100", "100", False),
    ],
)
def test_stop_and_pause_prices_sit_on_the_right_sides(
    direction: str, stop: str, pause: str, ok: bool
) -> None:
    changes = {"direction": direction, "stop_price": stop, "pause_price": pause}
    if ok:
        GridParams.model_validate({**BASE, **changes})
    else:
        relation = "below" if direction == "buy" else "above"
        assert errors(**changes) == [
            f"a {direction} grid expects stop_price {relation} pause_price, "
            f"found stop_price {stop} and pause_price {pause}"
        ]
