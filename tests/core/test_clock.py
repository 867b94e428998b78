"""The manual clock wakes sleepers in deadline order and only when told to."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from core.clock import ManualClock

START = datetime(2026, 1, 1, tzinfo=UTC)


async def test_sleepers_wake_in_order_at_their_deadlines() -> None:
    clock = ManualClock(START)
    woke: list[tuple[str, datetime]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.now()))

    tasks = [asyncio.create_task(sleeper(n, s)) for n, s in (("late", 5), ("early", 2))]
    await asyncio.sleep(0)
    await clock.advance(1)
    assert woke == []
    await clock.advance(10)
    await asyncio.gather(*tasks)
    assert woke == [("early", START + timedelta(seconds=2)), ("late", START + timedelta(seconds=5))]
    assert clock.now() == START + timedelta(seconds=11)


async def test_periodic_sleeper_runs_once_per_period() -> None:
    clock = ManualClock(START)
    ticks: list[datetime] = []

    async def ticker() -> None:
        while True:
            await clock.sleep(1)
            ticks.append(clock.now())

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    await clock.advance(3.5)
    task.cancel()
    assert ticks == [START + timedelta(seconds=s) for s in (1, 2, 3)]


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        ManualClock(datetime(2026, 1, 1))  # noqa: DTZ001
