"""REST faults: 429 + Retry-After, 5xx on reads (retried) and on orders (outcome unknown ->
RequestTimeout, resolved by client order id), slow answers (RequestTimeout)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import DuplicateClientOrderId, RequestTimeout
from exchange_clients.types import OrderStatus
from tests.exchange_clients.lighter.helpers import ACCOUNT, API_KEY, connected, new_fake

D = Decimal


async def test_throttled_transactions_wait_for_retry_after_and_land_once() -> None:
    async with new_fake() as fake, connected(fake) as client:
        fake.throttle_next(2, retry_after=0.05)
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.001"), D(59_000), client_order_id="throttled"
        )
        assert placed.status is OrderStatus.OPEN
        assert fake.requests.count("sendTx") == 3  # two 429s (never processed) + the real one
        assert fake.accepted_nonces[(ACCOUNT, API_KEY)] == [0]
        assert len(fake.orders) == 1


async def test_a_5xx_on_a_read_is_retried() -> None:
    async with new_fake() as fake, connected(fake) as client:
        fake.fail_next(2, status=502)
        assert (await client.balance()).wallet == D(100_000)


async def test_a_5xx_after_an_order_landed_is_a_timeout_resolved_by_client_id() -> None:
    async with new_fake() as fake, connected(fake) as client:
        fake.fail_next(1, status=502, after_processing=True)
        with pytest.raises(RequestTimeout, match="outcome unknown"):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59_000), client_order_id="unknown-outcome"
            )
        found = await client.order_status("BTC", client_order_id="unknown-outcome")
        assert (found.status, found.size, found.price) == (OrderStatus.OPEN, D("0.001"), D(59_000))
        with pytest.raises(DuplicateClientOrderId):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59_000), client_order_id="unknown-outcome"
            )
        # The kept nonce was really used: the next order needs no resync.
        await client.place_limit_order("BTC", "buy", D("0.001"), D(58_000), client_order_id="next")
        assert client.nonces.resyncs == 0
        assert len(fake.orders) == 2


async def test_a_5xx_before_processing_costs_one_resync_and_nothing_else() -> None:
    async with new_fake() as fake, connected(fake) as client:
        fake.fail_next(1, status=503)
        with pytest.raises(RequestTimeout):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59_000), client_order_id="lost"
            )
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.001"), D(58_000), client_order_id="after-lost"
        )
        assert placed.status is OrderStatus.OPEN
        assert client.nonces.resyncs == 1  # the unknown nonce was never used: resynced once
        assert fake.accepted_nonces[(ACCOUNT, API_KEY)] == [0]


async def test_slow_answers_raise_request_timeout() -> None:
    async with new_fake() as fake, connected(fake, timeout=0.3, retries=1) as client:
        fake.delay = 1.0
        with pytest.raises(RequestTimeout):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59_000), client_order_id="slow"
            )
        with pytest.raises(RequestTimeout):
            await client.positions()
        fake.delay = 0.0
