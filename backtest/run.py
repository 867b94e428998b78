"""One backtest: a bot's strategy, unchanged, on simulated venues and a simulated clock.

The context is built the way :class:`bot_runtime.runtime.BotRuntime` builds it - bot and
account rows, one paper client per configured venue, journal, trackers, executors and the
atomic executor (:func:`bot_runtime.setup` pieces), the risk manager behind the pre-trade
gate - and the loop is the runtime's: update equity (kill switch?), step the strategy under
its step lock, wait the strategy's interval. What differs is only what live cannot do:

* time is :class:`~backtest.clock.SimulatedClock`, moved to the next thing anyone waits for
  once nothing else can run (a step that waits for a fill lets the market move meanwhile);
* each venue is the paper engine fed from history (:mod:`backtest.sources`), in memory, its
  fills and funding payments captured as they happen (``on_changes``);
* the journal lives in a scratch database (:mod:`backtest.scratch_db`); its writes are held
  and committed together whenever the loop has nothing else to run, before simulated time
  moves (:class:`~execution.group_commit.QuietPointCommitter`: no wall-clock wait, and one
  transaction where live takes several); client order ids are stamped with simulated time,
  so they are the same on every run.
"""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from analytics.performance import analyse
from analytics.records import EquityPoint, FillRecord, FundingRecord
from backtest.clock import IoGauge, SimulatedClock
from backtest.result import BacktestResult
from backtest.scratch_db import scratch_database
from backtest.settings import BacktestSettings
from backtest.sources.feed import DataError, HistoryFeed
from backtest.sources.funding import FundingTape
from backtest.sources.load import Dataset
from backtest.venues import venue_profile
from bot_runtime.kill_switch import kill_switch
from bot_runtime.setup import ExecutionStack, connect_all, register_bot
from core.errors import ExchangeError, RiskLimitBreached
from database.models import Account
from exchange_clients.base import BaseExchangeClient
from exchange_clients.market_data.events import MarketFeed
from exchange_clients.market_data.synthetic import SyntheticFeed, SyntheticMarket
from exchange_clients.paper.changes import EngineChanges
from exchange_clients.paper.client import PaperExchangeClient
from exchange_clients.paper.engine import LIQUIDATION_PREFIX
from exchange_clients.paper.faults import FaultPlan
from exchange_clients.types import ClientSettings
from execution.atomic import AtomicMultiOrderExecutor, OperationStore
from execution.client_ids import ClientOrderIds
from execution.group_commit import QuietPointCommitter
from execution.journal import OrderJournal
from execution.order_executor import OrderExecutor
from execution.order_tracker import OrderTracker
from strategies.base_strategy import BaseStrategy, StrategyContext
from strategies.factory import create_strategy
from strategies.risk import RiskManager
from strategies.risk_gate import RiskGate
from strategies.state_store import StrategyStateStore
from trading_config.schema import BotConfig

log = structlog.get_logger(__name__)

TRACKER_POLL_SECONDS = 1.0  # the live trackers' poll interval
MAX_CONSECUTIVE_ERRORS = 20  # as the runtime: a strategy failing every step gives up
Progress = Callable[[float], None]


class BacktestError(Exception):
    """The backtest cannot run as asked; the message is the one line the user sees."""


@dataclass
class _Capture:
    """Fills and funding payments as the venues produce them (``on_changes``)."""

    fills: list[FillRecord]
    funding: list[FundingRecord]
    liquidations: int = 0

    def listener(self, venue: str) -> Callable[[EngineChanges], None]:
        def on_changes(changes: EngineChanges) -> None:
            for order, _, price, size, fee, _, ts in changes.fill_events:
                if order.client_order_id.startswith(LIQUIDATION_PREFIX):
                    self.liquidations += 1
                self.fills.append(
                    FillRecord(
                        ts=ts,
                        venue=venue,
                        symbol=order.symbol,
                        side="buy" if order.side == "buy" else "sell",
                        price=price,
                        size=size,
                        fee=fee,
                        order_id=order.client_order_id,
                    )
                )
            for payment in changes.funding:
                self.funding.append(
                    FundingRecord(payment.paid_at, venue, payment.symbol, payment.amount)
                )

        return on_changes


