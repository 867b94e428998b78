"""Everything a bot needs before its first decision: rows, clients, the execution stack.

Kept apart from the run loop so tests and benchmarks build exactly the stack a bot runs on.
Failures a user can fix (no such account, a venue that cannot be reached) raise
:class:`StartupError` with one line that says what and how to fix it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock
from core.errors import ExchangeError, TradingError
from core.redaction import Secret
from core.venues import VENUES
from database.models import MAIN_ACCOUNT, Account, Bot
from exchange_clients.base import BaseExchangeClient
from exchange_clients.factory import create_client
from exchange_clients.market_data.live import LiveFeed, LiveSourceSettings, public_source
from exchange_clients.types import ClientSettings
from execution.atomic import AtomicMultiOrderExecutor, OperationStore
from execution.atomic.executor import Alert
from execution.client_ids import ClientOrderIds
from execution.journal import OrderJournal
from execution.order_executor import OrderExecutor
from execution.order_tracker import OrderTracker
from execution.pre_trade import PreTradeGate
from trading_config.schema import BotConfig, MarketDataConfig

if TYPE_CHECKING:
    from networking.proxy_pool import ProxyPool

log = structlog.get_logger(__name__)


class StartupError(TradingError):
    """The bot cannot start; the message is the one line the user sees."""


@dataclass
class ExecutionStack:
    journal: OrderJournal
    trackers: dict[str, OrderTracker]
    executors: dict[str, OrderExecutor]
    atomic: AtomicMultiOrderExecutor
    operations: OperationStore

    async def stop(self) -> None:
        for tracker in self.trackers.values():
            await tracker.stop()


def account_name(config: BotConfig, venue: str) -> str:
    """The database account of ``venue``: the configured one, or the bot's own paper account.

    Each bot gets its own simulated wallet (``paper:<bot>``) unless the config names one:
    two bot processes driving one simulated account would each hold a different copy of it.
    """
    configured = config.exchanges[venue].account
    if configured is not None:
        return configured
    if not VENUES[venue].needs_credentials:
        return f"paper:{config.name}"
    raise StartupError(
        f"{venue}: no account configured: set exchanges.{venue}.account or pass --account"
    )


async def register_bot(
    sessions: async_sessionmaker[AsyncSession], config: BotConfig, config_path: str
) -> int:
    """The bot's row (created on first run), marked starting, with the config it runs."""
    async with sessions.begin() as session:
        bot = await session.scalar(select(Bot).where(Bot.name == config.name))
        if bot is None:
            bot = Bot(name=config.name, config={})
            session.add(bot)
        bot.config = config.model_dump(mode="json", by_alias=True)
        bot.config_path = config_path
        bot.status = "starting"
        await session.flush()
        return bot.id


async def account_ids(
    sessions: async_sessionmaker[AsyncSession], config: BotConfig
) -> dict[str, int]:
    """Account row per venue; paper accounts are created on first use, real ones must exist."""
    ids: dict[str, int] = {}
    async with sessions.begin() as session:
        for venue in config.exchanges:
            name = account_name(config, venue)
            account = await session.scalar(select(Account).where(Account.name == name))
            if account is None:
                if VENUES[venue].needs_credentials:
                    raise StartupError(
                        f"{venue}: account {name!r} does not exist: add it with "
                        f"`python -m database accounts add --name {name} --venue {venue}`"
                    )
                account = Account(name=name)
                session.add(account)
                await session.flush()
                log.info("created the simulated wallet of a paper venue", venue=venue, account=name)
            ids[venue] = account.id
    return ids


