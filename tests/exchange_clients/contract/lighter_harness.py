"""The contract suite through the real Lighter client (native signer) against the fake venue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.redaction import Secret
from exchange_clients.factory import create_client
from exchange_clients.types import ClientSettings
from testing.fakes.lighter import FakeLighter
from tests.exchange_clients.contract.venue_harness import VenueHarness, let_the_fake_run, utc_now

HARNESS_KEY = "0x" + "3c" * 40  # a 40-byte Lighter API private key (any 40 bytes sign)
ACCOUNT_INDEX = 7001
API_KEY_INDEX = 3


@asynccontextmanager
async def lighter_harness() -> AsyncIterator[VenueHarness]:
    async with FakeLighter() as fake:
        fake.add_account(ACCOUNT_INDEX, API_KEY_INDEX)
        client = create_client(
            ClientSettings(
                venue="lighter",
                public={"account_index": str(ACCOUNT_INDEX), "api_key_index": str(API_KEY_INDEX)},
                secrets={"api_key_private_key": Secret(HARNESS_KEY)},
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
                move_mark=fake.set_mark,
            )
        finally:
            await client.disconnect()
