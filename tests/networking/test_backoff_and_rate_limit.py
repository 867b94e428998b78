"""Backoff bounds and the token bucket's accounting, on a manual clock (no sleeping on time)."""

from __future__ import annotations

import asyncio
import random

import pytest

from networking.backoff import Backoff
from networking.rate_limit import TokenBucket


def test_backoff_grows_exponentially_to_its_cap_with_jitter_inside_the_bounds() -> None:
    backoff = Backoff(initial=0.5, maximum=8.0, factor=2.0, floor=0.1)
    assert [backoff.cap(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert backoff.cap(10_000) == 8.0
    rng = random.Random(1)
    delays = [backoff.delay(3, rng) for _ in range(2000)]
    assert all(0.1 <= d <= 4.0 for d in delays)
    # Full jitter: the draws spread over the window instead of clustering at the cap.
    assert min(delays) < 0.6
    assert max(delays) > 3.5


@pytest.mark.parametrize(
    "kwargs", [{"floor": 0}, {"initial": 2.0, "maximum": 1.0}, {"factor": 0.5}]
)
def test_backoff_refuses_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="backoff needs"):
        Backoff(**kwargs)


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_refills_at_its_rate_up_to_capacity() -> None:
    clock = FakeTime()
    bucket = TokenBucket(rate=10, capacity=20, clock=clock)
    assert bucket.wait_time(20) == 0
    bucket._tokens = 0
    assert bucket.wait_time(5) == pytest.approx(0.5)
    clock.now += 0.3
    assert bucket.available == pytest.approx(3)
    clock.now += 100
    assert bucket.available == 20  # never above capacity
    assert bucket.wait_time(500) == 0  # heavier than capacity: charged at capacity


def test_pause_holds_callers_for_retry_after_and_drains_the_bucket() -> None:
    clock = FakeTime()
    bucket = TokenBucket(rate=1000, capacity=100, clock=clock)
    bucket.pause(2.5)
    assert bucket.wait_time(1) == pytest.approx(2.5)
    clock.now += 2.0
    assert bucket.wait_time(1) == pytest.approx(0.5)
    clock.now += 0.5
    assert bucket.wait_time(1) == 0


async def test_acquire_waits_for_tokens_and_serves_callers_in_order() -> None:
    bucket = TokenBucket(rate=200, capacity=2)
    order: list[int] = []

    async def take(n: int) -> None:
        await bucket.acquire(1)
        order.append(n)

    await asyncio.gather(*(take(n) for n in range(6)))
    assert order == list(range(6))
    assert bucket.available < 2  # the last ones had to wait for refills


def test_per_minute_budget() -> None:
    bucket = TokenBucket.per_minute(1200)
    assert bucket.rate == 20
    assert bucket.capacity == 1200
