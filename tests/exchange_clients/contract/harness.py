"""How the contract suite drives a venue: a connected client plus a way to let time pass.

Each venue provides a harness: the paper venue on a manual clock over the
synthetic market; real venues (later) through their fake servers. Tests only
use what is here, so adding a venue means adding one harness factory.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from exchange_clients.base import BaseExchangeClient
from exchange_clients.clock import ManualClock
from exchange_clients.factory import create_client
from exchange_clients.market_data.synthetic import SyntheticFeed, SyntheticMarket
from exchange_clients.streams import Subscription
from exchange_clients.types import ClientSettings

T = TypeVar("T")

# Guards against a hung stream; not a performance assertion.
EVENT_TIMEOUT_SECONDS = 10.0


@dataclass
class VenueHarness:
    client: BaseExchangeClient
    symbol: str
    now: Callable[[], datetime]
    advance: Callable[[float], Awaitable[None]]

    async def next_event(
        self, subscription: Subscription[T], predicate: Callable[[T], bool] = lambda _: True
    ) -> T:
        """The next event matching ``predicate``, letting venue time pass while waiting."""

        async def wait() -> T:
            while True:
                if subscription.pending() == 0:
                    await self.advance(0.25)
                    await asyncio.sleep(0)
                    if subscription.pending() == 0:
                        continue
                event = await anext(subscription)
                if predicate(event):
                    return event

        return await asyncio.wait_for(wait(), EVENT_TIMEOUT_SECONDS)


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


HARNESSES: dict[str, Callable[[], AsyncIterator[VenueHarness]]] = {
    "paper": lambda: paper_harness("paper"),
    "paper_b": lambda: paper_harness("paper_b"),
    "hyperliquid": lambda: __import__(  # lazy: the module imports VenueHarness from here
        "tests.exchange_clients.contract.hyperliquid_harness", fromlist=["_"]
    ).hyperliquid_harness(),
    "binance": lambda: __import__(  # lazy, as above
        "tests.exchange_clients.contract.binance_harness", fromlist=["_"]
    ).binance_harness(),
    "aster": lambda: __import__(  # lazy, as above
        "tests.exchange_clients.contract.binance_harness", fromlist=["_"]
    ).aster_harness(),
    "aster_v3": lambda: __import__(  # lazy, as above
        "tests.exchange_clients.contract.binance_harness", fromlist=["_"]
    ).aster_v3_harness(),
    "ccxt_binanceusdm": lambda: __import__(  # lazy, as above
        "tests.exchange_clients.contract.ccxt_harness", fromlist=["_"]
    ).ccxt_harness(),
}
