"""Parameters of the grid strategy, registered for config validation."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from trading_config.strategy_params import (
    MarketReference,
    StrategyParams,
    register_strategy_params,
)

Positive = Annotated[Decimal, Field(gt=0)]
Ticker = Annotated[str, Field(pattern=r"^[A-Z0-9]{1,20}$")]


@register_strategy_params("grid")
class GridParams(StrategyParams):
    """A one-directional grid on one symbol of one venue.

    Prices are in quote currency (USD); percentages are written as percent
    (``grid_step: 0.5`` means 0.5 %).
    """

    exchange: str = Field(description="venue to trade on (configured under exchanges)")
    ticker: Ticker = Field(description="base asset, e.g. BTC")
    direction: Literal["buy", "sell"] = Field(description="buy = long grid, sell = short grid")
    order_notional_usd: Positive = Field(description="notional of each entry order, USD")
    target_leverage: Annotated[Decimal, Field(gt=0, le=200)] = Field(
        description="leverage set on the venue before trading"
    )
    take_profit: Positive = Field(description="take-profit per entry, % on margin")
    grid_step: Positive = Field(description="minimum distance between entries, % of price")
    max_orders: Annotated[int, Field(ge=1)] = Field(description="most open take-profit orders")
    max_margin_usd: Positive = Field(description="most margin the grid may use, USD")
    wait_time: Annotated[Decimal, Field(ge=0)] = Field(
        default=Decimal(10), description="base cooldown between entries, seconds"
    )
    stop_loss_enabled: bool = False
    stop_loss_percentage: Positive | None = Field(
        default=None, description="loss on margin, %, that closes a position"
    )
    position_timeout_minutes: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="a position older than this is stuck and recovered"
    )
    recovery_mode: Literal["aggressive", "hedge", "none"] = "none"
    post_only_tick_multiplier: Annotated[int, Field(ge=0)] = Field(
        default=1, description="ticks inside the touch for post-only entries"
    )
    stop_price: Positive | None = Field(default=None, description="close everything and stop")
    pause_price: Positive | None = Field(default=None, description="no new entries beyond it")

    @field_validator("ticker", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> GridParams:
        if self.stop_loss_enabled and self.stop_loss_percentage is None:
            raise ValueError("stop_loss_enabled is true: expected stop_loss_percentage to be set")
        one_order_margin = self.order_notional_usd / self.target_leverage
        if self.max_margin_usd < one_order_margin:
            raise ValueError(
                f"max_margin_usd {self.max_margin_usd} is below the margin of one order "
                f"(order_notional_usd / target_leverage = {one_order_margin.normalize():f})"
            )
        if self.stop_price is not None and self.pause_price is not None:
            # A long grid stops below and pauses above; a short grid the other way round.
            wrong_side = (
                self.stop_price >= self.pause_price
                if self.direction == "buy"
                else self.stop_price <= self.pause_price
            )
            if wrong_side:
                relation = "below" if self.direction == "buy" else "above"
                raise ValueError(
                    f"a {self.direction} grid expects stop_price {relation} pause_price, "
                    f"found stop_price {self.stop_price} and pause_price {self.pause_price}"
                )
        return self

    def venue_references(self) -> dict[tuple[str | int, ...], str]:
        return {("exchange",): self.exchange}

    def market_references(self) -> dict[tuple[str | int, ...], MarketReference]:
        return {("ticker",): MarketReference(self.ticker, (self.exchange,))}

    def summary(self) -> str:
        side = "long" if self.direction == "buy" else "short"
        return (
            f"{side} {self.ticker} on {self.exchange}: {self.order_notional_usd} USD per order, "
            f"{self.target_leverage}x, step {self.grid_step}%, take-profit {self.take_profit}%, "
            f"at most {self.max_orders} orders / {self.max_margin_usd} USD margin"
        )
