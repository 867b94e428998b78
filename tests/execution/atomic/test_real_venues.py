"""The atomic executor opening and closing a hedged position across two real venue clients, each
against its fake venue server (real HTTP, WebSockets and signatures), journaled on SQLite and
PostgreSQL: the funding-arbitrage path with no paper venue in it."""

from __future__ import annotations

from contextlib import AsyncExitStack
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import SystemClock
from database.models import Order as OrderRow
from exchange_clients.base import BaseExchangeClient
from exchange_clients.types import OrderStatus
from execution.atomic import AtomicMultiOrderExecutor, AtomicStatus, Leg, OperationStore
from execution.client_ids import ClientOrderIds
from execution.journal import OrderJournal
from execution.order_executor import ExecutionMode
from execution.order_tracker import OrderTracker
from tests.exchange_clients.contract.harness import HARNESSES
from tests.execution.atomic.rig import create_bot

D = Decimal
SIZE = D("0.01")  # BTC: on every venue's grid, above every minimum notional

PAIRS = [
    ("backpack", "lighter"),
    ("hyperliquid", "backpack"),
    ("lighter", "binance"),
    # wave 3: each new venue long against Backpack and short against Lighter
    ("paradex", "backpack"),
    ("lighter", "paradex"),
    ("edgex", "backpack"),
    ("lighter", "edgex"),
    ("grvt", "backpack"),
    ("lighter", "grvt"),
]


async def net_positions(clients: dict[str, BaseExchangeClient]) -> dict[str, Decimal]:
    sizes = {}
    for venue, client in clients.items():
        position = await client.position("BTC")
        sizes[venue] = position.size if position is not None else D(0)
    return sizes


@pytest.mark.parametrize(("long_venue", "short_venue"), PAIRS, ids=lambda v: v)
async def test_a_hedged_pair_opens_and_closes_across_real_venue_clients(
    db_sessions: async_sessionmaker[AsyncSession], long_venue: str, short_venue: str
) -> None:
    venues = (long_venue, short_venue)
    async with AsyncExitStack() as stack:
        clients = {
            venue: (await stack.enter_async_context(HARNESSES[venue]())).client for venue in venues
        }
        bot_id, accounts = await create_bot(db_sessions, venues)
        journal = OrderJournal(db_sessions, bot_id=bot_id, accounts=accounts)
        clock = SystemClock()
        trackers = {
            venue: OrderTracker(client, journal, clock=clock) for venue, client in clients.items()
        }
        for tracker in trackers.values():
            await tracker.start()
            stack.push_async_callback(tracker.stop)
        executor = AtomicMultiOrderExecutor(
            clients,
            trackers,
            journal,
            OperationStore(db_sessions, bot_id),
            ClientOrderIds("hedge"),
            clock=clock,
        )

        opened = await executor.execute(
            [Leg(long_venue, "BTC", "buy", SIZE), Leg(short_venue, "BTC", "sell", SIZE)],
            ExecutionMode.MARKET,
        )
        assert opened.status is AtomicStatus.COMPLETED, opened
        assert opened.verified is True
        assert opened.net_exposure == 0
        assert await net_positions(clients) == {long_venue: SIZE, short_venue: -SIZE}

        closed = await executor.execute(
            [
                Leg(long_venue, "BTC", "sell", SIZE, reduce_only=True),
                Leg(short_venue, "BTC", "buy", SIZE, reduce_only=True),
            ],
            ExecutionMode.MARKET,
        )
        assert closed.status is AtomicStatus.COMPLETED, closed
        assert await net_positions(clients) == {long_venue: D(0), short_venue: D(0)}

        for tracker in trackers.values():  # write-behind order states reach the journal
            await tracker.flush()
        async with db_sessions() as session:
            rows = (await session.scalars(select(OrderRow).where(OrderRow.bot_id == bot_id))).all()
        assert {row.client_order_id for row in rows} == set(opened.order_ids) | set(
            closed.order_ids
        )
        for row in rows:
            venue_order = await clients[row.venue].order_status(
                "BTC", client_order_id=row.client_order_id
            )
            assert venue_order.status is OrderStatus.FILLED
            assert (row.status, row.filled_size) == ("filled", venue_order.filled_size)
