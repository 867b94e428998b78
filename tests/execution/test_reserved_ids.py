"""Client order ids committed ahead (execution.reserved_ids), on SQLite and PostgreSQL.

An order sent under a reserved id has no database write between its decision and its send: its
id was committed while the bot waited, its ``orders`` row is written after the send, deleting
the reservation. The tests check the id really is committed before it is used, which orders
never take one (an operation's legs, stops), that nothing is lost on the way (a refused order
gives its id back, a write that races the row writes it, a clean stop releases the rest), and
- the point - that a crash between the send and the row loses nothing: a real process is
SIGKILLed after a real venue client's order reached the fake Binance, with the database locked
so the row could not be written, and the restarted journal adopts the order with its purpose
while releasing the ids never used.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from structlog.testing import capture_logs

import strategies  # noqa: F401  (registers the strategies the config names)
from bot_runtime.setup import ExecutionStack, build_execution
from core.clock import SystemClock
from core.errors import RiskLimitBreached
from database.engine import create_engine, session_maker
from database.models import Account, Bot, ReservedOrderId
from database.models import Order as OrderRow
from database.types import utcnow
from exchange_clients.base import BaseExchangeClient
from exchange_clients.factory import create_client
from exchange_clients.paper import PaperExchangeClient
from exchange_clients.types import ClientSettings, Order, OrderRequest, OrderStatus, OrderType
from execution.intent_writer import open_intent_writer
from execution.journal import JournalError, OrderIntent, OrderJournal, reconcile
from execution.order_executor import ExecutionMode, ExecutionRequest, OrderExecutor
from execution.reserved_ids import PER_KEY, ReservedIds
from testing.fakes.binance import FakeBinance
from tests.exchange_clients.binance_style.helpers import API_KEY, API_SECRET, hmac_settings
from tests.execution import reserved_crash_child as child
from tests.execution.bot_stack import scalper_config
from tests.helpers import PROJECT_ROOT

D = Decimal
GUARD = 60.0  # guards a hang; not a speed assertion
SIZE = D("0.001")
ENTRY = ("paper", "BTC", "entry")


@dataclass
class Rig:
    journal: OrderJournal
    stack: ExecutionStack
    client: PaperExchangeClient
    sessions: async_sessionmaker[AsyncSession]

    @property
    def executor(self) -> OrderExecutor:
        return self.stack.executors["paper"]

    @property
    def reserved(self) -> ReservedIds:
        assert self.journal.reserved_ids is not None
        return self.journal.reserved_ids

    async def market(self, purpose: str | None = "entry", operation_id: str | None = None) -> Order:
        request = ExecutionRequest(
            "BTC", "buy", SIZE, ExecutionMode.MARKET, purpose=purpose, operation_id=operation_id
        )
        result = await self.executor.execute(request)
        (order,) = result.orders
        return order

    async def held(self, key: tuple[str, str, str | None] = ENTRY) -> list[str]:
        """The ids held for ``key`` once its reservations have committed."""
        async with asyncio.timeout(GUARD):
            while len(self.reserved.held().get(key, ())) < PER_KEY:  # noqa: ASYNC110
                await asyncio.sleep(0.005)  # committed by the journal's writer
        return self.reserved.held()[key]

    async def stored(self) -> set[tuple[str, str, str | None]]:
        """The reservations in the database: (id, symbol, purpose)."""
        async with self.sessions() as session:
            rows = await session.scalars(
                select(ReservedOrderId).where(ReservedOrderId.bot_id == self.journal.bot_id)
            )
            return {(r.client_order_id, r.symbol, r.purpose) for r in rows}

    def intents_written(self) -> int:
        assert isinstance(self.journal, CountingJournal)
        return self.journal.intents


class CountingJournal(OrderJournal):
    """Counts the intents written before a send (the path an order under a reserved id skips)."""

    intents = 0

    async def record_intent(self, intent: OrderIntent) -> None:
        await super().record_intent(intent)
        self.intents += 1


async def _rig(
    name: str,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    client: PaperExchangeClient,
) -> Rig:
    """A bot's execution stack as the runtime builds it: intents on the dedicated connection,
    ids committed ahead."""
    async with sessions.begin() as session:
        bot, account = Bot(name=name, config={}), Account(name=f"paper-{name}")
        session.add_all([bot, account])
    writer = await open_intent_writer(engine)
    assert writer is not None
    accounts = {"paper": account.id}
    journal = CountingJournal(sessions, bot_id=bot.id, accounts=accounts, intent_writer=writer)
    stack = await build_execution(
        sessions,
        scalper_config(name),
        bot.id,
        accounts,
        {"paper": client},
        SystemClock(),
        journal=journal,
    )
    return Rig(journal, stack, client, sessions)


@pytest.fixture
async def paper() -> AsyncIterator[PaperExchangeClient]:
    client = PaperExchangeClient(
        ClientSettings(venue="paper", options={"clock": SystemClock(), "store": None})
    )
    await client.connect()
    yield client
    await client.disconnect()


@pytest.fixture
async def rig(
    db_engine: AsyncEngine,
    db_sessions: async_sessionmaker[AsyncSession],
    paper: PaperExchangeClient,
) -> AsyncIterator[Rig]:
    rig = await _rig("reserved", db_engine, db_sessions, paper)
    yield rig
    await rig.stack.stop()
    await rig.journal.close()


async def test_an_order_goes_out_under_an_id_committed_before_it(rig: Rig) -> None:
    first = await rig.market()  # the key's first order: the ordinary intent write
    writes = rig.intents_written()
    held = await rig.held()
    assert first.client_order_id not in held
    assert await rig.stored() == {(i, "BTC", "entry") for i in held}  # committed ahead
    second = await rig.market()
    assert second.client_order_id == held[0]  # the oldest first
    assert writes == 1
    assert rig.intents_written() == writes  # no intent write on its path
    journaled = await rig.journal.get(second.client_order_id)
    assert (journaled.purpose, journaled.side, journaled.size, journaled.status) == (
        "entry",
        "buy",
        SIZE,
        OrderStatus.FILLED,
    )
    assert journaled.order_type is OrderType.MARKET
    assert len(await rig.journal.fills_of(second.client_order_id)) >= 1
    refilled = await rig.held()
    assert refilled[0] == held[1]
    assert second.client_order_id not in refilled
    assert await rig.stored() == {(i, "BTC", "entry") for i in refilled}


async def test_an_operations_legs_and_stops_never_take_one(rig: Rig) -> None:
    await rig.market(purpose=None)
    held = await rig.held(("paper", "BTC", None))
    leg = await rig.market(purpose=None, operation_id="op-1")
    assert leg.client_order_id not in held
    assert (await rig.journal.get(leg.client_order_id)).operation_id == "op-1"
    bid, _ = await rig.client.best_bid_ask("BTC")
    stop = await rig.executor.place_stop("BTC", "sell", SIZE, (bid * D("0.9")).quantize(D(1)))
    assert stop is not None
    assert stop.client_order_id not in held
    assert rig.reserved.held()[("paper", "BTC", None)] == held  # untouched
    intent = OrderIntent(held[0], "paper", "BTC", "buy", OrderType.MARKET, SIZE, operation_id="x")
    with pytest.raises(JournalError, match="operation cannot be sent under a reserved id"):
        rig.journal.record_taken_intent(intent)


class RefuseOnce:
    """A risk gate that refuses the first order it sees."""

    def __init__(self) -> None:
        self.refused: list[str] = []

    async def check(self, client: BaseExchangeClient, order: OrderRequest) -> None:
        if not self.refused:
            self.refused.append(order.client_order_id)
            raise RiskLimitBreached("refused once")


async def test_an_order_the_gate_refuses_gives_its_id_back(rig: Rig) -> None:
    await rig.market()
    held = await rig.held()
    gate = RefuseOnce()
    rig.executor.gate = gate
    with pytest.raises(RiskLimitBreached):
        await rig.market()
    assert gate.refused == [held[0]]
    assert (await rig.held())[0] == held[0]  # given back, still committed
    assert (await rig.market()).client_order_id == held[0]  # and used by the next order


async def test_a_write_about_the_order_before_its_row_writes_it(rig: Rig) -> None:
    await rig.market()
    (client_id, _) = await rig.held()
    assert rig.reserved.take(*ENTRY) == client_id
    intent = OrderIntent(
        client_id, "paper", "BTC", "sell", OrderType.LIMIT, SIZE, price=D(9), purpose="entry"
    )
    rig.journal.record_taken_intent(intent)
    # No yield in between: this write reaches the writer before the row's own write.
    journaled = await rig.journal.record_order(
        Order(client_id, "v-1", "BTC", "sell", OrderType.LIMIT, SIZE, D(9), OrderStatus.OPEN)
    )
    assert (journaled.status, journaled.purpose, journaled.price) == (
        OrderStatus.OPEN,
        "entry",
        D(9),
    )
    await rig.journal.settled()
    async with rig.sessions() as session:
        rows = list(
            await session.scalars(select(OrderRow).where(OrderRow.client_order_id == client_id))
        )
    assert [(r.status, r.venue_order_id) for r in rows] == [("open", "v-1")]  # one row
    assert client_id not in {i for i, _, _ in await rig.stored()}


async def test_a_clean_stop_releases_the_ids_not_taken(
    db_engine: AsyncEngine,
    db_sessions: async_sessionmaker[AsyncSession],
    paper: PaperExchangeClient,
) -> None:
    rig = await _rig("released", db_engine, db_sessions, paper)
    await rig.market()
    assert len(await rig.held()) == PER_KEY
    await rig.stack.stop()
    await rig.journal.close()
    assert await rig.stored() == set()
    assert rig.journal.reserved_ids is None


async def test_a_journal_without_its_own_intent_connection_reserves_nothing(
    db_sessions: async_sessionmaker[AsyncSession], paper: PaperExchangeClient
) -> None:
    """A backtest's journal: every order journals its intent, results stay as they were."""
    journal = OrderJournal(db_sessions, bot_id=1, accounts={"paper": 1})
    stack = await build_execution(
        db_sessions, scalper_config("plain"), 1, {"paper": 1}, {"paper": paper}, SystemClock(),
        journal=journal,
    )  # fmt: skip
    assert journal.reserved_ids is None
    await stack.stop()


