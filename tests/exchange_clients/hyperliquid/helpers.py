"""Shared set-up for the Hyperliquid client tests: keys, a client on the fake, event waits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from eth_account import Account

from core.redaction import Secret
from exchange_clients.hyperliquid.client import HyperliquidClient
from exchange_clients.types import ClientSettings
from testing.fakes.hyperliquid import FakeHyperliquid
from tests.exchange_clients.waiting import GUARD_SECONDS as GUARD_SECONDS  # shared waits
from tests.exchange_clients.waiting import next_event as next_event
from tests.exchange_clients.waiting import settle as settle
from tests.exchange_clients.waiting import until as until

OWNER_KEY = "0x" + "11" * 32
AGENT_KEY = "0x" + "22" * 32
STRANGER_KEY = "0x" + "33" * 32
OWNER = Account.from_key(OWNER_KEY).address.lower()
AGENT = Account.from_key(AGENT_KEY).address.lower()
STRANGER = Account.from_key(STRANGER_KEY).address.lower()
VAULT = "0x1719884eb866cb12b2287399b15f7db5e7d775ea"


def settings(fake: FakeHyperliquid, key: str = OWNER_KEY, **options: Any) -> ClientSettings:
    public = {
        name: str(options.pop(name))
        for name in ("account_address", "vault_address")
        if name in options
    }
    testnet = bool(options.pop("testnet", False))
    return ClientSettings(
        venue="hyperliquid",
        testnet=testnet,
        public=public,
        secrets={"private_key": Secret(key)},
        options={"base_url": fake.base_url, "ws_url": fake.ws_url, **options},
    )


@asynccontextmanager
async def connected(
    fake: FakeHyperliquid, key: str = OWNER_KEY, **options: Any
) -> AsyncIterator[HyperliquidClient]:
    client = HyperliquidClient(settings(fake, key, **options))
    await client.connect()
    try:
        yield client
    finally:
        await client.disconnect()


def new_fake(**kwargs: Any) -> FakeHyperliquid:
    kwargs.setdefault("accounts", {OWNER: Decimal(100_000)})
    return FakeHyperliquid(**kwargs)