class _Killable:
    """What :func:`bot_runtime.kill_switch.kill_switch` needs of a bot."""

    def __init__(self, stack: ExecutionStack, clients: dict[str, BaseExchangeClient]) -> None:
        self.log = log.bind(backtest=True)
        self.stack: ExecutionStack | None = stack
        self.clients = clients
        self.stopped: str | None = None

    def request_stop(self, reason: str) -> None:
        self.stopped = reason


def period(settings: BacktestSettings, dataset: Dataset) -> tuple[datetime, datetime]:
    """The simulated period: asked for, within what every venue's data covers."""
    span = dataset.span()
    start, end = settings.start, settings.end
    if span is not None:
        first, last = span
        if first > last:
            raise BacktestError(
                f"the venues' data do not overlap: one starts {first.isoformat()}, "
                f"another ends {last.isoformat()}"
            )
        start = start or first
        end = end or last
        if start < first or end > last:
            raise BacktestError(
                f"--from/--to {start.isoformat()} .. {end.isoformat()} is outside the data "
                f"({first.isoformat()} .. {last.isoformat()})"
            )
    if start is None or end is None:
        raise BacktestError("synthetic data has no period of its own: give --from and --to")
    if end <= start:
        raise BacktestError(f"--to {end.isoformat()} is not after --from {start.isoformat()}")
    return start, end


def _feed(
    venue: str, dataset: Dataset, settings: BacktestSettings, clock: SimulatedClock
) -> MarketFeed:
    data = dataset.venues.get(venue)
    if data is not None:
        if isinstance(data.events, FundingTape):  # funding-only data: read on demand
            return data.events.feed(clock)
        return HistoryFeed(data, clock)
    assert dataset.synthetic_seed is not None
    return SyntheticFeed(
        SyntheticMarket(dataset.synthetic_seed, venue=venue),
        clock,
        step_seconds=settings.synthetic_step_seconds,
    )


async def _build_stack(
    sessions: async_sessionmaker[AsyncSession],
    config: BotConfig,
    bot_id: int,
    accounts: dict[str, int],
    clients: dict[str, BaseExchangeClient],
    clock: SimulatedClock,
    gate: RiskGate,
    poll_seconds: float,
) -> ExecutionStack:
    """:func:`bot_runtime.setup.build_execution`, with ids and commits on simulated time.

    The trackers ask the venue about silent orders every ``poll_seconds`` (live: every
    second): that poller is the net under lost stream events, and a simulated venue loses
    none, while a poll a second over a year of hourly steps would be most of the run."""
    committer = QuietPointCommitter(sessions)
    committer.when_holding(clock.add_flusher(committer.flush))
    journal = OrderJournal(sessions, bot_id=bot_id, accounts=accounts, committer=committer)
    trackers = {
        venue: OrderTracker(c, journal, clock=clock, poll_interval=poll_seconds)
        for venue, c in clients.items()
    }
    for tracker in trackers.values():
        await tracker.start()
    ids = ClientOrderIds(config.name, clock_ms=lambda: int(clock.now().timestamp() * 1000))
    executors = {
        venue: OrderExecutor(c, journal, trackers[venue], ids, clock=clock, gate=gate)
        for venue, c in clients.items()
    }
    operations = OperationStore(sessions, bot_id)
    atomic = AtomicMultiOrderExecutor(
        clients, trackers, journal, operations, ids, clock=clock, pre_trade=gate
    )
    return ExecutionStack(journal, trackers, executors, atomic, operations)


async def run_backtest(
    config: BotConfig,
    settings: BacktestSettings,
    dataset: Dataset,
    *,
    progress: Progress | None = None,
) -> BacktestResult:
    with _collector_tuned():
        return await _run_backtest(config, settings, dataset, progress)


YOUNG_COLLECTION_THRESHOLD = 10_000
"""The garbage collector's first threshold during a run (Python's default: 700)."""


_tuned: list[tuple[int, ...]] = []  # the thresholds to restore, per run in progress


