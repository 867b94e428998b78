"""The short summary ``runbot.py --check`` prints for a valid config."""

from __future__ import annotations

from decimal import Decimal

from trading_config.schema import BotConfig
from trading_config.venues import VENUES


def summarize(path: str, config: BotConfig) -> list[str]:
    """Human-readable lines: what the bot trades, where, and within which limits."""
    return [
        f"{path}: OK",
        f"  bot:         {config.name}",
        f"  strategy:    {config.strategy.type}: {config.strategy.params.summary()}",
        f"  exchanges:   {_exchanges(config)}",
        f"  risk:        {_risk(config)}",
        f"  execution:   {config.execution.default_mode}, "
        f"max slippage {config.execution.max_slippage_pct}%",
        f"  control API: {_control_api(config)}",
    ]


def _exchanges(config: BotConfig) -> str:
    parts = []
    for name, exchange in config.exchanges.items():
        venue = VENUES[name]
        account = f"account {exchange.account}" if venue.needs_credentials else "no account needed"
        flags = [
            flag
            for flag, on in (("testnet", exchange.testnet), ("proxy", exchange.use_proxy))
            if on
        ]
        parts.append(f"{name} ({', '.join([account, *flags])})")
    return "; ".join(parts)


def _usd(value: Decimal) -> str:
    return f"{value:,} USD"


def _risk(config: BotConfig) -> str:
    risk = config.risk
    limits: list[str] = []
    if risk.max_position_notional_usd is not None:
        limits.append(f"max position {_usd(risk.max_position_notional_usd)}")
    if risk.max_total_exposure_usd is not None:
        limits.append(f"max exposure {_usd(risk.max_total_exposure_usd)}")
    if risk.max_exposure_per_venue_usd is not None:
        limits.append(f"max per venue {_usd(risk.max_exposure_per_venue_usd)}")
    if risk.max_open_positions is not None:
        limits.append(f"max {risk.max_open_positions} open positions")
    if risk.daily_loss_limit_usd is not None:
        limits.append(f"daily loss limit {_usd(risk.daily_loss_limit_usd)}")
    if risk.max_drawdown_pct is not None:
        limits.append(f"kill switch at {risk.max_drawdown_pct}% drawdown")
    return ", ".join(limits) if limits else "no limits set"


def _control_api(config: BotConfig) -> str:
    api = config.control_api
    if not api.enabled:
        return "disabled"
    return (
        f"enabled on {api.host}:{api.port}"
        if api.port
        else f"enabled on {api.host} (port from the fleet)"
    )
