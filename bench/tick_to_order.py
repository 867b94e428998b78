"""Tick to order: a book update reaches the venue client -> a strategy decides -> the order leaves.

A paper venue fed by a push feed (the synthetic BTC book; each sample moves the best bid one
tick), the real grid strategy, risk manager, order executor, tracker and journal. Per sample:
push a delta, let the client apply it, run one strategy step, and stamp the moment the entry
order is handed to the venue (``place_order``). The entry is then cancelled so every sample
starts from the same state.

Two figures, p50/p99: the whole path, and the same without journaling the order before its
send (the id committed ahead, as the runtime sets it up, or the intent's commit for the first
entry of its kind; see :mod:`execution.reserved_ids`).
Targets: p50 <= 200 us, p99 <= 1 ms.

The l2_imbalance scalper, the way its bot runs it: each pushed delta puts a large size on the
best bid (the top-5 bid/ask ratio far above ``buy_ratio``); the strategy's wait between steps
ends when the paper venue has applied it (the venue counts book changes), then - as the
runtime's loop - the equity check and one step that reads the book, decides and sends a market
entry; the position is then closed through the strategy (its venue stop
cancelled) so every sample starts flat. Measured three ways: with the intent committed through
the journal's shared writer (an ORM transaction), on the journal's dedicated intent connection
(:mod:`execution.intent_writer`), and - as the runtime runs it - under a client order id the
journal committed ahead (:mod:`execution.reserved_ids`: no database write between the decision
and the send; the first entry of a kind still writes its intent). Target p50 <= 300 us, p99 <=
1 ms.

Two paces between the scalper's samples, each sample starting after its round trip's
bookkeeping: 50 ms of silence (the CPU's caches go cold: every piece of the path then costs
several times what it costs in a warm loop), or a stream - the same 50 ms filled with book
updates every 10 ms that move the book without signalling, each stepped by the strategy as its
bot steps it (a perpetual's book feed delivers tens to hundreds of updates a second; the
signalling update arrives in that stream, not after a silence).
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bench.databases import on_each_database
from bench.harness import machine, percentiles, syscall_cost
from bot_runtime.setup import ExecutionStack, account_ids, build_execution, register_bot
from core.clock import SystemClock
from core.logging_setup import configure_logging
from database.engine import create_engine, session_maker
from exchange_clients.base import BaseExchangeClient
from exchange_clients.market_data.events import BookDeltaEvent, BookSnapshotEvent, MarketEvent
from exchange_clients.market_data.synthetic import SyntheticMarket
from exchange_clients.paper import PaperExchangeClient
from exchange_clients.types import ClientSettings, FundingRate, Market, Order, OrderRequest
from execution.client_ids import ClientOrderIds
from execution.intent_writer import open_intent_writer
from execution.journal import OrderIntent, OrderJournal
from execution.order_executor import ExecutionRequest
from strategies.base_strategy import BaseStrategy, StrategyContext
from strategies.factory import create_strategy
from strategies.grid.strategy import GridStrategy
from strategies.l2_imbalance.strategy import L2ImbalanceStrategy
from strategies.risk import RiskManager
from strategies.risk_gate import RiskGate
from strategies.state_store import StrategyStateStore
from trading_config.schema import BotConfig

SAMPLES = 400
WARMUP = 20
SYMBOL = "BTC"
SETTLE_SECONDS = 0.05
STREAM_INTERVAL = 0.01  # between the non-signalling updates of the stream pace
VENUE = "paper"
EVEN_SIZE = Decimal(1)


class PushFeed:
    """The synthetic market's listings and first book; then only the deltas the bench pushes."""

    def __init__(self, market: SyntheticMarket, clock: SystemClock) -> None:
        self._market = market
        self._clock = clock
        self.queue: asyncio.Queue[MarketEvent] = asyncio.Queue()

    @property
    def venue(self) -> str:
        return VENUE

    def markets(self) -> dict[str, Market]:
        return self._market.markets()

    def snapshot(self, symbol: str) -> BookSnapshotEvent:
        """The synthetic book at this moment, every level one lot: its sizes move with time
        and could already signal an imbalance (the scalper would enter before the first
        sample: a bench that failed at random); only the pushed deltas may signal."""
        book = self._market.book(symbol, self._clock.now())
        return dataclasses.replace(
            book,
            bids=tuple((price, EVEN_SIZE) for price, _ in book.bids),
            asks=tuple((price, EVEN_SIZE) for price, _ in book.asks),
        )

    def funding(self, symbol: str) -> FundingRate:
        return self._market.funding_rate(symbol, self._clock.now())

    async def events(self) -> AsyncIterator[MarketEvent]:
        yield self.snapshot(SYMBOL)
        while True:
            yield await self.queue.get()


