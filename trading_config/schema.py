"""The shape of a bot config (``configs/*.yml``), validated by pydantic v2.

Every section rejects unknown keys (a misspelt ``max_drawdwon_pct`` must not
silently leave a bot without its kill switch). Amounts are ``Decimal``. The
``strategy.params`` section is validated by the schema the named strategy
registered (see :mod:`trading_config.strategy_params`).
"""

from __future__ import annotations

import ipaddress
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from core.suggestions import did_you_mean
from core.venues import VENUES, known_venue_names
from trading_config.strategy_params import (
    NONE_REGISTERED,
    StrategyParams,
    find_strategy_params,
    registered_strategies,
)

PositiveDecimal = Annotated[Decimal, Field(gt=0)]
NonNegativeDecimal = Annotated[Decimal, Field(ge=0)]
Percent = Annotated[Decimal, Field(gt=0, le=100)]
PositiveInt = Annotated[int, Field(ge=1)]
Port = Annotated[int, Field(ge=1024, le=65535)]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
ExecutionMode = Literal["market", "limit", "limit_with_fallback", "aggressive_limit"]

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
# The database's account/sub-account names (database.repositories.accounts._check_name).
SUB_ACCOUNT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"


def _known_venue(value: str) -> str:
    if value not in VENUES:
        raise PydanticCustomError(
            "unknown_venue",
            "unknown venue {found}{hint}: expected one of {known}",
            {
                "found": repr(value),
                "known": ", ".join(known_venue_names()),
                "hint": did_you_mean(value, known_venue_names()),
            },
        )
    return value


VenueName = Annotated[str, AfterValidator(_known_venue)]