async def _leave_reservations(rig: Rig, count: int, venue: str = "paper") -> list[str]:
    """Reservations as a crashed process of this bot would have left them."""
    ids = [f"crashed-{venue}-{n}" for n in range(count)]
    async with rig.sessions.begin() as session:
        session.add_all(
            ReservedOrderId(
                client_order_id=i,
                bot_id=rig.journal.bot_id,
                venue=venue,
                account_id=rig.journal.accounts["paper"],
                symbol="BTC",
                purpose="entry",
                reserved_at=utcnow() - timedelta(hours=1),
            )
            for i in ids
        )
    return ids


async def test_a_start_adopts_what_the_venue_has_and_releases_the_rest_after_the_grace(
    rig: Rig,
) -> None:
    sent, landing, unused = await _leave_reservations(rig, 3)
    # The dead process's order that reached the venue...
    await rig.client.place_market_order("BTC", "buy", SIZE, client_order_id=sent)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        # ...and one its request still carried, landing while the restart waits.
        slept.append(seconds)
        await rig.client.place_market_order("BTC", "sell", SIZE, client_order_id=landing)

    with capture_logs() as logs:
        report = await reconcile(
            rig.journal,
            {"paper": rig.client},
            keep_resting=lambda order: False,
            grace=timedelta(seconds=7),
            sleep=sleep,
        )
    assert slept == [7.0]  # waited once, the grace, because some were unknown
    assert report.reserved_sent == [sent, landing]
    assert report.reserved_released == [unused]
    assert set(report.adopted) == {sent, landing}
    for client_id, side in ((sent, "buy"), (landing, "sell")):
        order = await rig.journal.get(client_id)
        assert (order.purpose, order.side, order.size, order.status) == (
            "entry",
            side,
            SIZE,
            OrderStatus.FILLED,
        )
        assert sum(f.size for f in await rig.journal.fills_of(client_id)) == SIZE
    assert await rig.stored() == set()
    assert any(e["event"].startswith("reserved client order ids released") for e in logs)


