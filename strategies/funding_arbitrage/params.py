"""Parameters of the funding-arbitrage strategy, registered for config validation."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, field_validator

from trading_config.strategy_params import StrategyParams, register_strategy_params

Positive = Annotated[Decimal, Field(gt=0)]
NonNegative = Annotated[Decimal, Field(ge=0)]
Percent = Annotated[Decimal, Field(gt=0, le=100)]


@register_strategy_params("funding_arbitrage")
class FundingArbitrageParams(StrategyParams):
    """Hedged long/short pairs across venues, entered when the funding spread pays.

    Rates are compared per hour; one-off fees are amortised over
    ``expected_hold_hours``. Percentages are written as percent.
    """

    venues: list[str] = Field(min_length=2, description="venues to scan and trade")
    symbols: list[str] | None = Field(
        default=None, description="base assets to consider; unset = all listed on 2+ venues"
    )
    target_margin_usd: Positive = Field(description="margin per leg of each position, USD")
    max_leverage: Annotated[Decimal, Field(gt=0, le=50)] = Decimal(3)
    max_positions: Annotated[int, Field(ge=1)] = 1
    max_exposure_per_venue_usd: Positive | None = None
    min_net_apr_pct: NonNegative = Field(
        default=Decimal(10), description="net annualised funding spread after amortised fees"
    )
    expected_hold_hours: Positive = Decimal(72)
    min_volume_24h_usd: NonNegative = Decimal(1_000_000)
    min_open_interest_usd: NonNegative = Decimal(0)
    max_spread_pct: Percent = Decimal("0.1")
    max_price_divergence_pct: Percent = Decimal("0.5")
    check_interval_seconds: Annotated[int, Field(ge=1)] = 60
    exit_on_divergence_flip: bool = True
    profit_erosion_pct: Percent = Field(
        default=Decimal(50), description="exit when this share of peak profit is given back"
    )
    max_position_age_hours: Positive = Decimal(168)
    min_liquidation_distance_pct: Percent = Decimal(15)
    max_leg_imbalance_pct: Percent = Decimal(2)

    @field_validator("venues")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        duplicates = sorted({v for v in value if value.count(v) > 1})
        if duplicates:
            raise ValueError(f"expected distinct venues, found {', '.join(duplicates)} twice")
        return value

    @field_validator("symbols")
    @classmethod
    def _upper(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [symbol.upper() for symbol in value]

    def venue_references(self) -> dict[tuple[str | int, ...], str]:
        return {("venues", index): venue for index, venue in enumerate(self.venues)}

    def summary(self) -> str:
        symbols = ", ".join(self.symbols) if self.symbols else "all common symbols"
        return (
            f"{' / '.join(self.venues)} on {symbols}: {self.target_margin_usd} USD margin per leg, "
            f"<= {self.max_leverage}x, up to {self.max_positions} positions, "
            f"min {self.min_net_apr_pct}% APR net"
        )