class Section(BaseModel):
    """Base of every config section: strict keys, immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class StrategyConfig(Section):
    type: str = Field(description="registered strategy name, e.g. grid or funding_arbitrage")
    params: SerializeAsAny[StrategyParams] = Field(
        description="parameters, validated by the strategy's own schema"
    )

    @field_validator("type")
    @classmethod
    def _known_strategy(cls, value: str) -> str:
        if find_strategy_params(value) is None:
            known = ", ".join(repr(name) for name in registered_strategies()) or NONE_REGISTERED
            raise PydanticCustomError(
                "unknown_strategy",
                "unknown strategy {found}{hint}: expected one of {known}",
                {
                    "found": repr(value),
                    "known": known,
                    "hint": did_you_mean(value, registered_strategies()),
                },
            )
        return value

    @field_validator("params", mode="before")
    @classmethod
    def _validate_params(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, StrategyParams):
            return value
        schema = find_strategy_params(info.data.get("type", ""))
        if schema is None:
            # The unknown type is already reported; checking params against nothing adds noise.
            return StrategyParams()
        if value is None:
            value = {}
        return schema.model_validate(value)


def _url_with_scheme(*schemes: str) -> AfterValidator:
    def check(value: str) -> str:
        scheme, separator, rest = value.partition("://")
        if not separator or scheme not in schemes or not rest:
            raise PydanticCustomError(
                "url_scheme",
                "expected a URL starting with {schemes}",
                {"schemes": " or ".join(f"{s}://" for s in schemes)},
            )
        return value.rstrip("/")

    return AfterValidator(check)


HttpUrl = Annotated[str, _url_with_scheme("https", "http")]
WebSocketUrl = Annotated[str, _url_with_scheme("wss", "ws")]


class MarketDataConfig(Section):
    """Where a paper venue's prices come from: the seeded synthetic market, or a real venue's
    public feed (paper trading against live books; no account or key needed)."""

    source: Literal["synthetic", "aster", "backpack", "binance", "hyperliquid", "lighter"] = Field(
        default="synthetic",
        description="synthetic, or the venue whose public feed to follow: aster, backpack, "
        "binance (USD-M), hyperliquid or lighter",
    )
    testnet: bool = Field(default=False, description="follow the venue's test network")
    symbols: tuple[str, ...] = Field(
        default=(), description="symbols to stream (default: the source's BTC, ETH, SOL)"
    )


class ExchangeConfig(Section):
    """One venue the bot trades on and the database account whose credentials it uses."""

    account: str | None = Field(
        default=None,
        description="account name in the database (credentials never live in configs)",
    )
    sub_account: str | None = Field(
        default=None,
        pattern=SUB_ACCOUNT_PATTERN,
        description="trade the account's sub-account of this name (its own stored credentials, "
        "added with `accounts add --sub-account NAME`); unset = the main account",
    )
    testnet: bool = Field(default=False, description="use the venue's test network")
    use_proxy: bool = Field(
        default=False,
        description="route this venue's traffic through the account's proxies (health-checked, "
        "failed over; see `python -m database proxies`); real venues only",
    )
    market_data: MarketDataConfig | None = Field(
        default=None, description="paper venues only: where market data comes from"
    )
    api_url: HttpUrl | None = Field(
        default=None,
        description="override the venue's REST base URL (a regional host, a gateway)",
    )
    ws_url: WebSocketUrl | None = Field(
        default=None, description="override the venue's WebSocket base URL"
    )


class RiskConfig(Section):
    """Limits checked before every entry. Unset = no limit of that kind."""

    max_position_notional_usd: PositiveDecimal | None = None
    max_total_exposure_usd: PositiveDecimal | None = None
    max_exposure_per_venue_usd: PositiveDecimal | None = None
    max_open_positions: PositiveInt | None = None
    daily_loss_limit_usd: PositiveDecimal | None = None
    max_drawdown_pct: Percent | None = None
    loss_cooldown_minutes: Annotated[int, Field(ge=0)] = 0
    kelly_fraction: Annotated[Decimal, Field(gt=0, le=1)] | None = None


class ExecutionConfig(Section):
    """Defaults for how orders are placed; strategies may override per order."""

    default_mode: ExecutionMode = "limit_with_fallback"
    limit_timeout_seconds: PositiveDecimal = Decimal(30)
    max_slippage_pct: Annotated[Decimal, Field(gt=0, le=10)] = Decimal("0.5")
    aggressive_attempts: PositiveInt = 3
    margin_buffer_pct: Annotated[Decimal, Field(ge=0, le=100)] = Decimal(20)
    cancel_orders_on_stop: bool = True


# Execution settings the runtime applies whatever the strategy (on stop, for every bot).
RUNTIME_EXECUTION_SETTINGS = frozenset({"cancel_orders_on_stop"})


class ControlApiConfig(Section):
    """The per-bot REST control API (served on loopback only)."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: Port | None = Field(default=None, description="unset = allocated by the fleet")

    @field_validator("host")
    @classmethod
    def _loopback_only(cls, value: str) -> str:
        try:
            is_loopback = value == "localhost" or ipaddress.ip_address(value).is_loopback
        except ValueError:
            is_loopback = False
        if not is_loopback:
            raise PydanticCustomError(
                "not_loopback",
                "expected a loopback address such as 127.0.0.1 (the control API "
                "is never exposed to the network), found {found}",
                {"found": repr(value)},
            )
        return value


ReconciliationPolicy = Literal["refuse", "adopt", "cancel"]


class ReconciliationConfig(Section):
    """What to do with venue state the journal does not explain, found at start-up and after
    every reconnection of a venue's streams (execution.reconciliation): an open order nobody
    journaled (placed by hand, by another program), a position whose size differs from what
    the journaled fills add up to (changed while the bot was down)."""

    policy: ReconciliationPolicy | None = Field(
        default=None,
        description="refuse: do not start (after a reconnect: stop entries and alert); "
        "adopt: take the venue's state as truth and journal it; cancel: cancel the unexplained "
        "orders and close the unexplained part of positions with reduce-only market orders. "
        "Unset = refuse on real venues, adopt on paper venues",
    )

    def policy_for(self, venue: str) -> ReconciliationPolicy:
        """The policy of ``venue``: the configured one, else the venue kind's default."""
        if self.policy is not None:
            return self.policy
        return "adopt" if VENUES[venue].kind == "paper" else "refuse"


