"""The simulated clock: deadline order, and no time moves while the database is busy."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from backtest.clock import IoGauge, SimulatedClock

T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def test_sleepers_wake_in_deadline_order_at_their_time() -> None:
    clock = SimulatedClock(T0)
    woke: list[tuple[str, datetime]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.now()))

    tasks = [asyncio.ensure_future(sleeper(n, s)) for n, s in (("b", 2), ("a", 1), ("c", 5))]
    await clock.advance_to(T0 + timedelta(seconds=3))
    assert woke == [("a", T0 + timedelta(seconds=1)), ("b", T0 + timedelta(seconds=2))]
    assert clock.now() == T0 + timedelta(seconds=3)
    assert clock.next_deadline() == T0 + timedelta(seconds=5)
    tasks[2].cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert clock.next_deadline() is None


async def test_a_sleeper_that_wakes_next_carries_on_in_deadline_order() -> None:
    """A feed sleeping from event to event, with other sleepers' deadlines in between (one a
    tie, asked for earlier: it wakes first): every wake in deadline order, at its time."""
    clock = SimulatedClock(T0)
    woke: list[tuple[str, float]] = []

    def at() -> float:
        return (clock.now() - T0).total_seconds()

    async def feed() -> None:
        for _ in range(10):
            await clock.sleep(0.1)
            woke.append(("feed", at()))

    async def sleeper(name: str, *waits: float) -> None:
        for seconds in waits:
            await clock.sleep(seconds)
            woke.append((name, at()))

    tasks = [
        asyncio.ensure_future(feed()),
        asyncio.ensure_future(sleeper("tie", 0.2)),
        asyncio.ensure_future(sleeper("poll", 0.35, 0.35)),
    ]
    await clock.advance_to(T0 + timedelta(seconds=0.45))
    assert clock.now() == T0 + timedelta(seconds=0.45)  # not on to the feed's next event
    assert woke[-1] == ("feed", 0.4)
    await clock.advance_to(T0 + timedelta(seconds=2))
    await asyncio.gather(*tasks)
    assert woke == [
        ("feed", 0.1),
        ("tie", 0.2),
        ("feed", 0.2),
        ("feed", 0.3),
        ("poll", 0.35),
        ("feed", 0.4),
        ("feed", 0.5),
        ("feed", 0.6),
        ("poll", 0.7),
        ("feed", 0.7),
        ("feed", 0.8),
        ("feed", 0.9),
        ("feed", 1.0),
    ]
    assert clock.now() == T0 + timedelta(seconds=2)


async def test_sleeps_of_many_distinct_lengths_each_wake_at_their_own_time() -> None:
    """Sleep lengths are remembered as durations (a bounded set, cleared when full): more
    distinct lengths than it keeps, each asked twice, still wake each sleeper at now + its
    own length."""
    clock = SimulatedClock(T0)
    lengths = [0.25 + index / 1000 for index in range(600)] * 2
    for seconds in lengths:
        before = clock.now()
        sleeper = asyncio.ensure_future(clock.sleep(seconds))
        await clock.advance_to(before + timedelta(days=1))
        await sleeper
        assert clock.now() == before + timedelta(days=1)
        assert clock.next_deadline() is None
    woke: list[datetime] = []

    async def sleeper_at(seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(clock.now())

    start = clock.now()
    tasks = [asyncio.ensure_future(sleeper_at(s)) for s in lengths[:300]]
    await clock.advance_to(start + timedelta(seconds=10))
    await asyncio.gather(*tasks)
    assert woke == sorted(start + timedelta(seconds=s) for s in lengths[:300])


async def test_quiet_is_what_settle_waits_for() -> None:
    """``quiet`` says whether settle would return at once: not while a callback is queued,
    a database operation is in flight, or a wall-clock timer is due soon."""
    gauge = IoGauge()
    clock = SimulatedClock(T0, gauge)
    await clock.settle()
    assert clock.quiet()
    loop = asyncio.get_running_loop()
    ran: list[str] = []
    loop.call_soon(ran.append, "callback")
    assert not clock.quiet()
    await clock.settle()
    assert ran == ["callback"]
    assert clock.quiet()
    gauge.in_flight += 1
    assert not clock.quiet()
    gauge.in_flight -= 1
    timer = loop.call_later(0.05, ran.append, "timer")
    assert not clock.quiet()
    await clock.settle()
    assert ran == ["callback", "timer"]
    assert clock.quiet()
    timer.cancel()


async def test_time_waits_for_work_in_flight() -> None:
    """A journal write runs in the database's thread: the loop looks idle meanwhile, and only
    the gauge says the work is not done."""
    gauge = IoGauge()
    clock = SimulatedClock(T0, gauge)
    written: list[bool] = []

    async def journal_write() -> None:
        gauge.in_flight += 1
        try:
            await asyncio.to_thread(time.sleep, 0.05)
            written.append(True)
        finally:
            gauge.in_flight -= 1

    task = asyncio.ensure_future(journal_write())
    await asyncio.sleep(0)  # started: now waiting for its thread
    await clock.settle()
    assert written == [True]
    await task


async def test_settle_waits_for_a_chain_of_hops() -> None:
    clock = SimulatedClock(T0)
    hops: list[int] = []

    async def chain() -> None:
        for hop in range(5):
            hops.append(hop)
            await asyncio.sleep(0)

    task = asyncio.ensure_future(chain())
    await clock.settle()
    assert hops == [0, 1, 2, 3, 4]
    assert task.done()


async def _trace(start: Callable[[Any], Awaitable[Any]]) -> tuple[list[str], Any]:
    """What happens, in order, around work that suspends on a future another task sets
    (and a third party watches), started by ``start``."""
    clock = SimulatedClock(T0)
    events: list[str] = []
    release: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def helper(name: str) -> None:
        events.append(f"{name} runs")
        if name == "a":  # watching the future the work waits on, after the work did
            release.add_done_callback(lambda _: events.append("watcher"))
        await asyncio.sleep(0)
        events.append(f"{name} again")
        if not release.done():
            release.set_result(name)

    async def work() -> str:
        events.append("work starts")
        helpers = [asyncio.ensure_future(helper("a")), asyncio.ensure_future(helper("b"))]
        got = await release
        events.append(f"work woken by {got}")
        await asyncio.sleep(0)
        events.append("work ends")
        await asyncio.gather(*helpers)
        return got

    await clock.settle()
    task = start(work())
    await clock.settle()
    return events, await task


async def test_start_runs_work_as_a_task_started_the_usual_way_would() -> None:
    clock = SimulatedClock(T0)
    started = await _trace(clock.start)
    usual = await _trace(asyncio.ensure_future)
    assert started == usual
    # The work waited on the future before the watcher did, so it is woken first.
    assert started == (
        [
            "work starts",
            "a runs",
            "b runs",
            "a again",
            "b again",
            "work woken by a",
            "watcher",
            "work ends",
        ],
        "a",
    )


async def test_work_done_in_its_first_step_needs_no_task() -> None:
    clock = SimulatedClock(T0)

    async def reading() -> int:
        return 42

    future = clock.start(reading())
    assert future.done()
    assert not isinstance(future, asyncio.Task)
    assert future.result() == 42

    async def failing() -> None:
        raise LookupError("no such order")

    with pytest.raises(LookupError, match="no such order"):
        clock.start(failing()).result()


async def test_started_work_keeps_its_context_to_itself() -> None:
    clock = SimulatedClock(T0)
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="caller")

    async def binds() -> str:
        var.set("work")
        await asyncio.sleep(0)
        return var.get()

    assert clock.start(binds()).done() is False
    await clock.settle()
    assert var.get() == "caller"
    task = clock.start(binds())
    await clock.settle()
    assert task.result() == "work"
    assert var.get() == "caller"


async def test_work_started_while_the_loop_is_busy_waits_its_turn() -> None:
    clock = SimulatedClock(T0)
    events: list[str] = []
    asyncio.get_running_loop().call_soon(events.append, "queued first")

    async def work() -> None:
        events.append("work")

    future = clock.start(work())
    assert not future.done()
    await clock.settle()
    assert events == ["queued first", "work"]


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        SimulatedClock(datetime(2026, 1, 1))  # noqa: DTZ001


def test_one_clock_serves_one_loop_after_another() -> None:
    """The clock remembers the running loop and its callback queue; a later loop in the same
    thread (or one in another thread) is the one its sleeps and checks then use."""
    clock = SimulatedClock(T0)

    async def one_hop(seconds: float) -> asyncio.AbstractEventLoop:
        sleeper = asyncio.ensure_future(clock.sleep(seconds))
        await clock.advance_to(clock.now() + timedelta(seconds=seconds))
        await sleeper
        assert clock.quiet()
        asyncio.get_running_loop().call_soon(lambda: None)
        assert not clock.quiet()  # this loop's queue, not the one of the loop before
        await clock.settle()
        assert clock.quiet()
        return asyncio.get_running_loop()

    first_loop = asyncio.new_event_loop()
    try:
        first = first_loop.run_until_complete(one_hop(1))
    finally:
        first_loop.close()
    second = asyncio.run(one_hop(2))
    results: list[asyncio.AbstractEventLoop] = []
    thread = threading.Thread(target=lambda: results.append(asyncio.run(one_hop(3))))
    thread.start()
    thread.join()
    assert len({id(first), id(second), id(results[0])}) == 3
    assert clock.now() == T0 + timedelta(seconds=6)
    with pytest.raises(RuntimeError):  # no loop running: as asyncio.get_running_loop()
        clock.quiet()


class _HeldWrites:
    """A flusher like the backtest's journal committer: writes wait, unanswered, until the
    clock finds the loop otherwise quiet; each flush answers every write held, with the
    simulated time it was committed at."""

    def __init__(self, clock: SimulatedClock) -> None:
        self.clock = clock
        self.held: list[asyncio.Future[datetime]] = []
        self.batches: list[int] = []
        self.holding = clock.add_flusher(self.flush)

    def write(self) -> asyncio.Future[datetime]:
        future: asyncio.Future[datetime] = asyncio.get_running_loop().create_future()
        if not self.held:
            self.holding()
        self.held.append(future)
        return future

    def flush(self) -> bool:
        if not self.held:
            return False
        batch, self.held = self.held, []
        self.batches.append(len(batch))
        now = self.clock.now()
        asyncio.get_running_loop().call_soon(self._answer, batch, now)
        return True

    @staticmethod
    def _answer(batch: list[asyncio.Future[datetime]], now: datetime) -> None:
        for future in batch:
            future.set_result(now)


async def test_held_writes_are_flushed_before_time_moves_and_a_step_waiting_on_one_ends() -> None:
    """The step awaits its write, then waits a venue's latency, then writes again - with a
    feed ticking meanwhile: no write waits across a move of time (the deadlock of a batch
    released only at the end of the step), and writes asked at one instant share a flush."""
    clock = SimulatedClock(T0)
    writes = _HeldWrites(clock)
    committed: list[float] = []

    def at(moment: datetime) -> float:
        return (moment - T0).total_seconds()

    async def step() -> str:
        committed.append(at(await writes.write()))  # the intent, before the order is sent
        await clock.sleep(0.3)  # the venue's latency
        tracker_write = writes.write()  # the fill's bookkeeping, asked at the same instant
        committed.append(at(await writes.write()))  # the next order's intent
        committed.append(at(await tracker_write))
        return "done"

    async def feed() -> None:
        for _ in range(10):
            await clock.sleep(0.1)

    ticking = asyncio.ensure_future(feed())
    task = clock.start(step())
    await clock.advance_to(T0 + timedelta(seconds=1))
    assert task.done()
    assert task.result() == "done"
    assert committed == [0.0, 0.3, 0.3]
    assert writes.batches == [1, 2]
    await ticking


async def test_a_sleeper_does_not_skip_ahead_of_a_held_write() -> None:
    """A sleep that would wake next carries on at once (``_wakes_next``) only when nothing
    else is left to run at that instant: a write held for the quiet loop is."""
    clock = SimulatedClock(T0)
    writes = _HeldWrites(clock)
    asked: list[asyncio.Future[datetime]] = []

    async def feed() -> None:
        for i in range(4):
            await clock.sleep(0.1)
            if i == 1:
                asked.append(writes.write())  # nobody waits for it: only the flush answers

    ticking = asyncio.ensure_future(feed())
    await clock.advance_to(T0 + timedelta(seconds=1))
    await ticking
    assert [(f.result() - T0).total_seconds() for f in asked] == [pytest.approx(0.2)]
    assert writes.batches == [1]


async def test_work_started_with_a_write_held_runs_after_its_flush() -> None:
    """``start`` runs the first step at once only on a quiet loop; a held write is not."""
    clock = SimulatedClock(T0)
    writes = _HeldWrites(clock)
    held = writes.write()
    seen: list[bool] = []

    async def step() -> None:
        seen.append(held.done())

    await clock.start(step())
    assert seen == [True]
    assert clock.quiet()


async def test_flushers_are_asked_only_once_one_says_it_holds_work() -> None:
    """The clock looks for quiet many times a step: a flusher holding nothing is not called."""
    clock = SimulatedClock(T0)
    asked: list[int] = []

    def flush() -> bool:
        asked.append(1)
        return False

    holding = clock.add_flusher(flush)
    await clock.settle()
    assert clock.quiet()
    assert asked == []
    holding()
    assert clock.quiet()  # asked: it holds nothing after all
    assert clock.quiet()
    assert asked == [1]