@contextlib.contextmanager
def _collector_tuned() -> Iterator[None]:
    """The cyclic garbage collector kept out of the run's way, then set back as it was when
    the first of the runs in progress in this process began (runs can overlap in one loop).

    * Everything already allocated - the dataset above all, millions of objects for a year of
      funding rows - is left out of its full passes (``gc.freeze``; not when something was
      frozen before, so a caller's own freeze is left alone): each full pass walked all of it.
    * A young pass waits for 10,000 net new containers instead of 700: a scan holds a few
      thousand quotes, opportunities and rejections at once and frees them together, and the
      default threshold examined them several times each over (~8 % of a funding run).

    Results do not depend on it: only when unreachable cycles are freed changes."""
    if not _tuned:
        thresholds = gc.get_threshold()
        froze = not gc.get_freeze_count()
        if froze:
            gc.freeze()
        gc.set_threshold(max(thresholds[0], YOUNG_COLLECTION_THRESHOLD), *thresholds[1:])
        _tuned.append((int(froze), *thresholds))
    else:
        _tuned.append(_tuned[-1])
    try:
        yield
    finally:
        restore = _tuned.pop()
        if not _tuned:
            gc.set_threshold(*restore[1:])
            if restore[0]:
                gc.unfreeze()


async def _run_backtest(
    config: BotConfig,
    settings: BacktestSettings,
    dataset: Dataset,
    progress: Progress | None,
) -> BacktestResult:
    start, end = period(settings, dataset)
    gauge = IoGauge()
    clock = SimulatedClock(start, gauge)
    capture = _Capture([], [])
    async with scratch_database(gauge) as db:
        bot_id = await register_bot(db.sessions, config, "backtest")
        accounts: dict[str, int] = {}
        async with db.sessions.begin() as session:
            for venue in config.exchanges:
                account = Account(name=f"backtest:{venue}")
                session.add(account)
                await session.flush()
                accounts[venue] = account.id
        clients: dict[str, BaseExchangeClient] = {}
        notes: list[str] = []
        for venue in config.exchanges:
            data = dataset.venues.get(venue)
            if data is not None:
                notes += [f"{venue}: {n}" for n in data.notes]
            profile = venue_profile(
                venue,
                funding_interval_hours=data.funding_interval_hours if data else None,
                fees=settings.fees.get(venue),
                initial_balance=settings.initial_balance,
            )
            options: dict[str, Any] = {
                "clock": clock,
                "feed": _feed(venue, dataset, settings, clock),
                "store": None,
                "profile": profile,
                "on_changes": capture.listener(venue),
                "initial_balance": settings.initial_balance,
                "faults": FaultPlan(
                    latency=settings.latency_seconds, fill_ratio=settings.fill_ratio
                ),
            }
            clients[venue] = PaperExchangeClient(
                ClientSettings(venue=venue, account=f"backtest:{venue}", options=options)
            )
        try:
            await connect_all(clients)
        except Exception as exc:
            raise BacktestError(f"cannot start the simulated venues: {exc}") from None
        risk = RiskManager(config.risk, clock, bot=config.name)
        gate = RiskGate(risk, clients)
        poll_seconds = max(TRACKER_POLL_SECONDS, settings.step_seconds or 0)
        stack = await _build_stack(
            db.sessions, config, bot_id, accounts, clients, clock, gate, poll_seconds
        )
        context = StrategyContext(
            bot_name=config.name,
            config=config,
            clients=clients,
            executors=stack.executors,
            trackers=stack.trackers,
            atomic=stack.atomic,
            journal=stack.journal,
            risk=risk,
            state_store=StrategyStateStore(db.sessions, bot_id, stack.journal.committer),
            clock=clock,
            market_replay=functools.partial(_feed, dataset=dataset, settings=settings, clock=clock),
        )
        killable = _Killable(stack, clients)
        try:
            strategy = create_strategy(config.strategy.type, context, config.strategy.params)
            await drive(clock, strategy.start())
            counters = await _loop(
                strategy, risk, clients, killable, clock, start, end, settings, capture, progress
            )
            try:  # as the runtime's stop: resting orders cancelled, state saved
                await drive(clock, strategy.cleanup(cancel_orders=True))
            except ExchangeError as exc:
                notes.append(f"cleanup at the end: {exc}")
            marks = {}
            for venue, client in clients.items():
                for position in await drive(clock, client.positions()):
                    if position.size and position.mark_price is not None:
                        marks[(venue, position.symbol)] = position.mark_price
            await clock.settle()
        finally:
            committer = stack.journal.committer
            if isinstance(committer, QuietPointCommitter):  # no clock drives the loop now
                committer.release()
            await stack.stop()
            for client in clients.values():
                await client.disconnect()
    equity_points = counters.pop("_equity")
    performance = analyse(capture.fills, capture.funding, equity_points, marks=marks)
    counters["liquidation_fills"] = capture.liquidations
    step = settings.step_seconds or strategy.interval_seconds
    if settings.step_seconds is not None and settings.step_seconds > strategy.interval_seconds:
        notes.append(
            f"strategy stepped every {settings.step_seconds:g} s instead of its own "
            f"{strategy.interval_seconds:g} s loop period (--step-seconds)"
        )
    return BacktestResult(
        bot=config.name,
        strategy=config.strategy.type,
        params=config.strategy.params.model_dump(mode="json"),
        start=start,
        end=end,
        data=list(dataset.described),
        realism={
            **settings.realism(),
            "step_seconds": step,
            "tracker_poll_seconds": max(TRACKER_POLL_SECONDS, settings.step_seconds or 0),
        },
        fills=capture.fills,
        funding=capture.funding,
        equity=equity_points,
        counters=counters,
        notes=notes,
        stopped_by=killable.stopped,
        performance=performance,
    )


