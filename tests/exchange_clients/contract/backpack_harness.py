"""Contract harness for Backpack: the real client against the fake venue over HTTP and
WebSockets, every request ED25519-signed and verified by the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.redaction import Secret
from exchange_clients.factory import create_client
from exchange_clients.types import ClientSettings
from testing.fakes.backpack import FakeBackpack, keypair
from tests.exchange_clients.contract.venue_harness import VenueHarness, let_the_fake_run, utc_now

API_KEY, API_SECRET = keypair(bytes(range(32)))


@asynccontextmanager
async def backpack_harness() -> AsyncIterator[VenueHarness]:
    async with FakeBackpack() as fake:
        fake.add_account(API_KEY)
        client = create_client(
            ClientSettings(
                venue="backpack",
                secrets={"api_key": Secret(API_KEY), "api_secret": Secret(API_SECRET)},
                options={"base_url": fake.base_url, "ws_url": fake.ws_url},
            )
        )
        await client.connect()
        try:
            yield VenueHarness(
                client=client,
                symbol="BTC",
                now=utc_now,
                advance=let_the_fake_run,
                move_mark=lambda symbol, price: fake.set_mark_price(f"{symbol}_USDC_PERP", price),
            )
        finally:
            await client.disconnect()
