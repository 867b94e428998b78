"""The dedicated intent writer (execution.intent_writer) on SQLite and PostgreSQL.

The intent it commits (a small ``order_intents`` row) becomes the row the ORM would have
written into ``orders`` (read back through the ORM, updated by the journal afterwards as any
other), a duplicate client order id is refused whether its intent is pending or moved, and -
the point of the journal - the intent is committed before the venue sees the order: a real
process is SIGKILLed the moment its venue receives the order, and the restarted journal has
the order. Intents a crash left unmoved are moved at start-up (only the bot's own), or by the
first write that needs them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

from core.clock import SystemClock
from database.engine import create_engine, session_maker
from database.models import Account, Bot, PendingIntent
from database.models import Order as OrderRow
from exchange_clients.paper import PaperExchangeClient
from exchange_clients.types import ClientSettings, Order, OrderStatus, OrderType
from execution.client_ids import ClientOrderIds
from execution.group_commit import GroupCommitter, Work
from execution.intent_writer import (
    ROW_FIELDS,
    SqliteIntentWriter,
    decode_row,
    encode_row,
    open_intent_writer,
    row_values,
)
from execution.journal import JournalError, OrderIntent, OrderJournal, reconcile
from tests.helpers import PROJECT_ROOT

D = Decimal
GUARD = 60.0  # guards a hang; not a speed assertion
ids = ClientOrderIds("intent-writer")


async def _journal_of(
    name: str,
    db_engine: AsyncEngine,
    db_sessions: async_sessionmaker[AsyncSession],
    committer: GroupCommitter | None = None,
) -> OrderJournal:
    """The journal of a new bot ``name`` with one paper account, its intents on the
    dedicated connection (as the runtime builds it)."""
    async with db_sessions.begin() as session:
        bot, account = Bot(name=name, config={}), Account(name=f"paper-{name}")
        session.add_all([bot, account])
    writer = await open_intent_writer(db_engine)
    assert writer is not None
    return OrderJournal(
        db_sessions,
        bot_id=bot.id,
        accounts={"paper": account.id},
        committer=committer,
        intent_writer=writer,
    )


@pytest.fixture
async def journal(
    db_engine: AsyncEngine, db_sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[OrderJournal]:
    journal = await _journal_of("intent-writer", db_engine, db_sessions)
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
    # The move into ``orders`` is held until the intent has been read as a crash would leave
    # it: the read yields to the loop, where the move would otherwise race it.
    queue_move, held = journal._queue_move, []
    journal._queue_move = lambda *move: held.append(move)  # type: ignore[method-assign]
    await journal.record_intent(intent)
    async with db_sessions() as session:  # another connection: what a crash would leave
        pending = await session.get(PendingIntent, intent.client_order_id)
    assert pending is not None  # committed, not moved yet
    assert pending.bot_id == journal.bot_id
    with pytest.raises(JournalError, match="is already journaled"):
        await journal.record_intent(intent)  # refused while pending
    journal._queue_move = queue_move  # type: ignore[method-assign]
    for move in held:
        queue_move(*move)
    assert (await journal.get(intent.client_order_id)).status is OrderStatus.PENDING  # moved
    async with db_sessions() as session:
        row = await session.scalar(
            select(OrderRow).where(OrderRow.client_order_id == intent.client_order_id)
        )
        assert await session.get(PendingIntent, intent.client_order_id) is None
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
        await journal.record_intent(intent)  # refused once in orders
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
        sessions = session_maker(engine)
        async with sessions() as session:
            bot_id = await session.scalar(select(Bot.id).where(Bot.name == "intent-crash"))
            accounts = {"paper": (await session.scalars(select(Account.id))).first() or 0}
        assert bot_id is not None
        restarted = OrderJournal(sessions, bot_id=bot_id, accounts=accounts)
        await restarted.recover_intents()  # what the restarted bot's reconcile does first
        async with sessions() as session:
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

    async with _file_journal(tmp_path / "locked.db") as (journal, writer):
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


@contextlib.asynccontextmanager
async def _file_journal(
    path: Path, writer_class: type[SqliteIntentWriter] = SqliteIntentWriter
) -> AsyncIterator[tuple[OrderJournal, Any]]:
    """A bot's journal on a migrated SQLite file, its intents on a ``writer_class`` writer."""
    from database.migrate import upgrade

    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    engine = create_engine(url)
    sessions = session_maker(engine)
    async with sessions.begin() as session:
        bot, account = Bot(name=path.stem, config={}), Account(name="paper-main")
        session.add_all([bot, account])
    writer = writer_class(str(path))
    await writer.open()
    journal = OrderJournal(
        sessions, bot_id=bot.id, accounts={"paper": account.id}, intent_writer=writer
    )
    try:
        yield journal, writer
    finally:
        await journal.close()
        await engine.dispose()