async def test_no_wait_when_the_venue_has_every_order_and_a_foreign_venues_ids_are_kept(
    rig: Rig,
) -> None:
    (sent,) = await _leave_reservations(rig, 1)
    (elsewhere,) = await _leave_reservations(rig, 1, venue="binance")
    await rig.client.place_market_order("BTC", "buy", SIZE, client_order_id=sent)
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    with capture_logs() as logs:
        report = await reconcile(
            rig.journal, {"paper": rig.client}, keep_resting=lambda order: False, sleep=sleep
        )
    assert (slept, report.reserved_sent, report.reserved_released) == ([], [sent], [])
    assert {i for i, _, _ in await rig.stored()} == {elsewhere}  # kept: nobody can ask
    kept = [e for e in logs if e["event"].startswith("reserved client order id kept")]
    assert [(e["client_order_id"], e["log_level"]) for e in kept] == [(elsewhere, "error")]


async def test_a_crash_after_the_send_loses_nothing(migrated_db_url: str) -> None:
    async with FakeBinance() as fake:
        fake.add_account(api_key=API_KEY, api_secret=API_SECRET)
        engine = create_engine(migrated_db_url)
        sessions = session_maker(engine)
        try:
            async with sessions.begin() as session:
                session.add(Account(name=child.ACCOUNT))
            settings = hmac_settings("binance", fake)
            held, client_id = await _run_child_until_sent(
                migrated_db_url, str(settings.options["base_url"]), str(settings.options["ws_url"])
            )
            assert client_id in held  # sent under an id committed before it
            async with sessions() as session:
                bot_id = await session.scalar(select(Bot.id).where(Bot.name == child.NAME))
                account_id = await session.scalar(
                    select(Account.id).where(Account.name == child.ACCOUNT)
                )
                assert (
                    await session.scalar(
                        select(OrderRow.id).where(OrderRow.client_order_id == client_id)
                    )
                    is None
                )  # the row was never written: only the reservation
            assert bot_id is not None
            assert account_id is not None
            restarted = OrderJournal(sessions, bot_id=bot_id, accounts={"binance": account_id})
            venue = create_client(settings)
            await venue.connect()
            try:
                report = await reconcile(
                    restarted,
                    {"binance": venue},
                    keep_resting=lambda order: False,
                    grace=timedelta(seconds=0.1),
                )
            finally:
                await venue.disconnect()
            order = await restarted.get(client_id)
            fills = await restarted.fills_of(client_id)
            async with sessions() as session:
                left = list(
                    await session.scalars(
                        select(ReservedOrderId.client_order_id).where(
                            ReservedOrderId.bot_id == bot_id
                        )
                    )
                )
        finally:
            await engine.dispose()
    assert report.reserved_sent == [client_id]
    assert report.reserved_released == [i for i in held if i != client_id]
    assert (order.purpose, order.side, order.size, order.status) == (
        child.PURPOSE,
        "buy",
        child.SIZE,
        OrderStatus.FILLED,
    )
    assert sum(f.size for f in fills) == child.SIZE
    assert left == []


async def _run_child_until_sent(url: str, base_url: str, ws_url: str) -> tuple[list[str], str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.execution.reserved_crash_child",
        url,
        base_url,
        ws_url,
        API_KEY,
        API_SECRET,
        cwd=PROJECT_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
    )
    output: list[bytes] = []
    held: list[str] = []
    try:
        assert process.stdout is not None
        while True:
            line = await asyncio.wait_for(process.stdout.readline(), GUARD)
            if line.startswith(b"HELD "):
                held = line.decode().split()[1:]
            if line.startswith(b"VENUE SAW "):
                process.send_signal(signal.SIGKILL)
                break
            output.append(line)
            assert line, b"".join(output)  # the child ended without sending
    finally:
        if process.returncode is None:
            process.kill()
        await asyncio.wait_for(process.wait(), GUARD)
    assert process.returncode == -signal.SIGKILL
    return held, line.split()[-1].decode()
