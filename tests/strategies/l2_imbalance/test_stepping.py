"""The scalper steps when its book moves (the paper venue counts book changes), at the latest
after its interval; a client that does not count changes leaves it on the timer."""

from __future__ import annotations

import asyncio

from tests.strategies.l2_imbalance.helpers import (
    BUY_BOOK,
    FLAT_BOOK,
    Sessions,
    book,
    config,
    rows,
    scalper,
)
from tests.strategies.rig import StrategyRig, strategy_rig


class Timer:
    """The runtime's sleep, held: it records what was asked and returns only when let go."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self.ring = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.asked.append(seconds)
        await self.ring.wait()


async def next_step(rig: StrategyRig, timer: Timer) -> asyncio.Future[None]:
    waiting = asyncio.ensure_future(scalper(rig).wait_next_step(timer.sleep))
    for _ in range(5):
        await asyncio.sleep(0)
    return waiting


async def test_a_book_move_starts_the_next_step_before_the_interval(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, config()) as rig:
        await book(rig, FLAT_BOOK)
        await rig.step()
        timer = Timer()
        waiting = await next_step(rig, timer)
        assert not waiting.done()
        assert timer.asked == [0.25]  # the interval still bounds the wait
        await book(rig, BUY_BOOK)
        await asyncio.wait_for(waiting, 5)
        await rig.step()  # the step it woke for trades the moved book
        assert [row.side for row in await rows(rig, purpose="l2_entry")] == ["buy"]


async def test_without_a_move_the_interval_ends_the_wait(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, config()) as rig:
        await rig.step()
        timer = Timer()
        waiting = await next_step(rig, timer)
        assert not waiting.done()
        timer.ring.set()
        await asyncio.wait_for(waiting, 5)


async def test_a_move_during_the_step_means_no_wait_at_all(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, config()) as rig:
        await rig.step()
        await book(rig, BUY_BOOK)  # after the step read the books
        timer = Timer()
        await asyncio.wait_for(scalper(rig).wait_next_step(timer.sleep), 5)
        assert timer.asked == []


async def test_before_the_first_step_or_without_counts_it_is_the_timer(
    db_sessions: Sessions,
) -> None:
    async with strategy_rig(db_sessions, config()) as rig:
        timer = Timer()
        timer.ring.set()
        await scalper(rig).wait_next_step(timer.sleep)  # no step yet: nothing read
        assert timer.asked == [0.25]
        await rig.step()
        scalper(rig)._book_changes = None  # a venue client that does not count changes
        waiting = await next_step(rig, Timer())
        await book(rig, BUY_BOOK)
        await asyncio.sleep(0.05)
        assert not waiting.done()
        waiting.cancel()


async def test_one_interval_bounds_the_waits_a_stream_of_moves_ends(
    db_sessions: Sessions,
) -> None:
    """The interval's sleep is not started again for every wait a book move ends (that cost
    the tick-to-order path a task per tick): the one running bounds the next wait too."""
    async with strategy_rig(db_sessions, config()) as rig:
        await book(rig, FLAT_BOOK)
        await rig.step()
        timer = Timer()
        waiting = await next_step(rig, timer)
        await book(rig, FLAT_BOOK)  # a move: this wait ends, the interval runs on
        await asyncio.wait_for(waiting, 5)
        await rig.step()
        waiting = await next_step(rig, timer)
        assert timer.asked == [0.25]  # the same interval
        assert not waiting.done()
        timer.ring.set()  # it ends: the wait pending now ends with it
        await asyncio.wait_for(waiting, 5)


async def test_an_interval_that_ended_during_a_step_is_started_anew(
    db_sessions: Sessions,
) -> None:
    async with strategy_rig(db_sessions, config()) as rig:
        await book(rig, FLAT_BOOK)
        await rig.step()
        first = Timer()
        waiting = await next_step(rig, first)
        await book(rig, FLAT_BOOK)
        await asyncio.wait_for(waiting, 5)
        first.ring.set()  # ends while the step runs, no wait pending
        await rig.step()
        second = Timer()
        waiting = await next_step(rig, second)
        assert second.asked == [0.25]  # a new interval, the wait is not ended by the old one
        assert not waiting.done()
        await book(rig, BUY_BOOK)
        await asyncio.wait_for(waiting, 5)


async def test_stopping_cancels_the_running_interval(db_sessions: Sessions) -> None:
    async with strategy_rig(db_sessions, config()) as rig:
        await book(rig, FLAT_BOOK)
        await rig.step()
        timer = Timer()
        waiting = await next_step(rig, timer)
        await book(rig, FLAT_BOOK)
        await asyncio.wait_for(waiting, 5)
        interval = scalper(rig)._interval
        assert interval is not None
        assert not interval.done()
        await scalper(rig).cleanup(cancel_orders=True)
        await asyncio.sleep(0)
        assert interval.cancelled()