class StampedClient(PaperExchangeClient):
    def __init__(self, settings: ClientSettings) -> None:
        super().__init__(settings)
        self.placed: list[float] = []

    async def place_order(self, request: OrderRequest) -> Order:
        self.placed.append(time.perf_counter())
        return await super().place_order(request)


class StampedJournal(OrderJournal):
    """Stamps what journaling each order costs before its send: the intent's commit, or the
    in-memory note of an order sent under an id committed ahead (``taken`` counts those);
    ``reserve`` False keeps every order on the intent write (the comparison)."""

    def __init__(self, *args: Any, reserve: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commits: list[float] = []
        self.taken = 0
        self._reserve = reserve

    def reserve_ids_ahead(self, ids: ClientOrderIds) -> None:
        if self._reserve:
            super().reserve_ids_ahead(ids)

    async def record_intent(self, intent: OrderIntent) -> None:
        started = time.perf_counter()
        await super().record_intent(intent)
        self.commits.append(time.perf_counter() - started)

    def record_taken_intent(self, intent: OrderIntent) -> None:
        started = time.perf_counter()
        super().record_taken_intent(intent)
        self.commits.append(time.perf_counter() - started)
        self.taken += 1


@dataclasses.dataclass
class Rig:
    """One bot's stack on ``PushFeed``, built as the runtime builds it: the journal's intents on
    its dedicated connection (or the shared writer, for the comparison), every order through
    the risk gate."""

    engine: AsyncEngine
    clock: SystemClock
    feed: Any  # a PushFeed, or a live source's feed (bench.tick_to_order_ws)
    client: StampedClient
    journal: StampedJournal
    stack: ExecutionStack
    risk: RiskManager
    strategy: BaseStrategy[Any]

    async def close(self) -> None:
        """As the runtime stops a bot: the strategy's cleanup (its resting orders, the
        scalper's interval timer), then the stack, the journal, the venue and the database."""
        await self.strategy.cleanup(cancel_orders=True)
        await self.stack.stop()
        await self.journal.close()
        await self.client.disconnect()
        await self.engine.dispose()


async def build_rig(
    url: str, config: BotConfig, *, dedicated: bool, reserve: bool = True, feed: Any = None
) -> Rig:
    """``feed``: what the paper venue follows (default: a :class:`PushFeed`)."""
    engine = create_engine(url)
    sessions = session_maker(engine)
    clock = SystemClock()
    feed = feed or PushFeed(SyntheticMarket(seed=3, venue=VENUE), clock)
    client = StampedClient(
        ClientSettings(venue=VENUE, options={"feed": feed, "clock": clock, "store": None})
    )
    await client.connect()
    bot_id = await register_bot(sessions, config, "bench")
    accounts = await account_ids(sessions, config)
    writer = await open_intent_writer(engine) if dedicated else None
    journal = StampedJournal(
        sessions, bot_id=bot_id, accounts=accounts, intent_writer=writer, reserve=reserve
    )
    risk = RiskManager(config.risk, clock, bot=config.name)
    clients: dict[str, BaseExchangeClient] = {VENUE: client}
    stack = await build_execution(
        sessions,
        config,
        bot_id,
        accounts,
        clients,
        clock,
        journal=journal,
        gate=RiskGate(risk, clients),
    )
    context = StrategyContext(
        bot_name=config.name,
        config=config,
        clients=clients,
        executors=stack.executors,
        trackers=stack.trackers,
        atomic=stack.atomic,
        journal=journal,
        risk=risk,
        state_store=StrategyStateStore(sessions, bot_id, journal.committer),
        clock=clock,
    )
    strategy = create_strategy(config.strategy.type, context, config.strategy.params)
    return Rig(engine, clock, feed, client, journal, stack, risk, strategy)


def grid_config() -> BotConfig:
    return BotConfig.model_validate(
        {
            "name": "bench-tick",
            "strategy": {
                "type": "grid",
                "params": {
                    "exchange": VENUE,
                    "ticker": SYMBOL,
                    "direction": "buy",
                    "order_notional_usd": 100,
                    "target_leverage": 10,
                    "take_profit": 1,
                    "grid_step": 0.05,
                    "max_orders": 5,
                    "max_margin_usd": 100,
                    "wait_time": 0,
                },
            },
            "exchanges": {VENUE: {}},
        }
    )


async def bench(url: str) -> None:
    rig = await build_rig(url, grid_config(), dedicated=True)
    clock, feed, client, journal = rig.clock, rig.feed, rig.client, rig.journal
    executor = rig.stack.executors[VENUE]
    strategy = rig.strategy
    assert isinstance(strategy, GridStrategy)
    await strategy.start()
    assert strategy.market is not None
    tick = strategy.market.tick_size
    book = await client.order_book(SYMBOL, depth=1)
    assert book.best_bid is not None
    assert book.sequence is not None
    bid, size, sequence = book.best_bid, book.bids[0][1], book.sequence
    base = bid
    paths, decisions = [], []
    try:
        for sample in range(WARMUP + SAMPLES):
            # Between the first best bid and one tick below it: never locks or crosses the book.
            moved = base - tick if bid == base else base
            sequence += 1
            event = BookDeltaEvent(
                venue=VENUE,
                symbol=SYMBOL,
                ts=clock.now(),
                bids=((moved, size), (bid, Decimal(0))),
                asks=(),
                first_sequence=sequence,
                last_sequence=sequence,
            )
            started = time.perf_counter()
            feed.queue.put_nowait(event)
            # Spin on the loop until the client has applied it (part of what is measured).
            while (await client.order_book(SYMBOL, depth=1)).best_bid != moved:  # noqa: ASYNC110
                await asyncio.sleep(0)
            placed_before, commits_before = len(client.placed), len(journal.commits)
            await strategy.execute_strategy()
            if len(client.placed) != placed_before + 1 or strategy.entry_id is None:
                raise SystemExit("the grid did not place an entry: benchmark setup is wrong")
            if sample >= WARMUP:
                path = client.placed[-1] - started
                paths.append(path)
                decisions.append(path - sum(journal.commits[commits_before:]))
            await executor.cancel(SYMBOL, strategy.entry_id)
            strategy.entry_id, strategy.last_entry_at = None, None
            bid = moved
    finally:
        await rig.close()
    sys.stdout.write(
        f"  grid: {journal.taken} of {WARMUP + SAMPLES} entries under an id committed ahead\n"
    )
    for name, samples in (
        ("book update -> order sent (incl. journaling it)", paths),
        ("  the same without journaling it", decisions),
    ):
        p50, p99 = percentiles(samples)
        sys.stdout.write(f"  {name:<52} p50 {p50 * 1e6:7.0f} us  p99 {p99 * 1e6:7.0f} us\n")


def l2_config(name: str, notional: int = 100) -> BotConfig:
    return BotConfig.model_validate(
        {
            "name": name,
            "strategy": {
                "type": "l2_imbalance",
                "params": {
                    "exchange": VENUE,
                    "tickers": [SYMBOL],
                    "order_notional_usd": notional,
                    "take_profit_pct": 5,
                    "stop_loss_pct": 5,
                    "time_stop_seconds": 3600,
                    "daily_loss_limit_usd": 100000,
                    "max_drawdown_usd": 100000,
                    "resync_quiet_seconds": 0.001,
                },
            },
            "exchanges": {VENUE: {}},
        }
    )


async def l2_bench(
    url: str, *, dedicated: bool, stream: bool = False, reserve: bool = True
) -> tuple[list[float], list[float], int]:
    """One run of the scalper's tick to order; (paths, paths without journaling the order
    before its send, how many of the entries measured went under an id committed ahead).

    Between samples: silence, or with ``stream`` non-signalling updates every
    :data:`STREAM_INTERVAL` (see the module's docstring)."""
    # A bot of its own per run: no state saved by another run is restored.
    name = "bench-tick-l2-" + ("stream" if stream else "dedicated" if dedicated else "shared")
    config = l2_config(name + ("" if reserve else "-nores"))
    rig = await build_rig(url, config, dedicated=dedicated, reserve=reserve)
    clock, feed, client, journal = rig.clock, rig.feed, rig.client, rig.journal
    stack, risk = rig.stack, rig.risk
    strategy = rig.strategy
    assert isinstance(strategy, L2ImbalanceStrategy)
    await strategy.start()
    book = await client.order_book(SYMBOL, depth=5)
    assert book.best_bid is not None
    assert book.sequence is not None
    bid, sequence = book.best_bid, book.sequence
    paths: list[float] = []
    decisions: list[float] = []
    taken = 0

    def bid_update(size: Decimal) -> BookDeltaEvent:
        nonlocal sequence
        sequence += 1
        return BookDeltaEvent(
            venue=VENUE,
            symbol=SYMBOL,
            ts=clock.now(),
            bids=((bid, size),),
            asks=(),
            first_sequence=sequence,
            last_sequence=sequence,
        )

    async def step_on(event: BookDeltaEvent) -> None:
        """Deliver ``event``; then, as the runtime's loop: the wait between steps ends when
        the book moves (the paper venue counts book changes), the equity check, the step."""
        feed.queue.put_nowait(event)
        await strategy.wait_next_step(hold)
        risk.update_equity((await client.balance()).equity)
        async with strategy.step_lock:
            if await strategy.should_execute():
                await strategy.execute_strategy()

    try:
        # A bot's first step: it reads the book, and so the count its next wait starts from.
        await strategy.execute_strategy()
        if SYMBOL in strategy.trades:
            raise SystemExit("the opening book already signals: benchmark setup is wrong")
        for sample in range(WARMUP + SAMPLES):
            # A wall on the bid: far over buy_ratio.
            event = bid_update(Decimal(1000 + sample % 2))
            placed_before, commits_before = len(client.placed), len(journal.commits)
            taken_before = journal.taken
            started = time.perf_counter()
            await step_on(event)
            if len(client.placed) <= placed_before or SYMBOL not in strategy.trades:
                raise SystemExit("the scalper did not enter: benchmark setup is wrong")
            if sample >= WARMUP:
                path = client.placed[placed_before] - started
                paths.append(path)
                decisions.append(path - journal.commits[commits_before])
                taken += journal.taken - taken_before
            position = await client.position(SYMBOL)
            assert position is not None
            await strategy.close_position(VENUE, ExecutionRequest.closing(position, "bench"))
            # The round trip's bookkeeping (fills, order states, the strategy's state) written
            # before the next tick, as between a scalper's entries: the sample measures the
            # path itself, not a batch of the last trade's rows committed in the middle of it.
            await strategy.save_state()
            await stack.trackers[VENUE].flush()
            if not stream:
                await asyncio.sleep(SETTLE_SECONDS)
                continue
            placed = len(client.placed)
            for update in range(round(SETTLE_SECONDS / STREAM_INTERVAL)):
                await asyncio.sleep(STREAM_INTERVAL)
                # One lot or 1.1 on the bid, as on every other level: a ratio of about 1.
                await step_on(bid_update(EVEN_SIZE + Decimal(update % 2) / 10))
                if len(client.placed) != placed or SYMBOL in strategy.trades:
                    raise SystemExit("a stream update signalled: benchmark setup is wrong")
    finally:
        await rig.close()
    return paths, decisions, taken


async def hold(seconds: float) -> None:
    """The runtime's sleep between steps, never ending here: only a book move starts a step."""
    await asyncio.Event().wait()


async def l2_both(url: str) -> None:
    for dedicated, stream, reserve, label in (
        (False, False, False, "intent on the shared writer (ORM), after silence"),
        (True, False, False, "intent on the dedicated connection, after silence"),
        (True, True, False, "intent on the dedicated connection, in a stream"),
        (True, False, True, "ids committed ahead, after silence"),
        (True, True, True, "ids committed ahead, in a stream"),
    ):
        paths, decisions, taken = await l2_bench(
            url, dedicated=dedicated, stream=stream, reserve=reserve
        )
        sys.stdout.write(
            f"  l2: book update -> order sent, {label}"
            f" ({taken} of {len(paths)} entries under a reserved id)\n"
        )
        for name, samples in (
            ("    incl. journaling the order before its send", paths),
            ("    the same without it", decisions),
        ):
            p50, p99 = percentiles(samples)
            sys.stdout.write(f"  {name:<52} p50 {p50 * 1e6:7.0f} us  p99 {p99 * 1e6:7.0f} us\n")


def main() -> None:
    sys.stdout.write(
        f"tick to order, paper grid ({machine()}; target p50 <= 200 us, p99 <= 1 ms)\n"
    )
    warm, cold = syscall_cost()
    sys.stdout.write(
        f"  a system call on this machine: {warm * 1e6:.1f} us back to back, "
        f"{cold * 1e6:.1f} us after 10 ms of other work (the cold cost every path here pays)\n"
    )
    configure_logging(level="WARNING", stream=sys.stderr)
    on_each_database(bench)
    sys.stdout.write("tick to order, l2_imbalance (target p50 <= 300 us, p99 <= 1 ms)\n")
    on_each_database(l2_both)
    sys.stdout.write(
        "tick to order from the WebSocket frame: fake Binance (own process) -> public source ->"
        " paper venue -> l2_imbalance (journal on SQLite, ids committed ahead)\n"
    )
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(_on_sqlite(Path(folder) / "ws.db", l2_from_websocket))


async def l2_from_websocket(url: str) -> None:
    from bench.tick_to_order_ws import ws_bench

    for stream, label in ((True, "in a stream"), (False, "after silence")):
        paths, taken = await ws_bench(url, stream=stream)
        p50, p99 = percentiles(paths)
        sys.stdout.write(
            f"  {'frame sent -> order handed to the venue, ' + label:<52} p50 {p50 * 1e6:7.0f} us"
            f"  p99 {p99 * 1e6:7.0f} us ({taken} of {len(paths)} under a reserved id)\n"
        )


async def _on_sqlite(path: Path, bench: Any) -> None:
    from database.migrate import upgrade

    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    await bench(url)


if __name__ == "__main__":
    main()
