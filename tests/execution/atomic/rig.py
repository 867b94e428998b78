"""Two paper venues (paper_a, paper_b) on scripted books, a journal and the atomic executor.

Both books start as the paper helpers' book: asks 1 @ 100.0, 2 @ 100.5, 3 @ 101.0; bids
1 @ 99.5, 2 @ 99.0, 3 @ 98.5 (step 0.01, min size 0.02, min notional 5 USD), and move only
when a test says so. ``InstrumentedPaperClient`` is the real paper venue with hooks that let a
test act *while* a request is in flight (the book moves before a post-only lands, a trade hits
an order while its cancel travels) and a record of every order request that reached it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock, ManualClock
from core.errors import OrderNotFound
from database.engine import create_engine, session_maker
from database.models import Account, Bot
from database.models import Fill as FillRow
from database.models import Order as OrderRow
from exchange_clients.paper import FaultPlan, PaperExchangeClient
from exchange_clients.types import ClientSettings, Order, OrderRequest, OrderStatus
from execution.atomic import (
    AtomicMultiOrderExecutor,
    AtomicResult,
    AtomicTolerances,
    Leg,
    OperationStore,
)
from execution.client_ids import ClientOrderIds
from execution.journal import OrderJournal
from execution.order_executor import ExecutionMode
from execution.order_tracker import OrderTracker
from tests.exchange_clients.paper.feeds import ScriptedFeed
from tests.exchange_clients.paper.helpers import START

D = Decimal
VENUES = ("paper_a", "paper_b")
SIZE = D("1")
BALANCE = D(10_000)
T = TypeVar("T")
Hook = Callable[[str], Awaitable[None]]


def legs(size: Decimal = SIZE) -> list[Leg]:
    return [Leg("paper_a", "BTC", "buy", size), Leg("paper_b", "BTC", "sell", size)]


def close_legs(size: Decimal = SIZE) -> list[Leg]:
    """Close what :func:`legs` opened: sell paper_a, buy paper_b back, reduce-only."""
    return [
        Leg("paper_a", "BTC", "sell", size, reduce_only=True),
        Leg("paper_b", "BTC", "buy", size, reduce_only=True),
    ]


class InstrumentedPaperClient(PaperExchangeClient):
    """The paper venue, recording what reached it, with optional in-flight hooks."""

    def __init__(self, settings: ClientSettings) -> None:
        super().__init__(settings)
        self.sent: list[str] = []  # reached the venue
        self.answered: list[str] = []  # and the venue's reply came back
        self.before_place: Hook | None = None
        self.before_cancel: Hook | None = None

    async def place_order(self, request: OrderRequest) -> Order:
        self.sent.append(request.client_order_id)
        if self.before_place is not None:
            await self.before_place(request.client_order_id)
        order = await super().place_order(request)
        self.answered.append(request.client_order_id)
        return order

    async def cancel_by_client_id(self, symbol: str, client_order_id: str) -> Order:
        if self.before_cancel is not None:
            await self.before_cancel(client_order_id)
        return await super().cancel_by_client_id(symbol, client_order_id)


@dataclass
class AtomicRig:
    clock: Clock
    feeds: dict[str, ScriptedFeed]
    clients: dict[str, InstrumentedPaperClient]
    trackers: dict[str, OrderTracker]
    executor: AtomicMultiOrderExecutor
    sessions: async_sessionmaker[AsyncSession]
    operations: OperationStore
    alerts: list[AtomicResult] = field(default_factory=list)

    @property
    def a(self) -> InstrumentedPaperClient:
        return self.clients["paper_a"]

    @property
    def b(self) -> InstrumentedPaperClient:
        return self.clients["paper_b"]

    def start(
        self,
        mode: ExecutionMode = ExecutionMode.MARKET,
        tolerances: AtomicTolerances | None = None,
        size: Decimal = SIZE,
    ) -> asyncio.Future[AtomicResult]:
        """Start buying ``size`` on paper_a and selling it on paper_b; drive it to finish."""
        return asyncio.ensure_future(self.executor.execute(legs(size), mode, tolerances))

    async def run(
        self,
        mode: ExecutionMode = ExecutionMode.MARKET,
        tolerances: AtomicTolerances | None = None,
        size: Decimal = SIZE,
    ) -> AtomicResult:
        return await self.drive(self.start(mode, tolerances, size))

    async def drive(self, task: asyncio.Future[T]) -> T:
        """Advance venue time until ``task`` ends, yielding real time for database I/O."""
        assert isinstance(self.clock, ManualClock), "drive() moves a manual clock"
        for _ in range(4000):
            if task.done():
                break
            await self.clock.advance(0.25)
            await asyncio.sleep(0.002)
        return await asyncio.wait_for(task, 10)

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait (real time, venue clock still) until ``condition`` holds."""
        for _ in range(2000):
            if condition():
                return
            await asyncio.sleep(0.005)
        raise AssertionError("condition never held")

    async def resting(self) -> None:
        """Wait until each venue has an open order (the LIMIT entries are in the book)."""
        for _ in range(2000):
            if all([await client.open_orders() for client in self.clients.values()]):
                return
            await asyncio.sleep(0.005)
        raise AssertionError("the entries never rested")

    async def positions(self) -> dict[str, Decimal]:
        found = {}
        for venue, client in self.clients.items():
            position = await client.position("BTC")
            found[venue] = position.size if position is not None else D(0)
        return found

    async def net_exposure(self) -> Decimal:
        return sum((await self.positions()).values(), D(0))

    async def journal_rows(self) -> list[OrderRow]:
        """This rig's bot's orders (several rigs may share one database)."""
        bot_id = self.executor.journal.bot_id
        async with self.sessions() as session:
            return list(
                await session.scalars(
                    select(OrderRow).where(OrderRow.bot_id == bot_id).order_by(OrderRow.id)
                )
            )

    async def assert_journal_is_true(self) -> None:
        """Every order that reached a venue is journaled, with the venue's status and fills;
        every journaled order the venue does not know was refused (or never sent)."""
        rows = await self.journal_rows()
        journaled = {row.client_order_id: row for row in rows}
        for venue, client in self.clients.items():
            for client_id in client.sent:
                assert client_id in journaled, f"{client_id} reached {venue} but is not journaled"
        for row in rows:
            client = self.clients[row.venue]
            try:
                order = await client.order_status("BTC", client_order_id=row.client_order_id)
            except OrderNotFound:
                assert row.status in ("rejected", "failed"), (row.client_order_id, row.status)
                continue
            assert (row.status, row.filled_size) == (order.status.value, order.filled_size), (
                row.client_order_id
            )
            assert OrderStatus(row.status).is_final, row.client_order_id

    async def assert_fills_match_orders(self) -> None:
        """Every journaled order's ``fills`` rows sum to its filled size (no more, no less)."""
        async with self.sessions() as session:
            fills = list(
                await session.scalars(
                    select(FillRow)
                    .join(OrderRow, FillRow.order_id == OrderRow.id)
                    .where(OrderRow.bot_id == self.executor.journal.bot_id)
                )
            )
        by_order: dict[int, Decimal] = {}
        for fill in fills:
            by_order[fill.order_id] = by_order.get(fill.order_id, D(0)) + fill.size
        for row in await self.journal_rows():
            assert by_order.get(row.id, D(0)) == row.filled_size, (
                row.client_order_id,
                row.filled_size,
                by_order.get(row.id),
            )

    async def assert_flat_or_hedged(self, result: AtomicResult) -> None:
        assert await self.net_exposure() == 0
        assert result.residual_exposure == 0
        assert result.net_exposure == 0
        assert result.verified is True


