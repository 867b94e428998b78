"""The bot runtime reconciles against the venue at start and after every reconnect (paper
venue, persisted wallet, SQLite and PostgreSQL): an order placed by hand and a position changed
while the bot was down meet the configured policy; the alert goes out, the status shows it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from bot_runtime.controller import RuntimeControl
from bot_runtime.notifications import KILL_SWITCH, AlertSink
from bot_runtime.runtime import EXIT_FAILED, BotRuntime, RuntimeOptions
from database.engine import create_engine, session_maker
from database.models import Bot
from database.models import Order as OrderRow
from exchange_clients.factory import create_client
from exchange_clients.paper import PaperExchangeClient
from exchange_clients.types import ClientSettings
from execution.reconciliation import ADOPTED, EXTERNAL, FLATTEN
from tests.bot_configs import paper_grid_yaml
from trading_config.loader import load_config

D = Decimal
NAME = "recon-grid"
SIZE = D("0.002")


class RecordingSink:
    """An alert channel that keeps what it was given (the runtime's AlertSink protocol)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def notify(self, kind: str, text: str) -> int:
        self.sent.append((kind, text))
        return 1

    @property
    def venue_state(self) -> list[str]:
        """The reconciliation alerts (fills go to the same sink)."""
        return [text for kind, text in self.sent if kind == KILL_SWITCH]


def options(path: Path, sink: RecordingSink) -> RuntimeOptions:
    async def factory(stack: contextlib.AsyncExitStack) -> AlertSink:
        return sink

    return RuntimeOptions(str(path), alerts=factory)


def config_file(tmp_path: Path, policy: str | None) -> Path:
    path = tmp_path / "grid.yml"
    extra = f"reconciliation:\n  policy: {policy}\n" if policy else ""
    path.write_text(paper_grid_yaml(NAME, extra=extra))
    return path


@contextlib.asynccontextmanager
async def the_bots_wallet() -> AsyncIterator[PaperExchangeClient]:
    """The bot's simulated wallet while the bot is down (as a person at the venue sees it)."""
    client = create_client(ClientSettings(venue="paper", account=f"paper:{NAME}"))
    assert isinstance(client, PaperExchangeClient)
    await client.connect()
    try:
        yield client
    finally:
        await client.disconnect()


async def place_by_hand(client: PaperExchangeClient) -> str:
    bid, _ = await client.best_bid_ask("BTC")
    _, price = await client.prepare_limit("BTC", "buy", SIZE, bid * D("0.9"))
    order = await client.place_limit_order("BTC", "buy", SIZE, price, client_order_id="manual-1")
    assert order.venue_order_id is not None
    return order.venue_order_id


@pytest.fixture(autouse=True)
def database(migrated_db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", migrated_db_url)
    return migrated_db_url


async def orders_with_purpose(url: str, purpose: str) -> list[OrderRow]:
    engine = create_engine(url)
    try:
        async with session_maker(engine)() as session:
            return list(await session.scalars(select(OrderRow).where(OrderRow.purpose == purpose)))
    finally:
        await engine.dispose()


async def test_refuse_does_not_start_and_names_the_hand_order(
    tmp_path: Path, database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async with the_bots_wallet() as wallet:
        venue_id = await place_by_hand(wallet)
    path = config_file(tmp_path, "refuse")
    sink = RecordingSink()

    code = await BotRuntime(load_config(path), options(path, sink)).run()

    assert code == EXIT_FAILED
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    [line] = lines
    assert line.startswith(
        f"{NAME}: refusing to start: the venue holds what the journal does not explain: "
        f"paper:BTC: open order manual-1 (venue id {venue_id}) buy 0.002 @ "
    )
    assert line.endswith(
        "not placed by this bot (by hand or by another program) (resolve it on the venue, "
        "or set reconciliation.policy to adopt or cancel)"
    )
    [text] = sink.venue_state
    assert text.startswith(f"Bot {NAME}: unexplained venue state at start (refused 1): paper:BTC")
    engine = create_engine(database)
    async with session_maker(engine)() as session:
        bot = await session.scalar(select(Bot).where(Bot.name == NAME))
    await engine.dispose()
    assert bot is not None
    assert bot.status == "crashed"
    async with the_bots_wallet() as wallet:  # untouched
        assert [o.venue_order_id for o in await wallet.open_orders()] == [venue_id]


async def test_paper_adopts_by_default_and_the_status_shows_it(
    tmp_path: Path, database: str
) -> None:
    async with the_bots_wallet() as wallet:
        venue_id = await place_by_hand(wallet)
        await wallet.place_market_order("BTC", "buy", SIZE, client_order_id="manual-mkt")
    path = config_file(tmp_path, None)
    sink = RecordingSink()
    runtime = BotRuntime(load_config(path), options(path, sink))
    await runtime.start()
    try:
        assert len(runtime.reconciliation_findings) == 2
        assert runtime.reconciliation_findings[1] == (
            "paper:BTC: position 0.002 on the venue, the journal explains 0 (difference 0.002)"
        )
        [text] = sink.venue_state
        assert "(adopted 2)" in text
        status = await RuntimeControl(runtime).status()
        assert status.reconciliation == runtime.reconciliation_findings
        [adopted] = await orders_with_purpose(database, ADOPTED)
        assert adopted.venue_order_id == venue_id
        [external] = await orders_with_purpose(database, EXTERNAL)
        assert (external.side, external.filled_size) == ("buy", SIZE)
        assert runtime.reconciler is not None
        assert (await runtime.reconciler.run()).clean
    finally:
        await runtime.shutdown()


async def test_cancel_at_start_cancels_the_order_and_closes_the_position(
    tmp_path: Path, database: str
) -> None:
    async with the_bots_wallet() as wallet:
        await place_by_hand(wallet)
        await wallet.place_market_order("BTC", "buy", SIZE, client_order_id="manual-mkt")
    path = config_file(tmp_path, "cancel")
    runtime = BotRuntime(load_config(path), options(path, RecordingSink()))
    await runtime.start()
    try:
        client = runtime.clients["paper"]
        assert all(o.client_order_id != "manual-1" for o in await client.open_orders())
        assert await client.position("BTC") is None
        [flatten] = await orders_with_purpose(database, FLATTEN)
        assert (flatten.side, flatten.size, flatten.status) == ("sell", SIZE, "filled")
    finally:
        await runtime.shutdown()


async def test_after_a_reconnect_refuse_stops_entries_with_an_alert(
    tmp_path: Path, database: str
) -> None:
    path = config_file(tmp_path, "refuse")
    sink = RecordingSink()
    runtime = BotRuntime(load_config(path), options(path, sink))
    running = asyncio.create_task(runtime.run())
    try:
        for _ in range(600):
            if runtime.strategy is not None and runtime.tasks.running >= 5:
                break
            await asyncio.sleep(0.05)
        assert runtime.strategy is not None
        assert sink.venue_state == []  # a clean start
        client = runtime.clients["paper"]
        assert isinstance(client, PaperExchangeClient)

        client.faults.disconnect()
        with pytest.raises(Exception, match="fault injection"):
            await client.balance()
        client.faults.reconnect()
        venue_id = await place_by_hand(client)  # on the account, not through the bot

        for _ in range(600):
            if runtime.strategy.context.paused.is_set():
                break
            await asyncio.sleep(0.05)
        assert runtime.strategy.context.paused.is_set()
        assert not runtime.stopping.is_set()  # entries stopped, the bot still runs
        [text] = sink.venue_state
        assert text.startswith(f"Bot {NAME}: unexplained venue state after paper reconnected")
        assert venue_id in text
        status = await RuntimeControl(runtime).status()
        assert (status.state, len(status.reconciliation)) == ("paused", 1)
        assert venue_id in status.reconciliation[0]
        assert venue_id in {o.venue_order_id for o in await client.open_orders()}
    finally:
        runtime.request_stop("test over")
        assert await asyncio.wait_for(running, 60) == 0


async def test_an_adopted_order_stays_the_bots_across_a_restart(
    tmp_path: Path, database: str
) -> None:
    """Kept by the journal's reconcile (not the strategy's, still wanted) and tracked again,
    so its fills keep reaching the journal."""
    async with the_bots_wallet() as wallet:
        venue_id = await place_by_hand(wallet)
    path = tmp_path / "grid.yml"
    path.write_text(paper_grid_yaml(NAME, extra="execution:\n  cancel_orders_on_stop: false\n"))
    for run in range(2):
        runtime = BotRuntime(load_config(path), options(path, RecordingSink()))
        await runtime.start()
        try:
            assert runtime.stack is not None
            assert "manual-1" in runtime.stack.trackers["paper"].orders()
            # Found and adopted by the first run; explained for the second.
            assert len(runtime.reconciliation_findings) == (0 if run else 1)
            client = runtime.clients["paper"]
            assert venue_id in {o.venue_order_id for o in await client.open_orders()}
        finally:
            await runtime.shutdown()
    [adopted] = await orders_with_purpose(database, ADOPTED)
    assert adopted.status == "open"
