"""Contract harness for GRVT: the real client against the fake venue over HTTP and WebSockets,
logged in with an API key and every order's EIP-712 signature recovered by the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.redaction import Secret
from exchange_clients.factory import create_client
from exchange_clients.types import ClientSettings
from testing.fakes.grvt import FakeGrvt
from tests.exchange_clients.contract.venue_harness import VenueHarness, let_the_fake_run, utc_now

API_KEY = "grvt-contract-api-key"
PRIVATE_KEY = "0x" + "5a" * 32
SUB_ACCOUNT_ID = "2025120300001"


@asynccontextmanager
async def grvt_harness() -> AsyncIterator[VenueHarness]:
    async with FakeGrvt() as fake:
        fake.add_api_key(API_KEY, PRIVATE_KEY, [SUB_ACCOUNT_ID])
        client = create_client(
            ClientSettings(
                venue="grvt",
                testnet=True,
                public={"sub_account_id": SUB_ACCOUNT_ID},
                secrets={"api_key": Secret(API_KEY), "private_key": Secret(PRIVATE_KEY)},
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
                move_mark=lambda symbol, price: fake.set_mark_price(f"{symbol}_USDT_Perp", price),
            )
        finally:
            await client.disconnect()
