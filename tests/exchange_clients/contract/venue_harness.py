"""What the contract suite drives: a connected client plus a way to let venue time pass.

Each venue provides a harness factory (one module per venue in this package): the paper
venue on a manual clock over the synthetic market, real venues through their fake servers
on real time. Tests only use what is here, so adding a venue means adding one factory to
:data:`tests.exchange_clients.contract.harness.HARNESSES`.

``move_mark`` (optional) moves the venue's mark price (and its book with it) to a price, so
the trigger-order tests can see a resting STOP_MARKET fire. A harness whose fake cannot move
the mark leaves it ``None`` and that one test is skipped, saying so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeVar

from exchange_clients.base import BaseExchangeClient
from exchange_clients.streams import Subscription

T = TypeVar("T")

# Guards against a hung stream; not a performance assertion.
EVENT_TIMEOUT_SECONDS = 10.0


@dataclass
class VenueHarness:
    client: BaseExchangeClient
    symbol: str
    now: Callable[[], datetime]
    advance: Callable[[float], Awaitable[None]]
    move_mark: Callable[[str, Decimal], Awaitable[None]] | None = None
    """``move_mark(symbol, price)``: the venue's mark (and book) go to ``price`` from now on."""

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


def utc_now() -> datetime:
    """A fake venue's "now": the real clock (fakes run on real time)."""
    return datetime.now(UTC)


async def let_the_fake_run(seconds: float) -> None:
    """Real time passes by itself for a fake venue; just let its messages arrive."""
    await asyncio.sleep(0.01)
