"""The dedicated intent writer (execution.intent_writer) on SQLite and PostgreSQL.

A row it writes is the row the ORM would have written (read back through the ORM, updated by
the journal afterwards as any other), a duplicate client order id is refused, and - the point
of the journal - the intent is committed before the venue sees the order: a real process is
SIGKILLed the moment its venue receives the order, and the intent is in the database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from database.engine import create_engine, session_maker
from database.models import Account, Bot
from database.models import Order as OrderRow
from exchange_clients.types import Order, OrderStatus, OrderType
from execution.client_ids import ClientOrderIds
from execution.intent_writer import SqliteIntentWriter, open_intent_writer
from execution.journal import JournalError, OrderIntent, OrderJournal
from tests.helpers import PROJECT_ROOT

D = Decimal
GUARD = 60.0  # guards a hang; not a speed assertion
ids = ClientOrderIds("intent-writer")


@pytest.fixture
async def journal(
    db_engine: AsyncEngine, db_sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[OrderJournal]:
    async with db_sessions.begin() as session:
        bot, account = Bot(name="intent-writer", config={}), Account(name="paper-main")
        session.add_all([bot, account])
    writer = await open_intent_writer(db_engine)
    assert writer is not None
    journal = OrderJournal(
        db_sessions, bot_id=bot.id, accounts={"paper": account.id}, intent_writer=writer
    )
    yield journal
    await journal.close()


async def test_the_row_is_the_orms_and_the_journal_carries_on_from_it(
    journal: OrderJournal, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    intent = OrderIntent(
        client_order_id=ids.next(),
        venue="paper",
        symbol="BTC",
        side="sell",
        order_type=OrderType.STOP_MARKET,
        size=D("0.00100"),
        trigger_price=D("59999.90"),
        reduce_only=True,
        purpose="l2_stop",
        operation_id="op-7",
    )
    await journal.record_intent(intent)
    async with db_sessions() as session:  # another connection: what a crash would leave
        row = await session.scalar(
            select(OrderRow).where(OrderRow.client_order_id == intent.client_order_id)
        )
    assert row is not None
    assert (row.status, row.side, row.order_type, row.purpose, row.operation_id) == (
        "pending",
        "sell",
        "stop_market",
        "l2_stop",
        "op-7",
    )
    assert (str(row.size), str(row.trigger_price), row.price) == ("0.00100", "59999.90", None)
    assert (row.reduce_only, row.post_only, row.filled_size) == (True, False, D(0))
    assert row.created_at.tzinfo is not None
    assert row.created_at.astimezone(UTC) == row.updated_at.astimezone(UTC)
    with pytest.raises(JournalError, match="is already journaled"):
        await journal.record_intent(intent)
    journaled = await journal.record_order(
        Order(
            client_order_id=intent.client_order_id,
            venue_order_id="v-9",
            symbol="BTC",
            side="sell",
            order_type=OrderType.STOP_MARKET,
            size=intent.size,
            price=None,
            status=OrderStatus.OPEN,
            trigger_price=intent.trigger_price,
        )
    )
    assert (journaled.status, journaled.venue_order_id) == (OrderStatus.OPEN, "v-9")
    assert [o.client_order_id for o in await journal.unfinished()] == [intent.client_order_id]


async def test_the_intent_is_committed_before_the_venue_sees_the_order(
    migrated_db_url: str,
) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.execution.intent_crash_child",
        migrated_db_url,
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    output = []
    try:
        assert child.stdout is not None
        while True:
            line = await asyncio.wait_for(child.stdout.readline(), GUARD)
            if line.startswith(b"VENUE SAW "):
                child.send_signal(signal.SIGKILL)  # at once: nothing after the send may run
                break
            output.append(line)
            assert line, b"".join(output)  # the child ended without sending
        client_order_id = line.split()[-1].decode()
    finally:
        if child.returncode is None:
            child.kill()
        await asyncio.wait_for(child.wait(), GUARD)
    assert child.returncode == -signal.SIGKILL
    engine = create_engine(migrated_db_url)
    try:
        async with session_maker(engine)() as session:
            row = await session.scalar(
                select(OrderRow).where(OrderRow.client_order_id == client_order_id)
            )
    finally:
        await engine.dispose()
    assert row is not None, "the venue saw an order the journal does not have"
    assert (row.status, row.side, row.size) == ("pending", "buy", D("0.001"))


async def test_on_sqlite_a_held_write_lock_is_waited_for_off_the_event_loop(
    tmp_path: Path,
) -> None:
    import sqlite3

    from database.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'locked.db'}"
    await upgrade(url)
    engine = create_engine(url)
    sessions = session_maker(engine)
    async with sessions.begin() as session:
        bot, account = Bot(name="locked", config={}), Account(name="paper-main")
        session.add_all([bot, account])
    writer = await open_intent_writer(engine)
    assert isinstance(writer, SqliteIntentWriter)
    journal = OrderJournal(
        sessions, bot_id=bot.id, accounts={"paper": account.id}, intent_writer=writer
    )
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the file
        first = OrderIntent(ids.next(), "paper", "BTC", "buy", OrderType.MARKET, D("0.001"))
        recording = asyncio.ensure_future(journal.record_intent(first))
        ticks = 0
        while ticks < 5:  # the loop keeps running while the intent waits for the lock
            await asyncio.sleep(0.01)
            ticks += 1
        assert not recording.done()
        holder.execute("COMMIT")
        await asyncio.wait_for(recording, GUARD)
        second = OrderIntent(ids.next(), "paper", "BTC", "sell", OrderType.MARKET, D("0.001"))
        await journal.record_intent(second)  # the file is free again: inline
        assert (writer.waited_writes, writer.inline_writes) == (1, 1)
        rows = [o.client_order_id for o in await journal.unfinished()]
        assert rows == [first.client_order_id, second.client_order_id]
    finally:
        holder.close()
        await journal.close()
        await engine.dispose()
