"""Quotes carry each venue's own fees and liquidity: ``fees(symbol)`` (taker and maker) and
``market_stats()`` (read once per venue per scan), through the real paper clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest

from core.clock import ManualClock
from core.errors import VenueUnavailable
from exchange_clients.base import BaseExchangeClient
from exchange_clients.factory import create_client
from exchange_clients.paper.profiles import DEFAULT_OPEN_INTEREST_USD, PROFILES
from exchange_clients.types import ClientSettings, MarketStats
from strategies.funding_arbitrage.quotes import collect_quotes

START = datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC)
VENUES = ("paper_a", "paper_b")
StatsReader = Callable[[], Awaitable[dict[str, MarketStats]]]


@pytest.fixture
async def clients() -> AsyncIterator[dict[str, BaseExchangeClient]]:
    clock = ManualClock(START)
    built = {
        venue: create_client(ClientSettings(venue=venue, options={"clock": clock, "store": None}))
        for venue in VENUES
    }
    for client in built.values():
        await client.connect()
    await clock.advance(1)
    try:
        yield built
    finally:
        for client in built.values():
            await client.disconnect()


async def test_quotes_carry_each_venues_fees_and_liquidity(
    clients: dict[str, BaseExchangeClient],
) -> None:
    quotes = await collect_quotes(clients, ["BTC", "ETH"])
    assert sorted((q.venue, q.symbol) for q in quotes) == [
        (venue, symbol) for venue in VENUES for symbol in ("BTC", "ETH")
    ]
    for quote in quotes:
        profile = PROFILES[quote.venue]
        assert (quote.taker_fee, quote.maker_fee) == (profile.taker_fee, profile.maker_fee)
        stats = (await clients[quote.venue].market_stats())[quote.symbol]
        assert quote.volume_24h_usd == stats.volume_24h_usd
        assert quote.volume_24h_usd is not None
        assert quote.volume_24h_usd > 0
        assert quote.open_interest_usd == DEFAULT_OPEN_INTEREST_USD[quote.symbol]
    by_venue = {q.venue: q for q in quotes if q.symbol == "BTC"}
    assert by_venue["paper_a"].taker_fee < by_venue["paper_b"].taker_fee  # not one flat fee


async def test_market_stats_are_read_once_per_venue_per_scan(
    clients: dict[str, BaseExchangeClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []

    def counting(venue: str, read: StatsReader) -> StatsReader:
        async def counted() -> dict[str, MarketStats]:
            calls.append(venue)
            return await read()

        return counted

    for venue, client in clients.items():
        monkeypatch.setattr(client, "market_stats", counting(venue, client.market_stats))
    quotes = await collect_quotes(clients)  # every market: four symbols per venue
    assert len(quotes) == 8
    assert sorted(calls) == sorted(VENUES)


async def test_a_venue_without_stats_is_quoted_without_volume_or_open_interest(
    clients: dict[str, BaseExchangeClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unavailable() -> dict[str, MarketStats]:
        raise VenueUnavailable("ticker endpoint down", venue="paper_b")

    monkeypatch.setattr(clients["paper_b"], "market_stats", unavailable)
    quotes = await collect_quotes(clients, ["BTC"])
    figures = {q.venue: (q.volume_24h_usd, q.open_interest_usd) for q in quotes}
    assert figures["paper_b"] == (None, None)
    assert None not in figures["paper_a"]
