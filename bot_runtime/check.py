"""What ``runbot.py --check`` verifies beyond the file, and the summary it prints.

A config can be valid and still unable to run: the account it names may have
no credentials for that venue, or the master key may not open them, or the
venue may not list the ticker. Checking that here means a bot never
half-starts on a Supervisor host. Markets are known offline for paper venues
on the synthetic market; the runtime checks the others once connected
(:func:`unlisted_markets` serves both).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal

from core.errors import ConfigError, TradingError
from core.suggestions import did_you_mean
from core.venues import VENUES
from exchange_clients.factory import client_class
from exchange_clients.market_data.symbols import DEFAULT_SYMBOLS
from exchange_clients.types import ClientSettings
from trading_config.schema import BotConfig
from trading_config.yaml_source import Loc, SourceMap, format_loc

SHOWN_MARKETS = 12  # a real venue lists hundreds: name a few, the rest by count


def unlisted_markets(
    config: BotConfig, listed: Mapping[str, Collection[str] | None]
) -> list[tuple[Loc, str]]:
    """The strategy's symbols its venues do not list: (where in the config, why) each.

    ``listed`` maps a venue to the symbols it lists, or None when unknown (then that venue
    is given the benefit of the doubt).
    """
    problems: list[tuple[Loc, str]] = []
    for loc, ref in config.strategy.params.market_references().items():
        known = {venue: listed.get(venue) for venue in ref.venues}
        having = [venue for venue, symbols in known.items() if symbols and ref.symbol in symbols]
        unknown = sum(1 for symbols in known.values() if symbols is None)
        if len(having) + unknown >= ref.needed:
            continue
        if len(ref.venues) == 1:
            [venue] = ref.venues
            symbols = sorted(known[venue] or ())
            shown = ", ".join(symbols[:SHOWN_MARKETS])
            more = (
                f" and {len(symbols) - SHOWN_MARKETS} more" if len(symbols) > SHOWN_MARKETS else ""
            )
            why = (
                f"{venue} does not list {ref.symbol}{did_you_mean(ref.symbol, symbols)}; "
                f"it lists {shown or 'nothing'}{more}"
            )
        else:
            why = (
                f"{ref.symbol} must be listed on at least {ref.needed} of "
                f"{', '.join(ref.venues)} to be traded; listed on {', '.join(having) or 'none'}"
            )
        problems.append((("strategy", "params", *loc), why))
    return problems


def live_trading_problems(config: BotConfig) -> list[tuple[Loc, str]]:
    """What stops the strategy from trading the real accounts it names (see
    :meth:`~trading_config.strategy_params.StrategyParams.live_trading_problems`)."""
    return [
        (("strategy", "params", *loc), why)
        for loc, why in config.strategy.params.live_trading_problems().items()
    ]


def verify_live_trading(config: BotConfig, source: SourceMap) -> list[str]:
    """The located lines of :func:`live_trading_problems`: a run and ``--check`` refuse them."""
    return [
        f"{source.locate(loc)}: {format_loc(loc)}: {why}"
        for loc, why in live_trading_problems(config)
    ]


def offline_markets(config: BotConfig) -> dict[str, Collection[str] | None]:
    """What each venue lists, where it is known without connecting (the synthetic market)."""
    synthetic = [model.symbol for model in DEFAULT_SYMBOLS]
    return {
        name: synthetic
        if VENUES[name].kind == "paper"
        and (exchange.market_data is None or exchange.market_data.source == "synthetic")
        else None
        for name, exchange in config.exchanges.items()
    }


def verify_markets(config: BotConfig, source: SourceMap) -> list[str]:
    """``--check``'s located lines for symbols a venue is known not to list."""
    return [
        f"{source.locate(loc)}: {format_loc(loc)}: {why}"
        for loc, why in unlisted_markets(config, offline_markets(config))
    ]


