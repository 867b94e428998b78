"""The paper venues' contract harness: the synthetic market on a manual clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from core.clock import ManualClock
from exchange_clients.factory import create_client
from exchange_clients.market_data.synthetic import SyntheticFeed, SyntheticMarket
from exchange_clients.types import ClientSettings
from tests.exchange_clients.contract.venue_harness import VenueHarness


@asynccontextmanager
async def paper_harness(venue: str = "paper") -> AsyncIterator[VenueHarness]:
    clock = ManualClock(datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC))
    feed = SyntheticFeed(SyntheticMarket(seed=11, venue=venue), clock)
    client = create_client(
        ClientSettings(venue=venue, options={"feed": feed, "clock": clock, "store": None})
    )
    await client.connect()
    harness = VenueHarness(client=client, symbol="BTC", now=clock.now, advance=clock.advance)
    await harness.advance(1)
    try:
        yield harness
    finally:
        await client.disconnect()
