"""Contract harness for EdgeX: the real client against the fake venue over HTTP and both
WebSockets; every private request's HMAC headers and every order's EIP-712 signature are
verified by the fake (the signer is recovered and compared with the account's trading key)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.redaction import Secret
from exchange_clients.factory import create_client
from exchange_clients.types import ClientSettings
from testing.fakes.edgex import FakeEdgex
from tests.exchange_clients.contract.venue_harness import VenueHarness, let_the_fake_run, utc_now

ACCOUNT_ID = "543429922991899150"
API_KEY = "edgex-contract-key"
API_SECRET = "edgex-contract-secret"
PASSPHRASE = "edgex-contract-pass"
TRADING_KEY = "0x" + "1f" * 32
CONTRACT_OF = {"BTC": "10000001", "ETH": "10000002"}


def edgex_settings(fake: FakeEdgex, **options: object) -> ClientSettings:
    return ClientSettings(
        venue="edgex",
        public={"account_id": ACCOUNT_ID},
        secrets={
            "api_key": Secret(API_KEY),
            "api_secret": Secret(API_SECRET),
            "api_passphrase": Secret(PASSPHRASE),
            "trading_private_key": Secret(TRADING_KEY),
        },
        options={"base_url": fake.base_url, "ws_url": fake.ws_url, **options},
    )


def add_account(fake: FakeEdgex) -> None:
    fake.add_account(
        ACCOUNT_ID,
        api_key=API_KEY,
        api_secret=API_SECRET,
        passphrase=PASSPHRASE,
        trading_private_key=TRADING_KEY,
    )


@asynccontextmanager
async def edgex_harness() -> AsyncIterator[VenueHarness]:
    async with FakeEdgex() as fake:
        add_account(fake)
        client = create_client(edgex_settings(fake))
        await client.connect()
        try:
            yield VenueHarness(
                client=client,
                symbol="BTC",
                now=utc_now,
                advance=let_the_fake_run,
                move_mark=lambda symbol, price: fake.set_oracle_price(CONTRACT_OF[symbol], price),
            )
        finally:
            await client.disconnect()
