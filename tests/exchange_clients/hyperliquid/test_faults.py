"""REST faults: 429 + Retry-After, 5xx on reads (retried) and on orders (outcome unknown ->
RequestTimeout, resolved by client order id), slow answers (RequestTimeout)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import DuplicateClientOrderId, RequestTimeout
from exchange_clients.types import OrderStatus
from tests.exchange_clients.hyperliquid.helpers import OWNER, connected, new_fake

D = Decimal


async def test_throttled_requests_wait_for_retry_after_and_go_through_once() -> None:
    async with new_fake() as fake, connected(fake) as client:
        fake.throttle_next(2, retry_after=0.05)
        placed = await client.place_limit_order(
            "BTC", "buy", D("0.001"), D(59000), client_order_id="throttled"
        )
        assert placed.status is OrderStatus.OPEN
        assert fake.requests.count(("/exchange", "order")) == 1  # 429s are never processed
        assert len(fake.user(OWNER).orders) == 1


async def test_a_5xx_on_a_read_is_retried() -> None:
    async with new_fake() as fake, connected(fake) as client:
        fake.fail_next(2, status=502)
        balance = await client.balance()
        assert balance.wallet == D(100_000)


async def test_a_5xx_on_an_order_is_a_timeout_resolved_by_client_id() -> None:
    async with new_fake() as fake, connected(fake) as client:
        fake.fail_next(1, status=502, after_processing=True)
        with pytest.raises(RequestTimeout, match="outcome unknown"):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59000), client_order_id="unknown-outcome"
            )
        found = await client.order_status("BTC", client_order_id="unknown-outcome")
        assert (found.status, found.size, found.price) == (OrderStatus.OPEN, D("0.001"), D(59000))
        with pytest.raises(DuplicateClientOrderId):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59000), client_order_id="unknown-outcome"
            )
        assert len(fake.user(OWNER).orders) == 1


async def test_slow_answers_raise_request_timeout() -> None:
    async with new_fake() as fake, connected(fake, timeout=0.3, retries=1) as client:
        fake.delay = 1.0
        with pytest.raises(RequestTimeout):
            await client.place_limit_order(
                "BTC", "buy", D("0.001"), D(59000), client_order_id="slow"
            )
        with pytest.raises(RequestTimeout):
            await client.positions()
        fake.delay = 0.0
        assert (await client.order_status("BTC", client_order_id="slow")).status in (
            OrderStatus.OPEN,
        )
