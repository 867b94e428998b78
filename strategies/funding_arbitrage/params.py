"""Parameters of the funding-arbitrage strategy, registered for config validation."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from trading_config.strategy_params import (
    MarketReference,
    StrategyParams,
    register_strategy_params,
)

Positive = Annotated[Decimal, Field(gt=0)]
NonNegative = Annotated[Decimal, Field(ge=0)]
Percent = Annotated[Decimal, Field(gt=0, le=100)]


@register_strategy_params("funding_arbitrage")
class FundingArbitrageParams(StrategyParams):
    """Hedged long/short pairs across venues, entered when the funding spread pays.

    Rates are compared per hour; one-off fees are amortised over
    ``expected_hold_hours``. Percentages are written as percent.
    """

    # Both legs go through the execution layer's modes (strategy.py): all of them apply.
    execution_settings: ClassVar[frozenset[str]] = frozenset(
        {
            "default_mode",
            "limit_timeout_seconds",
            "aggressive_attempts",
            "max_slippage_pct",
            "margin_buffer_pct",
        }
    )

    venues: list[str] = Field(min_length=2, description="venues to scan and trade")
    symbols: list[str] | None = Field(
        default=None, description="base assets to consider; unset = all listed on 2+ venues"
    )
    target_margin_usd: Positive = Field(description="margin per leg of each position, USD")
    max_leverage: Annotated[Decimal, Field(gt=0, le=50)] = Field(
        default=Decimal(3), description="leverage cap per leg (the markets' maximum may be lower)"
    )
    max_positions: Annotated[int, Field(ge=1)] = Field(
        default=1, description="most pairs open at once"
    )
    max_exposure_per_venue_usd: Positive | None = Field(
        default=None, description="most open notional on any one venue, USD (unset: no cap)"
    )
    min_net_apr_pct: NonNegative = Field(
        default=Decimal(10), description="net annualised funding spread after amortised fees"
    )
    expected_hold_hours: Positive = Field(
        default=Decimal(72), description="hours a pair is expected to be held (fees amortised)"
    )
    min_volume_24h_usd: NonNegative = Field(
        default=Decimal(1_000_000), description="minimum 24 h volume on each venue, USD"
    )
    min_open_interest_usd: NonNegative = Field(
        default=Decimal(0), description="minimum open interest on each venue, USD"
    )
    max_spread_pct: Percent = Field(
        default=Decimal("0.1"), description="widest bid/ask spread accepted on a venue, %"
    )
    max_price_divergence_pct: Percent = Field(
        default=Decimal("0.5"), description="largest price gap between the two venues, %"
    )
    check_interval_seconds: Annotated[int, Field(ge=1)] = Field(
        default=60, description="seconds between scans and position checks"
    )
    exit_on_divergence_flip: bool = Field(
        default=True, description="exit when the funding spread turns against the pair"
    )
    profit_erosion_pct: Percent = Field(
        default=Decimal(50), description="exit when this share of peak profit is given back"
    )
    max_position_age_hours: Positive = Field(
        default=Decimal(168), description="close a pair older than this, hours"
    )
    min_liquidation_distance_pct: Percent = Field(
        default=Decimal(15), description="exit when a leg is closer than this to liquidation, %"
    )
    max_leg_imbalance_pct: Percent = Field(
        default=Decimal(2), description="exit when the legs' sizes differ by more than this, %"
    )
    max_exit_spread_pct: Percent | None = Field(
        default=None,
        description="an economic exit waits while either venue's bid/ask spread is wider, % "
        "(unset: no limit)",
    )
    emergency_exit_ignores_spread: bool = Field(
        default=True,
        description="urgent exits (liquidation risk, leg imbalance) close whatever the "
        "spread; false: they wait for max_exit_spread_pct too",
    )
    wide_spread_cooldown_seconds: Annotated[int, Field(ge=0)] = Field(
        default=0,
        description="after a venue's spread was too wide for a symbol, leave that "
        "venue/symbol out of entries for this long, seconds (0: no cooldown)",
    )
    min_hold_hours: NonNegative = Field(
        default=Decimal(0),
        description="economic exits and switches wait until a pair is this old, hours "
        "(urgent exits never wait)",
    )
    mandatory_venue: str | None = Field(
        default=None, description="every pair must have a leg on this venue (one of venues)"
    )
    max_new_positions_per_cycle: Annotated[int, Field(ge=1)] = Field(
        default=1, description="most pairs opened in one check"
    )
    switch_margin_apr_pct: NonNegative | None = Field(
        default=None,
        description="close a held pair for a better one when the new pair's net APR beats "
        "the held pair's current APR by this much after closing and reopening costs, % "
        "(unset: never switch)",
    )

    opportunities: Literal["direct", "service"] = Field(
        default="direct",
        description="candidates: direct = scan every symbol each check; service = the "
        "funding-rate service's opportunities (direct again while it is down or stale)",
    )
    service_url: str = Field(
        default="http://127.0.0.1:8710",
        description="the funding-rate service (opportunities: service only)",
    )
    service_max_age_seconds: Annotated[int, Field(ge=1, le=86_400)] = Field(
        default=300,
        description="when the service's newest rate of any of venues is older than this "
        "(or it has none), scan directly instead, seconds (opportunities: service only)",
    )

    @field_validator("service_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http(s) URL like http://127.0.0.1:8710, got {value!r}")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ValueError("expected scheme://host:port only (no credentials, query or #)")
        return value.rstrip("/")

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

    @model_validator(mode="after")
    def _mandatory_is_traded(self) -> FundingArbitrageParams:
        if self.mandatory_venue is not None and self.mandatory_venue not in self.venues:
            raise ValueError(
                f"mandatory_venue {self.mandatory_venue} is not one of venues "
                f"({', '.join(self.venues)})"
            )
        if self.opportunities == "direct":
            # A value other than the default would be silently ignored: refuse it. (The
            # config builder writes every parameter, the defaults included.)
            unused = sorted(
                name
                for name in ("service_url", "service_max_age_seconds")
                if name in self.model_fields_set
                and getattr(self, name) != type(self).model_fields[name].default
            )
            if unused:
                raise ValueError(
                    f"{', '.join(unused)} only apply with opportunities: service "
                    "(this config scans directly)"
                )
        if self.min_hold_hours >= self.max_position_age_hours:
            raise ValueError(
                f"min_hold_hours {self.min_hold_hours} must be below max_position_age_hours "
                f"{self.max_position_age_hours}"
            )
        return self

    def venue_references(self) -> dict[tuple[str | int, ...], str]:
        return {("venues", index): venue for index, venue in enumerate(self.venues)}

    def market_references(self) -> dict[tuple[str | int, ...], MarketReference]:
        # A pair needs the symbol on two venues; the others may not list it.
        venues = tuple(self.venues)
        return {
            ("symbols", index): MarketReference(symbol, venues, needed=2)
            for index, symbol in enumerate(self.symbols or [])
        }

    def summary(self) -> str:
        symbols = ", ".join(self.symbols) if self.symbols else "all common symbols"
        return (
            f"{' / '.join(self.venues)} on {symbols}: {self.target_margin_usd} USD margin per leg, "
            f"<= {self.max_leverage}x, up to {self.max_positions} positions, "
            f"min {self.min_net_apr_pct}% APR net"
        )
