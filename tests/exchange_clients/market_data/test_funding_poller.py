"""A live feed's funding poller is supervised: killed by an unexpected error, it polls on.

``FundingPoller`` retries the failures it expects (the venue down, an unreadable answer) by
itself; anything else kills its task, which the supervisor logs by name and restarts. Proven
on the poller alone and on Hyperliquid's public source against the fake venue.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from structlog.testing import capture_logs

from exchange_clients.hyperliquid.public_feed import HyperliquidPublicSource
from exchange_clients.market_data.events import FundingEvent, MarketEvent
from exchange_clients.market_data.live import LiveSourceSettings
from exchange_clients.market_data.live_books import FundingPoller
from testing.fakes.hyperliquid import FakeHyperliquid

GUARD = 10.0  # guards a hang; not a speed assertion


async def eventually(condition: Callable[[], object]) -> None:
    async def wait() -> None:
        while not condition():  # noqa: ASYNC110 - a condition on other tasks, polled
            await asyncio.sleep(0.005)

    await asyncio.wait_for(wait(), GUARD)


def poller_tasks() -> list[str]:
    return [t.get_name() for t in asyncio.all_tasks() if t.get_name().endswith("-feed:funding")]


async def test_a_poller_killed_by_a_bug_is_logged_and_restarted() -> None:
    polls: list[int] = []

    async def poll() -> None:
        polls.append(len(polls))
        if len(polls) == 2:
            raise RuntimeError("a parsing bug")  # not a failure the loop expects

    poller = FundingPoller("paper_venue", 0.001, poll)
    with capture_logs() as logs:
        poller.start()
        await eventually(lambda: len(polls) >= 5)
    assert poller.restarts == 1
    assert poller.running
    failed = [e for e in logs if e["event"] == "background task failed"]
    assert [(e["component"], e["task"]) for e in failed] == [("paper_venue-feed", "funding")]
    assert [e["venue"] for e in logs if e["event"] == "live_funding_poller_restarted"] == [
        "paper_venue"
    ]
    await poller.stop()
    assert not poller.running
    assert poller_tasks() == []  # stopped means gone, and not restarted by the stop
    stopped_at = len(polls)
    await asyncio.sleep(0.01)
    assert len(polls) == stopped_at


async def test_expected_failures_are_retried_without_a_restart() -> None:
    polls: list[int] = []

    async def poll() -> None:
        polls.append(len(polls))
        if len(polls) < 3:
            raise ValueError("an unreadable answer")

    poller = FundingPoller("paper_venue", 0.001, poll)
    poller.start()
    try:
        await eventually(lambda: len(polls) >= 4)
    finally:
        await poller.stop()
    assert poller.restarts == 0


@pytest.fixture
async def fake() -> AsyncIterator[FakeHyperliquid]:
    async with FakeHyperliquid() as venue:
        yield venue


async def test_hyperliquid_funding_keeps_coming_after_its_poller_died(
    fake: FakeHyperliquid,
) -> None:
    source = HyperliquidPublicSource(
        LiveSourceSettings(
            symbols=("BTC",),
            base_url=fake.base_url,
            ws_url=fake.ws_url,
            extra={"funding_poll_seconds": 0.01},
        )
    )
    funding: list[FundingEvent] = []
    broken = {"armed": False}

    def sink(event: MarketEvent) -> None:
        if isinstance(event, FundingEvent):
            if broken["armed"]:
                broken["armed"] = False
                raise RuntimeError("the consumer choked")  # kills the polling task
            funding.append(event)

    with capture_logs() as logs:
        await source.start(sink)
        try:
            assert len(funding) == 1  # read once at start
            broken["armed"] = True
            await eventually(lambda: len(funding) >= 3)  # polled on after the failure
        finally:
            await source.stop()
    failed = [e for e in logs if e["event"] == "background task failed"]
    assert [(e["component"], e["task"]) for e in failed] == [("hyperliquid-feed", "funding")]
    assert source._poller.restarts == 1
    assert poller_tasks() == []
