"""Nonces: many orders at once never collide; a nonce error resyncs and retries exactly once."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from core.errors import ExchangeError
from exchange_clients.lighter.nonces import NonceManager
from exchange_clients.types import OrderStatus
from tests.exchange_clients.lighter.helpers import ACCOUNT, API_KEY, connected, new_fake

D = Decimal
CONCURRENT_ORDERS = 60


async def test_concurrent_orders_get_strictly_increasing_nonces_and_no_rejection() -> None:
    async with new_fake() as fake:
        fake.accounts[ACCOUNT].nonces[API_KEY] = 17  # the key has been used before
        async with connected(fake) as client:
            orders = await asyncio.gather(
                *(
                    client.place_limit_order(
                        "BTC", "buy", D("0.001"), D(50_000) - i, client_order_id=f"burst-{i:03d}"
                    )
                    for i in range(CONCURRENT_ORDERS)
                )
            )
            assert all(o.status is OrderStatus.OPEN for o in orders)
            assert fake.rejections == []
            accepted = fake.accepted_nonces[(ACCOUNT, API_KEY)]
            assert accepted == list(range(17, 17 + CONCURRENT_ORDERS))
            assert list(client.nonces.issued) == accepted
            assert client.nonces.resyncs == 0
            assert len(await client.open_orders("BTC")) == CONCURRENT_ORDERS


async def test_invalid_nonce_resyncs_from_next_nonce_and_retries_once() -> None:
    async with new_fake() as fake, connected(fake) as client:
        await client.place_limit_order("BTC", "buy", D("0.001"), D(50_000), client_order_id="a")
        fake.bump_nonce(ACCOUNT, API_KEY, by=5)  # another process used the key meanwhile
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.001"), D(50_001), client_order_id="b"
        )
        assert placed.status is OrderStatus.OPEN
        assert [code for code, _ in fake.rejections] == [21104]
        assert client.nonces.resyncs == 1
        assert fake.accepted_nonces[(ACCOUNT, API_KEY)] == [0, 6]
        assert [o.client_order_id for o in await client.open_orders("BTC")] == ["a", "b"]


async def test_a_second_nonce_error_is_not_retried_again() -> None:
    async with new_fake() as fake, connected(fake) as client:
        fake.fail_nonce_next(2)
        with pytest.raises(ExchangeError, match="invalid nonce"):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(50_000), client_order_id="twice-refused"
            )
        assert [code for code, _ in fake.rejections] == [21104, 21104]
        assert await client.open_orders("BTC") == []
        # Nothing was consumed: the id is free and the next order uses the venue's nonce.
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.001"), D(50_000), client_order_id="twice-refused"
        )
        assert placed.status is OrderStatus.OPEN
        assert fake.accepted_nonces[(ACCOUNT, API_KEY)] == [0]


async def test_a_refused_transaction_gives_its_nonce_back() -> None:
    served = iter([10])

    async def fetch() -> int:
        return next(served)

    manager = NonceManager(1, 2, fetch)
    async with manager.hold() as lease:
        assert lease.take() == [10]
        lease.give_back()
    async with manager.hold() as lease:
        assert lease.take(3) == [10, 11, 12]
    assert manager.peek == 13


async def test_an_unknown_outcome_keeps_the_nonce_used() -> None:
    async def fetch() -> int:
        return 0

    manager = NonceManager(1, 2, fetch)

    async def send_and_time_out() -> None:
        async with manager.hold() as lease:
            lease.take()
            raise TimeoutError

    with pytest.raises(TimeoutError):
        await send_and_time_out()
    assert manager.peek == 1  # the venue may have it: a later "invalid nonce" resyncs