async def verify_accounts(config: BotConfig, source: SourceMap) -> list[str]:
    """Problems with the credentials the config needs, one located line each.

    Opens (decrypts) each account's credentials for its venue, which also proves
    the master key is the database's. Paper-only configs never touch the database, and do
    not even import it (SQLAlchemy, Alembic and the crypto stack are ~0.5 s of a paper
    ``--check``), hence the imports below the early return.
    """
    needed = [
        (venue, exchange.account, exchange.sub_account)
        for venue, exchange in config.exchanges.items()
        if VENUES[venue].needs_credentials and exchange.account is not None
    ]
    if not needed:
        return []
    from database import create_engine, require_current_schema, session_maker
    from database.models import MAIN_ACCOUNT
    from database.repositories.accounts import get_account_credentials

    try:
        await require_current_schema()
    except ConfigError as exc:
        return [f"{source.file}: {problem}" for problem in exc.problems]
    problems: list[str] = []
    engine = create_engine()
    try:
        async with session_maker(engine)() as session:
            for venue, account, sub_account in needed:
                loc = ("exchanges", venue, "account" if sub_account is None else "sub_account")
                try:
                    await get_account_credentials(
                        session, account, venue, sub_account=sub_account or MAIN_ACCOUNT
                    )
                except TradingError as exc:
                    problems.append(f"{source.locate(loc)}: {format_loc(loc)}: {exc}")
    finally:
        await engine.dispose()
    return problems


async def verify_proxies(config: BotConfig, source: SourceMap) -> tuple[list[str], dict[str, str]]:
    """The proxy each ``use_proxy`` venue will go through, checked live as at start-up.

    Returns (located problems, venue -> "proxy scheme://host:port, egress IP ..."). The same
    check the runtime makes before connecting, so ``--check`` shows what will happen: the
    account's first proxy that passes its health check, or why none does. Nothing is written
    to the database (``--check`` looks only). A database that is not ready is
    :func:`verify_accounts`'s to report.
    """
    wanted = [
        (venue, exchange.account)
        for venue, exchange in config.exchanges.items()
        if exchange.use_proxy and exchange.account is not None
    ]
    if not wanted:
        return [], {}
    from bot_runtime.proxies import checked_proxy_pool
    from database import create_engine, require_current_schema, session_maker

    try:
        await require_current_schema()
    except ConfigError:
        return [], {}
    problems: list[str] = []
    routes: dict[str, str] = {}
    engine = create_engine()
    try:
        for venue, account in wanted:
            loc = ("exchanges", venue, "use_proxy")
            try:
                pool = await checked_proxy_pool(session_maker(engine), account, record=False)
            except TradingError as exc:  # no usable proxy, unknown account ...
                problems.append(f"{source.locate(loc)}: {format_loc(loc)}: {exc}")
                continue
            proxy = pool.current
            routes[venue] = f"proxy {proxy.endpoint}, egress IP {proxy.egress_ip}"
    finally:
        await engine.dispose()
    return problems, routes


def summarize(path: str, config: BotConfig, proxies: Mapping[str, str] | None = None) -> list[str]:
    """Human-readable lines: what the bot trades, where, and within which limits."""
    return [
        f"{path}: OK",
        f"  bot:         {config.name}",
        f"  strategy:    {config.strategy.type}: {config.strategy.params.summary()}",
        f"  exchanges:   {_exchanges(config, proxies or {})}",
        f"  risk:        {_risk(config)}",
        f"  execution:   {_execution(config)}",
        f"  control API: {_control_api(config)}",
        f"  reconciliation: {_reconciliation(config)}",
        *_stop_loss(config),
    ]


