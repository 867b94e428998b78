"""Parameters of the order-book imbalance scalper, registered for config validation.

Percentages are written as percent (``take_profit_pct: 0.2`` means 0.2 % of the entry price);
durations are seconds. The hard limits (``max_trade_notional_usd``, ``daily_loss_limit_usd``,
``max_drawdown_usd``, ``max_instrument_exposure_pct``, ``time_stop_seconds``) are enforced by
the strategy in code, each with its own error type (see :mod:`strategies.l2_imbalance.limits`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from core.venues import VENUES
from trading_config.strategy_params import (
    MarketReference,
    StrategyParams,
    register_strategy_params,
)

Positive = Annotated[Decimal, Field(gt=0)]
Ticker = Annotated[str, Field(pattern=r"^[A-Z0-9]{1,20}$")]


@register_strategy_params("l2_imbalance")
class L2ImbalanceParams(StrategyParams):
    """Trade the ratio of bid to ask size over the top ``depth_levels`` levels of each book."""

    exchange: str = Field(description="venue to trade on (configured under exchanges)")
    tickers: Annotated[list[Ticker], Field(min_length=1)] = Field(
        description="base assets traded, one position at most on each, e.g. [BTC, ETH]"
    )
    order_notional_usd: Positive = Field(description="notional of each entry, USD")
    depth_levels: Annotated[int, Field(ge=1, le=50)] = Field(
        default=5, description="book levels per side summed into the imbalance ratio"
    )
    buy_ratio: Annotated[Decimal, Field(gt=1)] = Field(
        default=Decimal("3.0"), description="bid/ask size ratio above which to buy"
    )
    sell_ratio: Annotated[Decimal, Field(gt=0, lt=1)] = Field(
        default=Decimal("0.33"), description="bid/ask size ratio below which to sell"
    )
    take_profit_pct: Positive = Field(
        default=Decimal("0.20"),
        description="mid this % beyond the entry in favour: exit",
    )
    stop_loss_pct: Positive = Field(
        default=Decimal("0.15"), description="mid this % beyond the entry against: exit"
    )
    time_stop_seconds: Positive = Field(
        default=Decimal(60), description="a position older than this is closed, seconds"
    )
    maker_entry: bool = Field(
        default=False, description="enter post-only at the touch instead of at market"
    )
    maker_entry_timeout_seconds: Positive = Field(
        default=Decimal(5),
        description="an unfilled maker entry is cancelled after this",
    )
    max_trade_notional_usd: Positive = Field(
        default=Decimal(10_000), description="hard cap on one entry's notional, USD"
    )
    daily_loss_limit_usd: Positive = Field(
        description="equity lost since the UTC day's start that trips the kill switch, USD"
    )
    max_drawdown_usd: Positive = Field(
        description="equity below its peak that trips the kill switch, USD"
    )
    max_instrument_exposure_pct: Annotated[Decimal, Field(gt=0, le=100)] = Field(
        default=Decimal(25),
        description="most one instrument's position may be, % of equity",
    )
    max_book_age_seconds: Positive = Field(
        default=Decimal(2),
        description="no entry on a book unchanged for longer than this",
    )
    resync_quiet_seconds: Annotated[Decimal, Field(ge=0)] = Field(
        default=Decimal(5), description="no entry this long after the book was resynced"
    )

    @field_validator("tickers", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        if isinstance(value, list):
            return [item.upper() if isinstance(item, str) else item for item in value]
        return value

    @field_validator("tickers")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        repeated = sorted({ticker for ticker in value if value.count(ticker) > 1})
        if repeated:
            raise ValueError(f"each ticker once (one position per instrument): {repeated} repeat")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> L2ImbalanceParams:
        if self.order_notional_usd > self.max_trade_notional_usd:
            raise ValueError(
                f"order_notional_usd {self.order_notional_usd} is above max_trade_notional_usd "
                f"{self.max_trade_notional_usd}: every entry would be refused"
            )
        if self.maker_entry and self.maker_entry_timeout_seconds >= self.time_stop_seconds:
            raise ValueError(
                f"maker_entry_timeout_seconds {self.maker_entry_timeout_seconds} must be below "
                f"time_stop_seconds {self.time_stop_seconds}"
            )
        return self

    def venue_references(self) -> dict[tuple[str | int, ...], str]:
        return {("exchange",): self.exchange}

    def live_trading_problems(self) -> dict[tuple[str | int, ...], str]:
        venue = VENUES.get(self.exchange)
        if venue is None or not venue.needs_credentials:
            return {}
        return {
            ("exchange",): (
                f"l2_imbalance trades on paper venues only for now, not {self.exchange}: it "
                "steps at least 4 times a second and every step reads the account's balance "
                "(on a signal its positions too) over the venue's REST API - on binance 8 "
                "requests a second, its whole request-weight budget - so its orders would queue "
                "behind those reads. Trade it on a paper venue; one can follow a real venue's "
                "public book (exchanges: paper: market_data: source: binance). Backtests of it "
                "on any venue run as before"
            )
        }

    def market_references(self) -> dict[tuple[str | int, ...], MarketReference]:
        return {
            ("tickers", index): MarketReference(ticker, (self.exchange,))
            for index, ticker in enumerate(self.tickers)
        }

    def summary(self) -> str:
        return (
            f"{', '.join(self.tickers)} on {self.exchange}: {self.order_notional_usd} USD per "
            f"entry, buy above {self.buy_ratio} / sell below {self.sell_ratio} bid/ask size "
            f"over {self.depth_levels} levels; exits TP {self.take_profit_pct}% SL "
            f"{self.stop_loss_pct}% or {self.time_stop_seconds} s; limits "
            f"{self.max_trade_notional_usd} USD/trade, daily loss {self.daily_loss_limit_usd} "
            f"USD, drawdown {self.max_drawdown_usd} USD, {self.max_instrument_exposure_pct}% "
            "of equity per instrument"
        )
