"""One bot's execution stack on a database, as the runtime builds it: shared by the
crash children (tests.execution.*_crash_child) and the tests of what they leave behind."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncEngine

import strategies  # noqa: F401  (registers the strategies the config names)
from bot_runtime.setup import ExecutionStack, account_ids, build_execution, register_bot
from core.clock import SystemClock
from database.engine import session_maker
from exchange_clients.base import BaseExchangeClient
from execution.intent_writer import open_intent_writer
from execution.journal import OrderJournal
from trading_config.schema import BotConfig


def scalper_config(name: str) -> BotConfig:
    """An ``l2_imbalance`` bot on the paper venue's BTC."""
    return BotConfig.model_validate(
        {
            "name": name,
            "strategy": {
                "type": "l2_imbalance",
                "params": {
                    "exchange": "paper",
                    "tickers": ["BTC"],
                    "order_notional_usd": 100,
                    "daily_loss_limit_usd": 100,
                    "max_drawdown_usd": 100,
                },
            },
            "exchanges": {"paper": {}},
        }
    )


def grid_config(name: str, exchange: str, account: str) -> BotConfig:
    """A grid bot on BTC of a real venue, trading through the database account ``account``
    (the scalper trades on paper venues only)."""
    return BotConfig.model_validate(
        {
            "name": name,
            "strategy": {
                "type": "grid",
                "params": {
                    "exchange": exchange,
                    "ticker": "BTC",
                    "direction": "buy",
                    "order_notional_usd": 100,
                    "target_leverage": 10,
                    "take_profit": 1,
                    "grid_step": 0.05,
                    "max_orders": 5,
                    "max_margin_usd": 100,
                },
            },
            "exchanges": {exchange: {"account": account}},
        }
    )


async def bot_stack(
    engine: AsyncEngine, config: BotConfig, clients: Mapping[str, BaseExchangeClient]
) -> ExecutionStack:
    """The bot registered, its journal's intents on the dedicated connection, and the
    executors built by the runtime's own ``build_execution`` (ids committed ahead)."""
    sessions = session_maker(engine)
    bot_id = await register_bot(sessions, config, "crash")
    accounts = await account_ids(sessions, config)
    writer = await open_intent_writer(engine)
    assert writer is not None
    journal = OrderJournal(sessions, bot_id=bot_id, accounts=accounts, intent_writer=writer)
    return await build_execution(
        sessions, config, bot_id, accounts, clients, SystemClock(), journal=journal
    )
