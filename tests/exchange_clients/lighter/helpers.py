"""Shared set-up for the Lighter client tests: a key, a client on the fake, event waits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from core.redaction import Secret
from exchange_clients.lighter.client import LighterClient
from exchange_clients.types import ClientSettings
from testing.fakes.lighter import FakeLighter
from tests.exchange_clients.waiting import GUARD_SECONDS, next_event, settle, until  # noqa: F401 - shared waits

KEY = "0x" + "5e" * 40  # a Lighter API private key is 40 bytes
ACCOUNT = 4242
API_KEY = 5


def settings(
    fake: FakeLighter,
    key: str = KEY,
    *,
    account: int = ACCOUNT,
    api_key: int = API_KEY,
    **options: Any,
) -> ClientSettings:
    return ClientSettings(
        venue="lighter",
        public={"account_index": str(account), "api_key_index": str(api_key)},
        secrets={"api_key_private_key": Secret(key)},
        options={"base_url": fake.base_url, "ws_url": fake.ws_url, **options},
    )


@asynccontextmanager
async def connected(
    fake: FakeLighter, key: str = KEY, **options: Any
) -> AsyncIterator[LighterClient]:
    client = LighterClient(settings(fake, key, **options))
    await client.connect()
    try:
        yield client
    finally:
        await client.disconnect()


def new_fake(**kwargs: Any) -> FakeLighter:
    fake = FakeLighter(**kwargs)
    fake.add_account(ACCOUNT, API_KEY)
    return fake