async def build_clients(
    sessions: async_sessionmaker[AsyncSession],
    config: BotConfig,
    *,
    paper_options: Mapping[str, Any] | None = None,
) -> dict[str, BaseExchangeClient]:
    """One client per configured venue, credentials decrypted for the venues that need them.

    A venue with ``use_proxy`` gets its account's proxy pool (one per account, shared by
    its venues), checked before anything connects: no usable proxy is a :class:`StartupError`.
    """
    clients: dict[str, BaseExchangeClient] = {}
    pools: dict[str, ProxyPool] = {}
    for venue, exchange in config.exchanges.items():
        name = account_name(config, venue)
        if exchange.use_proxy and name not in pools:
            pools[name] = await _proxy_pool(sessions, venue, name)
        public: dict[str, str] = {}
        secrets: dict[str, Secret] = {}
        options: dict[str, Any] = {}
        if VENUES[venue].needs_credentials:
            # Imported here: decrypting loads ``cryptography`` (~6 MB), which a paper bot
            # never needs.
            from database.repositories.accounts import get_account_credentials

            # A transaction, committed: reading a row written before public fields were
            # authenticated rewrites it authenticated (database.repositories.accounts).
            async with sessions.begin() as session:
                public, secrets = await get_account_credentials(
                    session, name, venue, sub_account=exchange.sub_account or MAIN_ACCOUNT
                )
            if exchange.api_url is not None:
                options["base_url"] = exchange.api_url
            if exchange.ws_url is not None:
                options["ws_url"] = exchange.ws_url
        else:
            options = dict(paper_options or {})
            if exchange.market_data is not None and exchange.market_data.source != "synthetic":
                options["feed"] = live_feed(exchange.market_data)
        clients[venue] = create_client(
            ClientSettings(
                venue=venue,
                account=name,
                testnet=exchange.testnet,
                public=public,
                secrets=secrets,
                proxy_url=pools.get(name) if exchange.use_proxy else None,
                options=options,
            )
        )
    return clients


async def _proxy_pool(
    sessions: async_sessionmaker[AsyncSession], venue: str, account: str
) -> ProxyPool:
    """``account``'s checked proxy pool. Imported here: the proxy stack (aiohttp-socks, the
    health check, the proxies repository) is loaded only by bots that route through proxies."""
    from bot_runtime.proxies import checked_proxy_pool
    from networking.proxy_pool import NoUsableProxy

    try:
        return await checked_proxy_pool(sessions, account)
    except NoUsableProxy as exc:
        raise StartupError(f"{venue}: {exc}") from None


def live_feed(market_data: MarketDataConfig) -> LiveFeed:
    """A paper venue's feed following a real venue's public market data (started on connect)."""
    settings = LiveSourceSettings(testnet=market_data.testnet, symbols=market_data.symbols)
    return LiveFeed(public_source(market_data.source, settings))


async def connect_all(clients: Mapping[str, BaseExchangeClient]) -> None:
    """Connect every client; the first that fails stops the start with one clear line."""
    for venue, client in clients.items():
        try:
            await client.connect()
        except ExchangeError as exc:  # its message already names the venue
            raise StartupError(f"cannot connect to {exc}") from None
        except OSError as exc:
            raise StartupError(f"cannot connect to {venue}: {exc}") from None


async def build_execution(
    sessions: async_sessionmaker[AsyncSession],
    config: BotConfig,
    bot_id: int,
    accounts: Mapping[str, int],
    clients: Mapping[str, BaseExchangeClient],
    clock: Clock,
    *,
    journal: OrderJournal | None = None,
    alert: Alert | None = None,
    gate: PreTradeGate | None = None,
) -> ExecutionStack:
    """Journal, trackers (started), executors and the atomic executor over ``clients``.

    ``gate`` is the pre-trade check every order of every executor meets (the bot's risk
    limits); the runtime always passes one.
    """
    journal = journal or OrderJournal(sessions, bot_id=bot_id, accounts=accounts)
    trackers = {
        venue: OrderTracker(client, journal, clock=clock) for venue, client in clients.items()
    }
    for tracker in trackers.values():
        await tracker.start()
    ids = ClientOrderIds(config.name)
    # Ids committed ahead for single orders (only with a dedicated intent connection).
    journal.reserve_ids_ahead(ids)
    executors = {
        venue: OrderExecutor(client, journal, trackers[venue], ids, clock=clock, gate=gate)
        for venue, client in clients.items()
    }
    operations = OperationStore(sessions, bot_id)
    atomic = AtomicMultiOrderExecutor(
        clients, trackers, journal, operations, ids, clock=clock, alert=alert, pre_trade=gate
    )
    return ExecutionStack(journal, trackers, executors, atomic, operations)
