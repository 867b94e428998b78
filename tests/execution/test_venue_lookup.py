"""An order the venue knows by its venue id only - one placed by another program and adopted
under the id the venue client made of it - is found and cancelled by that id, on the
Hyperliquid fake (whose client hashes every client id into a cloid, so the adopted id cannot
be looked up as one); a caller that asks repeatedly asks by venue id at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import pytest

from core.errors import OrderNotFound
from exchange_clients.hyperliquid.client import HyperliquidClient
from exchange_clients.types import OrderStatus
from execution.venue_lookup import cancel_on_venue, order_on_venue
from testing.fakes.hyperliquid import FakeHyperliquid
from tests.exchange_clients.hyperliquid.helpers import OWNER, connected

SIZE = Decimal("0.002")


@dataclass
class Foreign:
    fake: FakeHyperliquid
    bot: HyperliquidClient
    client_id: str  # what the bot's client calls the other program's order
    venue_id: str

    def lookups(self) -> int:
        return sum(1 for request in self.fake.requests if request == ("/info", "orderStatus"))


@pytest.fixture
async def foreign() -> AsyncIterator[Foreign]:
    async with (
        FakeHyperliquid(accounts={OWNER: Decimal(100_000)}) as fake,
        connected(fake) as bot,
        connected(fake) as other_program,
    ):
        bid, _ = await bot.best_bid_ask("BTC")
        _, price = await bot.prepare_limit("BTC", "buy", SIZE, bid * Decimal("0.95"))
        await other_program.place_limit_order("BTC", "buy", SIZE, price, client_order_id="theirs")
        [seen] = await bot.open_orders("BTC")
        assert seen.venue_order_id is not None
        yield Foreign(fake, bot, seen.client_order_id, seen.venue_order_id)


async def test_the_venue_does_not_know_the_adopted_id_as_a_client_id(foreign: Foreign) -> None:
    with pytest.raises(OrderNotFound):
        await foreign.bot.order_status("BTC", client_order_id=foreign.client_id)
    with pytest.raises(OrderNotFound):  # and without the venue id there is nothing else to ask
        await order_on_venue(foreign.bot, "BTC", foreign.client_id, None)


async def test_found_by_venue_id_under_the_journals_client_id(foreign: Foreign) -> None:
    order = await order_on_venue(foreign.bot, "BTC", "journal-name", foreign.venue_id)
    assert (order.client_order_id, order.venue_order_id) == ("journal-name", foreign.venue_id)
    assert (order.status, order.size) == (OrderStatus.OPEN, SIZE)


async def test_a_repeated_asker_pays_one_request_once_it_knows(foreign: Foreign) -> None:
    known: set[str] = set()
    before = foreign.lookups()
    await order_on_venue(foreign.bot, "BTC", foreign.client_id, foreign.venue_id, by_venue_id=known)
    assert (foreign.lookups() - before, known) == (2, {foreign.client_id})
    before = foreign.lookups()
    await order_on_venue(foreign.bot, "BTC", foreign.client_id, foreign.venue_id, by_venue_id=known)
    assert foreign.lookups() - before == 1


async def test_cancelled_by_venue_id(foreign: Foreign) -> None:
    order = await cancel_on_venue(foreign.bot, "BTC", foreign.client_id, foreign.venue_id)
    assert (order.client_order_id, order.status) == (foreign.client_id, OrderStatus.CANCELLED)
    assert await foreign.bot.open_orders("BTC") == []


async def test_neither_id_known_is_not_found(foreign: Foreign) -> None:
    with pytest.raises(OrderNotFound):
        await order_on_venue(foreign.bot, "BTC", "nobody-1-1", "987654321")
    with pytest.raises(OrderNotFound):
        await cancel_on_venue(foreign.bot, "BTC", "nobody-1-1", "987654321")
