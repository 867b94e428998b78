"""The paper venue's ``quote``: one request answering what the base class's three reads (funding
rate, best bid/ask, fees) answer, with their errors, their latency and their writes."""

from __future__ import annotations

import asyncio

import pytest

from core.clock import ManualClock
from core.errors import UnknownSymbol, VenueUnavailable
from exchange_clients.base import BaseExchangeClient
from exchange_clients.paper import FaultPlan, PaperExchangeClient
from exchange_clients.paper.engine import PaperEngine
from exchange_clients.types import FundingRate
from tests.exchange_clients.paper.feeds import ScriptedFeed
from tests.exchange_clients.paper.helpers import SYMBOL, D


async def _one_by_one(client: PaperExchangeClient) -> tuple[object, ...]:
    return (
        await client.funding_rate(SYMBOL),
        *(await client.best_bid_ask(SYMBOL)),
        await client.fees(SYMBOL),
    )


async def test_a_quote_is_the_three_reads(client: PaperExchangeClient, feed: ScriptedFeed) -> None:
    assert await client.quote(SYMBOL) == await _one_by_one(client)
    feed.move(bids=((D("99.7"), D("1")),))
    await feed.settled()
    quote = await client.quote(SYMBOL)
    assert quote[1:3] == (D("99.7"), D("100.0"))
    assert quote == await _one_by_one(client)


async def test_a_quote_raises_what_the_reads_raise(
    client: PaperExchangeClient, feed: ScriptedFeed
) -> None:
    with pytest.raises(UnknownSymbol, match="'ETH'"):
        await client.quote("ETH")
    feed.move(bids=((D("99.5"), D("0")), (D("99.0"), D("0")), (D("98.5"), D("0"))))
    await feed.settled()
    with pytest.raises(VenueUnavailable, match="empty on one side"):
        await client.quote(SYMBOL)
    client.faults = FaultPlan(disconnected=True)
    with pytest.raises(VenueUnavailable, match="connection lost"):
        await client.quote(SYMBOL)


async def test_with_latency_a_quote_waits_for_each_read_it_makes(
    client: PaperExchangeClient, clock: ManualClock
) -> None:
    client.faults = FaultPlan(latency=2.0)
    quote = asyncio.create_task(client.quote(SYMBOL))
    await asyncio.sleep(0)
    await clock.advance(2.0)  # the funding rate's request
    await asyncio.sleep(0)
    assert not quote.done()
    await clock.advance(2.0)  # the book's
    funding, bid, ask, fees = await quote
    assert (bid, ask, fees) == (D("99.5"), D("100.0"), await client.fees(SYMBOL))
    assert isinstance(funding, FundingRate)


async def test_what_the_funding_read_leaves_to_write_is_written_before_the_book_is_read(
    client: PaperExchangeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the base class's second request would: the book is read by a request of its own."""
    read = client._funding_rate

    def changing(engine: PaperEngine, symbol: str) -> FundingRate:
        engine.set_leverage(symbol, D(3))  # something to write, as a loaded book's fill is
        return read(engine, symbol)

    monkeypatch.setattr(client, "_funding_rate", changing)
    requests = 0
    request = client._request

    async def counted() -> PaperEngine:
        nonlocal requests
        requests += 1
        engine = await request()
        assert not engine.has_changes  # written before it answers
        return engine

    monkeypatch.setattr(client, "_request", counted)
    quote = await client.quote(SYMBOL)
    assert requests == 2
    monkeypatch.undo()
    assert quote == await BaseExchangeClient.quote(client, SYMBOL)