async def create_bot(
    sessions: async_sessionmaker[AsyncSession], venues: tuple[str, ...] = VENUES
) -> tuple[int, dict[str, int]]:
    """The bot and one account per venue the journal's rows refer to."""
    tag = uuid.uuid4().hex[:8]  # several rigs may share one database
    async with sessions.begin() as session:
        bot = Bot(name=f"atomic-test-{tag}", config={})
        accounts = {venue: Account(name=f"{venue}-{tag}") for venue in venues}
        session.add_all([bot, *accounts.values()])
    return bot.id, {venue: account.id for venue, account in accounts.items()}


def make_clients(
    clock: Clock,
    *,
    database_url: str | None = None,
    balance: Decimal = BALANCE,
    faults: dict[str, FaultPlan] | None = None,
    venues: tuple[str, ...] = VENUES,
) -> tuple[dict[str, ScriptedFeed], dict[str, InstrumentedPaperClient]]:
    """Scripted feeds and paper clients per venue (persisted when given a database)."""
    feeds = {venue: ScriptedFeed(clock, venue=venue) for venue in venues}
    storage: dict[str, object] = {"database_url": database_url} if database_url else {"store": None}
    clients = {
        venue: InstrumentedPaperClient(
            ClientSettings(
                venue=venue,
                options={
                    "feed": feeds[venue],
                    "clock": clock,
                    "initial_balance": balance,
                    "faults": (faults or {}).get(venue, FaultPlan()),
                    **storage,
                },
            )
        )
        for venue in venues
    }
    return feeds, clients


@asynccontextmanager
async def running_stack(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    bot_id: int,
    account_ids: dict[str, int],
    feeds: dict[str, ScriptedFeed],
    clients: dict[str, InstrumentedPaperClient],
    *,
    use_streams: bool = True,
) -> AsyncIterator[AtomicRig]:
    """Connected clients, started trackers and the executor over them, torn down after."""
    for venue, client in clients.items():
        await client.connect()
        await feeds[venue].settled()
    journal = OrderJournal(sessions, bot_id=bot_id, accounts=account_ids)
    trackers = {
        venue: OrderTracker(
            client,
            journal,
            clock=clock,
            use_streams=use_streams,
            poll_interval=1,
            silence_seconds=2,
        )
        for venue, client in clients.items()
    }
    for tracker in trackers.values():
        await tracker.start()
    operations = OperationStore(sessions, bot_id)
    alerts: list[AtomicResult] = []

    async def alert(result: AtomicResult) -> None:
        alerts.append(result)

    executor = AtomicMultiOrderExecutor(
        clients, trackers, journal, operations, ClientOrderIds("atomic"), clock=clock, alert=alert
    )
    try:
        yield AtomicRig(clock, feeds, clients, trackers, executor, sessions, operations, alerts)
    finally:
        for tracker in trackers.values():
            await tracker.stop()
        for client in clients.values():
            await client.disconnect()


