"""Contract harness for Paradex: the real client against the fake venue over HTTP and the
JSON-RPC WebSocket, every auth request and order Stark-signed and verified by the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.redaction import Secret
from exchange_clients.factory import create_client
from exchange_clients.types import ClientSettings
from testing.fakes.paradex import FakeParadex
from tests.exchange_clients.contract.venue_harness import VenueHarness, let_the_fake_run, utc_now

L1_PRIVATE_KEY = "0x" + "11" * 32


@asynccontextmanager
async def paradex_harness() -> AsyncIterator[VenueHarness]:
    async with FakeParadex() as fake:
        fake.decision_delay = 0.02  # orders answered NEW and decided after, as on Paradex
        client = create_client(
            ClientSettings(
                venue="paradex",
                testnet=True,
                secrets={"l1_private_key": Secret(L1_PRIVATE_KEY)},
                options={"base_url": fake.base_url, "ws_url": fake.ws_url},
            )
        )
        await client.connect()  # onboards the account on the fake, then takes a JWT
        try:
            yield VenueHarness(
                client=client,
                symbol="BTC",
                now=utc_now,
                advance=let_the_fake_run,
                move_mark=lambda symbol, price: fake.set_mark_price(f"{symbol}-USD-PERP", price),
            )
        finally:
            await client.disconnect()
