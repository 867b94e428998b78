"""Contract harness for the generic ccxt client: ccxt's own ``binanceusdm`` class, re-hosted onto
the fake Binance server (real HTTP, real HMAC signatures checked by the fake, ccxt.pro's
WebSocket user stream)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.redaction import Secret
from exchange_clients.factory import create_client
from exchange_clients.types import ClientSettings
from testing.fakes.binance import FakeBinance
from tests.exchange_clients.contract.venue_harness import VenueHarness, let_the_fake_run, utc_now

API_KEY = "ccxt-contract-key-0123456789"
API_SECRET = "ccxt-contract-secret-0123456789"


def ccxt_settings(fake: FakeBinance, **options: object) -> ClientSettings:
    return ClientSettings(
        venue="ccxt_binanceusdm",
        secrets={"api_key": Secret(API_KEY), "api_secret": Secret(API_SECRET)},
        options={"base_url": fake.base_url, "ws_url": fake.ws_url, **options},
    )


@asynccontextmanager
async def ccxt_harness() -> AsyncIterator[VenueHarness]:
    async with FakeBinance() as fake:
        fake.add_account(api_key=API_KEY, api_secret=API_SECRET)
        client = create_client(ccxt_settings(fake))
        await client.connect()
        try:
            yield VenueHarness(
                client=client,
                symbol="BTC",
                now=utc_now,
                advance=let_the_fake_run,
                move_mark=lambda symbol, price: fake.move_price(f"{symbol}USDT", price),
            )
        finally:
            await client.disconnect()
