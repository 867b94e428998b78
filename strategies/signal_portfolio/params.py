"""Parameters of the signal portfolio bot, registered for config validation.

``signals`` enables signal strategies by name, each with its own parameters (validated by the
strategy's model: unknown names and keys are refused with the strategy's name in the error).
Two spellings, the same list: a mapping (``rsi_mean_reversion: {overbought: 80}``) or one
line per strategy (``- rsi_mean_reversion overbought=80``, what the config builder asks for:
names, comma-separated). Either way the model holds the one-line form; :func:`signal_specs`
reads it back as (name, params).
Percentages are written as percent (``stop_loss_pct: 2`` is 2 % of the entry price).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from core.errors import ConfigError
from trading_config.strategy_params import (
    MarketReference,
    StrategyParams,
    register_strategy_params,
)

Positive = Annotated[Decimal, Field(gt=0)]
Fraction = Annotated[Decimal, Field(ge=0, le=1)]
Ticker = Annotated[str, Field(pattern=r"^[A-Z0-9]{1,20}$")]
HttpText = Annotated[str, Field(pattern=r"^https?://[^\s/]+(/\S*)?$")]
"""An http(s) URL (a host, optionally a path); kept as written, without a trailing slash."""
GAMMA_URL = "https://gamma-api.polymarket.com"
CLOB_URL = "https://clob.polymarket.com"
POLYMARKET_SIGNALS = frozenset({"contrarian_pure", "contrarian_strength"})
REPLAY_MISSING: dict[str, str] = {
    "contrarian_pure": "Polymarket's consensus",
    "contrarian_strength": "Polymarket's consensus",
    "funding_oi": "open interest",
}
"""The signals a backtest cannot run, and the data they read that backtest history lacks."""


@register_strategy_params("signal_portfolio")
class SignalPortfolioParams(StrategyParams):
    """Run the enabled signal strategies on every asset each tick; trade what passes the gate."""

    # Entries go through the execution layer's modes (strategy.py): these apply.
    execution_settings: ClassVar[frozenset[str]] = frozenset(
        {"default_mode", "limit_timeout_seconds", "aggressive_attempts"}
    )

    exchange: str = Field(description="venue to trade on (configured under exchanges)")
    assets: Annotated[list[Ticker], Field(min_length=1)] = Field(
        description="base assets evaluated and traded, e.g. [BTC, ETH, SOL]"
    )
    signals: Annotated[list[str], Field(min_length=1)] = Field(
        description="signal strategies to run: a name, optionally followed by its params as "
        "key=value (e.g. rsi_mean_reversion overbought=80); the defaults otherwise"
    )
    risk_pct: Annotated[Decimal, Field(gt=0, le=10)] = Field(
        default=Decimal(1), description="equity risked per trade if its stop-loss is hit, %"
    )
    stop_loss_pct: Annotated[Decimal, Field(gt=0, lt=50)] = Field(
        default=Decimal(2), description="stop distance from the entry, % of the entry price"
    )
    take_profit_pct: Annotated[Decimal, Field(gt=0, lt=500)] = Field(
        default=Decimal(4), description="take-profit distance from the entry, %"
    )
    timeout_minutes: Annotated[int, Field(ge=1)] = Field(
        default=240, description="a position older than this is closed"
    )
    min_confidence: Fraction = Field(
        default=Decimal("0.5"), description="signals below this confidence are not acted on"
    )
    full_size_confidence: Fraction = Field(
        default=Decimal("0.75"),
        description="signals below this confidence are scaled down by half-Kelly from their "
        "strategy's observed win rate and payoff",
    )
    kelly_min_trades: Annotated[int, Field(ge=1)] = Field(
        default=10, description="closed trades of a strategy before half-Kelly scales it"
    )
    max_positions_per_strategy: Annotated[int, Field(ge=1)] = Field(
        default=1, description="open positions one signal strategy may hold at once"
    )
    max_exposure_pct: Annotated[Decimal, Field(gt=0, le=1000)] = Field(
        default=Decimal(100), description="total open notional cap, % of equity"
    )
    evaluation_interval_seconds: Annotated[Decimal, Field(ge=Decimal("0.1"))] = Field(
        default=Decimal(10), description="how often every signal strategy is evaluated"
    )
    mark_to_market_seconds: Annotated[Decimal, Field(ge=1)] = Field(
        default=Decimal(60), description="how often open positions are marked and recorded"
    )
    backfill_hours: Annotated[int, Field(ge=0, le=72)] = Field(
        default=24, description="candle history read from the venue at start"
    )
    candle_stale_minutes: Annotated[int, Field(ge=1)] = Field(
        default=5, description="no candle from trades this long: warn and reconnect"
    )
    funding_source: Literal["auto", "service", "venue"] = Field(
        default="auto",
        description="funding/OI from the funding-rate service (funding_service_url), "
        "Hyperliquid directly, or the service falling back to Hyperliquid (auto)",
    )
    funding_service_url: HttpText = Field(
        default="http://127.0.0.1:8710",
        description="the funding-rate service (funding_source auto or service); its token, "
        "when it has one, from $PERPFLEET_FUNDING_TOKEN",
    )
    funding_poll_seconds: Annotated[Decimal, Field(ge=1)] = Field(
        default=Decimal(60), description="how often funding and open interest are read"
    )
    oi_history_size: Annotated[int, Field(ge=2, le=100_000)] = Field(
        default=1440, description="open-interest readings kept for its percentile"
    )
    polymarket_poll_seconds: Annotated[Decimal, Field(ge=5)] = Field(
        default=Decimal(60), description="how often Polymarket prices are read"
    )
    polymarket_gamma_url: HttpText = Field(
        default=GAMMA_URL, description="Polymarket Gamma API (markets)"
    )
    polymarket_clob_url: HttpText = Field(
        default=CLOB_URL, description="Polymarket CLOB API (prices)"
    )
    market_data_url: HttpText | None = Field(
        default=None,
        description="Hyperliquid public REST host for candles/funding/OI (unset: the venue's)",
    )
    market_data_ws_url: Annotated[str, Field(pattern=r"^wss?://")] | None = Field(
        default=None, description="Hyperliquid public WebSocket for trades (unset: the venue's)"
    )

    @field_validator("assets", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        if isinstance(value, list):
            return [item.upper() if isinstance(item, str) else item for item in value]
        return value

    @field_validator("assets")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        repeated = sorted({asset for asset in value if value.count(asset) > 1})
        if repeated:
            raise ValueError(f"each asset once: {repeated} repeat")
        return value

    @field_validator(
        "funding_service_url", "polymarket_gamma_url", "polymarket_clob_url", "market_data_url"
    )
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value is not None else None

    @field_validator("signals", mode="before")
    @classmethod
    def _one_line_each(cls, value: object) -> object:
        if isinstance(value, Mapping):
            return [spec_text(str(name), raw) for name, raw in value.items()]
        return value

    @field_validator("signals")
    @classmethod
    def _known_signals(cls, value: list[str]) -> list[str]:
        # Imported here: every strategy's params module is imported to validate any config
        # (strategies/__init__.py), and a grid bot need not load seven signal strategies.
        from strategies.signal_portfolio.signals import registry

        checked: dict[str, str] = {}
        for text in value:
            name, raw = parse_spec(text)
            if name not in registry.registered():
                known = ", ".join(sorted(registry.registered()))
                raise ValueError(f"unknown signal strategy {name!r}: expected one of {known}")
            if name in checked:
                raise ValueError(f"signal strategy {name!r} is enabled twice")
            try:
                registry.signal_class(name).params_model.model_validate(raw)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in error['loc']) or name}: {error['msg']}"
                    for error in exc.errors()
                )
                raise ValueError(f"signal strategy {name!r}: {problems}") from None
            checked[name] = spec_text(name, raw)
        return list(checked.values())

    @model_validator(mode="after")
    def _consistent(self) -> SignalPortfolioParams:
        if self.min_confidence > self.full_size_confidence:
            raise ValueError(
                f"min_confidence {self.min_confidence} is above full_size_confidence "
                f"{self.full_size_confidence}"
            )
        return self

    def uses_polymarket(self) -> bool:
        return bool(POLYMARKET_SIGNALS & {name for name, _ in signal_specs(self.signals)})

    def check_replayable(self) -> None:
        """Refuse, naming each, the enabled signals whose data a backtest has no history of."""
        missing = [
            f"{name} (it reads {REPLAY_MISSING[name]})"
            for name, _ in signal_specs(self.signals)
            if name in REPLAY_MISSING
        ]
        if missing:
            raise ConfigError(
                "strategy signal_portfolio: a backtest replays the venue's trades and funding "
                "only, so these signals cannot run on it: "
                + "; ".join(missing)
                + " - leave them out of strategy.params.signals for the backtest"
            )

    def venue_references(self) -> dict[tuple[str | int, ...], str]:
        return {("exchange",): self.exchange}

    def market_references(self) -> dict[tuple[str | int, ...], MarketReference]:
        return {
            ("assets", index): MarketReference(asset, (self.exchange,))
            for index, asset in enumerate(self.assets)
        }

    def summary(self) -> str:
        return (
            f"{', '.join(self.assets)} on {self.exchange}: signals "
            f"{', '.join(name for name, _ in signal_specs(self.signals))}; "
            f"risk {self.risk_pct}% of equity per trade, SL {self.stop_loss_pct}% TP "
            f"{self.take_profit_pct}% or {self.timeout_minutes} min; min confidence "
            f"{self.min_confidence}, exposure cap {self.max_exposure_pct}% of equity"
        )


def spec_text(name: str, raw: Mapping[str, Any] | None) -> str:
    """``name key=value ...``: one enabled signal strategy and the params it was given."""
    return " ".join([name, *(f"{key}={value}" for key, value in (raw or {}).items())])


def parse_spec(text: str) -> tuple[str, dict[str, str]]:
    """(name, params) of one ``signals`` entry; a malformed entry is a ValueError saying so."""
    name, *pairs = str(text).split()
    raw: dict[str, str] = {}
    for pair in pairs:
        key, equals, value = pair.partition("=")
        if not equals or not key or not value:
            raise ValueError(
                f"signals entry {text!r}: expected key=value after the strategy name, "
                f"found {pair!r}"
            )
        raw[key] = value
    return name, raw


def signal_specs(signals: Sequence[str]) -> list[tuple[str, dict[str, str]]]:
    """Every enabled signal strategy's (name, params) from the validated ``signals``."""
    return [parse_spec(text) for text in signals]