def _stop_loss(config: BotConfig) -> list[str]:
    """Where the strategy's stop-loss lives, per venue: resting on the venue as a trigger
    order (it protects the position while the bot or its host is down) or in the bot only."""
    params = config.strategy.params
    enabled = getattr(params, "stop_loss_enabled", None)
    if enabled is None:
        return []
    if not enabled:
        return ["  stop-loss:   off"]
    places = []
    for venue in sorted(set(params.venue_references().values())):
        if _has_trigger_orders(venue):
            places.append(f"on {venue} as a reduce-only STOP_MARKET (holds while the bot is down)")
        else:
            places.append(
                f"in the bot only on {venue} (no trigger orders: unprotected while the bot is down)"
            )
    percentage = getattr(params, "stop_loss_percentage", None)
    return [f"  stop-loss:   {percentage}% on margin, {'; '.join(places)}"]


def _has_trigger_orders(venue: str) -> bool:
    """What the runtime's client for ``venue`` will say. Built without credentials (nothing
    connects): a generic client decides per exchange (ccxt's ``has`` table); a class that
    needs its credentials to be built decides per class."""
    cls = client_class(venue)
    try:
        return cls(ClientSettings(venue=venue)).supports_trigger_orders
    except TradingError:
        return cls.supports_trigger_orders


def _exchanges(config: BotConfig, proxies: Mapping[str, str]) -> str:
    parts = []
    for name, exchange in config.exchanges.items():
        venue = VENUES[name]
        if venue.needs_credentials:
            sub = f" sub-account {exchange.sub_account}" if exchange.sub_account else ""
            account = f"account {exchange.account}{sub}, credentials found"
        else:
            # The same name runtime setup uses (bot_runtime.setup.account_name), so --check
            # says which simulated wallet the bot will trade, created on its first run.
            wallet = exchange.account or f"paper:{config.name}"
            account = f"no credentials needed, simulated wallet {wallet!r}"
        flags = [
            flag
            for flag, on in (
                ("testnet", exchange.testnet),
                (proxies.get(name, "through the account's proxies"), exchange.use_proxy),
            )
            if on
        ]
        parts.append(f"{name} ({', '.join([account, *flags])})")
    return "; ".join(parts)


_MODES = {
    "market": "both legs at market",
    "limit": "maker: the lead leg post-only inside the spread for {timeout} s, the other "
    "leg following what it filled",
    "limit_with_fallback": "maker: the lead leg post-only inside the spread for {timeout} s, "
    "then market for its remainder, the other leg following what it filled",
    "aggressive_limit": "maker: the lead leg post-only inside the spread for {timeout} s, then "
    "{attempts} aggressive limits and market for its remainder, the other leg following",
}


def _execution(config: BotConfig) -> str:
    """How orders will be placed: the execution settings the strategy follows, and only those
    (a grid places its own post-only orders; naming a mode it ignores would mislead)."""
    execution, honoured = config.execution, config.strategy.params.execution_settings
    parts: list[str] = []
    if "default_mode" in honoured:
        parts.append(
            f"{execution.default_mode}: "
            + _MODES[execution.default_mode].format(
                timeout=execution.limit_timeout_seconds, attempts=execution.aggressive_attempts
            )
        )
    else:
        parts.append(f"orders placed by the {config.strategy.type} strategy itself")
    if "max_slippage_pct" in honoured:
        parts.append(f"max slippage {execution.max_slippage_pct}%")
    if "margin_buffer_pct" in honoured:
        parts.append(f"margin buffer {execution.margin_buffer_pct}%")
    parts.append(
        "resting orders cancelled on stop"
        if execution.cancel_orders_on_stop
        else "resting orders left on the venue on stop"
    )
    return ", ".join(parts)


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


def _reconciliation(config: BotConfig) -> str:
    """Which policy meets unexplained venue orders/positions, per venue (at start and after
    every reconnect), as the runtime resolves it."""
    policies = {venue: config.reconciliation.policy_for(venue) for venue in config.exchanges}
    return "; ".join(f"{policy} on {venue}" for venue, policy in policies.items())


def _control_api(config: BotConfig) -> str:
    api = config.control_api
    if not api.enabled:
        return "disabled"
    return (
        f"enabled on {api.host}:{api.port}"
        if api.port
        else f"enabled on {api.host} (port from the fleet)"
    )
