"""A bot process killed the moment the venue sees its order: run by test_intent_writer.

``python -m tests.execution.intent_crash_child DB_URL`` builds the real execution stack (the
journal with its dedicated intent writer) over a paper venue whose ``place_order`` prints
``VENUE SAW <client order id>`` and then hangs: the parent SIGKILLs the process on that line.
"""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal

import strategies  # noqa: F401  (registers the strategies the config names)
from bot_runtime.setup import account_ids, build_execution, register_bot
from core.clock import SystemClock
from database.engine import create_engine, session_maker
from exchange_clients.paper import PaperExchangeClient
from exchange_clients.types import ClientSettings, Order, OrderRequest
from execution.intent_writer import open_intent_writer
from execution.journal import OrderJournal
from execution.order_executor import ExecutionMode, ExecutionRequest
from trading_config.schema import BotConfig

NAME = "intent-crash"


class SeeingVenue(PaperExchangeClient):
    async def place_order(self, request: OrderRequest) -> Order:
        sys.stdout.write(f"VENUE SAW {request.client_order_id}\n")
        sys.stdout.flush()
        await asyncio.sleep(3600)
        raise SystemExit("the parent should have killed this process")


async def main(url: str) -> None:
    config = BotConfig.model_validate(
        {
            "name": NAME,
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
    engine = create_engine(url)
    sessions = session_maker(engine)
    clock = SystemClock()
    client = SeeingVenue(
        ClientSettings(
            venue="paper",
            options={"clock": clock, "store": None},
        )
    )
    await client.connect()
    bot_id = await register_bot(sessions, config, "crash")
    accounts = await account_ids(sessions, config)
    writer = await open_intent_writer(engine)
    assert writer is not None
    journal = OrderJournal(sessions, bot_id=bot_id, accounts=accounts, intent_writer=writer)
    stack = await build_execution(
        sessions, config, bot_id, accounts, {"paper": client}, clock, journal=journal
    )
    request = ExecutionRequest("BTC", "buy", Decimal("0.001"), ExecutionMode.MARKET)
    await stack.executors["paper"].execute(request)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