class LoggingConfig(Section):
    level: LogLevel = "INFO"
    json_output: bool | None = Field(
        default=None, alias="json", description="JSON lines; unset = JSON unless on a terminal"
    )

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class BotConfig(Section):
    """One bot: its name, strategy, venues and limits."""

    name: str = Field(pattern=NAME_PATTERN, description="unique bot name")
    strategy: StrategyConfig
    exchanges: dict[VenueName, ExchangeConfig] = Field(min_length=1)
    risk: RiskConfig = RiskConfig()
    execution: ExecutionConfig = ExecutionConfig()
    control_api: ControlApiConfig = ControlApiConfig()
    logging: LoggingConfig = LoggingConfig()
    reconciliation: ReconciliationConfig = ReconciliationConfig()

    @field_validator("exchanges", mode="before")
    @classmethod
    def _empty_section_means_defaults(cls, value: Any) -> Any:
        """``paper:`` with nothing under it is a venue with default settings."""
        if isinstance(value, dict):
            return {name: {} if section is None else section for name, section in value.items()}
        return value

    @model_validator(mode="after")
    def _strategy_venues_configured(self) -> BotConfig:
        configured = ", ".join(repr(v) for v in self.exchanges)
        errors = [
            InitErrorDetails(
                type=PydanticCustomError(
                    "venue_not_configured",
                    "expected a venue configured under exchanges ({configured}), found {found}",
                    {"configured": configured, "found": repr(venue)},
                ),
                loc=("strategy", "params", *where),
                input=venue,
            )
            for where, venue in self.strategy.params.venue_references().items()
            if venue not in self.exchanges
        ]
        errors += [
            InitErrorDetails(
                type=PydanticCustomError(
                    "proxy_not_for_paper",
                    "use_proxy applies to real venues only; {venue} is simulated and sends "
                    "no account traffic to route through a proxy",
                    {"venue": name},
                ),
                loc=("exchanges", name, "use_proxy"),
                input=exchange.use_proxy,
            )
            for name, exchange in self.exchanges.items()
            if exchange.use_proxy and VENUES[name].kind == "paper"
        ]
        errors += [
            InitErrorDetails(
                type=PydanticCustomError(
                    "market_data_not_paper",
                    "market_data applies to paper venues only; {venue} trades its own market",
                    {"venue": name},
                ),
                loc=("exchanges", name, "market_data"),
                input=exchange.market_data,
            )
            for name, exchange in self.exchanges.items()
            if exchange.market_data is not None and VENUES[name].kind != "paper"
        ]
        errors += [
            InitErrorDetails(
                type=PydanticCustomError(
                    "url_not_for_paper",
                    "{field} applies to real venues only; {venue} is simulated",
                    {"venue": name, "field": field},
                ),
                loc=("exchanges", name, field),
                input=getattr(exchange, field),
            )
            for name, exchange in self.exchanges.items()
            for field in ("api_url", "ws_url")
            if getattr(exchange, field) is not None and VENUES[name].kind == "paper"
        ]
        honoured = self.strategy.params.execution_settings | RUNTIME_EXECUTION_SETTINGS
        errors += [
            InitErrorDetails(
                type=PydanticCustomError(
                    "execution_setting_unused",
                    "the {strategy} strategy does not use execution.{field} (its orders follow "
                    "{honoured}); remove it",
                    {
                        "strategy": self.strategy.type,
                        "field": field,
                        "honoured": ", ".join(sorted(honoured)),
                    },
                ),
                loc=("execution", field),
                input=getattr(self.execution, field),
            )
            for field in sorted(self.execution.model_fields_set - honoured)
        ]
        errors += [
            InitErrorDetails(
                type=PydanticCustomError(
                    "sub_account_not_for_paper",
                    "sub_account applies to real venues only; {venue} is simulated and has no "
                    "sub-accounts (give the bot its own simulated wallet with `account:` instead)",
                    {"venue": name},
                ),
                loc=("exchanges", name, "sub_account"),
                input=exchange.sub_account,
            )
            for name, exchange in self.exchanges.items()
            if exchange.sub_account is not None and VENUES[name].kind == "paper"
        ]
        errors += [
            InitErrorDetails(
                type=PydanticCustomError(
                    "account_required",
                    "missing account: {venue} needs credentials; expected the name of a database "
                    "account (add one with `python -m database accounts add --name NAME "
                    "--venue {venue}`, or pass --account NAME)",
                    {"venue": name},
                ),
                loc=("exchanges", name, "account"),
                input=None,
            )
            for name, exchange in self.exchanges.items()
            if exchange.account is None and VENUES[name].needs_credentials
        ]
        if errors:
            raise ValidationError.from_exception_data(type(self).__name__, errors)
        return self