async def test_a_refresh_reads_past_a_held_write_lock_and_never_raises(tmp_path: Path) -> None:
    import sqlite3

    from database.migrate import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'refresh.db'}"
    await upgrade(url)
    engine = create_engine(url)
    writer = await open_intent_writer(engine)
    assert isinstance(writer, SqliteIntentWriter)
    holder = sqlite3.connect(tmp_path / "refresh.db", isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the file
        with capture_logs() as logs:
            writer.refresh()  # a read (WAL): it does not need the lock
        assert logs == []
        holder.execute("COMMIT")
        await writer.insert("refresh-1", 1, encode_row(tuple(range(len(ROW_FIELDS)))))
        assert writer.inline_writes == 1
        await writer.close()
        with capture_logs() as logs:
            writer.refresh()  # no connection any more: nothing to do
        assert logs == []
    finally:
        holder.close()
        await engine.dispose()


def _opened(intent: OrderIntent, venue_order_id: str) -> Order:
    """The venue's report that the limit order of ``intent`` rests."""
    assert intent.price is not None
    return Order(
        client_order_id=intent.client_order_id,
        venue_order_id=venue_order_id,
        symbol=intent.symbol,
        side=intent.side,
        order_type=OrderType.LIMIT,
        size=intent.size,
        price=intent.price,
        status=OrderStatus.OPEN,
    )


def _intent(side: str = "buy") -> OrderIntent:
    return OrderIntent(
        ids.next(),
        "paper",
        "BTC",
        "buy" if side == "buy" else "sell",
        OrderType.LIMIT,
        D("0.002"),
        price=D("60000.5"),
        purpose="entry",
    )


async def _leave_pending(
    sessions: async_sessionmaker[AsyncSession], journal: OrderJournal, intent: OrderIntent
) -> None:
    """What a crash between the intent's commit and its move leaves: the intent only."""
    await journal.record_intent(intent)
    await journal.get(intent.client_order_id)  # moved; now put it back as a crash leaves it
    async with sessions.begin() as session:
        row = await session.scalar(
            select(OrderRow).where(OrderRow.client_order_id == intent.client_order_id)
        )
        assert row is not None
        text = _intent_text(row)
        await session.delete(row)
        session.add(
            PendingIntent(
                client_order_id=intent.client_order_id, bot_id=journal.bot_id, order_row=text
            )
        )


def _intent_text(row: OrderRow) -> str:
    """The text the journal wrote for the intent of ``row`` (a row not updated since)."""
    assert row.status == "pending"
    assert row.filled_size == 0
    assert row.updated_at == row.created_at
    decimals = {name: getattr(row, name) for name in ("price", "trigger_price", "size")}
    fields = {
        name: getattr(row, name) for name in ROW_FIELDS if name not in {"created_us", *decimals}
    }
    fields |= {name: None if value is None else str(value) for name, value in decimals.items()}
    created = (
        row.created_at.replace(tzinfo=UTC) if row.created_at.tzinfo is None else row.created_at
    )
    fields["created_us"] = (created - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    return encode_row(tuple(fields[name] for name in ROW_FIELDS))


async def test_start_up_moves_the_bots_leftover_intents_before_reconciling(
    journal: OrderJournal, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    mine = _intent()
    await _leave_pending(db_sessions, journal, mine)
    async with db_sessions.begin() as session:
        other = Bot(name="another-bot", config={})
        session.add(other)
    others = OrderJournal(db_sessions, bot_id=other.id, accounts=journal.accounts)
    theirs = _intent("sell")
    await _leave_pending(db_sessions, others, theirs)
    assert await journal.unfinished() == []  # not in orders: this is what start-up repairs
    venue = PaperExchangeClient(
        ClientSettings(venue="paper", options={"store": None, "clock": SystemClock()})
    )
    await venue.connect()
    try:
        report = await reconcile(journal, {"paper": venue}, keep_resting=lambda _: True)
    finally:
        await venue.disconnect()
    assert report.lost == [mine.client_order_id]  # moved, then looked up: the venue lacks it
    moved = await journal.get(mine.client_order_id)
    assert (moved.side, moved.size, moved.price, moved.purpose) == (
        "buy",
        D("0.002"),
        D("60000.5"),
        "entry",
    )
    async with db_sessions() as session:
        left = list(await session.scalars(select(PendingIntent.client_order_id)))
    assert left == [theirs.client_order_id]  # another bot's intent is its own start's job


async def test_a_write_about_an_unmoved_intent_moves_it_first(
    journal: OrderJournal, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    intent = _intent()
    await _leave_pending(db_sessions, journal, intent)
    journaled = await journal.record_order(_opened(intent, "v-1"))
    assert (journaled.status, journaled.venue_order_id) == (OrderStatus.OPEN, "v-1")
    assert await journal.recover_intents() == []  # nothing left to move


async def test_reads_right_after_the_intent_see_the_order_and_close_waits_for_the_move(
    db_engine: AsyncEngine, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    journal = await _journal_of("reads", db_engine, db_sessions)
    first, second = _intent(), _intent("sell")
    await journal.record_intent(first)
    assert [o.client_order_id for o in await journal.unfinished()] == [first.client_order_id]
    await journal.record_intent(second)
    await journal.close()  # no read in between: closing still lands the move
    async with db_sessions() as session:
        ids_in_orders = list(
            await session.scalars(
                select(OrderRow.client_order_id)
                .where(OrderRow.bot_id == journal.bot_id)
                .order_by(OrderRow.id)
            )
        )
        assert list(await session.scalars(select(PendingIntent))) == []
    assert ids_in_orders == [first.client_order_id, second.client_order_id]


class _RecordingCommitter(GroupCommitter):
    """The journal's writer, noting when a write is queued without anyone waiting for it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], events: list[str]) -> None:
        super().__init__(sessions)
        self._events = events

    def submit(self, work: Work) -> asyncio.Future[Any]:
        self._events.append("move queued")
        return super().submit(work)


async def test_the_move_is_queued_once_the_order_is_on_its_way(
    db_engine: AsyncEngine, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    events: list[str] = []
    committer = _RecordingCommitter(db_sessions, events)
    journal = await _journal_of("move-after-send", db_engine, db_sessions, committer)
    intent = _intent()
    await journal.record_intent(intent)
    events.append("sent")  # what the executor does next, before its task first yields
    await journal.settled()  # the move was still registered: waited for
    assert events == ["sent", "move queued"]
    async with db_sessions() as session:
        assert await session.get(PendingIntent, intent.client_order_id) is None
        moved = await session.scalar(
            select(OrderRow.status).where(OrderRow.client_order_id == intent.client_order_id)
        )
    assert moved == "pending"
    await journal.close()


class _RefusingCommitter(GroupCommitter):
    def submit(self, work: Work) -> asyncio.Future[Any]:
        raise RuntimeError("the writer is gone")


async def test_a_move_that_cannot_be_queued_keeps_no_reader_waiting(
    db_engine: AsyncEngine, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    refusing = _RefusingCommitter(db_sessions)
    journal = await _journal_of("move-refused", db_engine, db_sessions, refusing)
    intent = _intent()
    with capture_logs() as logs:
        await journal.record_intent(intent)
        await asyncio.wait_for(journal.settled(), GUARD)  # does not wait forever
    assert [entry["event"] for entry in logs if entry["log_level"] == "error"] == [
        "intent not moved into orders yet"
    ]
    async with db_sessions() as session:  # still pending: the next start moves it
        assert await session.get(PendingIntent, intent.client_order_id) is not None
    await journal.close()


async def test_a_write_about_the_order_queued_before_its_move_leaves_the_move_nothing_to_do(
    journal: OrderJournal, db_sessions: async_sessionmaker[AsyncSession]
) -> None:
    intent = _intent()
    with capture_logs() as logs:
        await journal.record_intent(intent)
        # At once, before the loop turns: this write reaches the writer before the move.
        journaled = await journal.record_order(_opened(intent, "v-2"))
        await journal.settled()
    assert (journaled.status, journaled.venue_order_id) == (OrderStatus.OPEN, "v-2")
    assert [entry for entry in logs if entry["log_level"] == "error"] == []
    async with db_sessions() as session:
        rows = list(
            await session.scalars(
                select(OrderRow.status).where(OrderRow.client_order_id == intent.client_order_id)
            )
        )
        assert list(await session.scalars(select(PendingIntent))) == []
    assert rows == ["open"]


class _Recorded:
    """A sqlite3 connection that notes each statement run on it."""

    def __init__(self, connection: Any, statements: list[str]) -> None:
        self._connection = connection
        self._statements = statements

    def execute(self, sql: str, *args: Any) -> Any:
        self._statements.append(sql)
        return self._connection.execute(sql, *args)

    def close(self) -> None:
        self._connection.close()


async def test_no_refresh_runs_once_the_writer_is_closing(tmp_path: Path) -> None:
    statements: list[str] = []

    class Writer(SqliteIntentWriter):
        def _connect(self) -> Any:
            return _Recorded(super()._connect(), statements)

    from database.migrate import upgrade

    await upgrade(f"sqlite+aiosqlite:///{tmp_path / 'closing.db'}")
    writer = Writer(str(tmp_path / "closing.db"))
    await writer.open()
    writer.refresh()
    assert statements[-1] == SqliteIntentWriter.PROBE  # open: a refresh reads
    closing = asyncio.ensure_future(writer.close())
    await asyncio.sleep(0)  # the close has begun: its thread may be closing the connection
    before = len(statements)
    writer.refresh()  # a commit's listener, at that moment
    assert len(statements) == before
    await closing


class _CountingWriter(SqliteIntentWriter):
    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.refreshes = 0

    def refresh(self) -> None:
        self.refreshes += 1
        super().refresh()


async def test_the_journal_refreshes_its_intent_connection_after_each_commit(
    tmp_path: Path,
) -> None:
    async with _file_journal(tmp_path / "refreshed.db", _CountingWriter) as (journal, writer):
        intent = _intent()
        await journal.record_intent(intent)
        assert writer.refreshes == 0  # the intent itself is not a commit of the journal's
        await journal.settled()
        assert writer.refreshes == 1  # the move committed
        await journal.mark(intent.client_order_id, OrderStatus.FAILED, "test")
        assert writer.refreshes == 2


def test_the_encoded_row_reads_back_exactly() -> None:
    stamp = datetime(2026, 12, 3, 22, 0, 0, 123456, tzinfo=UTC)
    us = (stamp - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    row = (
        "c-'1\"",
        3,
        "paper",
        4,
        "BTC",
        "buy",
        "limit",
        "0.000012340",
        None,
        "1E+3",
        True,
        False,
        "entry\n",
        None,
        us,
    )
    decoded = decode_row(encode_row(row))
    assert row_values(row) == decoded  # a journal without the intent connection: no text
    assert decoded == {
        "client_order_id": "c-'1\"",
        "bot_id": 3,
        "venue": "paper",
        "account_id": 4,
        "symbol": "BTC",
        "side": "buy",
        "order_type": "limit",
        "price": D("0.000012340"),
        "trigger_price": None,
        "size": D("1E+3"),
        "filled_size": D(0),
        "status": "pending",
        "reduce_only": True,
        "post_only": False,
        "purpose": "entry\n",
        "operation_id": None,
        "created_at": stamp,
        "updated_at": stamp,
    }
    assert [str(decoded[k]) for k in ("price", "size")] == ["0.000012340", "1E+3"]


def test_an_intent_text_is_data_only() -> None:
    """Decoding never runs code, and a text of another shape is refused, not half-read."""
    with pytest.raises(ValueError, match="malformed"):
        decode_row("__import__('os').getcwd()")
    with pytest.raises(ValueError, match="not an intent row"):
        decode_row("('c-1', 3)")
    with pytest.raises(ValueError, match="15 fields"):
        encode_row(("c-1", 3))


def test_an_intent_left_by_the_previous_release_still_reads() -> None:
    """Release 0015 stored the ``orders`` columns as a JSON object: a crash under it leaves
    intents the upgraded journal must still move."""
    text = (
        '{"client_order_id":"c-1","bot_id":3,"venue":"paper","account_id":4,"symbol":"BTC",'
        '"side":"sell","order_type":"stop_market","price":null,"trigger_price":"59999.90",'
        '"size":"0.00100","filled_size":"0","status":"pending","reduce_only":true,'
        '"post_only":false,"purpose":"l2_stop","operation_id":"op-7",'
        '"created_at":"2026-12-03 22:00:00.123456+00:00",'
        '"updated_at":"2026-12-03 22:00:00.123456+00:00"}'
    )
    decoded = decode_row(text)
    assert decoded["trigger_price"] == D("59999.90")
    assert str(decoded["size"]) == "0.00100"
    assert decoded["filled_size"] == 0
    assert decoded["status"] == "pending"
    assert decoded["created_at"] == datetime(2026, 12, 3, 22, 0, 0, 123456, tzinfo=UTC)