async def drive(clock: SimulatedClock, work: Any) -> Any:
    """Run ``work`` to the end, moving simulated time whenever it (or what it waits for)
    waits on the clock; a step waiting on nothing the clock can wake is a bug: raised."""
    task = clock.start(work)
    while True:
        if not clock.quiet():  # quiet: settle would return at once
            await clock.settle()
        if task.done():
            return task.result()
        deadline = clock.next_deadline()
        if deadline is None:
            task.cancel()
            raise BacktestError(
                "the strategy waits for something that cannot happen in a backtest "
                "(nothing scheduled on the simulated clock)"
            )
        await clock.advance_to(deadline)


async def _equity(clients: dict[str, BaseExchangeClient]) -> Decimal:
    total = Decimal(0)
    for client in clients.values():
        total += (await client.balance()).equity
    return total


async def _loop(
    strategy: BaseStrategy[Any],
    risk: RiskManager,
    clients: dict[str, BaseExchangeClient],
    killable: _Killable,
    clock: SimulatedClock,
    start: datetime,
    end: datetime,
    settings: BacktestSettings,
    capture: _Capture,
    progress: Progress | None,
) -> dict[str, Any]:
    interval = timedelta(seconds=max(settings.step_seconds or 0, strategy.interval_seconds))
    sample_every = timedelta(seconds=settings.equity_seconds)
    equity: list[EquityPoint] = []
    next_sample = start
    steps = refused = errors = failed_in_a_row = 0
    total = (end - start).total_seconds()
    while clock.now() < end:
        now = clock.now()
        value = await drive(clock, _equity(clients))
        if now >= next_sample:
            equity.append(EquityPoint(now, value))
            next_sample = now + sample_every
        kill = risk.update_equity(value)
        if kill is not None:
            await drive(clock, kill_switch(killable, kill.reason))
            killable.stopped = f"kill switch: {kill.reason}"
            break
        if strategy.context.stop_requested.is_set():
            killable.stopped = "the strategy asked to stop"
            break
        try:
            await drive(clock, _step(strategy))
            steps += 1
            failed_in_a_row = 0
        except RiskLimitBreached:
            refused += 1
            failed_in_a_row = 0
        except ExchangeError as exc:
            errors += 1
            failed_in_a_row += 1
            log.info("venue error in a backtest step", error=str(exc))
        except (BacktestError, DataError):
            raise
        except Exception:
            errors += 1
            failed_in_a_row += 1
            log.exception("strategy step failed in the backtest")
        if failed_in_a_row >= MAX_CONSECUTIVE_ERRORS:
            killable.stopped = f"{failed_in_a_row} strategy steps failed in a row"
            break
        await clock.advance_to(min(end, max(clock.now(), now + interval)))
        if progress is not None:
            progress(min(1.0, (clock.now() - start).total_seconds() / total))
    equity.append(EquityPoint(clock.now(), await drive(clock, _equity(clients))))
    return {
        "steps": steps,
        "orders_refused_by_risk_gate": refused,
        "step_errors": errors,
        "fills": len(capture.fills),
        "funding_payments": len(capture.funding),
        "_equity": equity,
    }


async def _step(strategy: BaseStrategy[Any]) -> None:
    async with strategy.step_lock:
        if await strategy.should_execute():
            await strategy.execute_strategy()
