"""Fixtures: a manual clock, a scripted feed, and an in-memory paper client over them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.clock import ManualClock
from exchange_clients.paper.client import PaperExchangeClient
from tests.exchange_clients.paper.clients import paper_client
from tests.exchange_clients.paper.feeds import ScriptedFeed
from tests.exchange_clients.paper.helpers import START


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def feed(clock: ManualClock) -> ScriptedFeed:
    return ScriptedFeed(clock)


@pytest.fixture
async def client(feed: ScriptedFeed) -> AsyncIterator[PaperExchangeClient]:
    client = paper_client(feed)
    await client.connect()
    await feed.settled()
    try:
        yield client
    finally:
        await client.disconnect()
