"""The contract suite through the real Hyperliquid client against the fake venue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

from eth_account import Account

from core.redaction import Secret
from exchange_clients.factory import create_client
from exchange_clients.types import ClientSettings
from testing.fakes.hyperliquid import FakeHyperliquid
from tests.exchange_clients.contract.venue_harness import VenueHarness, let_the_fake_run, utc_now

HARNESS_KEY = "0x" + "5a" * 32


@asynccontextmanager
async def hyperliquid_harness() -> AsyncIterator[VenueHarness]:
    address = Account.from_key(HARNESS_KEY).address
    async with FakeHyperliquid(accounts={address: Decimal(100_000)}) as fake:
        client = create_client(
            ClientSettings(
                venue="hyperliquid",
                secrets={"private_key": Secret(HARNESS_KEY)},
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
                move_mark=fake.move_to,
            )
        finally:
            await client.disconnect()
