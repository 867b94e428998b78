"""A bot process killed the moment the venue sees its order: run by test_intent_writer.

``python -m tests.execution.intent_crash_child DB_URL`` builds the real execution stack (the
journal with its dedicated intent writer) over a paper venue whose ``place_order`` prints
``VENUE SAW <client order id>`` and then hangs: the parent SIGKILLs the process on that line.
"""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal

from core.clock import SystemClock
from database.engine import create_engine
from exchange_clients.paper import PaperExchangeClient
from exchange_clients.types import ClientSettings, Order, OrderRequest
from execution.order_executor import ExecutionMode, ExecutionRequest
from tests.execution.bot_stack import bot_stack, scalper_config

NAME = "intent-crash"


class SeeingVenue(PaperExchangeClient):
    async def place_order(self, request: OrderRequest) -> Order:
        sys.stdout.write(f"VENUE SAW {request.client_order_id}\n")
        sys.stdout.flush()
        await asyncio.sleep(3600)
        raise SystemExit("the parent should have killed this process")


async def main(url: str) -> None:
    client = SeeingVenue(
        ClientSettings(venue="paper", options={"clock": SystemClock(), "store": None})
    )
    await client.connect()
    stack = await bot_stack(create_engine(url), scalper_config(NAME), {"paper": client})
    request = ExecutionRequest("BTC", "buy", Decimal("0.001"), ExecutionMode.MARKET)
    await stack.executors["paper"].execute(request)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