async def crash(
    rig: AtomicRig, running: asyncio.Future[T], process: ProcessDatabase | None = None
) -> None:
    """Kill ``rig``'s stack in-process: the operation is abandoned at whatever await it is,
    the trackers stop without journaling what they hold, the journal's writer task dies. The
    venues live on, as real ones do.

    With ``process`` (the stack's own connection pool) the kill waits for a moment when no
    database transaction is open. A transaction cut by a real death is rolled back by the
    database - exactly as if the death came just before it began - while a task cancelled
    in-process mid-transaction can leave its connection holding SQLite's write lock. So this
    loses no crash point that matters; everything else (venue calls, waits for fills, the
    moments between two writes) is a possible crash point.
    """
    if process is not None:
        for _ in range(10_000):
            if process.checked_out() == 0:
                break
            await asyncio.sleep(0)
    running.cancel()  # from here on, no await until every task of the process is cancelled
    for tracker in rig.trackers.values():
        tracker.abandon()
    writer = rig.executor.journal.committer._task
    if writer is not None:
        writer.cancel()
    with contextlib.suppress(BaseException):
        await running
    if writer is not None:
        with contextlib.suppress(BaseException):
            await writer
    gc.collect()
    await asyncio.sleep(0.05)  # the pool's clean-up of what was collected


class ProcessDatabase:
    """The connection pool of one simulated process, which a crash kills outright.

    A dead process's connections die with it, open transactions (and SQLite's write lock)
    included; in-process, a task cancelled in the middle of a query may leave its connection
    checked out and its frames referenced. :meth:`kill` terminates every connection the pool
    ever opened, as the kernel would.
    """

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.sessions = session_maker(self.engine)
        self._connections: list[Any] = []
        event.listen(self.engine.sync_engine, "connect", self._connected)

    def _connected(self, dbapi_connection: Any, _record: Any) -> None:
        self._connections.append(dbapi_connection)

    def checked_out(self) -> int:
        """Connections in use right now (a transaction may be open on them)."""
        return int(getattr(self.engine.pool, "checkedout", lambda: 0)())

    async def kill(self) -> None:
        for connection in self._connections:
            driver = connection.driver_connection
            with contextlib.suppress(Exception):
                if hasattr(driver, "terminate"):  # asyncpg: drop the socket now
                    driver.terminate()
                else:  # aiosqlite: close the sqlite3 connection in its thread
                    await asyncio.wait_for(driver.close(), 5)
        self._connections.clear()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.engine.dispose(), 5)


@asynccontextmanager
async def restarted(
    rig: AtomicRig,
    *,
    sessions: async_sessionmaker[AsyncSession] | None = None,
    use_streams: bool = True,
) -> AsyncIterator[AtomicRig]:
    """A fresh journal, trackers and executor over ``rig``'s venues and database (a restart),
    through ``sessions`` when the dead process's pool is gone."""
    sessions = sessions or rig.sessions
    bot_journal = rig.executor.journal
    journal = OrderJournal(sessions, bot_id=bot_journal.bot_id, accounts=bot_journal.accounts)
    trackers = {
        venue: OrderTracker(
            client,
            journal,
            clock=rig.clock,
            use_streams=use_streams,
            poll_interval=1,
            silence_seconds=2,
        )
        for venue, client in rig.clients.items()
    }
    for tracker in trackers.values():
        await tracker.start()
    alerts: list[AtomicResult] = []

    async def alert(result: AtomicResult) -> None:
        alerts.append(result)

    operations = OperationStore(sessions, bot_journal.bot_id)
    executor = AtomicMultiOrderExecutor(
        rig.clients,
        trackers,
        journal,
        operations,
        ClientOrderIds("restarted"),
        clock=rig.clock,
        alert=alert,
    )
    try:
        yield AtomicRig(
            rig.clock, rig.feeds, rig.clients, trackers, executor, sessions, operations, alerts
        )
    finally:
        for tracker in trackers.values():
            await tracker.stop()


@asynccontextmanager
async def atomic_rig(
    sessions: async_sessionmaker[AsyncSession],
    *,
    use_streams: bool = True,
    balance: Decimal = BALANCE,
    faults: dict[str, FaultPlan] | None = None,
    venues: tuple[str, ...] = VENUES,
) -> AsyncIterator[AtomicRig]:
    """The venues in memory on a manual clock, over a fresh bot."""
    clock = ManualClock(START)
    bot_id, account_ids = await create_bot(sessions, venues)
    feeds, clients = make_clients(clock, balance=balance, faults=faults, venues=venues)
    async with running_stack(
        sessions, clock, bot_id, account_ids, feeds, clients, use_streams=use_streams
    ) as rig:
        yield rig
