"""Shared set-up for the Paradex client tests: a key, a client on the fake, event waits."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from core.redaction import Secret
from exchange_clients.paradex import signing, starkcurve
from exchange_clients.paradex.client import ParadexClient
from exchange_clients.types import ClientSettings
from testing.fakes.paradex import ACCOUNT_CLASS_HASH, PROXY_CLASS_HASH, FakeParadex
from tests.exchange_clients.waiting import next_event, until  # noqa: F401 - shared waits

L1_KEY = "0x" + "3c" * 32


def settings(fake: FakeParadex, key: str | None = L1_KEY, **options: Any) -> ClientSettings:
    return ClientSettings(
        venue="paradex",
        testnet=True,
        secrets={"l1_private_key": Secret(key)} if key is not None else {},
        options={"base_url": fake.base_url, "ws_url": fake.ws_url, **options},
    )


@asynccontextmanager
async def connected(
    fake: FakeParadex, key: str | None = L1_KEY, **options: Any
) -> AsyncIterator[ParadexClient]:
    client = ParadexClient(settings(fake, key, **options))
    await client.connect()
    try:
        yield client
    finally:
        await client.disconnect()


def signer_for(fake: FakeParadex, key: str = L1_KEY) -> signing.StarkSigner:
    """The Stark signer the client derives from ``key`` on ``fake``'s chains."""
    stark = signing.derive_stark_private_key(key, fake.l1_chain_id)
    public = starkcurve.public_key(stark)
    address = signing.account_address(public, ACCOUNT_CLASS_HASH, PROXY_CLASS_HASH)
    return signing.StarkSigner(stark, address, fake.starknet_chain)
