"""The simulated clock: deadline order, and no time moves while the database is busy."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

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


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        SimulatedClock(datetime(2026, 1, 1))  # noqa: DTZ001
