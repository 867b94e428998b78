"""Contract harnesses for the Binance-style venues: Binance, Aster (HMAC) and Aster (v3 API
wallet), each client talking to its fake server over real HTTP and WebSockets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from eth_account import Account

from core.redaction import Secret
from exchange_clients.factory import create_client
from exchange_clients.types import ClientSettings
from testing.fakes.aster import FakeAster
from testing.fakes.binance import FakeBinance
from testing.fakes.binance_style import FakeBinanceStyle
from tests.exchange_clients.contract.venue_harness import VenueHarness, let_the_fake_run, utc_now

API_KEY = "contract-api-key-0123456789"
API_SECRET = "contract-api-secret-0123456789"
SIGNER_KEY = "0x" + "4c" * 32


@asynccontextmanager
async def _run(fake: FakeBinanceStyle, settings: ClientSettings) -> AsyncIterator[VenueHarness]:
    async with fake:
        client = create_client(
            ClientSettings(
                venue=settings.venue,
                public=settings.public,
                secrets=settings.secrets,
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
                move_mark=lambda symbol, price: fake.move_price(f"{symbol}USDT", price),
            )
        finally:
            await client.disconnect()


def _hmac(venue: str) -> ClientSettings:
    return ClientSettings(
        venue=venue, secrets={"api_key": Secret(API_KEY), "api_secret": Secret(API_SECRET)}
    )


@asynccontextmanager
async def binance_harness() -> AsyncIterator[VenueHarness]:
    fake = FakeBinance()
    fake.add_account(api_key=API_KEY, api_secret=API_SECRET)
    async with _run(fake, _hmac("binance")) as harness:
        yield harness


@asynccontextmanager
async def aster_harness() -> AsyncIterator[VenueHarness]:
    fake = FakeAster()
    fake.add_account(api_key=API_KEY, api_secret=API_SECRET)
    async with _run(fake, _hmac("aster")) as harness:
        yield harness


@asynccontextmanager
async def aster_v3_harness() -> AsyncIterator[VenueHarness]:
    signer = Account.from_key(SIGNER_KEY).address
    user = "0x63DD5aCC6b1aa0f563956C0e534DD30B6dcF7C4e"
    fake = FakeAster()
    fake.add_account(user=user, signer=signer)
    settings = ClientSettings(
        venue="aster",
        public={"user": user, "signer": signer},
        secrets={"signer_private_key": Secret(SIGNER_KEY)},
    )
    async with _run(fake, settings) as harness:
        yield harness
