"""A paper client whose background work dies says so at once and stops serving.

The feed consumer and the funding settlement run under the client's task supervisor: a task
that raises is logged with its name, the venue goes "down" (every request raises
``VenueUnavailable`` naming what failed) and ``disconnect()`` + ``connect()`` start afresh.
"""

from __future__ import annotations

import asyncio

import pytest
from structlog.testing import capture_logs

from core.clock import ManualClock
from core.errors import VenueUnavailable
from exchange_clients.market_data.events import TradeEvent
from exchange_clients.paper.client import PaperExchangeClient
from exchange_clients.types import FundingRate
from tests.exchange_clients.paper.clients import paper_client
from tests.exchange_clients.paper.feeds import ScriptedFeed
from tests.exchange_clients.paper.helpers import SYMBOL, D


class FundingOutage(ScriptedFeed):
    """The scripted feed, whose funding read raises once ``broken`` (a feed bug, say)."""

    broken = False

    def funding(self, symbol: str) -> FundingRate:
        if self.broken:
            raise RuntimeError("funding source lost")
        return super().funding(symbol)


def client_tasks() -> set[str]:
    return {t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("paper:")}


async def test_a_dead_feed_consumer_is_logged_by_name_and_takes_the_venue_down(
    client: PaperExchangeClient, feed: ScriptedFeed, clock: ManualClock
) -> None:
    assert client.failure is None
    assert client_tasks() == {"paper:feed", "paper:funding"}
    with capture_logs() as logs:
        # A symbol the venue does not list: the engine cannot follow, the consumer raises.
        feed.push(TradeEvent("paper", "DOGE", clock.now(), D("1"), D("1"), "buy", "x"))
        await feed.settled()
        for _ in range(3):
            await asyncio.sleep(0)  # the supervisor's done-callback
    failed = [e for e in logs if e["event"] == "background task failed"]
    assert [(e["component"], e["task"]) for e in failed] == [("paper", "feed")]
    assert any(e["event"].startswith("paper venue down") and e["task"] == "feed" for e in logs)
    assert client.failure is not None
    assert client.failure.startswith("the market data feed failed: ")
    with pytest.raises(VenueUnavailable, match="market data feed failed"):
        await client.balance()
    with pytest.raises(VenueUnavailable, match="market data feed failed"):
        await client.place_market_order(SYMBOL, "buy", D("1"), client_order_id="after")
    assert client_tasks() == {"paper:funding"}  # the other task still runs until disconnect

    await client.disconnect()
    assert client_tasks() == set()  # nothing outlives the client
    await client.connect()  # afresh: a new consumer over the feed
    await feed.settled()
    assert client.failure is None
    assert (await client.balance()).wallet == D("10000")


async def test_a_dead_funding_settlement_takes_the_venue_down(clock: ManualClock) -> None:
    """Before supervision this task died unseen and the account silently stopped paying and
    receiving funding; now the next request says so."""
    feed = FundingOutage(clock)
    client = paper_client(feed)
    await client.connect()
    await feed.settled()
    try:
        await client.place_market_order(SYMBOL, "buy", D("1"), client_order_id="long")
        feed.broken = True
        with capture_logs() as logs:
            await clock.advance(3600)  # the funding time: settlement reads the feed and dies
            for _ in range(3):
                await asyncio.sleep(0)
        assert [e["task"] for e in logs if e["event"] == "background task failed"] == ["funding"]
        with pytest.raises(
            VenueUnavailable, match=r"funding settlement failed: RuntimeError\('funding source"
        ):
            await client.positions()
    finally:
        await client.disconnect()
    assert client_tasks() == set()
