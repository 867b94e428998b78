"""A paper venue over a live public source, and the waits the live-feed tests share.

Each venue's public-feed tests (tests/exchange_clients/<venue>/test_public_feed.py) build a
paper client on that venue's source pointed at its fake, then watch the paper book follow the
fake's scripted book. Waits are bounded by ``GUARD`` so a broken feed fails instead of hanging;
it is not a speed assertion.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal

from exchange_clients.factory import create_client
from exchange_clients.market_data.live import LiveFeed, PublicSource
from exchange_clients.paper.client import PaperExchangeClient
from exchange_clients.types import ClientSettings

GUARD = 10.0


def live_paper(source: PublicSource, venue: str = "paper") -> PaperExchangeClient:
    client = create_client(
        ClientSettings(
            venue=venue,
            options={"feed": LiveFeed(source), "store": None, "initial_balance": "1000000"},
        )
    )
    assert isinstance(client, PaperExchangeClient)
    return client


async def eventually(condition: Callable[[], object]) -> None:
    async def wait() -> None:
        while not condition():  # noqa: ASYNC110 - a condition on other tasks, polled
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), GUARD)


async def until(probe: Callable[[], Awaitable[object]], expected: object) -> None:
    """Poll ``probe`` until it answers ``expected`` (the feed task moves it)."""

    async def wait() -> None:
        while await probe() != expected:  # noqa: ASYNC110 - the feed task moves it
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), GUARD)


async def best_bid(client: PaperExchangeClient, symbol: str) -> Decimal | None:
    return (await client.order_book(symbol, depth=1)).best_bid


async def best_ask(client: PaperExchangeClient, symbol: str) -> Decimal | None:
    return (await client.order_book(symbol, depth=1)).best_ask
