"""A bot process killed after its venue took an order sent under a reserved client order id,
before the order's row could be written: run by test_reserved_ids.

``python -m tests.execution.reserved_crash_child DB_URL BASE_URL WS_URL API_KEY API_SECRET``
builds the real execution stack (the journal with its dedicated intent connection, ids
committed ahead) over a Binance client on the parent's fake venue. A first market order goes
the ordinary way and starts the reservations; once they are committed the child prints
``HELD <ids>``, holds the database's write lock from a connection of its own (the journal's
writer can then commit nothing), and sends a second order: the client prints ``VENUE SAW
<client order id>`` once the venue has answered and blocks the process there. The parent
SIGKILLs it on that line: the venue has the order, the database only its reserved id.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from decimal import Decimal
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from core.redaction import Secret
from database.engine import create_engine
from exchange_clients.binance_style.client import BinanceStyleClient
from exchange_clients.factory import create_client
from exchange_clients.types import ClientSettings, Order, OrderRequest
from execution.order_executor import ExecutionMode, ExecutionRequest
from tests.execution.bot_stack import bot_stack, grid_config

NAME = "reserved-crash"
ACCOUNT = "binance-reserved-crash"
SIZE = Decimal("0.002")
PURPOSE = "entry"


def settings(base_url: str, ws_url: str, key: str, secret: str) -> ClientSettings:
    return ClientSettings(
        venue="binance",
        secrets={"api_key": Secret(key), "api_secret": Secret(secret)},
        options={"base_url": base_url, "ws_url": ws_url},
    )


async def hold_write_lock(url: str) -> Any:
    """A connection of its own holding the database's write lock (never released)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        connection = sqlite3.connect(parsed.database or "", isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        return connection
    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    await connection.execute("BEGIN")
    await connection.execute("LOCK TABLE orders, order_id_reservations IN EXCLUSIVE MODE")
    return connection


async def main(url: str, base_url: str, ws_url: str, key: str, secret: str) -> None:
    client = create_client(settings(base_url, ws_url, key, secret))
    assert isinstance(client, BinanceStyleClient)
    await client.connect()
    config = grid_config(NAME, "binance", ACCOUNT)
    stack = await bot_stack(create_engine(url), config, {"binance": client})
    journal = stack.journal
    executor = stack.executors["binance"]
    request = ExecutionRequest("BTC", "buy", SIZE, ExecutionMode.MARKET, purpose=PURPOSE)
    await executor.execute(request)
    reserved = journal.reserved_ids
    assert reserved is not None
    while len(reserved.held().get(("binance", "BTC", PURPOSE), ())) < 2:  # noqa: ASYNC110
        await asyncio.sleep(0.01)  # the reservations commit in the journal's writer
    sys.stdout.write(f"HELD {' '.join(reserved.held()[('binance', 'BTC', PURPOSE)])}\n")
    sys.stdout.flush()
    lock = await hold_write_lock(url)
    sent = client.place_order

    async def place_then_die(order_request: OrderRequest) -> Order:
        await sent(order_request)
        sys.stdout.write(f"VENUE SAW {order_request.client_order_id}\n")
        sys.stdout.flush()
        time.sleep(3600)  # noqa: ASYNC251 - the loop stops: nothing after the send may run
        raise SystemExit(f"the parent should have killed this process ({lock})")

    client.place_order = place_then_die  # type: ignore[method-assign,assignment]
    await executor.execute(request)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
